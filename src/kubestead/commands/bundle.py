"""`kubestead bundle`: what an offline install of the spec and its add-ons needs."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from kubestead.commands._shared import (
    DEFAULT_GITOPS_DIR,
    DEFAULT_SPEC,
    GitopsDir,
    JsonOption,
    SpecOption,
    load_cluster,
    user_errors,
)
from kubestead.terminal import Terminal

if TYPE_CHECKING:
    from rich.table import Table


def bundle(
    spec: SpecOption = DEFAULT_SPEC,
    json: JsonOption = False,
    gitops_dir: GitopsDir = DEFAULT_GITOPS_DIR,
) -> None:
    """List every package, binary and image (name, version, source) the spec needs, then
    every chart and image of the add-ons in gitops/ (to mirror them for an air-gapped cluster)."""
    from dataclasses import asdict

    from kubestead.bundle import addon_artifacts
    from kubestead.bundle import bundle as build

    term = Terminal()
    with user_errors(term):
        result = build(load_cluster(term, spec))
        addons, addon_warnings = addon_artifacts(gitops_dir)
    warnings = result.warnings + addon_warnings
    if json:
        term.json({**result.as_json(), "addons": [asdict(a) for a in addons], "warnings": warnings})
    else:
        rows = [(a.kind, a.name, a.version, a.source) for a in result.artifacts]
        term.table(_table(("kind", "name", "version", "source"), rows))
        if addons:
            term.data("\n")
            extra = [(b.addon, b.kind, b.name, b.version, b.source) for b in addons]
            term.table(_table(("add-on", "kind", "name", "version", "source"), extra))
    for warning in warnings:
        term.warning(f"warning: {warning}")


def _table(columns: Sequence[str], rows: Iterable[Sequence[str]]) -> Table:
    from rich.table import Table

    table = Table(box=None, pad_edge=False, show_edge=False)
    for column in columns:
        table.add_column(column, no_wrap=True)
    for row in rows:
        table.add_row(*row)
    return table
