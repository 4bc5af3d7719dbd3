"""Cross-field rules: each one returns every problem it finds, each naming its path and fix."""

from __future__ import annotations

import datetime as dt
import errno
import ipaddress
import posixpath
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

from kubestead import versions
from kubestead.spec.issues import Issue, shown
from kubestead.spec.models import Cluster

Rule = Callable[[Cluster, "Options"], Iterator[Issue]]


def current_date() -> dt.date:
    """Today, for the end-of-life rule; tests replace it so no result depends on the calendar."""
    return dt.date.today()


class Options:
    def __init__(self, *, allow_even_etcd: bool = False, today: dt.date | None = None) -> None:
        self.allow_even_etcd = allow_even_etcd
        self.today = today or current_date()


HOSTS = ("spec", "hosts")
# kube-apiserver's port on every control plane, and the one haproxy takes beside it.
API_SERVER_PORT = 6443
HAPROXY_PORT = 8443


def control_plane_count(cluster: Cluster, options: Options) -> Iterator[Issue]:
    count = len(cluster.control_planes)
    if count == 0:
        yield Issue(
            HOSTS,
            "no host has role control-plane — give at least one host (three for high "
            "availability) `role: control-plane`",
        )
    elif count == 1:
        yield Issue(
            HOSTS,
            "one control plane is not highly available: losing it stops the API and etcd — "
            "use 3 for production",
            severity="warning",
        )
    elif count > 7:
        # Checked before the even branch: --allow-even-etcd must not let 8 through.
        yield Issue(
            HOSTS,
            f"{count} control planes run {count} etcd members: every write waits for "
            f"{count // 2 + 1} of them — use 3, 5 or 7",
        )
    elif count % 2 == 0:
        reason = (
            f"{count} control planes run {count} etcd members, which tolerate "
            f"{(count - 1) // 2} failure{'s' if (count - 1) // 2 != 1 else ''} (quorum is "
            f"{count // 2 + 1}), no more than {count - 1} members do"
        )
        if count == 2:
            reason = (
                "2 control planes run a 2-member etcd, which needs both members for quorum and "
                "tolerates no failure"
            )
        if options.allow_even_etcd:
            yield Issue(
                HOSTS,
                f"ALLOWED BY --allow-even-etcd: {reason} — finish the member replacement and "
                f"return to {count + 1} or {count - 1} control planes",
                severity="warning",
            )
        else:
            yield Issue(
                HOSTS,
                f"{reason} — use {count - 1} or {count + 1} control planes "
                "(--allow-even-etcd accepts this during a member replacement only)",
            )


def unique_hosts(cluster: Cluster, options: Options) -> Iterator[Issue]:
    for attribute in ("name", "address"):
        values = [getattr(h, attribute) for h in cluster.spec.hosts]
        counts = Counter(values)
        for index, value in enumerate(values):
            if counts[value] > 1 and values.index(value) != index:
                first = values.index(value)
                yield Issue(
                    (*HOSTS, index, attribute),
                    f"`{value}` is already used by spec.hosts[{first}] — give every host its "
                    f"own {attribute}",
                )


# Names Ansible already uses for groups or the controller: a host with one of them is ambiguous.
RESERVED_NAMES = frozenset({"all", "ungrouped", "localhost", "workers"})


def reserved_names(cluster: Cluster, options: Options) -> Iterator[Issue]:
    for index, host in enumerate(cluster.spec.hosts):
        if host.name in RESERVED_NAMES:
            yield Issue(
                (*HOSTS, index, "name"),
                f"`{host.name}` is an Ansible group name in the rendered inventory — rename "
                "the host",
            )


def hosts_in_private_network(cluster: Cluster, options: Options) -> Iterator[Issue]:
    network = ipaddress.IPv4Network(cluster.spec.network.private_cidr)
    for index, host in enumerate(cluster.spec.hosts):
        if ipaddress.IPv4Address(host.address) not in network:
            yield Issue(
                (*HOSTS, index, "address"),
                f"{host.address} is outside spec.network.privateCIDR ({network}) — use the "
                "host's private address or widen privateCIDR",
            )


def cidrs_do_not_overlap(cluster: Cluster, options: Options) -> Iterator[Issue]:
    named = [
        (("spec", "kubernetes", "podCIDR"), cluster.spec.kubernetes.pod_cidr),
        (("spec", "kubernetes", "serviceCIDR"), cluster.spec.kubernetes.service_cidr),
        (("spec", "network", "privateCIDR"), cluster.spec.network.private_cidr),
    ]
    for i, (path_a, cidr_a) in enumerate(named):
        for path_b, cidr_b in named[i + 1 :]:
            if ipaddress.IPv4Network(cidr_a).overlaps(ipaddress.IPv4Network(cidr_b)):
                yield Issue(
                    path_b,
                    f"{cidr_b} overlaps {'.'.join(path_a)} ({cidr_a}) — pick ranges that do "
                    "not overlap",
                )


