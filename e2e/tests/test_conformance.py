"""The upstream conformance suite's `ci` subset (e2e.test of the tested release: NetworkPolicy,
Services, DNS, Deployments, StatefulSets, Pods, probes; testbed/conformance/run.py) against the
cluster kubestead built, through its endpoint address. Every selected spec must pass; the
counts, and any spec that skipped itself with its reason, go in the session's summary.
`make conformance` runs the whole suite (docs/conformance.md)."""

from __future__ import annotations

import sys
import time

import pytest

from e2e.tests.timings import REPORTS, TIMINGS
from testbed.cluster import RunningCluster
from testbed.conformance import on_cluster, report, run


def say(message: str) -> None:
    print(f"[conformance] {message}", file=sys.stderr, flush=True)


@pytest.fixture(scope="module")
def ci_subset(testbed_cluster: RunningCluster) -> report.SuiteReport:
    built = on_cluster.build_suite(say)
    started = time.monotonic()
    result = on_cluster.run_on(testbed_cluster, built, run.SUBSETS["ci"], say)
    TIMINGS["conformance: ci subset (push and run)"] = time.monotonic() - started
    REPORTS["Kubernetes conformance, ci subset (e2e.test)"] = result.render()
    return result


def test_every_spec_of_the_ci_subset_passes(ci_subset: report.SuiteReport) -> None:
    assert not ci_subset.failed, ci_subset.render()
    # The dry run selects 52 specs; a run that passed none ran nothing.
    assert ci_subset.selected == ci_subset.passed + len(ci_subset.skipped) > 0


def test_no_spec_of_the_ci_subset_skips_itself(ci_subset: report.SuiteReport) -> None:
    # A skip says the cluster lacks what the spec needs (a feature, a second node): in this
    # subset every spec is meant to run.
    assert not ci_subset.skipped, ci_subset.render()
