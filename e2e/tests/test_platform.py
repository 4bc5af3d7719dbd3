"""The platform `kubestead apply -f testbed/cluster.yaml` built: nodes, etcd, the API endpoint,
encryption at rest, the firewall, a second apply that changes nothing, and an offline bundle
that held exactly what `kubestead bundle` lists."""

from __future__ import annotations

import base64
import json
import socket
import ssl
import subprocess
import time
import urllib.request
from typing import Any

import pytest
import yaml

from e2e.tests.etcd import etcdctl
from e2e.tests.timings import TIMINGS
from testbed.cluster import RunningCluster
from testbed.conformance import images as conformance_images
from testbed.settings import REGISTRY_PORT

pytestmark = pytest.mark.slow


def spec(cluster: RunningCluster) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(cluster.spec.read_text())
    return loaded


def version(cluster: RunningCluster) -> str:
    """The Kubernetes version the spec asks for."""
    return str(spec(cluster)["spec"]["kubernetes"]["version"])


def control_planes(cluster: RunningCluster) -> list[str]:
    return [h["name"] for h in spec(cluster)["spec"]["hosts"] if h["role"] == "control-plane"]


def test_every_node_is_ready_with_its_role_taints_and_version(
    testbed_cluster: RunningCluster,
) -> None:
    nodes = json.loads(testbed_cluster.kubectl("get", "nodes", "-o", "json").stdout)["items"]
    wanted = {h["name"]: h for h in spec(testbed_cluster)["spec"]["hosts"]}
    assert sorted(n["metadata"]["name"] for n in nodes) == sorted(wanted)
    for node in nodes:
        name = node["metadata"]["name"]
        host = wanted[name]
        conditions = {c["type"]: c["status"] for c in node["status"]["conditions"]}
        assert conditions["Ready"] == "True", f"{name}: {conditions}"
        assert node["status"]["nodeInfo"]["kubeletVersion"] == version(testbed_cluster)
        labels = node["metadata"]["labels"]
        taints = {(t["key"], t["effect"]) for t in node["spec"].get("taints", [])}
        assert labels["topology.kubernetes.io/zone"] == host["zone"]
        address = next(
            a["address"] for a in node["status"]["addresses"] if a["type"] == "InternalIP"
        )
        assert address == host["address"]
        if host["role"] == "control-plane":
            assert "node-role.kubernetes.io/control-plane" in labels
            assert ("node-role.kubernetes.io/control-plane", "NoSchedule") in taints
        else:
            assert "node-role.kubernetes.io/worker" in labels
            assert labels.get("tier") == host["labels"]["tier"]
            assert not taints


def test_etcd_has_a_healthy_member_on_every_control_plane(testbed_cluster: RunningCluster) -> None:
    members = json.loads(etcdctl(testbed_cluster, "cp-1", "member", "list", "-w", "json").stdout)
    assert sorted(m["name"] for m in members["members"]) == sorted(control_planes(testbed_cluster))
    health = json.loads(
        etcdctl(testbed_cluster, "cp-1", "endpoint", "health", "--cluster", "-w", "json").stdout
    )
    assert len(health) == 3 and all(entry["health"] for entry in health), health


def test_kubestead_status_reports_the_cluster(testbed_cluster: RunningCluster) -> None:
    # What `make up` tells a newcomer to run, from the repository root.
    result = testbed_cluster.kubestead("status", "-f", str(testbed_cluster.spec), "--json")
    assert result.returncode == 0, result.stderr[-2000:]
    status = json.loads(result.stdout)
    nodes = {n["name"]: n for n in status["nodes"]}
    assert sorted(nodes) == sorted(h.name for h in testbed_cluster.hosts.hosts)
    wanted = version(testbed_cluster)
    assert all(n["ready"] and n["version"] == wanted for n in nodes.values()), nodes
    assert len(status["etcd"]) == 3 and all(e["healthy"] for e in status["etcd"])
    assert sum(e["leader"] for e in status["etcd"]) == 1
    assert status["certificates"], "kubeadm listed no certificates"


