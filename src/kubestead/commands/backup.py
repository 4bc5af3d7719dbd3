"""`kubestead backup`: an etcd snapshot now, copied to this machine."""

from __future__ import annotations

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
    on_hosts,
)

OutputDir = Annotated[
    Path | None, typer.Option("--output", "-o", help="Folder (default ./backups/NAME/).")
]


def backup(
    spec: SpecOption = DEFAULT_SPEC,
    output: OutputDir = None,
    allow_even_etcd: AllowEvenEtcd = False,
    ansible_dir: AnsibleDir = DEFAULT_ANSIBLE_DIR,
) -> None:
    """Take an etcd snapshot on every control plane now and copy them here."""
    from kubestead.snapshots import keep_private, private_folder

    with on_hosts(HostOptions(spec, ansible_dir, allow_even_etcd)) as hosts:
        target = (output or Path("backups") / hosts.cluster.metadata.name).resolve()
        private_folder(target)
        # backup.yml fetches each host's newest snapshot to <backup_fetch_dir>/<host>/.
        extravars = {"backup_fetch_dir": str(target)}
        hosts.play(hosts.playbook("backup.yml"), "etcd snapshot", extravars=extravars)
        fetched = keep_private(target, [h.name for h in hosts.cluster.control_planes])
    for path in fetched:
        hosts.term.data(f"{path}\n")
    hosts.term.success(f"{len(fetched)} snapshots copied to {target}/<host>/ (mode 0600)")