def endpoint(cluster: Cluster, options: Options) -> Iterator[Issue]:
    ep = cluster.spec.kubernetes.control_plane_endpoint
    if ep.provider == "external":
        return
    port_path = ("spec", "kubernetes", "controlPlaneEndpoint", "port")
    if ep.provider == "haproxy-keepalived" and ep.port == API_SERVER_PORT:
        yield Issue(
            port_path,
            "haproxy-keepalived listens beside kube-apiserver on every control plane, so "
            f"{API_SERVER_PORT} is taken — set it to {HAPROXY_PORT}",
        )
    elif ep.provider == "kube-vip" and ep.port != API_SERVER_PORT:
        yield Issue(
            port_path,
            "kube-vip (ARP mode) forwards no ports: the virtual IP lands on a control plane "
            f"whose kube-apiserver listens on {API_SERVER_PORT}, so {ep.port} answers nothing "
            f"— set it to {API_SERVER_PORT}",
        )
    path = ("spec", "kubernetes", "controlPlaneEndpoint", "address")
    network = ipaddress.IPv4Network(cluster.spec.network.private_cidr)
    if ipaddress.IPv4Address(ep.address) not in network:
        yield Issue(
            path,
            f"{ep.address} is outside spec.network.privateCIDR ({network}) — {ep.provider} "
            "announces a virtual IP on the hosts' network: pick a free address inside it",
        )
    for index, host in enumerate(cluster.spec.hosts):
        if host.address == ep.address:
            yield Issue(
                path,
                f"{ep.address} is the address of spec.hosts[{index}] ({host.name}) — the "
                f"virtual IP of {ep.provider} must be a free address",
            )


def _address_problem(address: str, cluster: Cluster) -> str | None:
    """Why an address cannot be a host's or the endpoint's, or None."""
    ip = ipaddress.IPv4Address(address)
    private = ipaddress.IPv4Network(cluster.spec.network.private_cidr)
    if ip.is_loopback or ip.is_link_local or ip.is_multicast or ip.is_unspecified:
        kind = next(
            kind
            for kind, flag in (
                ("loopback", ip.is_loopback),
                ("link-local", ip.is_link_local),
                ("multicast", ip.is_multicast),
                ("unspecified", ip.is_unspecified),
            )
            if flag
        )
        return f"{address} is a {kind} address — use the host's address on the private network"
    if private.prefixlen < 31 and ip in (private.network_address, private.broadcast_address):
        which = "network" if ip == private.network_address else "broadcast"
        return f"{address} is the {which} address of {private} — use a host address inside it"
    for name, cidr in (
        ("podCIDR", cluster.spec.kubernetes.pod_cidr),
        ("serviceCIDR", cluster.spec.kubernetes.service_cidr),
    ):
        if ip in ipaddress.IPv4Network(cidr):
            return (
                f"{address} is inside spec.kubernetes.{name} ({cidr}), which the cluster routes "
                "itself — use an address of the private network outside it"
            )
    return None


def usable_addresses(cluster: Cluster, options: Options) -> Iterator[Issue]:
    for index, host in enumerate(cluster.spec.hosts):
        problem = _address_problem(host.address, cluster)
        if problem:
            yield Issue((*HOSTS, index, "address"), problem)
    ep = cluster.spec.kubernetes.control_plane_endpoint
    problem = _address_problem(ep.address, cluster)
    if problem:
        yield Issue(("spec", "kubernetes", "controlPlaneEndpoint", "address"), problem)


# kubeadm gives every node a /24 of the pod network (the controller manager's node CIDR mask).
NODE_POD_PREFIX = 24
# kube-apiserver refuses an IPv4 service range with more than 2^20 addresses.
WIDEST_SERVICE_PREFIX = 12


def network_sizes(cluster: Cluster, options: Options) -> Iterator[Issue]:
    pods = ipaddress.IPv4Network(cluster.spec.kubernetes.pod_cidr)
    nodes = len(cluster.spec.hosts)
    room = 2 ** (NODE_POD_PREFIX - pods.prefixlen) if pods.prefixlen <= NODE_POD_PREFIX else 0
    if room < nodes:
        yield Issue(
            ("spec", "kubernetes", "podCIDR"),
            f"{pods} holds {room} node ranges of /{NODE_POD_PREFIX} (kubeadm gives each node one) "
            f"for {nodes} hosts — use a /16 such as 10.244.0.0/16",
        )
    services = ipaddress.IPv4Network(cluster.spec.kubernetes.service_cidr)
    if services.prefixlen < WIDEST_SERVICE_PREFIX:
        yield Issue(
            ("spec", "kubernetes", "serviceCIDR"),
            f"{services} is wider than kube-apiserver accepts (/{WIDEST_SERVICE_PREFIX} at most) "
            "— use a /12 or narrower, such as 10.96.0.0/12",
        )


# Folders a backup must never be written into: the root, the system's own, and temp folders
# anyone can write to (another user could plant or read snapshots there).
SYSTEM_FOLDERS = frozenset(
    {"/", "/bin", "/boot", "/dev", "/etc", "/lib", "/lib64", "/proc", "/root", "/run", "/sbin",
     "/sys", "/usr", "/var", "/var/lib", "/var/log", "/home", "/opt", "/srv", "/mnt", "/media"}
)  # fmt: skip
# The temp folders named to be refused, not used.
WORLD_WRITABLE = ("/tmp", "/var/tmp", "/dev/shm")  # noqa: S108


