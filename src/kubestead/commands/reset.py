"""`kubestead reset`: destroy the cluster, or take one host out of it, after asking."""

from __future__ import annotations

from typing import Annotated

import typer

from kubestead.commands._shared import (
    DEFAULT_ANSIBLE_DIR,
    DEFAULT_SPEC,
    AnsibleDir,
    SpecOption,
    YesOption,
    confirm,
    on_hosts,
    play,
    playbook_path,
)
from kubestead.errors import KubesteadError

HostOption = Annotated[
    str | None,
    typer.Option("--host", help="Only this host: drain, remove from etcd and the cluster, reset."),
]


def reset(
    spec: SpecOption = DEFAULT_SPEC,
    host: HostOption = None,
    yes: YesOption = False,
    ansible_dir: AnsibleDir = DEFAULT_ANSIBLE_DIR,
) -> None:
    """Destroy the cluster (kubeadm reset everywhere), or remove one host with --host."""
    with on_hosts(spec) as (term, cluster, inventory):
        if host is None:
            names = ", ".join(h.name for h in cluster.spec.hosts)
            confirm(f"Destroy cluster {cluster.metadata.name} on {names}?", yes)
            # reset.yml refuses to run without reset_confirm=yes: the question above asked it.
            playbook, extravars = "reset.yml", {"reset_confirm": "yes"}
        else:
            if host not in {h.name for h in cluster.spec.hosts}:
                raise KubesteadError(f"--host {host}: not in spec.hosts — use one of its names")
            confirm(f"Drain, remove and reset {host} of cluster {cluster.metadata.name}?", yes)
            # A single host goes through remove-node.yml: resetting a member in place would
            # leave a dead etcd member and Node object behind.
            playbook, extravars = "remove-node.yml", {"node": host}
        path = playbook_path(ansible_dir, playbook)
        play(term, ansible_dir, path, inventory, playbook, extravars=extravars)
    if host:
        term.success(f"removed {host} — now delete it from spec.hosts")
    else:
        term.success(f"cluster {cluster.metadata.name} reset")
