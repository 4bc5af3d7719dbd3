"""The workload on the testbed's cluster: the backend's chart installed in a `restricted`
namespace (migrations by its pre-install hook), used, tested with `helm test`, upgraded under
load without a failed request, and scaled by its HPA from metrics-server's figures. The tests
build on each other in file order, as an operator's day would.

Clients run where clients of a Service run: on a node, here in a test host's network namespace
(cluster IPs exist only on the hosts)."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from e2e.tests.load import Load
from e2e.tests.timings import TIMINGS
from testbed import backend
from testbed.cluster import RunningCluster

pytestmark = pytest.mark.slow
NS = backend.NAMESPACE
# Clients sit on the worker, as most clients of a Service would.
CLIENT_HOST = "worker-1"


def service_cidr(cluster: RunningCluster) -> str:
    spec: dict[str, Any] = yaml.safe_load(cluster.spec.read_text())
    return str(spec["spec"]["kubernetes"]["serviceCIDR"])


def service_ip(cluster: RunningCluster) -> str:
    return cluster.kubectl(
        "-n", NS, "get", "service", "backend", "-o", "jsonpath={.spec.clusterIP}"
    ).stdout.strip()


def api(
    cluster: RunningCluster, method: str, path: str, body: dict[str, Any] | None = None
) -> tuple[int, Any]:
    """One request to the backend's Service, with curl from the client host's netns."""
    argv = [
        "ip", "netns", "exec", cluster.hosts.host(CLIENT_HOST).netns,
        "curl", "-s", "-m", "10", "-X", method, "-H", "Content-Type: application/json",
        "-w", "\n%{http_code}", f"http://{service_ip(cluster)}{path}",
    ]  # fmt: skip
    if body is not None:
        argv += ["--data", json.dumps(body)]
    out = subprocess.run(argv, capture_output=True, text=True, check=True, timeout=30).stdout
    text, _, code = out.rpartition("\n")
    return int(code), json.loads(text or "{}")


def load(cluster: RunningCluster, path: str, tmp: Path, **options: Any) -> Load:
    return Load(
        cluster.hosts.host(CLIENT_HOST).netns,
        service_ip(cluster),
        path,
        service_cidr=service_cidr(cluster),
        workdir=tmp,
        **options,
    )


def test_chart_installs_in_a_restricted_namespace(testbed_cluster: RunningCluster) -> None:
    seconds = backend.deploy(
        testbed_cluster.bench,
        testbed_cluster.kubectl_binary,
        testbed_cluster.kubeconfig,
        testbed_cluster.bundle.backend_image,
        testbed_cluster.database_url,
    )
    TIMINGS["helm install backend --wait"] = seconds
    labels = json.loads(
        testbed_cluster.kubectl("get", "namespace", NS, "-o", "jsonpath={.metadata.labels}").stdout
    )
    assert labels["pod-security.kubernetes.io/enforce"] == "restricted"
    # The chart leaves `replicas` to the HPA, so a first install starts one pod and the HPA
    # raises it to minReplicas within a sync period or two.
    deadline = time.monotonic() + 180
    while True:
        pods = json.loads(
            testbed_cluster.kubectl(
                "-n", NS, "get", "pods", "-l", "app.kubernetes.io/component=server", "-o", "json"
            ).stdout
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
    status, body = api(testbed_cluster, "GET", "/readyz")
    assert status == 200, body


def test_notes_through_the_service(testbed_cluster: RunningCluster) -> None:
    created_ids = []
    for title in ("first", "second", "third"):
        status, note = api(
            testbed_cluster, "POST", "/api/v1/notes", {"title": title, "tags": ["e2e"]}
        )
        assert status == 201, note
        created_ids.append(note["id"])
    status, listing = api(testbed_cluster, "GET", "/api/v1/notes?tag=e2e&limit=2")
    assert status == 200
    items = listing["items"]
    assert isinstance(items, list) and len(items) == 2
    assert listing["next_cursor"]
    status, page2 = api(
        testbed_cluster, "GET", f"/api/v1/notes?tag=e2e&limit=2&cursor={listing['next_cursor']}"
    )
    assert status == 200
    seen = {n["id"] for n in items} | {n["id"] for n in page2["items"]}
    assert set(created_ids) <= seen
    status, note = api(testbed_cluster, "GET", f"/api/v1/notes/{created_ids[1]}")
    assert status == 200 and note["title"] == "second"


def test_helm_test_passes(testbed_cluster: RunningCluster) -> None:
    result = backend.helm(testbed_cluster.kubeconfig, "test", backend.RELEASE, "--timeout", "3m")
    assert result.returncode == 0, result.stderr
    assert "Phase:          Succeeded" in result.stdout


def test_upgrade_under_load_drops_no_request(
    testbed_cluster: RunningCluster, tmp_path: Path
) -> None:
    def generation() -> str:
        return testbed_cluster.kubectl(
            "-n", NS, "get", "deployment", "backend", "-o", "jsonpath={.metadata.generation}"
        ).stdout

    before = generation()
    with load(testbed_cluster, "/api/v1/notes?limit=5", tmp_path, threads=4, pause=0.02) as traffic:
        time.sleep(3)
        result = backend.helm(
            testbed_cluster.kubeconfig,
            "upgrade", backend.RELEASE, str(backend.CHART),
            "--reuse-values", "--set", "config.logLevel=debug",
            "--wait", "--timeout", "5m",
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        testbed_cluster.kubectl(
            "-n", NS, "rollout", "status", "deployment/backend", "--timeout=180s"
        )
        time.sleep(3)
    assert generation() != before, "the upgrade did not roll the pods"
    assert traffic.result.sent > 100
    assert traffic.failed == 0, (
        f"{traffic.failed} of {traffic.result.sent} failed: {traffic.result.failures[:5]}"
    )


def _hpa(cluster: RunningCluster) -> Any:
    return json.loads(cluster.kubectl("-n", NS, "get", "hpa", "backend", "-o", "json").stdout)


def _current_cpu(hpa: Any) -> int | None:
    for metric in hpa.get("status", {}).get("currentMetrics") or []:
        if metric.get("type") == "Resource" and metric["resource"]["name"] == "cpu":
            value = metric["resource"]["current"].get("averageUtilization")
            return int(value) if value is not None else None
    return None


def test_hpa_reads_cpu_from_metrics_server_and_scales_up(
    testbed_cluster: RunningCluster, tmp_path: Path
) -> None:
    deadline = time.monotonic() + 180
    while _current_cpu(_hpa(testbed_cluster)) is None:
        assert time.monotonic() < deadline, (
            "the HPA never got a CPU utilization from metrics-server"
        )
        time.sleep(5)
    minimum = int(_hpa(testbed_cluster)["spec"]["minReplicas"])
    with load(testbed_cluster, "/api/v1/notes?limit=50", tmp_path, threads=6, max_seconds=240):
        deadline = time.monotonic() + 240
        while True:
            hpa = _hpa(testbed_cluster)
            if int(hpa["status"].get("desiredReplicas", 0)) > minimum:
                break
            assert time.monotonic() < deadline, (
                f"no scale-up under load; HPA status {hpa['status']}"
            )
            time.sleep(5)
    replicas = int(
        testbed_cluster.kubectl(
            "-n", NS, "get", "deployment", "backend", "-o", "jsonpath={.spec.replicas}"
        ).stdout
    )
    assert replicas > minimum
