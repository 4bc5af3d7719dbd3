"""The hosts' Debian repository: exactly the packages the roles install, and what they need.

The closure is resolved by apt itself against the node root filesystem's dpkg status (so only
what the hosts lack is fetched) and the machine's apt sources; the result is a flat repository
indexed by apt-ftparchive and cached under `<cache>/aptrepo-<key>/`, keyed by the package list,
the root filesystem and the sources. The package list is what `kubestead bundle` says the
spec needs from the distribution: the testbed provides that and nothing else.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from testbed.bundle.debs import index_repository
from testbed.cache import cache_key, cached_entry
from testbed.commands import run
from testbed.errors import TestbedError
from testbed.mirror import DebianMirror

_APT_TIMEOUT_S = 900


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
        raise TestbedError(
            "apt cannot download the packages `kubestead bundle` lists for Debian bookworm: "
            + ("; ".join(errors) or resolve.stderr[-1000:])
        )
    (repo / "partial").rmdir()
    (repo / "lock").unlink(missing_ok=True)
    if not any(repo.glob("*.deb")):
        raise TestbedError(
            f"apt downloaded nothing for {packages}: are they in the rootfs already?"
        )
    index_repository(repo)
    for scratch_only in ("lists", "state", "cache"):
        shutil.rmtree(scratch / scratch_only, ignore_errors=True)
