"""The hosts' network: a bridge with the machine at .1, one netns and veth per host, no way out.

The hosts get a default route to the bridge (real VMs have one, and Ansible facts such as
`ansible_default_ipv4` depend on it), but the machine forwards nothing from or to the bridge
and accepts from it only the apt repository port, ICMP to the bridge address and replies to
connections the machine opened itself (SSH). There is no NAT: nothing leaves the machine.
Packets from the hosts to anything outside their /24 are exempt from connection tracking (raw
table), so no NAT rule on the machine (kube-proxy's, say) can redirect them somewhere reachable.
"""

import ipaddress
from pathlib import Path

from tests.harness.commands import run, succeeds
from tests.harness.errors import HarnessError
from tests.harness.settings import BRIDGE, IPTABLES_CHAINS, PREFIX, RAW_CHAIN, HarnessSettings

NETNS_DIR = Path("/var/run/netns")


def veth_name(host: str) -> str:
    """The machine-side end of a host's veth pair (at most 15 characters, as the kernel wants)."""
    return f"{host}-h"


def check_network_is_free(network: ipaddress.IPv4Network) -> None:
    """Refuse a CIDR that a route on the machine already covers, other than our own bridge."""
    for line in run(["ip", "-4", "route", "show"]).stdout.splitlines():
        fields = line.split()
        if not fields or fields[0] == "default" or f"dev {BRIDGE}" in line:
            continue
        try:
            routed = ipaddress.IPv4Network(fields[0], strict=False)
        except ValueError:
            continue
        if routed.overlaps(network):
            raise HarnessError(
                f"the test host network {network} overlaps the machine's route '{line.strip()}'; "
                "set KUBESTEAD_HARNESS_CIDR to a free private /24"
            )


def create_bridge(settings: HarnessSettings) -> None:
    """The bridge, with the machine's address on it, IPv6 off and the firewall chains in place."""
    check_network_is_free(settings.network)
    run(["ip", "link", "add", BRIDGE, "type", "bridge"])
    # The machine takes no part in IPv6 on the bridge: the hosts only know IPv4 addresses here.
    Path(f"/proc/sys/net/ipv6/conf/{BRIDGE}/disable_ipv6").write_text("1\n")
    run(["ip", "addr", "add", f"{settings.bridge_address}/24", "dev", BRIDGE])
    run(["ip", "link", "set", BRIDGE, "up"])
    _add_firewall(settings)


def attach_host(settings: HarnessSettings, host: str, index: int) -> Path:
    """A netns for the host, a veth from the bridge into it as eth0; returns the netns path."""
    veth = veth_name(host)
    run(["ip", "netns", "add", host])
    run(["ip", "link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", host])
    run(["ip", "link", "set", veth, "master", BRIDGE, "up"])
    inside = ["ip", "-n", host]
    run([*inside, "link", "set", "lo", "up"])
    run([*inside, "addr", "add", f"{settings.host_address(index)}/24", "dev", "eth0"])
    run([*inside, "link", "set", "eth0", "up"])
    run([*inside, "route", "add", "default", "via", str(settings.bridge_address)])
    return NETNS_DIR / host


def remove_all() -> None:
    """Remove every netns, veth, bridge and iptables rule with the harness's names."""
    for netns in _harness_netns():
        run(["ip", "netns", "delete", netns], check=False)
    for link in _harness_links():
        run(["ip", "link", "delete", link], check=False)
    if succeeds(["ip", "link", "show", BRIDGE]):
        run(["ip", "link", "delete", BRIDGE])
    _remove_firewall()


def _harness_netns() -> list[str]:
    listing = run(["ip", "netns", "list"]).stdout
    names = [line.split()[0] for line in listing.splitlines() if line.strip()]
    return [name for name in names if name.startswith(f"{PREFIX}-")]


def _harness_links() -> list[str]:
    listing = run(["ip", "-o", "link", "show"]).stdout
    names = [line.split(":")[1].strip().split("@")[0] for line in listing.splitlines()]
    return [name for name in names if name.startswith(f"{PREFIX}-")]


