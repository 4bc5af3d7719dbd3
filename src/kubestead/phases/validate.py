"""Phase 1: the spec must validate; warnings are printed and do not stop."""

from __future__ import annotations

from kubestead.commands._shared import load_cluster
from kubestead.phases import Context


class Validate:
    title = "validate the spec"

    def run(self, ctx: Context) -> None:
        ctx.cluster = load_cluster(ctx.term, ctx.spec, allow_even_etcd=ctx.allow_even_etcd)
