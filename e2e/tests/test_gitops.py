"""GitOps on the testbed's cluster (`make e2e-gitops`): Argo CD, built from source, syncs the
tree's backend Application from a git server on the bridge; a commit rolls the Deployment under
load with no failed request; a hand edit of the Deployment is undone.

Argo CD is its own headless install at the version `kubestead bundle` lists, not the argo-helm
chart `kubestead addons` installs (testbed/gitops.py says why). The tests build on each other in
file order."""

from __future__ import annotations

import json
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from e2e.tests.test_workload import api, load
from e2e.tests.timings import REPORTS, TIMINGS
from testbed import backend, gitops
from testbed.cluster import RunningCluster

pytestmark = [pytest.mark.slow, pytest.mark.gitops]
NS = backend.NAMESPACE


@pytest.fixture(scope="module")
def repository(testbed_cluster: RunningCluster) -> gitops.Repository:
    """Argo CD installed, and the repository it will sync from, with a first commit."""
    TIMINGS["gitops: Argo CD installed and ready"] = gitops.install_argocd(testbed_cluster)
    repository = gitops.Repository.on(testbed_cluster.bench)
    repository.create(values(testbed_cluster))
    return repository


def values(cluster: RunningCluster, **changes: Any) -> dict[str, Any]:
    return gitops.backend_values(cluster.bench, cluster.bundle.backend_image, **changes)


def deployment(cluster: RunningCluster) -> dict[str, Any]:
    result = cluster.kubectl("-n", NS, "get", "deployment", "backend", "-o", "json")
    return dict(json.loads(result.stdout))


def test_argocd_runs_the_images_the_bundle_lists(
    testbed_cluster: RunningCluster, repository: gitops.Repository
) -> None:
    listed = json.loads(
        testbed_cluster.kubestead("bundle", "-f", str(testbed_cluster.spec), "--json").stdout
    )["addons"]
    images = {
        f"{a['name']}:{a['version']}"
        for a in listed
        if a["addon"] == "argo-cd" and a["kind"] == "image"
    }
    pods = json.loads(
        testbed_cluster.kubectl("-n", gitops.NAMESPACE, "get", "pods", "-o", "json").stdout
    )["items"]
    running = {
        status["image"]
        for pod in pods
        for status in pod["status"].get("containerStatuses", [])
        if status.get("ready")
    }
    assert running == images, f"ready containers run {running}; the bundle lists {images}"


def test_the_backend_application_syncs_and_is_healthy(
    testbed_cluster: RunningCluster, repository: gitops.Repository
) -> None:
    started = time.monotonic()
    gitops.deploy_backend_application(testbed_cluster, repository)
    gitops.refresh(testbed_cluster)  # an Application kept from an earlier run polls otherwise
    head = repository.git("rev-parse", "HEAD")
    status = gitops.wait_synced(testbed_cluster, head)
    TIMINGS["gitops: backend Application Synced and Healthy"] = time.monotonic() - started
    kinds = {(r["kind"], r["name"]) for r in status["resources"]}
    assert ("Deployment", "backend") in kinds and ("Service", "backend") in kinds, kinds
    ready = deployment(testbed_cluster)["status"].get("readyReplicas", 0)
    assert ready >= 2, f"{ready} backend pods ready; the production values' minimum is 2"
    # The chart's pre-sync migration ran: readiness needs the schema at head.
    code, body = api(testbed_cluster, "GET", "/readyz")
    assert code == 200, body


def test_a_commit_rolls_the_deployment_with_no_failed_request(
    testbed_cluster: RunningCluster, repository: gitops.Repository, tmp_path: Path
) -> None:
    before = deployment(testbed_cluster)["metadata"]["generation"]
    with load(testbed_cluster, "/api/v1/notes?limit=5", tmp_path, threads=4, pause=0.02) as traffic:
        time.sleep(3)
        committed = time.monotonic()
        changed = values(testbed_cluster, config={"logLevel": "debug"})
        revision = repository.commit(changed, "backend: log at debug")
        gitops.refresh(testbed_cluster)
        gitops.wait_synced(testbed_cluster, revision)
        synced = time.monotonic()
        testbed_cluster.kubectl(
            "-n", NS, "rollout", "status", "deployment/backend", "--timeout=300s"
        )
        to_synced, to_rolled = synced - committed, time.monotonic() - committed
        TIMINGS["gitops: commit to Synced"] = to_synced
        TIMINGS["gitops: commit to the rollout's end"] = to_rolled
        time.sleep(3)
    after = deployment(testbed_cluster)
    assert after["metadata"]["generation"] != before, "the commit did not roll the Deployment"
    configmap = json.loads(
        testbed_cluster.kubectl("-n", NS, "get", "configmap", "backend", "-o", "json").stdout
    )
    assert configmap["data"]["BACKEND_LOG_LEVEL"] == "debug"
    REPORTS["GitOps: a commit rolled out under load"] = (
        f"{traffic.result.sent} requests, {traffic.failed} failed; Synced {to_synced:.1f} s "
        f"after the push, rolled out after {to_rolled:.1f} s"
    )
    assert traffic.result.sent > 100
    assert traffic.failed == 0, (
        f"{traffic.failed} of {traffic.result.sent} failed: {traffic.result.failures[:5]}"
    )


def test_a_hand_edit_of_the_deployment_is_healed(
    testbed_cluster: RunningCluster, repository: gitops.Repository
) -> None:
    def max_unavailable() -> object:
        return deployment(testbed_cluster)["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"]

    assert max_unavailable() == 0
    # What `kubectl edit` would do: a field the chart sets, changed by hand (an edit that would
    # let a rollout drop below the wanted pod count).
    edited, edited_at = time.monotonic(), time.time()
    testbed_cluster.kubectl(
        "-n", NS, "patch", "deployment", "backend", "--type=merge",
        "-p", '{"spec":{"strategy":{"rollingUpdate":{"maxUnavailable":1}}}}',
    )  # fmt: skip
    deadline = edited + 120
    while max_unavailable() != 0:
        assert time.monotonic() < deadline, "Argo CD did not undo the edit within 120 s"
        time.sleep(0.5)
    TIMINGS["gitops: a hand edit undone"] = time.monotonic() - edited
    head = repository.git("rev-parse", "HEAD")
    status = gitops.wait_synced(testbed_cluster, head, timeout=60)
    # Undone by Argo CD's self-heal: an automated sync that started after the edit.
    operation = status["operationState"]
    started = datetime.fromisoformat(operation["startedAt"]).timestamp()
    assert operation["operation"]["initiatedBy"].get("automated") is True, operation
    assert started >= edited_at - 1, (operation["startedAt"], edited_at)