# (built-in chain, match) of each jump into the harness's filter chains.
_JUMPS = (
    ("INPUT", ("-i", BRIDGE)),
    ("FORWARD", ("-i", BRIDGE)),
    ("FORWARD", ("-o", BRIDGE)),
)


def _add_firewall(settings: HarnessSettings) -> None:
    _remove_firewall()
    bridge_ip, repo_port = str(settings.bridge_address), str(settings.repo_port)
    input_chain, forward_chain = IPTABLES_CHAINS["INPUT"], IPTABLES_CHAINS["FORWARD"]
    for chain in (input_chain, forward_chain):
        run(["iptables", "-w", "-N", chain])
    rules: list[list[str]] = [
        # Replies to what the machine opened itself: SSH and ssh-keyscan to the hosts.
        [input_chain, "-m", "conntrack", "--ctstate", "ESTABLISHED,RELATED", "-j", "ACCEPT"],
        [input_chain, "-d", bridge_ip, "-p", "tcp", "--dport", repo_port, "-j", "ACCEPT"],
        [input_chain, "-d", bridge_ip, "-p", "icmp", "-j", "ACCEPT"],
        # Reject rather than drop, so a host that tries to leave fails at once, not on a timeout.
        [input_chain, "-p", "tcp", "-j", "REJECT", "--reject-with", "tcp-reset"],
        [input_chain, "-j", "REJECT", "--reject-with", "icmp-admin-prohibited"],
        # Host to host across the bridge (seen here when br_netfilter hands bridged traffic over).
        [forward_chain, "-i", BRIDGE, "-o", BRIDGE, "-j", "ACCEPT"],
        [forward_chain, "-j", "REJECT", "--reject-with", "icmp-admin-prohibited"],
    ]
    for rule in rules:
        run(["iptables", "-w", "-A", *rule])
    # First in their chains, ahead of any ACCEPT that other software on the machine added.
    for builtin, match in _JUMPS:
        run(["iptables", "-w", "-I", builtin, "1", *match, "-j", IPTABLES_CHAINS[builtin]])
    raw = ["iptables", "-w", "-t", "raw"]
    run([*raw, "-N", RAW_CHAIN])
    run([*raw, "-A", RAW_CHAIN, "!", "-d", str(settings.network), "-j", "CT", "--notrack"])
    run([*raw, "-I", "PREROUTING", "1", "-i", BRIDGE, "-j", RAW_CHAIN])


def _remove_firewall() -> None:
    raw = ["iptables", "-w", "-t", "raw"]
    while succeeds([*raw, "-D", "PREROUTING", "-i", BRIDGE, "-j", RAW_CHAIN]):
        pass
    if succeeds([*raw, "-n", "-L", RAW_CHAIN]):
        run([*raw, "-F", RAW_CHAIN])
        run([*raw, "-X", RAW_CHAIN])
    for builtin, match in _JUMPS:
        chain = IPTABLES_CHAINS[builtin]
        while succeeds(["iptables", "-w", "-D", builtin, *match, "-j", chain]):
            pass
    for chain in IPTABLES_CHAINS.values():
        if succeeds(["iptables", "-w", "-n", "-L", chain]):
            run(["iptables", "-w", "-F", chain])
            run(["iptables", "-w", "-X", chain])


def firewall_rules() -> str:
    """The harness chains as `iptables -S` prints them, for diagnostics and tests."""
    filter_rules = "".join(
        run(["iptables", "-w", "-S", chain], check=False).stdout
        for chain in IPTABLES_CHAINS.values()
    )
    return filter_rules + run(["iptables", "-w", "-t", "raw", "-S", RAW_CHAIN], check=False).stdout


def assert_no_nat_for(network: ipaddress.IPv4Network) -> None:
    """Fail if any NAT rule on the machine mentions the host network (it would let hosts out)."""
    nat_rules = run(["iptables", "-w", "-t", "nat", "-S"]).stdout
    if str(network) in nat_rules or BRIDGE in nat_rules:
        raise HarnessError(f"a NAT rule on the machine covers {network} or {BRIDGE}: {nat_rules}")
