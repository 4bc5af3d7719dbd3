"""A bench's network: a bridge with the machine at .1, one netns and veth per host, no way out.

The hosts get a default route to the bridge (real VMs have one; Ansible facts and the kubelet
depend on it), but the machine forwards nothing from or to the bridge and accepts from it only
its own service ports (repositories, registry, database), ICMP to the bridge address and replies
to connections the machine opened itself (SSH, the API). There is no NAT: nothing leaves the
machine. Packets from the hosts to anything outside their network are exempt from connection
tracking (raw table), so no NAT rule on the machine can redirect them somewhere reachable.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path

from testbed.commands import run, succeeds
from testbed.errors import TestbedError
from testbed.settings import Bench

NETNS_DIR = Path("/var/run/netns")


def _chains(bench: Bench) -> dict[str, str]:
    tag = bench.prefix.upper()
    return {"INPUT": f"{tag}-INPUT", "FORWARD": f"{tag}-FORWARD", "raw": f"{tag}-PREROUTING"}


def check_network_is_free(bench: Bench) -> None:
    """Refuse a network that a route on the machine already covers, other than our bridge."""
    for line in run(["ip", "-4", "route", "show"]).stdout.splitlines():
        fields = line.split()
        if not fields or fields[0] == "default" or f"dev {bench.bridge}" in line:
            continue
        try:
            routed = ipaddress.IPv4Network(fields[0], strict=False)
        except ValueError:
            continue
        if routed.overlaps(bench.network):
            raise TestbedError(
                f"the {bench.name} bench's network {bench.network} overlaps the machine's route "
                f"'{line.strip()}'; remove that route or change the bench's network"
            )


def create_bridge(bench: Bench) -> None:
    """The bridge, with the machine's address on it, IPv6 off and the firewall chains in place."""
    check_network_is_free(bench)
    run(["ip", "link", "add", bench.bridge, "type", "bridge"])
    # The machine takes no part in IPv6 on the bridge: the hosts only know IPv4 addresses here.
    Path(f"/proc/sys/net/ipv6/conf/{bench.bridge}/disable_ipv6").write_text("1\n")
    run(["ip", "addr", "add", f"{bench.machine_address}/24", "dev", bench.bridge])
    run(["ip", "link", "set", bench.bridge, "up"])
    _add_firewall(bench)


def attach_host(bench: Bench, index: int) -> Path:
    """A netns for host n (1-based), a veth from the bridge into it as eth0; the netns path."""
    host = bench.hosts[index - 1]
    netns, veth = bench.netns(host), bench.veth(index)
    run(["ip", "netns", "add", netns])
    run(["ip", "link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", netns])
    run(["ip", "link", "set", veth, "master", bench.bridge, "up"])
    inside = ["ip", "-n", netns]
    run([*inside, "link", "set", "lo", "up"])
    run([*inside, "addr", "add", f"{host.address}/24", "dev", "eth0"])
    run([*inside, "link", "set", "eth0", "up"])
    run([*inside, "route", "add", "default", "via", bench.machine_address])
    return NETNS_DIR / netns


def unplug(netns: str, address: str) -> list[str]:
    """A powered-off host's network: its link down and every address the host added at run time
    (a virtual IP) gone, as a reboot loses them. Returns the routes to give back on `plug`.

    Without this the netns, which outlives the host's processes, keeps answering for a VIP
    another host has taken over.
    """
    inside = ["ip", "-n", netns]
    routes = run([*inside, "-4", "route", "show", "default"]).stdout.split()
    for line in run([*inside, "-4", "-o", "addr", "show", "dev", "eth0"]).stdout.splitlines():
        added = line.split()[3]  # "2: eth0 inet 172.29.213.10/32 scope global eth0 ..."
        if added.split("/")[0] != address:
            run([*inside, "addr", "del", added, "dev", "eth0"])
    run([*inside, "link", "set", "eth0", "down"])
    return routes


def plug(netns: str, routes: list[str]) -> None:
    """The link of a host powered on again, with the default route it had."""
    inside = ["ip", "-n", netns]
    run([*inside, "link", "set", "eth0", "up"])
    if routes:
        run([*inside, "route", "replace", *routes])


def remove_all(bench: Bench) -> None:
    """Remove every netns, veth, bridge and iptables rule with the bench's names."""
    for netns in _named(run(["ip", "netns", "list"]).stdout, bench.prefix):
        run(["ip", "netns", "delete", netns], check=False)
    links = [
        line.split(":")[1].strip().split("@")[0]
        for line in run(["ip", "-o", "link", "show"]).stdout.splitlines()
    ]
    for link in links:
        if link.startswith(f"{bench.prefix}-"):
            run(["ip", "link", "delete", link], check=False)
    if succeeds(["ip", "link", "show", bench.bridge]):
        run(["ip", "link", "delete", bench.bridge])
    _remove_firewall(bench)


