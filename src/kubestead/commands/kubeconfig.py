"""`kubestead kubeconfig`: the admin kubeconfig, mode 0600, server = the API endpoint."""

from __future__ import annotations

import tempfile
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
    packaged_playbook,
)

OutputFile = Annotated[
    Path | None, typer.Option("--output", "-o", help="Where to write (default ./NAME.kubeconfig).")
]


def kubeconfig(
    spec: SpecOption = DEFAULT_SPEC,
    output: OutputFile = None,
    allow_even_etcd: AllowEvenEtcd = False,
    ansible_dir: AnsibleDir = DEFAULT_ANSIBLE_DIR,
) -> None:
    """Write the admin kubeconfig: mode 0600, server = the API endpoint."""
    from kubestead.kubeconfig import rewrite_server, write_private

    # The fetched admin.conf lives only in this temporary folder, removed on the way out.
    with (
        on_hosts(HostOptions(spec, ansible_dir, allow_even_etcd)) as hosts,
        tempfile.TemporaryDirectory(prefix="kubestead-kubeconfig-") as temp,
    ):
        target = output or Path(f"{hosts.cluster.metadata.name}.kubeconfig")
        endpoint = hosts.cluster.spec.kubernetes.control_plane_endpoint
        playbook, fetch = packaged_playbook("kubeconfig.yml"), {"kubestead_fetch_to": temp}
        hosts.play(playbook, "fetch the admin kubeconfig", extravars=fetch)
        fetched = (Path(temp) / "admin.conf").read_text(encoding="utf-8")
        write_private(target, rewrite_server(fetched, endpoint.address, endpoint.port))
    hosts.term.success(f"wrote {target} (mode 0600) — export KUBECONFIG={target.resolve()}")
