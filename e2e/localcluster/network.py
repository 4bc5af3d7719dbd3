"""Host preparation: the node's bridge, sysctls, routes and the guard that keeps pods local.

Everything made here is recorded or named so that `down` removes it: the bridge `kubestead0`,
the routes pinned to it, the iptables guard chain, and the sysctl values we changed (their old
values are saved and restored).
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from e2e.localcluster import settings
from e2e.localcluster.settings import Paths

SYSCTLS = {
    "net.ipv4.ip_forward": "1",
    "net.bridge.bridge-nf-call-iptables": "1",
}


def _sh(*argv: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(argv), capture_output=True, text=True, check=check)


def _sysctl_path(key: str) -> Path:
    return Path("/proc/sys") / key.replace(".", "/")


def set_sysctls(paths: Paths) -> None:
    saved = paths.config / "sysctl-before.json"
    if not saved.exists():
        saved.write_text(json.dumps({k: _sysctl_path(k).read_text().strip() for k in SYSCTLS}))
    for key, value in SYSCTLS.items():
        _sysctl_path(key).write_text(value)


def restore_sysctls(paths: Paths) -> None:
    saved = paths.config / "sysctl-before.json"
    if saved.exists():
        for key, value in json.loads(saved.read_text()).items():
            _sysctl_path(key).write_text(value)


def create_bridge() -> None:
    _sh("ip", "link", "add", settings.BRIDGE, "type", "bridge")
    _sh("ip", "addr", "add", settings.NODE_CIDR, "dev", settings.BRIDGE)
    _sh("ip", "link", "set", settings.BRIDGE, "up")
    # Service IPs nobody answers and other nodes' pod ranges must never follow the default
    # route off the machine: pin the service range to our bridge, blackhole the pod range
    # (the node's own /24 is more specific and goes to the CNI bridge).
    _sh("ip", "route", "replace", settings.SERVICE_CIDR, "dev", settings.BRIDGE)
    _sh("ip", "route", "replace", "blackhole", settings.POD_CIDR)


def delete_bridge() -> None:
    _sh("ip", "route", "del", settings.SERVICE_CIDR, check=False)
    _sh("ip", "route", "del", "blackhole", settings.POD_CIDR, check=False)
    for link in (settings.BRIDGE, settings.CNI_BRIDGE):
        _sh("ip", "link", "del", link, check=False)


def install_guard() -> None:
    """Drop anything a pod sends that would leave the pod network through a forward."""
    chain = settings.IPTABLES_GUARD_CHAIN
    _sh("iptables", "-N", chain, check=False)
    _sh("iptables", "-F", chain)
    _sh("iptables", "-A", chain, "-s", settings.POD_CIDR, "-d", settings.POD_CIDR, "-j", "RETURN")
    _sh("iptables", "-A", chain, "-s", settings.POD_CIDR, "-j", "DROP")
    if _sh("iptables", "-C", "FORWARD", "-j", chain, check=False).returncode != 0:
        _sh("iptables", "-I", "FORWARD", "1", "-j", chain)


def remove_iptables() -> None:
    """Our guard, and the chains kube-proxy, the kubelet and the CNI plugins created."""
    chain = settings.IPTABLES_GUARD_CHAIN
    while _sh("iptables", "-D", "FORWARD", "-j", chain, check=False).returncode == 0:
        pass
    _sh("iptables", "-F", chain, check=False)
    _sh("iptables", "-X", chain, check=False)
    for table in ("filter", "nat", "mangle"):
        rules = _sh("iptables-save", "-t", table, check=False).stdout.splitlines()
        ours = {
            line[1:].split()[0]
            for line in rules
            if line.startswith(":") and line[1:].startswith(("KUBE-", "CNI-"))
        }
        if not ours:
            continue
        # Unhook jumps from built-in chains first, then flush and delete our chains.
        for line in rules:
            if line.startswith("-A ") and "-j " in line:
                target = line.split("-j ", 1)[1].split()[0]
                if target in ours and line.split()[1] not in ours:
                    _sh("iptables", "-t", table, "-D", *line.split()[1:], check=False)
        for name in ours:
            _sh("iptables", "-t", table, "-F", name, check=False)
        for name in ours:
            _sh("iptables", "-t", table, "-X", name, check=False)


def write_cni_config(paths: Paths) -> None:
    paths.cni_conf.mkdir(parents=True, exist_ok=True)
    config = {
        "cniVersion": "1.0.0",
        "name": "kubestead-e2e",
        "plugins": [
            {
                "type": "bridge",
                "bridge": settings.CNI_BRIDGE,
                "isGateway": True,
                "ipMasq": False,  # pods never leave the machine, so there is nothing to NAT
                "hairpinMode": True,
                "ipam": {
                    "type": "host-local",
                    "ranges": [[{"subnet": settings.NODE_POD_CIDR}]],
                    "routes": [{"dst": "0.0.0.0/0"}],
                    "dataDir": str(paths.state / "cni" / "ipam"),
                },
            },
            {"type": "portmap", "capabilities": {"portMappings": True}},
        ],
    }
    (paths.cni_conf / "10-kubestead.conflist").write_text(json.dumps(config, indent=2) + "\n")