def test_the_api_answers_through_the_endpoint_address(testbed_cluster: RunningCluster) -> None:
    endpoint = spec(testbed_cluster)["spec"]["kubernetes"]["controlPlaneEndpoint"]
    config = yaml.safe_load(testbed_cluster.kubeconfig.read_text())
    server = config["clusters"][0]["cluster"]["server"]
    assert server == f"https://{endpoint['address']}:{endpoint['port']}"
    # /readyz is open to anyone (system:public-info-viewer); the CA is the cluster's.
    ca = testbed_cluster.kubeconfig.parent / "ca.crt"
    ca.write_bytes(base64.b64decode(config["clusters"][0]["cluster"]["certificate-authority-data"]))
    context = ssl.create_default_context(cafile=str(ca))
    with urllib.request.urlopen(f"{server}/readyz", context=context, timeout=10) as response:  # noqa: S310
        assert response.status == 200
        assert response.read() == b"ok"
    holders = [
        host.name
        for host in testbed_cluster.hosts.hosts
        if f" {endpoint['address']}/32 " in _addresses(host.netns)
    ]
    assert len(holders) == 1 and holders[0] in control_planes(testbed_cluster), holders


def test_the_api_certificate_carries_the_specs_extra_names(testbed_cluster: RunningCluster) -> None:
    # spec.kubernetes.apiServerExtraSANs reaches kube-apiserver's certificate: TLS to the
    # endpoint verifies under that name, and not under a name the spec does not give.
    kubernetes = spec(testbed_cluster)["spec"]["kubernetes"]
    endpoint = kubernetes["controlPlaneEndpoint"]
    [name] = kubernetes["apiServerExtraSANs"]
    config = yaml.safe_load(testbed_cluster.kubeconfig.read_text())
    ca = base64.b64decode(config["clusters"][0]["cluster"]["certificate-authority-data"])
    context = ssl.create_default_context(cadata=ca.decode())

    def handshake(server_name: str) -> None:
        address = (endpoint["address"], endpoint["port"])
        with (
            socket.create_connection(address, timeout=10) as raw,
            context.wrap_socket(raw, server_hostname=server_name),
        ):
            pass

    handshake(name)
    with pytest.raises(ssl.SSLCertVerificationError, match="Hostname mismatch"):
        handshake("not-in-the-spec.kubestead.test")


