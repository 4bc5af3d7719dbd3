"""The OS-level play (preflight, os_baseline, firewall, container_runtime) on three real hosts.

The hosts are Debian 12 containers with systemd as PID 1, each in its own network namespace
(tests/harness). The inventory comes from `kubestead render` of a cluster.yaml written for
them: one control plane and two workers, so both roles' firewall rules are exercised. The
playbook runs twice; the second run must change nothing.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from testbed.fixtures import TestHost, TestHosts
from tests.ansible.ansible_run import PlaybookRun, run_playbook

pytestmark = [pytest.mark.hosts, pytest.mark.slow]

# Test hosts are small containers on Debian 12; the production minimums stay the defaults.
TEST_HOST_VARS = {
    "preflight_allow_debian": True,
    "preflight_min_cpus_control_plane": 1,
    "preflight_min_cpus_worker": 1,
    "preflight_min_memory_mb_control_plane": 256,
    "preflight_min_memory_mb_worker": 256,
    "preflight_min_disk_free_gb": 1,
}
CONTROL_PLANE_PORTS = (
    "6443/tcp", "2379:2380/tcp", "10250/tcp", "2381/tcp", "10257/tcp", "10259/tcp"
)  # fmt: skip


@dataclass
class OsPlay:
    hosts: TestHosts
    control_plane: TestHost
    workers: list[TestHost]
    first: PlaybookRun
    second: PlaybookRun
    inventory: Path
    args: tuple[str, ...]
    env: dict[str, str]


def _cluster_spec(hosts: TestHosts) -> dict[str, object]:
    bridge = hosts.bridge_address
    prefix = bridge.rsplit(".", 1)[0]
    names = [h.name for h in hosts.hosts]
    return {
        "apiVersion": "kubestead.io/v1alpha1",
        "kind": "Cluster",
        "metadata": {"name": "harness"},
        "spec": {
            "kubernetes": {
                "version": "v1.30.3",
                "controlPlaneEndpoint": {"address": f"{prefix}.250", "port": 6443},
                "podCIDR": "10.244.0.0/16",
                "serviceCIDR": "10.96.0.0/12",
            },
            # The controller reaches the hosts from the bridge address: that is the admin.
            "network": {"privateCIDR": hosts.private_cidr, "adminCIDRs": [f"{bridge}/32"]},
            "ssh": {
                "user": hosts.ssh_user,
                "port": 22,
                "privateKeyFile": str(hosts.ssh_private_key),
            },
            "hosts": [
                {"name": name, "address": h.address, "role": role}
                for name, h, role in zip(
                    names, hosts.hosts, ["control-plane", "worker", "worker"], strict=True
                )
            ],
            "offline": {"aptSources": [hosts.apt_source]},
        },
    }


def _render_inventory(hosts: TestHosts, workdir: Path) -> Path:
    spec = workdir / "cluster.yaml"
    spec.write_text(yaml.safe_dump(_cluster_spec(hosts), sort_keys=False), encoding="utf-8")
    inventory = workdir / "inventory"
    completed = subprocess.run(
        [sys.executable, "-m", "kubestead", "render", "-f", str(spec), "-o", str(inventory)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    return inventory / "hosts.yml"


@pytest.fixture(scope="module")
def os_play(
    test_hosts: TestHosts, tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[OsPlay]:
    workdir = tmp_path_factory.mktemp("real-hosts")
    inventory = _render_inventory(test_hosts, workdir)
    extra = workdir / "test-host-vars.yml"
    extra.write_text(
        yaml.safe_dump(
            {
                **TEST_HOST_VARS,
                "ansible_ssh_common_args": f"-o UserKnownHostsFile={test_hosts.ssh_known_hosts}",
            }
        ),
        encoding="utf-8",
    )
    env = {"ANSIBLE_CACHE_PLUGIN_CONNECTION": str(workdir / "facts")}
    args = ("-e", f"@{extra}")
    first = run_playbook("os.yml", inventory, *args, env=env)
    second = run_playbook("os.yml", inventory, *args, env=env) if first.returncode == 0 else first
    # For profiling: KUBESTEAD_ANSIBLE_OUTPUT_DIR keeps both runs' full output.
    if keep := os.environ.get("KUBESTEAD_ANSIBLE_OUTPUT_DIR"):
        Path(keep).mkdir(parents=True, exist_ok=True)
        (Path(keep) / "os-first-run.log").write_text(first.output, encoding="utf-8")
        (Path(keep) / "os-second-run.log").write_text(second.output, encoding="utf-8")
    # Shown in every run, also under capture: these are the figures docs/benchmarks.md records.
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    if reporter is not None and capture is not None:
        timing = f"first run {first.seconds:.1f} s, no-op re-run {second.seconds:.1f} s"
        with capture.global_and_fixture_disabled():
            reporter.write_line(f"\nOS-level play on 3 hosts: {timing}")
    yield OsPlay(
        test_hosts, test_hosts.hosts[0], test_hosts.hosts[1:], first, second, inventory, args, env
    )


def _run(host: TestHost, *argv: str) -> str:
    completed = host.exec(list(argv))
    assert completed.returncode == 0, f"{host.name}: {argv}: {completed.stdout}{completed.stderr}"
    return completed.stdout


def test_ansible_os_play_succeeds_on_every_host(os_play: OsPlay) -> None:
    assert os_play.first.returncode == 0, os_play.first.output[-6000:]
    recap = os_play.first.recap()
    assert sorted(recap) == sorted(["localhost"] + [h.name for h in os_play.hosts.hosts])
    assert all(r["failed"] == 0 and r["unreachable"] == 0 for r in recap.values())
    # The first run on fresh hosts must actually have done the work.
    assert all(recap[h.name]["changed"] > 0 for h in os_play.hosts.hosts)


def test_ansible_os_play_services_are_active(os_play: OsPlay) -> None:
    for host in os_play.hosts.hosts:
        for service in ("containerd", "chrony", "ufw"):
            assert _run(host, "systemctl", "is-active", service).strip() == "active", service
            assert _run(host, "systemctl", "is-enabled", service).strip() == "enabled", service


def test_ansible_os_play_firewall_opens_only_the_role_ports(os_play: OsPlay) -> None:
    private = os_play.hosts.private_cidr
    admin = f"{os_play.hosts.bridge_address}"
    for host in os_play.hosts.hosts:
        status = _run(host, "ufw", "status", "verbose")
        assert "Status: active" in status
        assert "Default: deny (incoming), allow (outgoing), allow (routed)" in status
        rules = [line.split() for line in status.splitlines() if "ALLOW IN" in line]
        assert ["22/tcp", "ALLOW", "IN", admin] in [r[:4] for r in rules]
        # The default CNI's (kube-router): BGP between nodes, and its FoU tunnel.
        assert ["179/tcp", "ALLOW", "IN", private] in [r[:4] for r in rules]
        assert ["5555/udp", "ALLOW", "IN", private] in [r[:4] for r in rules]
        assert ["10250/tcp", "ALLOW", "IN", private] in [r[:4] for r in rules]
        opened = {r[0] for r in rules}
        if host is os_play.control_plane:
            for port in CONTROL_PLANE_PORTS:
                assert [port, "ALLOW", "IN", private] in [r[:4] for r in rules], port
        else:
            assert opened.isdisjoint(set(CONTROL_PLANE_PORTS) - {"10250/tcp"}), opened
        # Nothing is open to the world: every rule names a source network.
        assert all(r[3] != "Anywhere" for r in rules), rules


def test_ansible_os_play_kernel_settings(os_play: OsPlay) -> None:
    for host in os_play.hosts.hosts:
        modules = _run(host, "cat", "/etc/modules-load.d/k8s.conf").split()
        assert {"overlay", "br_netfilter"} <= set(modules)
        for key in ("net.ipv4.ip_forward", "net.bridge.bridge-nf-call-iptables"):
            assert _run(host, "sysctl", "-n", key).strip() == "1", key
        # Swap: none active and none that would come back at boot.
        assert len(_run(host, "cat", "/proc/swaps").strip().splitlines()) == 1
        fstab = _run(host, "cat", "/etc/fstab").splitlines()
        assert not [line for line in fstab if " swap " in line and not line.startswith("#")]


def test_ansible_os_play_chrony_leaves_the_machine_clock_alone(os_play: OsPlay) -> None:
    for host in os_play.hosts.hosts:
        exec_start = _run(host, "systemctl", "show", "chrony", "-p", "ExecStart")
        assert "-x" in exec_start.split("argv[]=")[1].split(";")[0].split()


def test_ansible_os_play_containerd_config(os_play: OsPlay) -> None:
    for host in os_play.hosts.hosts:
        # The merged configuration containerd actually runs with, not just our file.
        dumped = _run(host, "containerd", "config", "dump")
        assert "SystemdCgroup = true" in dumped
        assert 'sandbox_image = "registry.k8s.io/pause:3.9"' in dumped
        assert 'config_path = "/etc/containerd/certs.d"' in dumped
        held = _run(host, "apt-mark", "showhold").split()
        assert "containerd" in held


def test_ansible_os_play_ssh_refuses_passwords(os_play: OsPlay) -> None:
    for host in os_play.hosts.hosts:
        effective = _run(host, "sshd", "-T").splitlines()
        assert "passwordauthentication no" in effective
        assert "permitrootlogin without-password" in effective


def test_ansible_os_play_second_run_changes_nothing(os_play: OsPlay) -> None:
    assert os_play.second.returncode == 0, os_play.second.output[-6000:]
    recap = os_play.second.recap()
    changed = {host: r["changed"] for host, r in recap.items() if r["changed"]}
    assert changed == {}, os_play.second.output[-6000:]
    # A no-op run must also be cheaper than the real one.
    assert os_play.second.seconds < os_play.first.seconds


def test_ansible_os_play_firewall_deletes_its_stale_rules_only(os_play: OsPlay) -> None:
    host = os_play.control_plane
    # What an admin CIDR later removed from cluster.yaml leaves behind, and a rule made by hand.
    for port, comment in (("22", "SSH from admins"), ("9100", "node exporter")):
        rule = ["allow", "from", "198.51.100.0/24", "to", "any", "port", port, "proto", "tcp"]
        _run(host, "ufw", *rule, "comment", comment)
    run = run_playbook(
        "os.yml", os_play.inventory, *os_play.args, "--tags", "firewall", env=os_play.env
    )
    assert run.returncode == 0, run.output[-6000:]
    added = _run(host, "ufw", "show", "added")
    assert "198.51.100.0/24 to any port 22 " not in added, added
    assert "198.51.100.0/24 to any port 9100 proto tcp comment 'node exporter'" in added, added
    assert f"from {os_play.hosts.bridge_address} to any port 22 proto tcp" in added, added
    changed = {name: r["changed"] for name, r in run.recap().items() if r["changed"]}
    assert changed == {host.name: 1}, run.output[-6000:]


# Last in this module: it takes the hosts back to their pre-Kubernetes state.
def test_ansible_reset_cleans_up_and_keeps_the_firewall(os_play: OsPlay) -> None:
    for host in os_play.hosts.hosts:
        _run(host, "mkdir", "-p", "/etc/cni/net.d", "/var/lib/etcd/member")
        _run(host, "touch", "/etc/cni/net.d/10-leftover.conflist")
        # What kube-proxy leaves: a chain of its own and a jump into it from INPUT.
        _run(host, "iptables", "-N", "KUBE-FIREWALL")
        _run(host, "iptables", "-I", "INPUT", "-j", "KUBE-FIREWALL")
    # What kube-vip leaves when kubeadm reset kills its pod: the endpoint's address on the
    # interface of the host that held it.
    endpoint = os_play.hosts.bridge_address.rsplit(".", 1)[0] + ".250"
    control_plane = os_play.control_plane
    interface = _run(control_plane, "ip", "-o", "-4", "addr", "show", "to", control_plane.address)
    _run(control_plane, "ip", "addr", "add", f"{endpoint}/32", "dev", interface.split()[1])
    refused = run_playbook("reset.yml", os_play.inventory, *os_play.args, env=os_play.env)
    assert refused.returncode != 0 and "reset_confirm=yes" in " ".join(refused.output.split())
    reset = run_playbook(
        "reset.yml", os_play.inventory, *os_play.args, "-e", "reset_confirm=yes", env=os_play.env
    )
    assert reset.returncode == 0, reset.output[-6000:]
    for host in os_play.hosts.hosts:
        # The CNI folder comes back empty (containerd must keep watching it), nothing in it.
        assert _run(host, "ls", "-A", "/etc/cni/net.d") == ""
        assert host.exec(["test", "-e", "/var/lib/etcd"]).returncode == 1
        status = _run(host, "ufw", "status", "verbose")
        assert "Status: active" in status
        # kube-proxy's chain is gone, ufw's rules and default-deny policy are untouched.
        rules = _run(host, "iptables", "-S")
        assert "KUBE-FIREWALL" not in rules
        assert "-P INPUT DROP" in rules and "ufw-user-input" in rules
        assert _run(host, "ip", "-o", "-4", "addr", "show", "to", f"{endpoint}/32") == ""
