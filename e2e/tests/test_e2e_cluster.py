"""End to end on a real Kubernetes v1.30.3: the backend's chart installed, used, upgraded under
load and autoscaled; Secrets encrypted at rest in etcd. The tests run in file order and build
on each other (install first), as an operator's day would."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from e2e.localcluster import cluster, deploy, settings
from e2e.tests.conftest import Cluster
from e2e.tests.load import Load
from e2e.tests.timings import TIMINGS

pytestmark = pytest.mark.slow
NS = deploy.NAMESPACE


def _helm(c: Cluster, *args: str) -> subprocess.CompletedProcess[str]:
    return deploy.helm(c.paths, c.helm, *args)


def _service_ip(c: Cluster) -> str:
    return c.kubectl(
        "-n", NS, "get", "service", "backend", "-o", "jsonpath={.spec.clusterIP}"
    ).strip()


def _api(c: Cluster, method: str, path: str, body: dict[str, Any] | None = None) -> tuple[int, Any]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(
        f"http://{_service_ip(c)}{path}",
        data=data,
        method=method,
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - a cluster IP
        return response.status, json.loads(response.read() or b"{}")


def test_up_refuses_to_run_twice(local_cluster: Cluster) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "e2e.localcluster", "up"],
        capture_output=True,
        text=True,
        check=False,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "already up" in lines[0] and "make down" in lines[0]


def test_chart_installs_in_a_restricted_namespace(local_cluster: Cluster) -> None:
    started = time.monotonic()
    cluster.deploy_backend(local_cluster.paths, local_cluster.helm)
    TIMINGS["helm install --wait"] = time.monotonic() - started
    labels = json.loads(
        local_cluster.kubectl("get", "namespace", NS, "-o", "jsonpath={.metadata.labels}")
    )
    assert labels["pod-security.kubernetes.io/enforce"] == "restricted"
    # The chart leaves `replicas` to the HPA, so a first install starts one pod and the HPA
    # raises it to minReplicas within a sync period or two.
    deadline = time.monotonic() + 120
    while True:
        pods = json.loads(
            local_cluster.kubectl(
                "-n", NS, "get", "pods", "-l", "app.kubernetes.io/component=server", "-o", "json"
            )
        )["items"]
        ready = [
            pod
            for pod in pods
            if {c["type"]: c["status"] for c in pod["status"].get("conditions", [])}.get("Ready")
            == "True"
        ]
        if len(ready) >= 2:
            break
        assert time.monotonic() < deadline, f"{len(ready)} pods Ready; the HPA's minimum is 2"
        time.sleep(2)
    # The pre-install hook migrated the database: the app's readiness needs migrations at head.
    status, body = _api(local_cluster, "GET", "/readyz")
    assert status == 200, body


def test_notes_through_the_service_cluster_ip(local_cluster: Cluster) -> None:
    created_ids = []
    for title in ("first", "second", "third"):
        status, note = _api(
            local_cluster, "POST", "/api/v1/notes", {"title": title, "tags": ["e2e"]}
        )
        assert status == 201
        created_ids.append(note["id"])
    status, listing = _api(local_cluster, "GET", "/api/v1/notes?tag=e2e&limit=2")
    assert status == 200
    items = listing["items"]
    assert isinstance(items, list) and len(items) == 2
    assert listing["next_cursor"]
    status, page2 = _api(
        local_cluster, "GET", f"/api/v1/notes?tag=e2e&limit=2&cursor={listing['next_cursor']}"
    )
    assert status == 200
    seen = {n["id"] for n in items} | {n["id"] for n in page2["items"]}
    assert set(created_ids) <= seen
    status, note = _api(local_cluster, "GET", f"/api/v1/notes/{created_ids[1]}")
    assert status == 200 and note["title"] == "second"


def test_helm_test_passes(local_cluster: Cluster) -> None:
    result = _helm(local_cluster, "test", deploy.RELEASE, "--timeout", "3m")
    assert result.returncode == 0, result.stderr
    assert "Phase:          Succeeded" in result.stdout


def test_upgrade_under_load_drops_no_request(local_cluster: Cluster) -> None:
    before = local_cluster.kubectl(
        "-n", NS, "get", "deployment", "backend", "-o", "jsonpath={.metadata.generation}"
    )
    with Load(_service_ip(local_cluster), "/api/v1/notes?limit=5", threads=4, pause=0.02) as load:
        time.sleep(3)
        result = _helm(
            local_cluster,
            "upgrade",
            deploy.RELEASE,
            str(deploy.CHART),
            "--reuse-values",
            "--set",
            "config.logLevel=debug",
            "--wait",
            "--timeout",
            "5m",
        )
        assert result.returncode == 0, result.stderr
        local_cluster.kubectl("-n", NS, "rollout", "status", "deployment/backend", "--timeout=180s")
        time.sleep(3)
    after = local_cluster.kubectl(
        "-n", NS, "get", "deployment", "backend", "-o", "jsonpath={.metadata.generation}"
    )
    assert after != before, "the upgrade did not roll the pods"
    assert load.result.sent > 100
    assert load.result.failures == [], (
        f"{len(load.result.failures)} of {load.result.sent} failed: {load.result.failures[:5]}"
    )


def _hpa(c: Cluster) -> Any:
    return json.loads(c.kubectl("-n", NS, "get", "hpa", "backend", "-o", "json"))


def _current_cpu(hpa: Any) -> int | None:
    for metric in hpa.get("status", {}).get("currentMetrics") or []:
        if metric.get("type") == "Resource" and metric["resource"]["name"] == "cpu":
            value = metric["resource"]["current"].get("averageUtilization")
            return int(value) if value is not None else None
    return None


def test_hpa_reads_cpu_from_metrics_server_and_scales_up(local_cluster: Cluster) -> None:
    deadline = time.monotonic() + 180
    while _current_cpu(_hpa(local_cluster)) is None:
        assert time.monotonic() < deadline, (
            "the HPA never got a CPU utilization from metrics-server"
        )
        time.sleep(5)
    minimum = int(_hpa(local_cluster)["spec"]["minReplicas"])
    with Load(_service_ip(local_cluster), "/api/v1/notes?limit=50", threads=6, max_seconds=240):
        deadline = time.monotonic() + 240
        while True:
            hpa = _hpa(local_cluster)
            desired = int(hpa["status"].get("desiredReplicas", 0))
            if desired > minimum:
                break
            assert time.monotonic() < deadline, (
                f"no scale-up under load; HPA status {hpa['status']}"
            )
            time.sleep(5)
    replicas = int(
        local_cluster.kubectl(
            "-n", NS, "get", "deployment", "backend", "-o", "jsonpath={.spec.replicas}"
        )
    )
    assert replicas > minimum


def test_secrets_are_encrypted_at_rest_in_etcd(local_cluster: Cluster) -> None:
    local_cluster.kubectl(
        "-n",
        NS,
        "create",
        "secret",
        "generic",
        "e2e-at-rest",
        "--from-literal=token=plain-text-canary",
    )
    pki = local_cluster.paths.pki
    raw = subprocess.run(
        [
            str(local_cluster.paths.bin / "etcdctl"),
            "--endpoints=https://127.0.0.1:2379",
            f"--cacert={pki / 'etcd' / 'ca.crt'}",
            f"--cert={pki / 'apiserver-etcd-client.crt'}",
            f"--key={pki / 'apiserver-etcd-client.key'}",
            "get",
            f"/registry/secrets/{NS}/e2e-at-rest",
            "--print-value-only",
        ],
        capture_output=True,
        check=True,
        env={"ETCDCTL_API": "3"},
    ).stdout
    assert raw.startswith(b"k8s:enc:secretbox:v1:")
    assert b"plain-text-canary" not in raw
    # and the API still serves it decrypted
    token = local_cluster.kubectl(
        "-n", NS, "get", "secret", "e2e-at-rest", "-o", "jsonpath={.data.token}"
    )
    assert token.strip() == "cGxhaW4tdGV4dC1jYW5hcnk="


def test_network_policy_is_admitted(local_cluster: Cluster) -> None:
    """The local cluster's CNI (the reference bridge plugin) does not enforce NetworkPolicy,
    so this proves only that the API server admits the chart's policy as rendered; enforcement
    is the real cluster's CNI's job (Calico or Cilium, issue 6)."""
    policy = json.loads(
        local_cluster.kubectl("-n", NS, "get", "networkpolicy", "backend", "-o", "json")
    )
    assert set(policy["spec"]["policyTypes"]) == {"Ingress", "Egress"}
    egress_ports = {p["port"] for rule in policy["spec"]["egress"] for p in rule.get("ports", [])}
    assert settings.POSTGRES_PORT in egress_ports and 53 in egress_ports