def _addresses(netns: str) -> str:
    return subprocess.run(
        ["ip", "-n", netns, "-4", "-o", "addr", "show", "dev", "eth0"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout


def test_secrets_are_encrypted_at_rest_on_every_member(testbed_cluster: RunningCluster) -> None:
    testbed_cluster.kubectl(
        "-n", "default", "create", "secret", "generic", "e2e-at-rest",
        "--from-literal=token=plain-text-canary",
    )  # fmt: skip
    for node in control_planes(testbed_cluster):
        # JSON output carries the raw value base64-encoded: ciphertext is not text.
        stored = json.loads(
            etcdctl(
                testbed_cluster, node, "get", "/registry/secrets/default/e2e-at-rest", "-w", "json"
            ).stdout
        )
        raw = base64.b64decode(stored["kvs"][0]["value"])
        assert raw.startswith(b"k8s:enc:secretbox:v1:"), f"{node}: {raw[:40]!r}"
        assert b"plain-text-canary" not in raw
    token = testbed_cluster.kubectl(
        "-n", "default", "get", "secret", "e2e-at-rest", "-o", "jsonpath={.data.token}"
    ).stdout
    assert token.strip() == "cGxhaW4tdGV4dC1jYW5hcnk="


def test_the_firewall_is_on_with_only_the_roles_rules(testbed_cluster: RunningCluster) -> None:
    for host in testbed_cluster.hosts.hosts:
        status = host.exec(["ufw", "status", "verbose"]).stdout
        assert "Status: active" in status, f"{host.name}: {status}"
        assert "Default: deny (incoming)" in status, f"{host.name}: {status}"
        added = host.exec(["ufw", "show", "added"]).stdout.splitlines()
        rules = [line for line in added if line.startswith("ufw ")]
        assert rules, f"{host.name}: no rules"
        assert all(" comment " in rule for rule in rules), (
            f"{host.name}: a rule not the role's: {rules}"
        )


def test_a_second_apply_changes_nothing(testbed_cluster: RunningCluster) -> None:
    started = time.monotonic()
    result = testbed_cluster.kubestead("apply", "-f", str(testbed_cluster.spec))
    TIMINGS["second kubestead apply (no-op)"] = time.monotonic() - started
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    summary = [
        line for line in result.stderr.splitlines() if " ok=" in line and " changed=" in line
    ]
    hosts = {line.split(":", 1)[0] for line in summary}
    assert {h.name for h in testbed_cluster.hosts.hosts} <= hosts, summary
    changed = [line for line in summary if " changed=0 " not in line]
    assert not changed, changed


def test_the_bundle_lists_exactly_what_the_testbed_provided(
    testbed_cluster: RunningCluster,
) -> None:
    listed = json.loads(
        testbed_cluster.kubestead("bundle", "-f", str(testbed_cluster.spec), "--json").stdout
    )["artifacts"]
    # The registry holds the listed images and the workload's, nothing else: but for the
    # conformance suite's test images, which `make conformance` pushes into the same registry
    # storage (it outlives `make down`), all under the suite's own repository prefix.
    registry = f"{testbed_cluster.bench.machine_address}:{REGISTRY_PORT}"
    with urllib.request.urlopen(f"http://{registry}/v2/_catalog", timeout=10) as response:
        stored = set(json.loads(response.read())["repositories"])
    suite_prefix = conformance_images.E2E_REGISTRY.split("/", 1)[1] + "/"
    catalog = {name for name in stored if not name.startswith(suite_prefix)}
    images = {a["name"] for a in listed if a["kind"] == "image"}
    repositories = {name.split("/", 1)[1] for name in images}
    workload = {
        ref.rsplit(":", 1)[0].split("/", 1)[1] for ref in testbed_cluster.bundle.workload_images
    }
    assert catalog == repositories | workload
    # Every listed image was pulled by some host, every listed package installed on some host.
    pulled: set[str] = set()
    installed: set[str] = set()
    for host in testbed_cluster.hosts.hosts:
        pulled |= set(host.exec(["ctr", "-n", "k8s.io", "images", "list", "-q"]).stdout.split())
        installed |= set(host.exec(["dpkg-query", "-W", "-f", "${Package}\\n"]).stdout.split())
    for artifact in listed:
        if artifact["kind"] == "image":
            assert f"{artifact['name']}:{artifact['version']}" in pulled, artifact
        elif artifact["kind"] == "package":
            assert artifact["name"] in installed, artifact
    # Files (helm and charts, for a CNI installed with Helm) came from the files mirror.
    cp1 = testbed_cluster.hosts.host("cp-1")
    for artifact in listed:
        if artifact["kind"] == "binary":
            version = cp1.exec([artifact["name"], "version", "--short"]).stdout
            assert version.startswith(artifact["version"]), (artifact, version)
        elif artifact["kind"] == "chart":
            releases = cp1.exec(
                ["helm", "--kubeconfig", "/etc/kubernetes/admin.conf", "list", "-A", "-o", "json"]
            ).stdout
            chart = f"{artifact['name'].split('/')[1]}-{artifact['version']}"
            assert chart in {r["chart"] for r in json.loads(releases)}, artifact
    assert {a["kind"] for a in listed} <= {"package", "image", "binary", "chart"}
