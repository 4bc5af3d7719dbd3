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
    inventory_for,
    packaged_playbook,
    report,
    run_playbook,
    user_errors,
)
from kubestead.terminal import Terminal

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
    from kubestead.runner import PlaybookRequest

    term = Terminal()
    cluster, inventory = inventory_for(term, spec)
    target = output or Path(f"{cluster.metadata.name}.kubeconfig")
    endpoint = cluster.spec.kubernetes.control_plane_endpoint
    # The fetched admin.conf lives only in this temporary folder, removed on the way out.
    with user_errors(term), tempfile.TemporaryDirectory(prefix="kubestead-kubeconfig-") as temp:
        request = PlaybookRequest(
            packaged_playbook("kubeconfig.yml"), inventory, extravars={"kubestead_fetch_to": temp}
        )
        report(term, run_playbook(term, ansible_dir, request, "fetch the admin kubeconfig"))
        fetched = (Path(temp) / "admin.conf").read_text(encoding="utf-8")
        write_private(target, rewrite_server(fetched, endpoint.address, endpoint.port))
    term.success(f"wrote {target} (mode 0600) — export KUBECONFIG={target.resolve()}")
