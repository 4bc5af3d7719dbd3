"""Phase 2: render the inventory in memory; the runner writes it into its private folder."""

from __future__ import annotations

from kubestead.phases import Context
from kubestead.render import render


class Render:
    title = "render the inventory"

    def run(self, ctx: Context) -> None:
        assert ctx.cluster is not None  # noqa: S101 - set by Validate
        ctx.inventory = render(ctx.cluster, ctx.spec.name, allow_even_etcd=ctx.allow_even_etcd)
