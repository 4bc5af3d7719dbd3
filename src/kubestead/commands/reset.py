"""`kubestead reset`: destroy the cluster, or take one host out of it, after asking."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from kubestead.commands._shared import (
    DEFAULT_ANSIBLE_DIR,
    DEFAULT_SPEC,
    AllowEvenEtcd,
    AnsibleDir,
    HostOptions,
    SpecOption,
    YesOption,
    confirm,
    on_hosts,
)
from kubestead.errors import KubesteadError

if TYPE_CHECKING:
    from kubestead.spec.models import Cluster

HostOption = Annotated[
    str | None,
    typer.Option("--host", help="Only this host: drain, remove from etcd and the cluster, reset."),
]


def reset(
    spec: SpecOption = DEFAULT_SPEC,
    host: HostOption = None,
    yes: YesOption = False,
    allow_even_etcd: AllowEvenEtcd = False,
    ansible_dir: AnsibleDir = DEFAULT_ANSIBLE_DIR,
) -> None:
    """Destroy the cluster (kubeadm reset everywhere), or remove one host with --host."""
    with on_hosts(HostOptions(spec, ansible_dir, allow_even_etcd)) as hosts:
        name = hosts.cluster.metadata.name
        extravars: dict[str, object]
        if host is None:
            names = ", ".join(h.name for h in hosts.cluster.spec.hosts)
            confirm(f"Destroy cluster {name} on {names}?", yes)
            # reset.yml refuses to run without reset_confirm=yes: the question above asked it.
            playbook, extravars = "reset.yml", {"reset_confirm": "yes"}
        else:
            check_removable(hosts.cluster, host, allow_even_etcd=allow_even_etcd)
            confirm(f"Drain, remove and reset {host} of cluster {name}?", yes)
            # A single host goes through remove-node.yml: resetting a member in place would
            # leave a dead etcd member and Node object behind.
            playbook = "remove-node.yml"
            extravars = {"node": host, "remove_node_allow_even_etcd": allow_even_etcd}
        hosts.play(hosts.playbook(playbook), playbook, extravars=extravars)
    if host:
        hosts.term.success(f"removed {host} — now delete it from spec.hosts")
    else:
        hosts.term.success(f"cluster {name} reset")


def check_removable(cluster: Cluster, host: str, *, allow_even_etcd: bool) -> None:
    """Refuse, in one line, a removal that would break the cluster or its etcd quorum."""
    names = [h.name for h in cluster.spec.hosts]
    if host not in names:
        raise KubesteadError(f"--host {host}: not in spec.hosts — use one of its names")
    control_planes = [h.name for h in cluster.control_planes]
    if host not in control_planes:
        return
    if host == control_planes[0]:
        raise KubesteadError(
            f"--host {host}: the first control plane cannot be removed — move another control "
            "plane to the top of spec.hosts, run apply, then remove this one"
        )
    left = len(control_planes) - 1
    if left % 2 == 0 and not allow_even_etcd:
        raise KubesteadError(
            f"--host {host}: {left} etcd members would remain, which tolerate no more failures "
            f"than {left - 1} — pass --allow-even-etcd for a member-replacement window, then "
            "add a control plane back with apply"
        )
