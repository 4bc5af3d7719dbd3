"""Smoke test of the bare test hosts: SSH, the Debian repository, host to host, no way out."""

import ipaddress
import json
import socket
import subprocess
import time
from collections.abc import Iterator

import pytest

from kubestead.bundle import bundle
from kubestead.spec.validate import validate_file
from testbed.bundle.offline import KUBERNETES_PACKAGES
from testbed.fixtures import TestHosts
from testbed.mirror import machine_mirror
from testbed.network import check_network_is_free, firewall_rules
from testbed.rootfs import cached_rootfs
from testbed.settings import CLUSTER_SPEC, Bench, Host, cache_root, hosts_bench

pytestmark = [pytest.mark.hosts, pytest.mark.slow]


def _machine_addresses_outside_bridge(bridge: str) -> list[str]:
    """The machine's own IPv4 addresses on its other interfaces (never a remote address)."""
    listing = json.loads(
        subprocess.run(
            ["ip", "-j", "-4", "addr"], capture_output=True, text=True, check=True
        ).stdout
    )
    return [
        info["local"]
        for link in listing
        if link["ifname"] not in {"lo", bridge}
        for info in link.get("addr_info", [])
    ]


def host_packages() -> list[str]:
    """The distribution's packages `kubestead bundle` lists for the testbed's cluster."""
    cluster = validate_file(CLUSTER_SPEC).cluster
    assert cluster is not None
    return sorted(
        a.name
        for a in bundle(cluster).artifacts
        if a.kind == "package" and a.name not in KUBERNETES_PACKAGES
    )


@pytest.fixture
def apt_source(test_hosts: TestHosts) -> Iterator[None]:
    """The bench's repository as an apt source on every host (the hosts come with none)."""
    listing = "/etc/apt/sources.list.d/smoke-test.list"
    for host in test_hosts.hosts:
        host.exec(["sh", "-c", f"echo '{test_hosts.apt_source}' > {listing}"])
    try:
        yield
    finally:
        for host in test_hosts.hosts:
            host.exec(["rm", "-f", listing])
            host.exec(["apt-get", "clean"])


