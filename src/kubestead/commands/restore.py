"""`kubestead restore`: put etcd back to a snapshot, after asking."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

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

SnapshotOption = Annotated[
    Path, typer.Option("--snapshot", help="The snapshot file here (e.g. from `kubestead backup`).")
]
SurvivorOption = Annotated[
    str | None,
    typer.Option(
        "--survivor",
        help="Quorum lost: restore onto this control plane alone; reset and re-apply the others.",
    ),
]


def restore(
    snapshot: SnapshotOption,
    spec: SpecOption = DEFAULT_SPEC,
    yes: YesOption = False,
    survivor: SurvivorOption = None,
    allow_even_etcd: AllowEvenEtcd = False,
    ansible_dir: AnsibleDir = DEFAULT_ANSIBLE_DIR,
) -> None:
    """Restore etcd from a snapshot: the whole cluster returns to that moment."""
    with on_hosts(HostOptions(spec, ansible_dir, allow_even_etcd)) as hosts:
        name = hosts.cluster.metadata.name
        if not snapshot.is_file():
            raise KubesteadError(f"{snapshot}: no such snapshot file — pass --snapshot FILE")
        control_planes = [h.name for h in hosts.cluster.control_planes]
        members = control_planes if survivor is None else [survivor]
        if survivor is not None and survivor not in control_planes:
            raise KubesteadError(
                f"--survivor {survivor}: not a control plane of spec.hosts — use one of "
                f"{', '.join(control_planes)}"
            )
        confirm(
            f"Restore cluster {name} from {snapshot} onto {', '.join(members)}? Everything "
            "written since the snapshot is lost.",
            yes,
        )
        started = time.monotonic()
        # restore.yml copies the file from here to every member and ends when every API
        # server answers /readyz: the time below is the restore's recovery time.
        restored = {
            "restore_snapshot_file": str(snapshot.resolve()),
            "restore_members": members,
            "restore_confirm": "yes",
        }
        hosts.play(hosts.playbook("restore.yml"), "etcd restore", extravars=restored)
        seconds = time.monotonic() - started
    hosts.term.success(f"restored cluster {name} from {snapshot}: API ready after {seconds:.0f} s")
    for lost in sorted(set(control_planes) - set(members)):
        hosts.term.warning(
            f"next: {lost} is no etcd member now — wipe it with `kubestead reset --host {lost} "
            "--allow-even-etcd`, then `kubestead apply` joins it again"
        )
