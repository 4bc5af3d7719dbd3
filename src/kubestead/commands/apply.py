"""`kubestead apply`: validate, render, read the cluster, plan, run the playbooks (ADR 0015)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from kubestead.commands._shared import (
    DEFAULT_ANSIBLE_DIR,
    DEFAULT_SPEC,
    AllowEvenEtcd,
    AnsibleDir,
    SpecOption,
    load_cluster,
    packaged_playbook,
    play,
    playbook_path,
    render_inventory,
    run_playbook,
    user_errors,
)
from kubestead.terminal import Terminal

if TYPE_CHECKING:
    from kubestead.plan import ClusterState, Plan
    from kubestead.spec.models import Cluster

CheckOption = Annotated[bool, typer.Option("--check", help="Ansible check mode: change nothing.")]
LimitOption = Annotated[
    str | None, typer.Option("--limit", help="Only these hosts (an Ansible host pattern).")
]


def apply(
    spec: SpecOption = DEFAULT_SPEC,
    check: CheckOption = False,
    limit: LimitOption = None,
    allow_even_etcd: AllowEvenEtcd = False,
    ansible_dir: AnsibleDir = DEFAULT_ANSIBLE_DIR,
) -> None:
    """Make the cluster match the spec (install, join new hosts, upgrade one minor)."""
    term = Terminal()
    with user_errors(term):
        cluster = load_cluster(term, spec, allow_even_etcd=allow_even_etcd)
        inventory = render_inventory(cluster, spec)
        state = read_state(term, ansible_dir, inventory)
        decided = show_plan(term, cluster, state)
        changed = run_steps(term, ansible_dir, inventory, decided, limit=limit, check=check)
    mode = " (check mode: nothing was changed)" if check else ""
    term.success(f"apply: done, {changed} changes{mode}")


def read_state(term: Terminal, ansible_dir: Path, inventory: dict[str, str]) -> ClusterState:
    """The cluster's version and nodes, read from every control plane by the packaged probe."""
    from kubestead.probe import state_from_summary
    from kubestead.runner import PlaybookRequest

    # Not `play`: the probe's answer is read, not reported, and a failure is explained by
    # state_from_summary in terms of what apply needs.
    request = PlaybookRequest(packaged_playbook("probe.yml"), inventory)
    return state_from_summary(run_playbook(term, ansible_dir, request, "read the cluster's state"))


def show_plan(term: Terminal, cluster: Cluster, state: ClusterState) -> Plan:
    """Decide the playbooks from the cluster's state and the spec, and say why each runs."""
    from kubestead.plan import plan

    hosts = [h.name for h in cluster.spec.hosts]
    decided = plan(cluster.spec.kubernetes.version, hosts, state)
    for note in decided.notes:
        term.warning(f"warning: {note}")
    for step in decided.steps:
        term.info(f"plan: {step.playbook}: {step.reason}")
    return decided


def run_steps(
    term: Terminal,
    ansible_dir: Path,
    inventory: dict[str, str],
    decided: Plan,
    *,
    limit: str | None,
    check: bool,
) -> int:
    """Run the planned playbooks in order; the first failure stops the rest. Returns changes."""
    changed = 0
    for step in decided.steps:
        summary = play(
            term,
            ansible_dir,
            playbook_path(ansible_dir, step.playbook),
            inventory,
            step.playbook,
            extravars=step.extravars,
            limit=step.limit or limit,
            check=check,
        )
        changed += summary.changed
    return changed
