"""NetworkPolicy is enforced by the cluster's CNI: a default-deny blocks a pod-to-pod connection
that worked without it (across nodes, through the overlay), and the backend chart's own policy
lets its declared clients through and blocks everyone else. The hosts' firewall lets a pod reach
the control planes' metrics, as Prometheus must."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest

from testbed import backend
from testbed.cluster import RunningCluster

pytestmark = pytest.mark.slow
NS = "e2e-netpol"
# The chart lets in the ingress controller's namespace (by name) and Prometheus's.
INGRESS_NS = "ingress-nginx"


def pod(name: str, namespace: str, node: str, image: str, command: list[str]) -> str:
    """A pod from the backend image (python3 and curl), pinned to a node, restricted-compliant."""
    return json.dumps(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": name, "namespace": namespace, "labels": {"app": name}},
            "spec": {
                "nodeName": node,
                "tolerations": [{"operator": "Exists"}],
                "securityContext": {
                    "runAsNonRoot": True,
                    "runAsUser": 10001,
                    "seccompProfile": {"type": "RuntimeDefault"},
                },
                "containers": [
                    {
                        "name": "main",
                        "image": image,
                        "command": command,
                        "securityContext": {
                            "allowPrivilegeEscalation": False,
                            "capabilities": {"drop": ["ALL"]},
                        },
                    }
                ],
            },
        }
    )


def status(cluster: RunningCluster, namespace: str, client: str, url: str) -> str:
    """The HTTP status a request from the client pod gets ("000" when nothing answers); TLS
    unverified (the control planes' metrics ports serve kubeadm's self-signed certificates)."""
    result = cluster.kubectl(
        "-n", namespace, "exec", client, "--", "curl", "-s", "-k", "-o", "/dev/null",
        "-m", "4", "-w", "%{http_code}", url,
        check=False,
    )  # fmt: skip
    return result.stdout.strip() or "000"


def reach(cluster: RunningCluster, namespace: str, client: str, url: str) -> bool:
    return status(cluster, namespace, client, url) == "200"


def wait_ready(cluster: RunningCluster, namespace: str, *names: str) -> None:
    cluster.kubectl(
        "-n", namespace, "wait", "--for=condition=Ready", "--timeout=180s",
        *(f"pod/{name}" for name in names),
    )  # fmt: skip


@pytest.fixture(scope="module")
def server_and_client(testbed_cluster: RunningCluster) -> Iterator[str]:
    """A web server on the worker and a client on a control plane; returns the server's URL."""
    image = testbed_cluster.bundle.backend_image
    testbed_cluster.kubectl("create", "namespace", NS)
    testbed_cluster.kubectl(
        "apply", "-f", "-",
        input_text=pod("server", NS, "worker-1", image, ["python3", "-m", "http.server", "8080"]),
    )  # fmt: skip
    testbed_cluster.kubectl(
        "apply", "-f", "-", input_text=pod("client", NS, "cp-1", image, ["sleep", "3600"])
    )
    wait_ready(testbed_cluster, NS, "server", "client")
    ip = testbed_cluster.kubectl(
        "-n", NS, "get", "pod", "server", "-o", "jsonpath={.status.podIP}"
    ).stdout.strip()
    try:
        yield f"http://{ip}:8080/"
    finally:
        testbed_cluster.kubectl("delete", "namespace", NS, "--wait=false", check=False)


def test_default_deny_blocks_what_worked_before(
    testbed_cluster: RunningCluster, server_and_client: str
) -> None:
    # The server pod has no readiness probe: Ready once started, listening a moment later
    # (python's start on a loaded machine; a CI run's single first try failed).
    deadline = time.monotonic() + 30
    while not reach(testbed_cluster, NS, "client", server_and_client):
        assert time.monotonic() < deadline, "no pod-to-pod path at all"
        time.sleep(1)
    deny = {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": "default-deny", "namespace": NS},
        "spec": {"podSelector": {}, "policyTypes": ["Ingress"]},
    }
    testbed_cluster.kubectl("apply", "-f", "-", input_text=json.dumps(deny))
    deadline = time.monotonic() + 30
    while reach(testbed_cluster, NS, "client", server_and_client):
        assert time.monotonic() < deadline, "the default-deny policy was never enforced"
        time.sleep(1)
    testbed_cluster.kubectl("-n", NS, "delete", "networkpolicy", "default-deny")
    deadline = time.monotonic() + 30
    while not reach(testbed_cluster, NS, "client", server_and_client):
        assert time.monotonic() < deadline, "removing the policy did not restore the path"
        time.sleep(1)


def test_the_charts_policy_admits_its_clients_and_blocks_others(
    testbed_cluster: RunningCluster, server_and_client: str
) -> None:
    policy = json.loads(
        testbed_cluster.kubectl(
            "-n", backend.NAMESPACE, "get", "networkpolicy", "backend", "-o", "json"
        ).stdout
    )
    assert set(policy["spec"]["policyTypes"]) == {"Ingress", "Egress"}
    image = testbed_cluster.bundle.backend_image
    testbed_cluster.kubectl("create", "namespace", INGRESS_NS, check=False)
    testbed_cluster.kubectl(
        "apply", "-f", "-", input_text=pod("ingress", INGRESS_NS, "cp-2", image, ["sleep", "3600"])
    )
    try:
        wait_ready(testbed_cluster, INGRESS_NS, "ingress")
        url = f"http://backend.{backend.NAMESPACE}.svc.cluster.local/healthz"
        # A new pod's address reaches the CNI's policy sets a moment after the pod is Ready
        # (kube-router syncs them on the pod event): the policy admits it within seconds.
        deadline = time.monotonic() + 30
        while not reach(testbed_cluster, INGRESS_NS, "ingress", url):
            assert time.monotonic() < deadline, "the chart's policy never admitted its ingress"
            time.sleep(1)
        assert not reach(testbed_cluster, NS, "client", url)
    finally:
        testbed_cluster.kubectl("delete", "namespace", INGRESS_NS, "--wait=false", check=False)


def test_a_pod_reaches_the_control_planes_metrics_and_only_with_authorization(
    testbed_cluster: RunningCluster, server_and_client: str
) -> None:
    """What Prometheus needs (spec.kubernetes.controlPlaneMetrics: network, the default): from
    a pod, etcd's metrics on every control plane, and the controller manager's and scheduler's
    ports, whose /metrics refuses a client without a token the API server authorizes."""
    control_planes = [h for h in testbed_cluster.hosts.hosts if h.name.startswith("cp-")]
    assert len(control_planes) == 3
    for host in control_planes:
        etcd = f"http://{host.address}:2381/metrics"
        assert status(testbed_cluster, NS, "client", etcd) == "200", host.name
        for port in (10257, 10259):
            base = f"https://{host.address}:{port}"
            assert status(testbed_cluster, NS, "client", f"{base}/healthz") == "200", (host, port)
            anonymous = status(testbed_cluster, NS, "client", f"{base}/metrics")
            assert anonymous in {"401", "403"}, (host.name, port, anonymous)
