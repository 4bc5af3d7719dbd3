"""Names, addresses and folders of the harness, with the few environment overrides it accepts.

Every object the harness creates on the machine carries the `kstest` prefix (netns, veths,
iptables chains, containerd namespace) or the bridge name, so a later run can find and remove
what a crashed one left behind without touching anything else.
"""

import ipaddress
import os
from dataclasses import dataclass
from pathlib import Path

from tests.harness.errors import HarnessError

PREFIX = "kstest"
HOST_COUNT = 3
# 172.29.213.0/24: inside 172.16/12, clear of Kubernetes' usual pod and service ranges
# (10.96/12, 10.244/16, 192.168/16, Cilium's 10/8) so a cluster inside the hosts never overlaps.
DEFAULT_CIDR = "172.29.213.0/24"
DEFAULT_PORT = 8213
BRIDGE = "ksbr0"
CONTAINERD_NAMESPACE = PREFIX
IPTABLES_CHAINS = {"INPUT": "KSTEST-INPUT", "FORWARD": "KSTEST-FORWARD"}
RAW_CHAIN = "KSTEST-PREROUTING"


@dataclass(frozen=True)
class HarnessSettings:
    """Where and how the hosts live; `from_environment` is the only constructor callers need."""

    network: ipaddress.IPv4Network
    repo_port: int
    run_dir: Path
    cache_dir: Path
    lock_wait_s: float = 1800

    @classmethod
    def from_environment(cls) -> "HarnessSettings":
        """Read the KUBESTEAD_HARNESS_* overrides; a bad value is one line naming the variable."""
        cidr = os.environ.get("KUBESTEAD_HARNESS_CIDR", DEFAULT_CIDR)
        try:
            network = ipaddress.IPv4Network(cidr)
        except ValueError as exc:
            raise HarnessError(
                f"KUBESTEAD_HARNESS_CIDR={cidr!r} is not an IPv4 network; use a free /24 "
                f"such as {DEFAULT_CIDR}"
            ) from exc
        if network.prefixlen != 24 or not network.is_private:
            raise HarnessError(
                f"KUBESTEAD_HARNESS_CIDR={cidr!r} must be a private /24 such as {DEFAULT_CIDR}"
            )
        port_text = os.environ.get("KUBESTEAD_HARNESS_REPO_PORT", str(DEFAULT_PORT))
        if not port_text.isdigit() or not 1 <= int(port_text) <= 65535:
            raise HarnessError(
                f"KUBESTEAD_HARNESS_REPO_PORT={port_text!r} is not a TCP port; use e.g. "
                f"{DEFAULT_PORT}"
            )
        xdg_cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
        cache_dir = Path(
            os.environ.get("KUBESTEAD_HARNESS_CACHE", str(Path(xdg_cache) / "kubestead/testhosts"))
        )
        # Not /tmp: the hosts' writable layers hold a few hundred MB of installed packages.
        run_dir = Path(os.environ.get("KUBESTEAD_HARNESS_RUN_DIR", "/var/tmp/kubestead-harness"))
        wait_text = os.environ.get("KUBESTEAD_HARNESS_LOCK_WAIT", "1800")
        if not wait_text.isdigit():
            raise HarnessError(
                f"KUBESTEAD_HARNESS_LOCK_WAIT={wait_text!r} is not whole seconds; use e.g. 1800"
            )
        return cls(
            network=network,
            repo_port=int(port_text),
            run_dir=run_dir,
            cache_dir=cache_dir,
            lock_wait_s=float(wait_text),
        )

    @property
    def bridge_address(self) -> ipaddress.IPv4Address:
        """The machine's side of the bridge: .1, where the apt repository listens."""
        return self.network.network_address + 1

    def host_names(self) -> list[str]:
        """kstest-1, kstest-2, kstest-3: hostnames, netns names and container ids at once."""
        return [f"{PREFIX}-{index}" for index in range(1, HOST_COUNT + 1)]

    def host_address(self, index: int) -> ipaddress.IPv4Address:
        """Host n (1-based) gets .1n: .11, .12, .13."""
        return self.network.network_address + 10 + index

    @property
    def apt_source(self) -> str:
        """The one-line apt source the hosts use for the local repository."""
        return f"deb [trusted=yes] http://{self.bridge_address}:{self.repo_port}/ ./"