def backup_directory(cluster: Cluster, options: Options) -> Iterator[Issue]:
    folder = posixpath.normpath(cluster.spec.etcd_backup.directory)
    written = shown(cluster.spec.etcd_backup.directory)
    path = ("spec", "etcdBackup", "directory")
    if folder in SYSTEM_FOLDERS:
        yield Issue(
            path,
            f"`{written}` is a system folder; retention deletes old snapshots in it — use a "
            "folder of its own such as /var/backups/etcd",
        )
    elif any(folder == temp or folder.startswith(f"{temp}/") for temp in WORLD_WRITABLE):
        yield Issue(
            path,
            f"`{written}` is in a folder anyone can write to, and is emptied at boot — use a "
            "folder of its own such as /var/backups/etcd",
        )


def _key_start(key: Path) -> bytes:
    """The first bytes of the key file (empty when it does not exist here)."""
    if key.is_dir():
        raise IsADirectoryError(errno.EISDIR, "is a folder")
    if not key.is_file():
        return b""
    with key.open("rb") as handle:
        return handle.read(16)


def private_key(cluster: Cluster, options: Options) -> Iterator[Issue]:
    """A public key or an unreadable file fails at the first SSH connection: refuse it now.
    A missing file is not refused: a spec is often validated away from the admin machine."""
    written = shown(cluster.spec.ssh.private_key_file)
    path = ("spec", "ssh", "privateKeyFile")
    key = Path(cluster.spec.ssh.private_key_file).expanduser()
    try:
        start = _key_start(key)
    except OSError as error:
        yield Issue(
            path,
            f"`{written}` cannot be read ({error.strerror}) — ansible-runner reads it as you: "
            "point at a private key file you can read",
        )
        return
    # OpenSSH public keys start with their type; private keys with "-----BEGIN".
    if key.name.endswith(".pub") or start.startswith((b"ssh-", b"ecdsa-sha2-", b"sk-")):
        yield Issue(
            path,
            f"`{written}` is a public key — name the private key (the file without .pub)",
        )


def version(cluster: Cluster, options: Options) -> Iterator[Issue]:
    text = cluster.spec.kubernetes.version
    major, minor, patch = (int(p) for p in text[1:].split("."))
    path = ("spec", "kubernetes", "version")
    if (major, minor) not in versions.SUPPORTED_MINORS:
        yield Issue(
            path,
            f"{text} is not supported — use a version from {versions.SUPPORTED_RANGE_TEXT}",
        )
        return
    final = versions.FINAL_PATCH.get((major, minor))
    if final is not None and patch > final:
        yield Issue(
            path,
            f"{text} does not exist — the last {major}.{minor} release is v{major}.{minor}.{final}",
        )
        return
    eol = versions.END_OF_LIFE[(major, minor)]
    if options.today >= eol:
        yield Issue(
            path,
            f"Kubernetes {major}.{minor} reached upstream end of life on {eol.isoformat()} "
            "— plan the upgrade to the next minor",
            severity="warning",
        )


def zones(cluster: Cluster, options: Options) -> Iterator[Issue]:
    planes = cluster.control_planes
    if len(planes) < 2 or not any(h.zone for h in cluster.spec.hosts):
        return
    spread = {h.zone for h in planes if h.zone}
    if not spread:
        yield Issue(
            HOSTS,
            "zones are set on some hosts but on no control plane — give the control planes "
            "zones, at least two different ones",
            severity="warning",
        )
    elif len(spread) < 2:
        yield Issue(
            HOSTS,
            f"every control plane is in zone {spread.pop()}: losing that zone stops the "
            "cluster — spread them over at least two zones",
            severity="warning",
        )


def firewall_admin(cluster: Cluster, options: Options) -> Iterator[Issue]:
    net = cluster.spec.network
    if net.firewall and not net.admin_cidrs:
        yield Issue(
            ("spec", "network", "adminCIDRs"),
            "is empty while the firewall is on: SSH would be refused from everywhere — add the "
            "network you administer from",
        )


def metrics_without_firewall(cluster: Cluster, options: Options) -> Iterator[Issue]:
    if (
        cluster.spec.kubernetes.control_plane_metrics == "network"
        and not cluster.spec.network.firewall
    ):
        yield Issue(
            ("spec", "kubernetes", "controlPlaneMetrics"),
            "is network while spec.network.firewall is false: etcd's metrics (2381, plain "
            "HTTP) and the controller manager's and scheduler's ports are open on every "
            "address of the control planes — filter them yourself, or set localhost",
            severity="warning",
        )


RULES: tuple[Rule, ...] = (
    control_plane_count,
    unique_hosts,
    reserved_names,
    hosts_in_private_network,
    usable_addresses,
    cidrs_do_not_overlap,
    network_sizes,
    endpoint,
    version,
    zones,
    firewall_admin,
    metrics_without_firewall,
    backup_directory,
    private_key,
)


def check(cluster: Cluster, options: Options) -> list[Issue]:
    return [issue for rule in RULES for issue in rule(cluster, options)]
