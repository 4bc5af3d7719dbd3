"""Checks before `up`: each problem is one line naming it and the fix."""

from __future__ import annotations

import os
import platform
import shutil
import socket
from pathlib import Path

from e2e.localcluster import processes, settings
from e2e.localcluster.settings import Paths

REQUIRED_COMMANDS = {
    "containerd": "apt-get install containerd",
    "runc": "apt-get install runc",
    "ctr": "apt-get install containerd",
    "iptables": "apt-get install iptables",
    "ip": "apt-get install iproute2",
    "go": "install Go (the Go toolchain builds Kubernetes from source)",
    "gcc": "apt-get install gcc libc6-dev",
    "debootstrap": "apt-get install debootstrap",
    "runuser": "apt-get install util-linux",
}
CNI_PLUGINS = ("bridge", "host-local", "portmap", "loopback")


class PreflightError(RuntimeError):
    """One line: what is wrong and what to do."""


def check(paths: Paths) -> None:
    if platform.system() != "Linux":
        raise PreflightError(
            "the local cluster needs Linux (containerd, iptables) — use a Linux machine or VM"
        )
    if os.geteuid() != 0:
        raise PreflightError(
            "the local cluster needs root (network namespaces, iptables, mounts) — run with sudo"
        )
    for command, fix in REQUIRED_COMMANDS.items():
        if shutil.which(command) is None:
            raise PreflightError(f"`{command}` is not installed — {fix}")
    for plugin in CNI_PLUGINS:
        if not Path("/usr/lib/cni", plugin).exists():
            raise PreflightError(
                f"CNI plugin {plugin} missing in /usr/lib/cni"
                " — apt-get install containernetworking-plugins"
            )
    if not Path("/proc/sys/net/bridge/bridge-nf-call-iptables").exists():
        raise PreflightError(
            "bridge netfilter is unavailable — load it with `modprobe br_netfilter`"
        )
    if not any(
        line.split()[-1] == "overlay" for line in Path("/proc/filesystems").read_text().splitlines()
    ):
        raise PreflightError(
            "the overlay filesystem is unavailable — load it with `modprobe overlay`"
        )
    leftovers = processes.started(paths)
    if leftovers:
        raise PreflightError(
            f"a local cluster is already up or was left behind ({', '.join(leftovers)})"
            " — run `make down` first"
        )
    if Path("/sys/class/net", settings.BRIDGE).exists():
        raise PreflightError(
            f"interface {settings.BRIDGE} exists from an earlier run — run `make down` first"
        )
    for port in (2379, 2380, 10248, 10249, 10256, 10257, 10259):
        _port_free("127.0.0.1", port)


def _port_free(address: str, port: int) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((address, port))
        except OSError as error:
            raise PreflightError(
                f"port {address}:{port} is in use ({error.strerror})"
                f" — stop what listens there (`ss -ltnp 'sport = :{port}'`)"
            ) from None
