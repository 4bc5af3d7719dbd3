"""The machine's services on a bench's bridge: a web server for the repositories and files, an
OCI registry, and (for the GitOps proof) a git server. Each listens on the bridge address only
and is stopped by the PID it recorded (its command line carries the bench's run folder, the
marker `down` checks before signalling).
"""

from __future__ import annotations

import socket
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from testbed.errors import TestbedError
from testbed.processes import start_detached

_START_TIMEOUT_S = 20


def start_service(
    name: str, argv: Sequence[str], services_dir: Path, address: str, port: int
) -> None:
    """Start argv in the background; return once address:port accepts connections."""
    log, pid_file = services_dir / f"{name}.log", services_dir / f"{name}.pid"
    process = start_detached(argv, log, pid_file)
    deadline = time.monotonic() + _START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise TestbedError(
                f"{name} exited {process.returncode} at start on {address}:{port}; see {log} "
                "(is the port taken?)"
            )
        try:
            with socket.create_connection((address, port), timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise TestbedError(f"{name} did not listen on {address}:{port} within {_START_TIMEOUT_S} s")


def start_web(
    site: Path, links: Mapping[str, Path], services_dir: Path, address: str, port: int
) -> None:
    """Serve the folders in links (URL path -> folder) from one web server on address:port."""
    site.mkdir(parents=True, exist_ok=True)
    for name, target in links.items():
        (site / name).symlink_to(target, target_is_directory=True)
    argv = [sys.executable, "-m", "http.server", "--bind", address, "--directory", str(site)]
    start_service("web", [*argv, str(port)], services_dir, address, port)


def registry_config(storage: Path, address: str, port: int) -> str:
    """distribution's configuration: plain HTTP on the bridge, images on disk in the cache."""
    return (
        "version: 0.1\n"
        "log:\n  level: warn\n"
        "storage:\n"
        f"  filesystem:\n    rootdirectory: {storage}\n"
        "  delete:\n    enabled: false\n"
        "http:\n"
        f"  addr: {address}:{port}\n"
    )


def start_registry(
    binary: Path, storage: Path, run_dir: Path, services_dir: Path, address: str, port: int
) -> None:
    """The OCI registry the hosts pull every image from, through containerd's mirrors."""
    storage.mkdir(parents=True, exist_ok=True)
    config = run_dir / "registry.yml"
    config.write_text(registry_config(storage, address, port))
    start_service("registry", [str(binary), "serve", str(config)], services_dir, address, port)


def start_git(root: Path, services_dir: Path, address: str, port: int) -> None:
    """git daemon: every repository under root, read-only, at git://address:port/<name>.git
    (what Argo CD's repo-server clones in `make e2e-gitops`)."""
    root.mkdir(parents=True, exist_ok=True)
    argv = [
        "git", "daemon", "--reuseaddr", "--export-all", f"--base-path={root}",
        f"--listen={address}", f"--port={port}", str(root),
    ]  # fmt: skip
    start_service("git", argv, services_dir, address, port)
