"""The admin kubeconfig, pointed at the API endpoint and written for its owner only."""

from __future__ import annotations

import os
from pathlib import Path

import yaml

from kubestead.errors import KubesteadError


def rewrite_server(kubeconfig: str, address: str, port: int) -> str:
    """Point every cluster entry at the endpoint: admin.conf names the host it came from."""
    document = yaml.safe_load(kubeconfig)
    if not isinstance(document, dict) or not isinstance(document.get("clusters"), list):
        raise KubesteadError(
            "the fetched admin.conf is not a kubeconfig — check /etc/kubernetes/admin.conf "
            "on the first control plane"
        )
    for entry in document["clusters"]:
        entry.setdefault("cluster", {})["server"] = f"https://{address}:{port}"
    return str(yaml.safe_dump(document, sort_keys=False))


def write_private(path: Path, text: str) -> None:
    """Write `text` to `path` readable by its owner only, from the first byte on."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    path.chmod(0o600)  # O_CREAT leaves the mode of an existing file as it was
