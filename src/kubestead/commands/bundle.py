"""`kubestead bundle`: what an offline install of the spec needs."""

from __future__ import annotations

from kubestead.commands._shared import DEFAULT_SPEC, JsonOption, SpecOption, load_cluster
from kubestead.terminal import Terminal


def bundle(spec: SpecOption = DEFAULT_SPEC, json: JsonOption = False) -> None:
    """List every package, binary and image (name, version, source) the spec needs."""
    from kubestead.bundle import bundle as build

    term = Terminal()
    result = build(load_cluster(term, spec))
    if json:
        term.json(result.as_json())
    else:
        from rich.table import Table

        table = Table(box=None, pad_edge=False, show_edge=False)
        for column in ("kind", "name", "version", "source"):
            table.add_column(column, no_wrap=True)
        for a in result.artifacts:
            table.add_row(a.kind, a.name, a.version, a.source)
        term.table(table)
    for warning in result.warnings:
        term.warning(f"warning: {warning}")
