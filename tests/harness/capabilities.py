"""What the machine must offer before the harness touches anything."""

import os
import shutil
from pathlib import Path

from tests.harness.errors import HarnessUnavailableError

REQUIRED_TOOLS = (
    "containerd",
    "containerd-shim-runc-v2",
    "ctr",
    "runc",
    "debootstrap",
    "ip",
    "iptables",
    "ssh",
    "ssh-keygen",
    "apt-get",
    "apt-ftparchive",
    "tar",
    "zstd",
    "mount",
    "umount",
)


def check_capabilities() -> None:
    """Raise HarnessUnavailableError naming the first missing capability and how to get it."""
    if os.geteuid() != 0:
        raise HarnessUnavailableError(
            "test hosts need root (network namespaces, mounts, containerd); run as root"
        )
    missing = [tool for tool in REQUIRED_TOOLS if shutil.which(tool) is None]
    if missing:
        raise HarnessUnavailableError(
            f"missing tools for the test hosts: {' '.join(missing)}; "
            "install requirements/apt/harness.txt with `make system-deps`"
        )
    filesystems = Path("/proc/filesystems").read_text()
    if "overlay" not in filesystems:
        raise HarnessUnavailableError("the kernel has no overlay filesystem for the hosts' roots")
