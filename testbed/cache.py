"""Content-addressed cache entries: built once in a scratch folder, published by a rename."""

import fcntl
import hashlib
import json
import os
import shutil
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path


def cache_key(inputs: Mapping[str, object]) -> str:
    """A short stable hash of everything that decides an entry's contents."""
    canonical = json.dumps(inputs, sort_keys=True).encode()
    return hashlib.sha256(canonical).hexdigest()[:16]


@contextmanager
def _locked(cache_dir: Path) -> Iterator[None]:
    # Two sessions building the same entry at once would waste minutes; the second one waits.
    cache_dir.mkdir(parents=True, exist_ok=True)
    with (cache_dir / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


# Entries of one kind kept besides the one in use: enough for a branch switch back and forth,
# while every edit of host-packages.txt would otherwise leave ~70 MB behind.
KEEP_PER_KIND = 2


def cached_entry(cache_dir: Path, name: str, build: Callable[[Path], None]) -> tuple[Path, bool]:
    """cache_dir/name (a "kind-key" folder), built by build(scratch) when absent.

    Returns (path, was_built). Older entries of the same kind beyond KEEP_PER_KIND are removed.
    """
    entry = cache_dir / name
    if entry.exists():
        os.utime(entry)
        return entry, False
    with _locked(cache_dir):
        if entry.exists():
            return entry, False
        prune(cache_dir, kind=name.rsplit("-", 1)[0])
        scratch = cache_dir / f".building-{name}"
        shutil.rmtree(scratch, ignore_errors=True)
        scratch.mkdir(parents=True)
        try:
            build(scratch)
            scratch.rename(entry)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
    return entry, True


def prune(cache_dir: Path, kind: str, keep: Path | None = None, count: int = KEEP_PER_KIND) -> None:
    """Remove the oldest `kind-*` entries beyond `count` (and never `keep`)."""
    entries = sorted(
        (path for path in cache_dir.glob(f"{kind}-*") if path.is_dir() and path != keep),
        key=lambda path: path.stat().st_mtime,
        reverse=True,
    )
    for stale in entries[count:]:
        shutil.rmtree(stale, ignore_errors=True)
