"""The phases of `apply`, in order; each has a title and a run(context) (k0sctl's design)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from kubestead.terminal import Terminal

if TYPE_CHECKING:
    from kubestead.plan import ClusterState, Plan
    from kubestead.runner import RunSummary
    from kubestead.spec.models import Cluster


@dataclass
class Context:
    term: Terminal
    spec: Path
    ansible_dir: Path
    check: bool = False
    limit: str | None = None
    allow_even_etcd: bool = False
    cluster: Cluster | None = None
    inventory: dict[str, str] = field(default_factory=dict)
    state: ClusterState | None = None
    plan: Plan | None = None
    summaries: list[RunSummary] = field(default_factory=list)


class Phase(Protocol):
    title: str

    def run(self, ctx: Context) -> None: ...