def _named(listing: str, prefix: str) -> list[str]:
    names = [line.split()[0] for line in listing.splitlines() if line.strip()]
    return [name for name in names if name.startswith(f"{prefix}-")]


def _jumps(bench: Bench) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """(built-in chain, match) of each jump into the bench's filter chains."""
    return (
        ("INPUT", ("-i", bench.bridge)),
        ("FORWARD", ("-i", bench.bridge)),
        ("FORWARD", ("-o", bench.bridge)),
    )


def _add_firewall(bench: Bench) -> None:
    _remove_firewall(bench)
    chains = _chains(bench)
    machine = bench.machine_address
    for chain in (chains["INPUT"], chains["FORWARD"]):
        run(["iptables", "-w", "-N", chain])
    rules: list[list[str]] = [
        # Replies to what the machine opened itself: SSH, the API, kubectl.
        [chains["INPUT"], "-m", "conntrack", "--ctstate", "ESTABLISHED,RELATED", "-j", "ACCEPT"],
        *(
            [chains["INPUT"], "-d", machine, "-p", "tcp", "--dport", str(port), "-j", "ACCEPT"]
            for port in bench.machine_ports
        ),
        [chains["INPUT"], "-d", machine, "-p", "icmp", "-j", "ACCEPT"],
        # Reject rather than drop, so a host that tries to leave fails at once, not on a timeout
        # (its DNS queries to .1 among them: there is no resolver on the bridge).
        [chains["INPUT"], "-p", "tcp", "-j", "REJECT", "--reject-with", "tcp-reset"],
        [chains["INPUT"], "-j", "REJECT", "--reject-with", "icmp-admin-prohibited"],
        # Host to host across the bridge (seen when br_netfilter hands bridged traffic over).
        [chains["FORWARD"], "-i", bench.bridge, "-o", bench.bridge, "-j", "ACCEPT"],
        [chains["FORWARD"], "-j", "REJECT", "--reject-with", "icmp-admin-prohibited"],
    ]
    for rule in rules:
        run(["iptables", "-w", "-A", *rule])
    # First in their chains, ahead of any ACCEPT that other software on the machine added.
    for builtin, match in _jumps(bench):
        target = chains["INPUT"] if builtin == "INPUT" else chains["FORWARD"]
        run(["iptables", "-w", "-I", builtin, "1", *match, "-j", target])
    raw = ["iptables", "-w", "-t", "raw"]
    run([*raw, "-N", chains["raw"]])
    run([*raw, "-A", chains["raw"], "!", "-d", str(bench.network), "-j", "CT", "--notrack"])
    run([*raw, "-I", "PREROUTING", "1", "-i", bench.bridge, "-j", chains["raw"]])


def _remove_firewall(bench: Bench) -> None:
    chains = _chains(bench)
    raw = ["iptables", "-w", "-t", "raw"]
    while succeeds([*raw, "-D", "PREROUTING", "-i", bench.bridge, "-j", chains["raw"]]):
        pass
    if succeeds([*raw, "-n", "-L", chains["raw"]]):
        run([*raw, "-F", chains["raw"]])
        run([*raw, "-X", chains["raw"]])
    for builtin, match in _jumps(bench):
        target = chains["INPUT"] if builtin == "INPUT" else chains["FORWARD"]
        while succeeds(["iptables", "-w", "-D", builtin, *match, "-j", target]):
            pass
    for chain in (chains["INPUT"], chains["FORWARD"]):
        if succeeds(["iptables", "-w", "-n", "-L", chain]):
            run(["iptables", "-w", "-F", chain])
            run(["iptables", "-w", "-X", chain])


def firewall_rules(bench: Bench) -> str:
    """The bench's chains as `iptables -S` prints them, for diagnostics and tests."""
    chains = _chains(bench)
    filter_rules = "".join(
        run(["iptables", "-w", "-S", chain], check=False).stdout
        for chain in (chains["INPUT"], chains["FORWARD"])
    )
    raw = run(["iptables", "-w", "-t", "raw", "-S", chains["raw"]], check=False).stdout
    return filter_rules + raw


def assert_no_nat_for(bench: Bench) -> None:
    """Fail if any NAT rule on the machine mentions the bench (it would let hosts out)."""
    nat_rules = run(["iptables", "-w", "-t", "nat", "-S"]).stdout
    if str(bench.network) in nat_rules or bench.bridge in nat_rules:
        raise TestbedError(
            f"a NAT rule on the machine covers {bench.network} or {bench.bridge}: {nat_rules}"
        )
