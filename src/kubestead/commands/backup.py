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
    inventory_for,
    playbook_path,
    report,
    run_playbook,
    user_errors,
)
from kubestead.terminal import Terminal

OutputDir = Annotated[
    Path | None, typer.Option("--output", "-o", help="Folder (default ./backups/NAME/).")
]


def backup(
    spec: SpecOption = DEFAULT_SPEC,
    output: OutputDir = None,
    ansible_dir: AnsibleDir = DEFAULT_ANSIBLE_DIR,
) -> None:
    """Take an etcd snapshot on every control plane now and copy them here."""
    from kubestead.runner import PlaybookRequest

    term = Terminal()
    cluster, inventory = inventory_for(term, spec)
    target = (output or Path("backups") / cluster.metadata.name).resolve()
    with user_errors(term):
        target.mkdir(parents=True, exist_ok=True)
        # backup.yml fetches each host's newest snapshot to <backup_fetch_dir>/<host>/.
        request = PlaybookRequest(
            playbook_path(ansible_dir, "backup.yml"),
            inventory,
            extravars={"backup_fetch_dir": str(target)},
        )
        report(term, run_playbook(term, ansible_dir, request, "etcd snapshot"))
    term.success(f"snapshots copied to {target}/<host>/")
