"""`kubestead apply`: validate, render, read the cluster, plan, run the playbooks (ADR 0015)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from kubestead.commands._shared import (
    DEFAULT_ANSIBLE_DIR,
    DEFAULT_SPEC,
    AllowEvenEtcd,
    AnsibleDir,
    HostOptions,
    Hosts,
    SpecOption,
    on_hosts,
    packaged_playbook,
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
    with on_hosts(HostOptions(spec, ansible_dir, allow_even_etcd)) as hosts:
        state = read_state(hosts)
        decided = show_plan(hosts.term, hosts.cluster, state)
        changed = run_steps(hosts, decided, limit=limit, check=check)
    mode = " (check mode: nothing was changed)" if check else ""
    hosts.term.success(f"apply: done, {changed} changes{mode}")


def read_state(hosts: Hosts) -> ClusterState:
    """The cluster's version and nodes, read from every control plane by the packaged probe."""
    from kubestead.probe import state_from_summary

    # `read`, not `play`: a failure is explained by state_from_summary in terms of what apply
    # needs.
    return state_from_summary(
        hosts.read(packaged_playbook("probe.yml"), "read the cluster's state")
    )


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


def run_steps(hosts: Hosts, decided: Plan, *, limit: str | None, check: bool) -> int:
    """Run the planned playbooks in order; the first failure stops the rest. Returns changes."""
    changed = 0
    for step in decided.steps:
        summary = hosts.play(
            hosts.playbook(step.playbook),
            step.playbook,
            extravars=step.extravars,
            limit=step.limit or limit,
            check=check,
        )
        changed += summary.changed
    return changed
