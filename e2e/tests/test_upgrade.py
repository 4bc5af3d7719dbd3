"""The upgrade drill: one minor up (versions.yaml: `tested` to `upgrade_tested`) through
`kubestead apply`, as an operator runs it: the version changed in the spec, nothing else.

The cluster runs the backend under load the whole time, and the drill counts failed requests
(goal 0): control planes go one at a time, then the workers, each drained and uncordoned, and
the PodDisruptionBudget keeps a replica serving. Before and after, `apply` refuses what kubeadm
cannot do (a skipped minor, a downgrade) against the real cluster's version, changing nothing.

Needs what `make e2e-upgrade` gives it: the offline bundle with both releases
(KUBESTEAD_TESTBED_UPGRADE=1) and two schedulable workers (testbed/cluster-conformance.yaml),
since draining the only worker would leave the backend's second replica nowhere to go."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from e2e.tests.test_day2 import control_planes, etcd_all_healthy, nodes, snapshots
from e2e.tests.test_workload import NS, api, load
from e2e.tests.timings import REPORTS, TIMINGS
from kubestead import versions
from kubestead.plan import parse_version
from testbed import backend
from testbed.cluster import RunningCluster, kubestead_cli
from testbed.conformance.on_cluster import schedulable_nodes

pytestmark = [pytest.mark.slow, pytest.mark.upgrade]

SOURCE = versions.TESTED_KUBERNETES_VERSION
TARGET = versions.UPGRADE_TESTED_KUBERNETES_VERSION


def spec_at(cluster: RunningCluster, version: str, folder: Path) -> Path:
    """The running cluster's spec with only spec.kubernetes.version changed, as a user edits it."""
    document: dict[str, Any] = yaml.safe_load(cluster.spec.read_text(encoding="utf-8"))
    document["spec"]["kubernetes"]["version"] = version
    overlay = document["spec"].get("inventoryOverlay")
    if overlay:
        document["spec"]["inventoryOverlay"] = str((cluster.spec.parent / overlay).resolve())
    path = folder / f"cluster-{version}.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    return path


def apply(cluster: RunningCluster, spec: Path) -> tuple[int, str]:
    result = cluster.kubestead("apply", "-f", str(spec))
    return result.returncode, result.stdout + result.stderr


def apply_with_timeline(spec: Path, log: Path) -> tuple[int, str, list[str]]:
    """`kubestead apply` with its output followed live: each `play:` line with the seconds since
    the command started (with `serial`, one per batch of hosts), to line failures up with."""
    started = time.monotonic()
    timeline: list[str] = []

    def note(line: str) -> None:
        if line.startswith("play:"):
            timeline.append(f"t={time.monotonic() - started:.1f}s {line}")

    result = kubestead_cli("apply", "-f", str(spec), log=log, report=note)
    return result.returncode, result.stdout, timeline


def node_versions(cluster: RunningCluster) -> dict[str, str]:
    items = json.loads(cluster.kubectl("get", "nodes", "-o", "json").stdout)["items"]
    return {i["metadata"]["name"]: i["status"]["nodeInfo"]["kubeletVersion"] for i in items}


def cluster_version(cluster: RunningCluster) -> str:
    """The version kubeadm recorded in the cluster (what `apply` plans from, ADR 0009)."""
    configuration = cluster.kubectl(
        "-n", "kube-system", "get", "configmap", "kubeadm-config",
        "-o", "jsonpath={.data.ClusterConfiguration}",
    ).stdout  # fmt: skip
    return str(yaml.safe_load(configuration)["kubernetesVersion"])


def refused(cluster: RunningCluster, version: str, folder: Path, words: str) -> str:
    code, output = apply(cluster, spec_at(cluster, version, folder))
    assert code != 0, output[-2000:]
    lines = [line for line in output.strip().splitlines() if line.strip()]
    assert words in lines[-1], output[-2000:]
    assert "Traceback" not in output
    return lines[-1]


