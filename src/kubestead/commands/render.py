"""`kubestead render`: the Ansible inventory `apply` uses, written to a folder."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from kubestead.commands._shared import (
    DEFAULT_SPEC,
    AllowEvenEtcd,
    SpecOption,
    load_cluster,
    render_inventory,
    user_errors,
)
from kubestead.terminal import Terminal

OutputDir = Annotated[
    Path, typer.Option("--output", "-o", help="Folder to write the inventory to.")
]


def render(
    spec: SpecOption = DEFAULT_SPEC,
    output: OutputDir = Path("inventory"),
    allow_even_etcd: AllowEvenEtcd = False,
) -> None:
    """Write hosts.yml and group_vars/ (all.yml, and the overlay's), byte-for-byte deterministic."""
    from kubestead import render as rendering
    from kubestead.errors import KubesteadError

    term = Terminal()
    cluster = load_cluster(term, spec, allow_even_etcd=allow_even_etcd)
    with user_errors(term):
        try:
            files = render_inventory(cluster, spec)
            written = rendering.write(files, output)
        except OSError as error:
            raise KubesteadError(
                f"{output}: cannot write the inventory ({error.strerror}) — pick a writable -o"
            ) from None
    for path in written:
        term.info(f"wrote {path}")
