"""`kubestead restore`: put etcd back to a snapshot, after asking."""

from __future__ import annotations

from pathlib import Path
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
    packaged_playbook,
    play,
    playbook_path,
)
from kubestead.errors import KubesteadError

SnapshotOption = Annotated[
    Path, typer.Option("--snapshot", help="The snapshot file here (e.g. from `kubestead backup`).")
]
# Where the snapshot is uploaded on the first control plane before restore.yml reads it.
UPLOAD_PATH = "/var/lib/kubestead-restore/upload.db"


def restore(
    snapshot: SnapshotOption,
    spec: SpecOption = DEFAULT_SPEC,
    yes: YesOption = False,
    ansible_dir: AnsibleDir = DEFAULT_ANSIBLE_DIR,
) -> None:
    """Restore etcd from a snapshot: the whole cluster returns to that moment."""
    with on_hosts(spec) as (term, cluster, inventory):
        if not snapshot.is_file():
            raise KubesteadError(f"{snapshot}: no such snapshot file — pass --snapshot FILE")
        confirm(
            f"Restore cluster {cluster.metadata.name} from {snapshot}? Everything written "
            "since the snapshot is lost.",
            yes,
        )
        # restore.yml reads the snapshot on the first control plane: upload it there first.
        upload = {"kubestead_snapshot": str(snapshot.resolve()), "kubestead_upload": UPLOAD_PATH}
        uploader = packaged_playbook("upload-snapshot.yml")
        play(term, ansible_dir, uploader, inventory, "upload the snapshot", extravars=upload)
        restored = {"restore_snapshot": UPLOAD_PATH, "restore_confirm": "yes"}
        playbook = playbook_path(ansible_dir, "restore.yml")
        play(term, ansible_dir, playbook, inventory, "etcd restore", extravars=restored)
    term.success(f"restored cluster {cluster.metadata.name} from {snapshot}")
