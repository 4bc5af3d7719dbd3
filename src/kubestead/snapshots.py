"""Snapshots on this machine: etcd holds every Secret, so its copies are private to root."""

from __future__ import annotations

from pathlib import Path


def private_folder(path: Path) -> None:
    """Create `path` (and parents) and make it 0700, also when it existed before."""
    path.mkdir(parents=True, exist_ok=True)
    path.chmod(0o700)


def keep_private(target: Path, hosts: list[str]) -> list[Path]:
    """Make `target/<host>/` 0700 and every snapshot in it 0600; the newest of each host.

    Snapshot names carry a UTC timestamp (etcd-<host>-YYYYMMDDTHHMMSSZ.db), so the last name
    in order is the newest; fetch does not keep modification times.
    """
    newest: list[Path] = []
    for host in hosts:
        folder = target / host
        if not folder.is_dir():
            continue
        folder.chmod(0o700)
        snapshots = sorted(folder.glob("etcd-*.db"))
        for snapshot in snapshots:
            snapshot.chmod(0o600)
        newest.extend(snapshots[-1:])
    return newest
