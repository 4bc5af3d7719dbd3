"""Storage and backups: Longhorn never asks for more replicas than there are workers, a
Retain class exists, every class joins the recurring jobs, and Velero backs up on schedules."""

from __future__ import annotations

import yaml

from tests.gitops import support

LONGHORN = support.GITOPS / "platform" / "longhorn"
EXAMPLE = support.REPO / "examples" / "cluster.yaml"


def workers() -> int:
    spec = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    count = sum(1 for h in spec["spec"]["hosts"] if h["role"] == "worker")
    assert count >= 1
    return count


def storage_classes() -> list[support.Manifest]:
    docs = support.load_all(LONGHORN / "manifests" / "storageclasses.yaml")
    return [d for d in docs if d["kind"] == "StorageClass"]


def test_replicas_never_exceed_the_workers() -> None:
    limit = workers()
    for sc in storage_classes():
        replicas = int(sc["parameters"]["numberOfReplicas"])
        assert 1 <= replicas <= limit, (
            f"{sc['metadata']['name']}: {replicas} replicas, {limit} workers"
        )
    values = support.load_all(LONGHORN / "values.yaml")[0]
    assert values["defaultSettings"]["defaultReplicaCount"] <= limit
    assert values["persistence"]["defaultClassReplicaCount"] <= limit


def test_one_default_class_and_one_that_retains() -> None:
    classes = storage_classes()
    default = [
        c["metadata"]["name"]
        for c in classes
        if c["metadata"].get("annotations", {}).get("storageclass.kubernetes.io/is-default-class")
        == "true"
    ]
    assert default == ["longhorn-replicated"]
    assert {c["metadata"]["name"] for c in classes if c["reclaimPolicy"] == "Retain"} == {
        "longhorn-retain"
    }
    values = support.load_all(LONGHORN / "values.yaml")[0]
    assert values["persistence"]["defaultClass"] is False, (
        "the chart's class must not be a second default"
    )


def test_every_class_joins_snapshot_and_backup_jobs() -> None:
    jobs = support.load_all(LONGHORN / "manifests" / "recurringjobs.yaml")
    tasks_by_group: dict[str, set[str]] = {}
    for job in jobs:
        for group in job["spec"]["groups"]:
            tasks_by_group.setdefault(group, set()).add(job["spec"]["task"])
    for sc in storage_classes():
        selector = yaml.safe_load(sc["parameters"]["recurringJobSelector"])
        groups = [s["name"] for s in selector if s["isGroup"]]
        tasks = set().union(*(tasks_by_group.get(g, set()) for g in groups))
        assert {"snapshot", "backup"} <= tasks, sc["metadata"]["name"]


def test_velero_schedules_cover_the_cluster_and_the_backend() -> None:
    schedules = support.load_all(
        support.GITOPS / "platform" / "velero" / "manifests" / "schedules.yaml"
    )
    by_name = {s["metadata"]["name"]: s["spec"] for s in schedules}
    assert by_name["cluster-daily"]["template"]["includedNamespaces"] == ["*"]
    assert by_name["cluster-daily"]["template"]["includeClusterResources"] is True
    assert "backend" in by_name["backend-6h"]["template"]["includedNamespaces"]
    for spec in by_name.values():
        assert spec["template"]["storageLocation"] == "default"
        assert spec["template"]["ttl"]
    values = support.load_all(support.GITOPS / "platform" / "velero" / "values.yaml")[0]
    locations = [b["name"] for b in values["configuration"]["backupStorageLocation"]]
    assert locations == ["default"]
    assert (support.GITOPS / "platform" / "velero" / "RESTORE.md").exists()
