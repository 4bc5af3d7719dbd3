"""The local apt repository: exactly the packages the roles install, served on the bridge.

The closure is resolved by apt itself against the rootfs's dpkg status (so only what the hosts
lack is fetched) and the machine's apt sources; the result is a flat repository indexed by
apt-ftparchive and cached under `<cache>/aptrepo-<key>/`, keyed by the package list, the rootfs
and the sources. A `python3 -m http.server` bound to the bridge address serves it.
"""

import shutil
import socket
import sys
import time
from pathlib import Path

from tests.harness.cache import cache_key, cached_entry
from tests.harness.commands import run
from tests.harness.errors import HarnessError
from tests.harness.mirror import DebianMirror
from tests.harness.processes import start_detached, stop_recorded

HOST_PACKAGES = Path(__file__).resolve().parents[1] / "ansible" / "host-packages.txt"
_SERVER_START_TIMEOUT_S = 10
_APT_TIMEOUT_S = 900


def host_packages(path: Path = HOST_PACKAGES) -> list[str]:
    """The package names in host-packages.txt ('#' comments and blank lines ignored)."""
    try:
        lines = path.read_text().splitlines()
    except FileNotFoundError as exc:
        raise HarnessError(f"{path} is missing: list the packages the roles install") from exc
    names = sorted({line.split("#", 1)[0].strip() for line in lines} - {""})
    if not names:
        raise HarnessError(f"{path} lists no packages: list the packages the roles install")
    return names


def cached_repo(
    cache_dir: Path, rootfs: Path, rootfs_key: str, mirror: DebianMirror, packages: list[str]
) -> tuple[Path, bool]:
    """The repository folder for these packages; (folder, True) when it was just built."""
    key = cache_key({"packages": packages, "rootfs": rootfs_key, "sources": mirror.sources_text})
    entry, built = cached_entry(
        cache_dir, f"aptrepo-{key}", lambda scratch: _build(scratch, rootfs, packages)
    )
    return entry / "repo", built


def _build(scratch: Path, rootfs: Path, packages: list[str]) -> None:
    repo = scratch / "repo"
    (repo / "partial").mkdir(parents=True)
    (scratch / "lists/partial").mkdir(parents=True)
    (scratch / "state").mkdir()
    apt = [
        "apt-get",
        "-q",
        "-o", f"Dir::State::status={rootfs / 'var/lib/dpkg/status'}",
        "-o", f"Dir::State={scratch / 'state'}",
        "-o", f"Dir::State::Lists={scratch / 'lists'}",
        "-o", f"Dir::Cache={scratch / 'cache'}",
        "-o", f"Dir::Cache::archives={repo}",
        # Never take the machine's apt locks: other jobs may be installing packages right now.
        "-o", "Debug::NoLocking=true",
    ]  # fmt: skip
    run([*apt, "update"], timeout=_APT_TIMEOUT_S)
    # Recommends included, as apt (and Ansible's apt module) install them by default.
    resolve = run(
        [*apt, "install", "--download-only", "--yes", *packages],
        timeout=_APT_TIMEOUT_S,
        check=False,
    )
    if resolve.returncode != 0:
        errors = [line for line in resolve.stderr.splitlines() if line.startswith("E:")]
        raise HarnessError(
            f"{HOST_PACKAGES}: apt cannot download these packages for Debian bookworm: "
            + ("; ".join(errors) or resolve.stderr[-1000:])
        )
    (repo / "partial").rmdir()
    (repo / "lock").unlink(missing_ok=True)
    if not any(repo.glob("*.deb")):
        raise HarnessError(
            f"apt downloaded nothing for {packages}: are they in the rootfs already?"
        )
    packages_index = run(["apt-ftparchive", "packages", "."], timeout=300, cwd=repo).stdout
    (repo / "Packages").write_text(packages_index)
    release = run(["apt-ftparchive", "release", "."], timeout=60, cwd=repo).stdout
    (repo / "Release").write_text(release)
    for scratch_only in ("lists", "state", "cache"):
        shutil.rmtree(scratch / scratch_only, ignore_errors=True)


class RepoServer:
    """A python3 http.server bound to the bridge address, started and stopped by PID."""

    def __init__(self, run_dir: Path) -> None:
        self.pid_file = run_dir / "aptrepo.pid"
        self.log_file = run_dir / "aptrepo.log"

    def start(self, repo: Path, address: str, port: int) -> None:
        """Serve repo on address:port; return once the port accepts connections."""
        self.stop()
        process = start_detached(
            [
                sys.executable,
                "-m",
                "http.server",
                "--bind",
                address,
                "--directory",
                str(repo),
                str(port),
            ],
            self.log_file,
            self.pid_file,
        )
        deadline = time.monotonic() + _SERVER_START_TIMEOUT_S
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise HarnessError(
                    f"the apt repository server exited {process.returncode} on {address}:{port}; "
                    f"see {self.log_file} (is the port taken? set KUBESTEAD_HARNESS_REPO_PORT)"
                )
            try:
                with socket.create_connection((address, port), timeout=1):
                    return
            except OSError:
                time.sleep(0.1)
        raise HarnessError(f"the apt repository server did not listen on {address}:{port}")

    def stop(self) -> None:
        """Stop the server recorded in the pid file, if it is still ours."""
        stop_recorded(self.pid_file, "http.server")
