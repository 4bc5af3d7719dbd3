"""What the machine must offer before the harness touches anything."""

import os
import shutil
from pathlib import Path

from testbed.errors import TestbedUnavailableError

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
    "unshare",
    "chroot",
    "mount",
    "umount",
)


def check_capabilities() -> None:
    """Raise TestbedUnavailableError naming the first missing capability and how to get it."""
    if os.geteuid() != 0:
        raise TestbedUnavailableError(
            "test hosts need root (network namespaces, mounts, containerd); run as root"
        )
    missing = [tool for tool in REQUIRED_TOOLS if shutil.which(tool) is None]
    if missing:
        raise TestbedUnavailableError(
            f"missing tools for the test hosts: {' '.join(missing)}; "
            "install requirements/apt/testbed.txt with `make system-deps`"
        )
    filesystems = Path("/proc/filesystems").read_text()
    if "overlay" not in filesystems:
        raise TestbedUnavailableError("the kernel has no overlay filesystem for the hosts' roots")