@pytest.fixture
def machine_listener() -> Iterator[int]:
    """A TCP listener on every address of the machine: reachable, unless a firewall says no."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as server:
        server.bind(("0.0.0.0", 0))  # noqa: S104 — the point is to be reachable if allowed
        server.listen()
        yield server.getsockname()[1]


# A stand-in for "the world beyond the machine", made by the test itself: a netns the machine
# routes to, never a real remote address.
OUTSIDE_NETNS = "kstest-outside"
OUTSIDE_PORT = 8080


@pytest.fixture
def outside_listener(test_hosts: TestHosts) -> Iterator[str]:
    """A listener in a netns of its own, one routed hop from the machine: returns its address."""
    network = ipaddress.IPv4Network(test_hosts.private_cidr)
    outside = ipaddress.IPv4Network((int(network.network_address) + 256, 24))
    peer_host = Host("peer", str(outside.network_address + 2))
    check_network_is_free(Bench("outside", "ksout", "ksout", outside, (peer_host,), ()))
    machine_side, peer = outside.network_address + 1, outside.network_address + 2
    veth = f"{OUTSIDE_NETNS[:9]}-h"
    setup = [
        ["ip", "netns", "add", OUTSIDE_NETNS],
        ["ip", "link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", OUTSIDE_NETNS],
        ["ip", "addr", "add", f"{machine_side}/24", "dev", veth],
        ["ip", "link", "set", veth, "up"],
        ["ip", "-n", OUTSIDE_NETNS, "addr", "add", f"{peer}/24", "dev", "eth0"],
        ["ip", "-n", OUTSIDE_NETNS, "link", "set", "eth0", "up"],
        ["ip", "-n", OUTSIDE_NETNS, "route", "add", "default", "via", str(machine_side)],
    ]
    serve = (
        "import socket\n"
        f"server = socket.create_server(('0.0.0.0', {OUTSIDE_PORT}))\n"
        "while True:\n"
        "    server.accept()[0].close()\n"
    )
    listener: subprocess.Popen[bytes] | None = None
    try:
        for argv in setup:
            subprocess.run(argv, check=True, capture_output=True)
        listener = subprocess.Popen(["ip", "netns", "exec", OUTSIDE_NETNS, "python3", "-c", serve])
        deadline = time.monotonic() + 10
        while True:
            try:
                # The machine reaches it, so a host that cannot is stopped by the harness.
                socket.create_connection((str(peer), OUTSIDE_PORT), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        yield str(peer)
    finally:
        if listener is not None:
            listener.kill()
            listener.wait()
        subprocess.run(["ip", "netns", "delete", OUTSIDE_NETNS], check=False)
        subprocess.run(["ip", "link", "delete", veth], check=False, capture_output=True)


def _connect_from(hosts: TestHosts, address: str, port: int) -> subprocess.CompletedProcess[str]:
    probe = (
        f"import socket, sys\nsocket.create_connection(({address!r}, {port}), timeout=1).close()\n"
    )
    return hosts.hosts[0].exec(["python3", "-c", probe], timeout=30)


def test_each_host_answers_over_ssh_with_systemd_running(test_hosts: TestHosts) -> None:
    for host in test_hosts.hosts:
        result = subprocess.run(
            test_hosts.ssh_argv(host, "hostname; systemctl is-system-running"),
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        hostname, state = result.stdout.split()
        assert hostname == host.name
        assert state == "running"
        # The SSH user is not root: it reaches root through sudo, as on a cloud image.
        assert test_hosts.ssh_user != "root"
        sudo = subprocess.run(
            test_hosts.ssh_argv(host, "sudo -n id -u"),
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert sudo.stdout.strip() == "0", sudo.stderr


def test_hosts_boot_with_no_package_source(test_hosts: TestHosts) -> None:
    # Like an air-gapped VM: sources arrive through the spec (spec.offline.aptSources). The
    # root filesystem every host boots from is checked (the session's hosts are shared, and the
    # Ansible tests give them sources).
    tree, _ = cached_rootfs(cache_root(), machine_mirror())
    sources = [tree / "etc/apt/sources.list", *(tree / "etc/apt/sources.list.d").iterdir()]
    lines = [line for path in sources for line in path.read_text().splitlines()]
    assert not [line for line in lines if line.strip().startswith("deb")], lines


def test_each_host_installs_from_the_local_repository(
    test_hosts: TestHosts, apt_source: None
) -> None:
    packages = host_packages()
    for host in test_hosts.hosts:
        update = host.exec(["apt-get", "update"])
        assert update.returncode == 0, update.stdout + update.stderr
        assert test_hosts.bridge_address in update.stdout
        # A simulated install of every listed package proves the repository holds the closure.
        simulate = host.exec(["apt-get", "install", "--simulate", "--yes", *packages])
        assert simulate.returncode == 0, simulate.stdout + simulate.stderr
        # The hosts are shared by the whole session: the Ansible tests may have installed it.
        assert (
            "Inst containerd " in simulate.stdout
            or "containerd is already the newest version" in simulate.stdout
        ), simulate.stdout


def test_every_package_downloads_and_matches_the_index(
    test_hosts: TestHosts, apt_source: None
) -> None:
    host = test_hosts.hosts[0]
    assert host.exec(["apt-get", "update"]).returncode == 0
    # apt checks each .deb against the index's size and hashes: a corrupt or missing file
    # fails. `download` fetches whether or not the package is installed (hosts are shared).
    folder = "/tmp/smoke-download"
    host.exec(["mkdir", "-p", folder])
    try:
        download = host.exec(
            ["sh", "-c", f"cd {folder} && apt-get download {' '.join(host_packages())}"]
        )
        assert download.returncode == 0, download.stdout + download.stderr
        fetched = host.exec(["sh", "-c", f"ls {folder}/*.deb | wc -l"]).stdout
        assert int(fetched) == len(host_packages())
    finally:
        host.exec(["rm", "-rf", folder])


def test_hosts_reach_each_other_by_name(test_hosts: TestHosts) -> None:
    for source in test_hosts.hosts:
        for target in test_hosts.hosts:
            if target is source:
                continue
            ping = source.exec(["ping", "-c", "1", "-W", "2", target.name], timeout=30)
            assert ping.returncode == 0, ping.stdout + ping.stderr
            assert target.address in ping.stdout


def test_hosts_have_their_own_addresses_and_only_a_route_to_the_bridge(
    test_hosts: TestHosts,
) -> None:
    network = ipaddress.IPv4Network(test_hosts.private_cidr)
    for host in test_hosts.hosts:
        assert ipaddress.IPv4Address(host.address) in network
        routes = [
            line.strip() for line in host.exec(["ip", "-4", "route", "show"]).stdout.splitlines()
        ]
        assert routes[0] == f"default via {test_hosts.bridge_address} dev eth0"
        assert all(route.startswith(("default", str(network))) for route in routes), routes
    assert len({host.address for host in test_hosts.hosts}) == len(hosts_bench().hosts)


def test_hosts_cannot_reach_the_machine_beyond_the_repository(
    test_hosts: TestHosts, machine_listener: int
) -> None:
    with socket.create_connection(("127.0.0.1", machine_listener), timeout=1):
        pass  # the listener itself is reachable, so a failure below is the firewall's doing
    outside = _machine_addresses_outside_bridge(test_hosts.bench.bridge)
    assert outside, "the machine has no address outside the bridge to test against"
    for address in [test_hosts.bridge_address, *outside]:
        attempt = _connect_from(test_hosts, address, machine_listener)
        assert attempt.returncode != 0, f"a host reached {address}:{machine_listener}"
        assert "ConnectionRefusedError" in attempt.stderr, attempt.stderr


def test_hosts_cannot_reach_a_network_beyond_the_machine(
    test_hosts: TestHosts, outside_listener: str
) -> None:
    attempt = _connect_from(test_hosts, outside_listener, OUTSIDE_PORT)
    assert attempt.returncode != 0, f"a host reached {outside_listener} through the machine"
    # Rejected when the machine forwards at all, timed out when it does not: never connected.
    assert "OSError" in attempt.stderr or "TimeoutError" in attempt.stderr, attempt.stderr


def test_the_machine_forwards_and_translates_nothing_for_the_hosts(
    test_hosts: TestHosts,
) -> None:
    bench = test_hosts.bench
    rules = firewall_rules(bench)
    assert f"-A KSTEST-FORWARD -i {bench.bridge} -o {bench.bridge} -j ACCEPT" in rules
    assert "-A KSTEST-FORWARD -j REJECT" in rules
    assert f"-A KSTEST-PREROUTING ! -d {test_hosts.private_cidr} -j CT --notrack" in rules
    nat = subprocess.run(
        ["iptables", "-w", "-t", "nat", "-S"], capture_output=True, text=True, check=True
    ).stdout
    assert test_hosts.private_cidr not in nat
    assert bench.bridge not in nat