@pytest.fixture(scope="module")
def serving(testbed_cluster: RunningCluster) -> str:
    """The backend deployed and a note to read: the path the load reads through the database."""
    listed = json.loads(testbed_cluster.kubectl("get", "nodes", "-o", "json").stdout)["items"]
    ready = schedulable_nodes(listed)
    assert len(ready) >= 2, (
        f"the upgrade drill drains every node and needs two schedulable ones, found {ready}: "
        "run it with `make e2e-upgrade` (testbed/cluster-conformance.yaml)"
    )
    assert testbed_cluster.bundle.has_release(TARGET), (
        f"the offline bundle has no {TARGET}: run the drill with `make e2e-upgrade` "
        "(KUBESTEAD_TESTBED_UPGRADE=1 builds it into the bundle)"
    )
    backend.deploy(
        testbed_cluster.bench,
        testbed_cluster.kubectl_binary,
        testbed_cluster.kubeconfig,
        testbed_cluster.bundle.backend_image,
        testbed_cluster.database_url,
    )
    # Two replicas (the HPA's minimum) before any drain; the first request may beat the
    # Service's rules to the client's node, so it is retried for a while.
    testbed_cluster.kubectl(
        "-n", NS, "wait", "deployment/backend", "--for=jsonpath={.status.readyReplicas}=2",
        "--timeout=180s",
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while True:
        try:
            status, note = api(testbed_cluster, "POST", "/api/v1/notes", {"title": "upgrade"})
        except subprocess.CalledProcessError as error:
            assert time.monotonic() < deadline, f"the backend's Service does not answer: {error}"
            time.sleep(2)
            continue
        assert status == 201, note
        return f"/api/v1/notes/{note['id']}"


def test_a_skipped_minor_is_refused_against_the_real_cluster(
    testbed_cluster: RunningCluster, tmp_path: Path
) -> None:
    major, minor, _ = parse_version(SOURCE)
    skipped = f"v{major}.{minor + 2}.0"
    line = refused(testbed_cluster, skipped, tmp_path, "skips minors")
    assert SOURCE in line and f"v{major}.{minor + 1}.x" in line, line
    assert cluster_version(testbed_cluster) == SOURCE


def test_apply_upgrades_one_minor_under_load_without_a_failed_request(
    testbed_cluster: RunningCluster, serving: str, tmp_path: Path
) -> None:
    assert cluster_version(testbed_cluster) == SOURCE
    started = time.time()
    target_spec = spec_at(testbed_cluster, TARGET, tmp_path)
    with load(testbed_cluster, serving, tmp_path, threads=4, pause=0.05, max_seconds=3000) as ld:
        began = time.monotonic()
        code, output, timeline = apply_with_timeline(target_spec, tmp_path / "apply.log")
        TIMINGS[f"apply: upgrade {SOURCE} -> {TARGET}"] = time.monotonic() - began
    REPORTS["upgrade drill"] = "\n".join(
        [f"requests under load: {ld.result.sent}, failed: {ld.failed}", *timeline]
    )
    assert code == 0, output[-4000:]
    assert f"plan: upgrade.yml: upgrade {SOURCE} -> {TARGET}" in output, output[-3000:]
    # The snapshot play comes before any node is touched (any_errors_fatal: it must succeed).
    snapshot_play = output.index("play: Check the version step and snapshot etcd first")
    assert snapshot_play < output.index("play: Upgrade the control planes one at a time")
    first_control_plane = testbed_cluster.hosts.hosts[0].name
    newest = snapshots(testbed_cluster, first_control_plane)[-1]
    taken = testbed_cluster.hosts.host(first_control_plane).exec(
        ["stat", "-c", "%Y", f"/var/backups/etcd/{newest}"]
    )
    assert int(taken.stdout) >= started - 1

    assert ld.result.sent > 100, ld.result
    # The failures carry their time from the load's start, the timeline each play's.
    assert ld.failed == 0, (ld.failed, ld.result.failures[:50], timeline)

    assert set(node_versions(testbed_cluster).values()) == {TARGET}, node_versions(testbed_cluster)
    assert all(nodes(testbed_cluster).values()), nodes(testbed_cluster)
    cordoned = testbed_cluster.kubectl(
        "get", "nodes", "-o", "jsonpath={.items[?(@.spec.unschedulable==true)].metadata.name}"
    ).stdout.split()
    assert cordoned == []
    assert cluster_version(testbed_cluster) == TARGET
    images = testbed_cluster.kubectl(
        "-n", "kube-system", "get", "pods", "-l", "tier=control-plane",
        "-o", "jsonpath={range .items[*]}{.spec.containers[0].image}{'\\n'}{end}",
    ).stdout.split()  # fmt: skip
    upgraded = {i for i in images if i.rsplit("/", 1)[-1].startswith("kube-")}
    assert upgraded and all(i.endswith(f":{TARGET}") for i in upgraded), images
    etcd_tag = versions.kubeadm_images(TARGET)[0].etcd
    assert any(i.endswith(f"/etcd:{etcd_tag}") for i in images), images
    etcd_all_healthy(testbed_cluster, len(control_planes(testbed_cluster)))
    status, body = api(testbed_cluster, "GET", serving)
    assert status == 200, body
    ready = testbed_cluster.kubectl(
        "-n", NS, "get", "deployment", "backend", "-o", "jsonpath={.status.readyReplicas}"
    ).stdout
    assert int(ready or 0) >= 2


# A known defect, found by this test in its first run (2026-12-01): after the upgrade the next
# apply reported changed=4 on each control plane and changed=2 on each worker. The CLI does not
# name the tasks that changed, so which ones is not known yet. Strict: it fails once fixed.
@pytest.mark.xfail(strict=True, reason="apply after an upgrade still changes tasks (open)")
def test_apply_again_at_the_new_version_changes_nothing(
    testbed_cluster: RunningCluster, tmp_path: Path
) -> None:
    """After the upgrade the spec and the cluster agree: `apply` plans no upgrade and its
    converge run changes nothing on any host (what the upgrade did is what the roles want)."""
    if cluster_version(testbed_cluster) != TARGET:
        pytest.fail(f"the cluster is not at {TARGET}: the upgrade test before this one failed")
    started = time.monotonic()
    code, output = apply(testbed_cluster, spec_at(testbed_cluster, TARGET, tmp_path))
    TIMINGS[f"apply again at {TARGET} (no-op)"] = time.monotonic() - started
    assert code == 0, output[-3000:]
    assert "upgrade.yml" not in output, output[-3000:]
    summary = [line for line in output.splitlines() if " ok=" in line and " changed=" in line]
    hosts = {line.split(":", 1)[0] for line in summary}
    assert {h.name for h in testbed_cluster.hosts.hosts} <= hosts, summary
    changed = [line for line in summary if " changed=0 " not in line]
    assert not changed, changed


def test_a_downgrade_is_refused_against_the_upgraded_cluster(
    testbed_cluster: RunningCluster, tmp_path: Path
) -> None:
    if cluster_version(testbed_cluster) != TARGET:
        pytest.fail(f"the cluster is not at {TARGET}: the upgrade test before this one failed")
    line = refused(testbed_cluster, SOURCE, tmp_path, "cannot downgrade")
    assert TARGET in line, line
    assert cluster_version(testbed_cluster) == TARGET
