"""Decide which playbooks `apply` runs, from what the cluster runs now and what the spec asks.

The cluster is the source of truth for its version: kubeadm records it in the kubeadm-config
ConfigMap at `init` and at every `upgrade apply`, and `probe.yml` reads it (ADR 0009). A local
"last applied" file would go stale the moment someone upgrades from another machine.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from kubestead.errors import KubesteadError

_VERSION = re.compile(r"^v?(\d+)\.(\d+)\.(\d+)")


def parse_version(text: str) -> tuple[int, int, int]:
    match = _VERSION.match(text.strip())
    if not match:
        raise KubesteadError(f"`{text}` is not a Kubernetes version — expected vMAJOR.MINOR.PATCH")
    major, minor, patch = (int(g) for g in match.groups())
    return major, minor, patch


@dataclass(frozen=True)
class ClusterState:
    """What the probe found; `version` is None when no control plane was initialised."""

    version: str | None
    nodes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Step:
    playbook: str  # file name under <ansible-dir>/playbooks/
    reason: str
    extravars: dict[str, Any] = field(default_factory=dict)
    limit: str | None = None  # replaces the user's --limit for this step


@dataclass(frozen=True)
class Plan:
    steps: tuple[Step, ...]
    notes: tuple[str, ...] = ()


def plan(target: str, hosts: list[str], state: ClusterState) -> Plan:
    if state.version is None:
        return Plan((Step("cluster.yml", f"install Kubernetes {target} on {len(hosts)} hosts"),))
    current_v, target_v = parse_version(state.version), parse_version(target)
    if target_v < current_v:
        raise KubesteadError(
            f"spec.kubernetes.version: {target} is older than the cluster's {state.version} — "
            "kubeadm cannot downgrade; set the version back to "
            f"{state.version} or later (a downgrade is a rebuild: reset and restore a backup)"
        )
    if target_v[0] != current_v[0] or target_v[1] > current_v[1] + 1:
        next_minor = f"v{current_v[0]}.{current_v[1] + 1}.x"
        raise KubesteadError(
            f"spec.kubernetes.version: {target} skips minors from {state.version} — kubeadm "
            f"upgrades one minor at a time: apply {next_minor} first, then the next"
        )
    steps: list[Step] = []
    if target_v > current_v:
        # upgrade.yml reads the target from the inventory and checks the step itself too.
        steps.append(
            Step(
                "upgrade.yml",
                f"upgrade {state.version} -> {target} (snapshot first, one node at a time)",
            )
        )
    new = [h for h in hosts if h not in state.nodes]
    if new:
        # scale.yml joins exactly the hosts of its --limit and leaves the others alone.
        steps.append(Step("scale.yml", f"join {', '.join(new)}", limit=",".join(new)))
    if not steps:
        steps.append(Step("cluster.yml", "converge (the same spec again changes nothing)"))
    gone = [n for n in state.nodes if n not in hosts]
    notes = tuple(
        f"node {n} is in the cluster but not in spec.hosts — add it back, or remove it with "
        f"`kubestead reset --host {n}`"
        for n in gone
    )
    return Plan(tuple(steps), notes)
