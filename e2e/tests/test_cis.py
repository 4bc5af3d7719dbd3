"""The CIS Kubernetes Benchmark (kube-bench, cis-1.9) on every host of the cluster kubestead
built. A FAIL is either fixed in the roles or explained, check by check, in
e2e/cis-explained.yml (docs/cis.md carries the same reasons): the test fails on any other FAIL,
and on an explanation for a check that no longer fails, so the list cannot go stale."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from e2e.tests.timings import REPORTS
from testbed import cis
from testbed.cluster import ClusterTestbed, RunningCluster

REPO = Path(__file__).resolve().parents[2]
TOOLS = Path(os.environ.get("KUBESTEAD_TOOLS", REPO / ".tools"))


def roles(cluster: RunningCluster) -> dict[str, str]:
    """Host name -> "control-plane" or "worker", as the spec says."""
    return {host.name: host.role for host in ClusterTestbed(cluster.spec).cluster().spec.hosts}


@pytest.fixture(scope="module")
def results(testbed_cluster: RunningCluster) -> list[cis.HostResult]:
    kube_bench = cis.KubeBench.installed_in(TOOLS)
    found = cis.benchmark_cluster(testbed_cluster.hosts, kube_bench, roles(testbed_cluster))
    failing = [f"{r.host} ({r.role}): {', '.join(c.id for c in r.failing())}" for r in found]
    REPORTS[f"CIS Kubernetes Benchmark ({cis.BENCHMARK}, kube-bench)"] = "\n".join(
        [cis.table(found), "FAIL checks:", *failing]
    )
    return found


def test_kube_bench_checks_every_host_as_its_role(
    testbed_cluster: RunningCluster, results: list[cis.HostResult]
) -> None:
    checked = sorted((r.host, r.role) for r in results if r.role != "cluster")
    expected = sorted(roles(testbed_cluster).items())
    assert checked == expected
    assert [r.role for r in results].count("cluster") == 1
    for result in results:
        sections = {check.id.split(".")[0] for check in result.checks}
        if result.role == "control-plane":
            assert sections == {"1", "2", "3", "4"}, (result.host, sections)
        elif result.role == "worker":
            assert sections == {"4"}, (result.host, sections)
        else:
            assert sections == {"5"}, (result.host, sections)


def test_every_fail_is_fixed_or_explained(results: list[cis.HostResult]) -> None:
    explained = cis.explained_failures()
    unexplained = [
        f"{result.host} ({result.role}) {check.id} {check.text} — found: {check.actual}"
        for result in results
        for check in result.failing()
        if result.role not in explained.get(check.id, {})
    ]
    assert not unexplained, "fix these in the roles or explain them:\n" + "\n".join(unexplained)


def test_every_explanation_still_fails_somewhere(results: list[cis.HostResult]) -> None:
    failing = {(check.id, result.role) for result in results for check in result.failing()}
    stale = [
        f"{check_id} on {role}"
        for check_id, reasons in cis.explained_failures().items()
        for role in reasons
        if (check_id, role) not in failing
    ]
    assert not stale, f"these pass now: remove them from {cis.EXPLAINED.name}: {stale}"
