"""The two benches of the testbed: where their hosts live, what they are called, where state goes.

A bench is a set of test hosts (systemd containers, each in its own network namespace) on a
bridge of its own, with the machine at .1 on that bridge:

- `cluster`: the hosts of `testbed/cluster.yaml`, read from the spec itself, so the spec the
  CLI applies and the hosts the testbed starts can never disagree. `make up` / `make e2e`.
- `hosts`: three bare hosts for the Ansible and CLI tests of `make test` (`kstest-1..3`).

The two use different bridges, networks and names, so `make test` runs while a cluster from
`make up` is up. Every object a bench creates on the machine carries its prefix (netns, veths,
iptables chains) or its bridge name, so a later run finds and removes what a crashed one left.
"""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass
from pathlib import Path

from kubestead import versions
from testbed.errors import TestbedError

REPO = Path(__file__).resolve().parents[1]
CLUSTER_SPEC = REPO / "testbed" / "cluster.yaml"
# Fixed, because testbed/cluster.yaml names the SSH key and known_hosts that live here.
STATE_ROOT = Path("/var/lib/kubestead-testbed")
# Ports the machine serves on a bench's bridge address (and nowhere else).
HTTP_PORT = 8213  # apt repositories and files
REGISTRY_PORT = 5000  # the OCI registry
POSTGRES_PORT = 5432  # the backend's database (cluster bench)
GIT_PORT = 9418  # git daemon: the repository Argo CD syncs from (`make e2e-gitops` only)
SSH_USER = "debian"  # a sudo user, as on a cloud image: the roles' `become` is exercised

HOSTS_NETWORK = ipaddress.IPv4Network("172.29.214.0/24")


@dataclass(frozen=True)
class Host:
    """One test host: its name (hostname, node name, container id) and address."""

    name: str
    address: str


@dataclass(frozen=True)
class Bench:
    """One set of test hosts on a bridge of its own."""

    name: str
    prefix: str
    bridge: str
    network: ipaddress.IPv4Network
    hosts: tuple[Host, ...]
    # Ports of the machine the hosts may reach on the bridge address.
    machine_ports: tuple[int, ...]

    @property
    def machine_address(self) -> str:
        """The machine's side of the bridge: .1, where the repositories and registry listen."""
        return str(self.network.network_address + 1)

    @property
    def run_dir(self) -> Path:
        return STATE_ROOT / self.name

    def host_dir(self, name: str) -> Path:
        """A host's folder: its overlay root's layers, and `rootfs`, the root it boots from."""
        return self.run_dir / "hosts" / name

    @property
    def ssh_dir(self) -> Path:
        return self.run_dir / "ssh"

    @property
    def lock_file(self) -> Path:
        return Path("/run/lock") / f"kubestead-testbed-{self.name}.lock"

    def netns(self, host: Host) -> str:
        return f"{self.prefix}-{host.name}"

    def veth(self, index: int) -> str:
        """The machine-side end of host n's veth pair (the kernel allows 15 characters)."""
        return f"{self.prefix}-v{index}"

    def http_url(self, path: str) -> str:
        return f"http://{self.machine_address}:{HTTP_PORT}/{path}"

    @property
    def git_root(self) -> Path:
        """The folder git daemon serves (`make e2e-gitops`)."""
        return self.run_dir / "git"

    def git_url(self, repository: str) -> str:
        return f"git://{self.machine_address}:{GIT_PORT}/{repository}"


def hosts_bench() -> Bench:
    """Three bare hosts for the Ansible and CLI tests."""
    network = HOSTS_NETWORK
    hosts = tuple(
        Host(name=f"kstest-{index}", address=str(network.network_address + 10 + index))
        for index in range(1, 4)
    )
    return Bench(
        name="hosts",
        prefix="kstest",
        bridge="ksbr1",
        network=network,
        hosts=hosts,
        machine_ports=(HTTP_PORT,),
    )


def cluster_bench(spec: Path = CLUSTER_SPEC) -> Bench:
    """The hosts of the testbed's cluster spec, on a bridge for its private network."""
    from kubestead.spec.validate import validate_file

    result = validate_file(spec)
    if not result.ok or result.cluster is None:
        problems = "; ".join(issue.render() for issue in result.errors)
        raise TestbedError(f"{spec}: not a valid cluster spec: {problems}")
    cluster = result.cluster
    network = ipaddress.IPv4Network(cluster.spec.network.private_cidr)
    machine = network.network_address + 1
    admin = [ipaddress.IPv4Network(cidr) for cidr in cluster.spec.network.admin_cidrs]
    if not any(machine in cidr for cidr in admin):
        raise TestbedError(
            f"{spec}: the machine reaches the hosts from {machine}; list it in adminCIDRs"
        )
    return Bench(
        name="cluster",
        prefix="kstb",
        bridge="ksbr0",
        network=network,
        hosts=tuple(Host(name=h.name, address=h.address) for h in cluster.spec.hosts),
        machine_ports=(HTTP_PORT, REGISTRY_PORT, POSTGRES_PORT)
        + ((GIT_PORT,) if with_argocd() else ()),
    )


def cluster_spec() -> Path:
    """The spec `make up` and `make e2e` apply: testbed/cluster.yaml, or KUBESTEAD_TESTBED_SPEC
    (`make up SPEC=testbed/cluster-haproxy.yaml`), a path from the repository root."""
    named = os.environ.get("KUBESTEAD_TESTBED_SPEC", "")
    if not named:
        return CLUSTER_SPEC
    spec = (REPO / named).resolve()
    if not spec.is_file() or REPO not in spec.parents:
        raise TestbedError(
            f"KUBESTEAD_TESTBED_SPEC={named!r} is not a spec file in the repository; "
            "use e.g. testbed/cluster-haproxy.yaml"
        )
    return spec


def upgrade_target() -> str | None:
    """The release the offline bundle carries besides the spec's own, for the upgrade drill:
    versions.yaml's `upgrade_tested` when KUBESTEAD_TESTBED_UPGRADE=1 (`make e2e-upgrade`),
    else none (building a second Kubernetes from source costs minutes on a cold cache)."""
    text = os.environ.get("KUBESTEAD_TESTBED_UPGRADE", "")
    if text not in {"", "0", "1"}:
        raise TestbedError(
            f"KUBESTEAD_TESTBED_UPGRADE={text!r} is not 0 or 1; use 1 or leave it out"
        )
    return versions.UPGRADE_TESTED_KUBERNETES_VERSION if text == "1" else None


def with_argocd() -> bool:
    """Whether the cluster bench carries Argo CD and a git server: KUBESTEAD_TESTBED_GITOPS=1
    (`make e2e-gitops`, the GitOps proof) builds the argo-cd add-on's images into the bundle."""
    text = os.environ.get("KUBESTEAD_TESTBED_GITOPS", "")
    if text not in {"", "0", "1"}:
        raise TestbedError(
            f"KUBESTEAD_TESTBED_GITOPS={text!r} is not 0 or 1; use 1 or leave it out"
        )
    return text == "1"


def cache_root() -> Path:
    """Built artifacts that outlive every bench: binaries, packages, images, root filesystems."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(os.environ.get("KUBESTEAD_TESTBED_CACHE", str(Path(base) / "kubestead")))


def lock_wait_seconds() -> float:
    text = os.environ.get("KUBESTEAD_TESTBED_LOCK_WAIT", "1800")
    if not text.isdigit():
        raise TestbedError(
            f"KUBESTEAD_TESTBED_LOCK_WAIT={text!r} is not whole seconds; use e.g. 1800"
        )
    return float(text)
