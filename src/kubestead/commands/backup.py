"""`kubestead backup`: an etcd snapshot now, copied to this machine."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from kubestead.commands._shared import (
    DEFAULT_ANSIBLE_DIR,
    DEFAULT_SPEC,
    AnsibleDir,
    SpecOption,
    on_hosts,
    play,
    playbook_path,
)

OutputDir = Annotated[
    Path | None, typer.Option("--output", "-o", help="Folder (default ./backups/NAME/).")
]


def backup(
    spec: SpecOption = DEFAULT_SPEC,
    output: OutputDir = None,
    ansible_dir: AnsibleDir = DEFAULT_ANSIBLE_DIR,
) -> None:
    """Take an etcd snapshot on every control plane now and copy them here."""
    with on_hosts(spec) as (term, cluster, inventory):
        target = (output or Path("backups") / cluster.metadata.name).resolve()
        target.mkdir(parents=True, exist_ok=True)
        # backup.yml fetches each host's newest snapshot to <backup_fetch_dir>/<host>/.
        playbook = playbook_path(ansible_dir, "backup.yml")
        extravars = {"backup_fetch_dir": str(target)}
        play(term, ansible_dir, playbook, inventory, "etcd snapshot", extravars=extravars)
    term.success(f"snapshots copied to {target}/<host>/")
