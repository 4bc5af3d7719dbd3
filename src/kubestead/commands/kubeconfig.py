"""`kubestead kubeconfig`: the admin kubeconfig, mode 0600, server = the API endpoint."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated

import typer

from kubestead.commands._shared import (
    DEFAULT_ANSIBLE_DIR,
    DEFAULT_SPEC,
    AnsibleDir,
    SpecOption,
    on_hosts,
    packaged_playbook,
    play,
)

OutputFile = Annotated[
    Path | None, typer.Option("--output", "-o", help="Where to write (default ./NAME.kubeconfig).")
]


def kubeconfig(
    spec: SpecOption = DEFAULT_SPEC,
    output: OutputFile = None,
    ansible_dir: AnsibleDir = DEFAULT_ANSIBLE_DIR,
) -> None:
    """Write the admin kubeconfig: mode 0600, server = the API endpoint."""
    from kubestead.kubeconfig import rewrite_server, write_private

    # The fetched admin.conf lives only in this temporary folder, removed on the way out.
    with (
        on_hosts(spec) as (term, cluster, inventory),
        tempfile.TemporaryDirectory(prefix="kubestead-kubeconfig-") as temp,
    ):
        target = output or Path(f"{cluster.metadata.name}.kubeconfig")
        endpoint = cluster.spec.kubernetes.control_plane_endpoint
        playbook, fetch = packaged_playbook("kubeconfig.yml"), {"kubestead_fetch_to": temp}
        play(term, ansible_dir, playbook, inventory, "fetch the admin kubeconfig", extravars=fetch)
        fetched = (Path(temp) / "admin.conf").read_text(encoding="utf-8")
        write_private(target, rewrite_server(fetched, endpoint.address, endpoint.port))
    term.success(f"wrote {target} (mode 0600) — export KUBECONFIG={target.resolve()}")
