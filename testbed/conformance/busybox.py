"""The busybox test image's busybox: built from the upstream source, as upstream's image has it.

Debian's busybox reverts an upstream change to ash (the source package's
debian/patches/revert-9c143ce52da11ec3d21a3491c3749841d3dc10f0.patch): its `sh` drops every
environment variable whose name is not a shell identifier. Kubernetes lets a ConfigMap or Secret
key such as `data-1` become one (`envFrom`), and the conformance specs read them back through
the busybox image's `sh -c env`: "ConfigMap should be consumable via the environment" failed
with Debian's binary. Upstream's ash passes them on, as the upstream image (Docker's busybox)
does. So the image's busybox is built here with upstream's defconfig, static, from the upstream
tarball as the bookworm source package ships it (its .orig.tar, no Debian patch applied),
fetched by apt from the machine's Debian mirror. About a minute on two cores; cached.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from testbed.cache import cache_key, cached_entry
from testbed.commands import run
from testbed.errors import TestbedError
from testbed.mirror import SUITE, DebianMirror

SOURCE_PACKAGE = "busybox"
# What the build does besides the source: part of the cache key, so a change rebuilds.
RECIPE = "make defconfig; CONFIG_STATIC=y; make busybox"
_APT_TIMEOUT_S = 900
_BUILD_TIMEOUT_S = 1800
# An outer `make conformance` passes its jobserver through these; busybox's make must not
# inherit them.
_CLEAN_MAKE = ["env", "-u", "MAKEFLAGS", "-u", "MFLAGS", "-u", "MAKELEVEL", "make"]


def cached_busybox(cache: Path, mirror: DebianMirror) -> tuple[Path, bool]:
    """The static busybox binary (built if missing, under cache/); (path, True) when just built."""
    key = cache_key({"sources": mirror.sources_text, "recipe": RECIPE})
    entry, built = cached_entry(cache, f"busybox-{key}", lambda scratch: _build(scratch, mirror))
    return entry / "busybox", built


def _build(scratch: Path, mirror: DebianMirror) -> None:
    source = scratch / "source"
    source.mkdir()
    _fetch_source(scratch, source, mirror)
    tarballs = sorted(source.glob(f"{SOURCE_PACKAGE}_*.orig.tar.*"))
    if len(tarballs) != 1:
        raise TestbedError(f"apt fetched {len(tarballs)} upstream tarballs of {SOURCE_PACKAGE}")
    run(["tar", "-xf", str(tarballs[0]), "-C", str(source)], timeout=300)
    trees = [path for path in source.iterdir() if path.is_dir()]
    if len(trees) != 1:
        raise TestbedError(f"{tarballs[0].name} unpacked into {len(trees)} folders, not one")
    tree = trees[0]
    run([*_CLEAN_MAKE, "defconfig"], cwd=tree, timeout=300)
    config = tree / ".config"
    text = config.read_text()
    if "# CONFIG_STATIC is not set" not in text:
        raise TestbedError(f"{SOURCE_PACKAGE}'s defconfig has no CONFIG_STATIC line to turn on")
    config.write_text(text.replace("# CONFIG_STATIC is not set", "CONFIG_STATIC=y"))
    run([*_CLEAN_MAKE, f"-j{os.cpu_count() or 1}", "busybox"], cwd=tree, timeout=_BUILD_TIMEOUT_S)
    shutil.copy2(tree / "busybox", scratch / "busybox")
    shutil.rmtree(source)
    _check_environment_passes(scratch / "busybox")


# A variable no shell can name, as `envFrom` makes from a ConfigMap key.
_PROBE = "data-1=value-1"


def _check_environment_passes(binary: Path) -> None:
    """The reason for this build: its `sh` hands every environment variable to what it runs."""
    shown = run(["env", "-i", _PROBE, str(binary), "sh", "-c", "env"]).stdout.splitlines()
    if _PROBE not in shown:
        raise TestbedError(f"{binary}: `sh -c env` dropped {_PROBE!r}, as Debian's busybox does")


def _fetch_source(scratch: Path, into: Path, mirror: DebianMirror) -> None:
    """`apt-get source --download-only` with a sources list of the mirror's deb-src only."""
    (scratch / "lists/partial").mkdir(parents=True)
    sources = scratch / "sources.list"
    sources.write_text(f"deb-src {mirror.uri} {SUITE} main\n")
    apt = [
        "apt-get",
        "-q",
        "-o", f"Dir::Etc::SourceList={sources}",
        "-o", "Dir::Etc::SourceParts=/dev/null",
        "-o", f"Dir::State={scratch / 'state'}",
        "-o", f"Dir::State::Lists={scratch / 'lists'}",
        "-o", f"Dir::Cache={scratch / 'cache'}",
        # Never take the machine's apt locks: other jobs may be installing packages right now.
        "-o", "Debug::NoLocking=true",
    ]  # fmt: skip
    run([*apt, "update"], timeout=_APT_TIMEOUT_S)
    run([*apt, "source", "--download-only", SOURCE_PACKAGE], cwd=into, timeout=_APT_TIMEOUT_S)
    for scratch_only in ("lists", "state", "cache"):
        shutil.rmtree(scratch / scratch_only, ignore_errors=True)
