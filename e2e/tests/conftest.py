"""One real cluster for the whole e2e session, made by `kubestead apply -f testbed/cluster.yaml`:
brought up first, torn down last (twice, to prove `make down` is idempotent). The modules run
in the order an operator's day would: the platform, the workload, network policy, then a
control plane lost under load, and the day-2 drills that end by resetting it. Timings are
printed at the end of the run."""

from __future__ import annotations

import pytest

from e2e.tests.timings import REPORTS, TIMINGS
from testbed.cluster import RunningCluster
from testbed.fixtures import testbed_cluster

__all__ = ["testbed_cluster"]

MODULE_ORDER = (
    "test_platform.py",
    "test_cis.py",  # reads the hosts as the first apply left them
    "test_workload.py",
    "test_network_policy.py",
    "test_control_plane_failure.py",
    # Minutes of load on every host: after the failover test, whose timing it could disturb.
    "test_conformance.py",
    "test_gitops.py",  # its own session (`make e2e-gitops`)
    "test_upgrade.py",  # its own session (`make e2e-upgrade`); before the drills that reset
    "test_day2.py",  # rewinds, removes and finally resets the cluster: always last
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    def rank(item: pytest.Item) -> int:
        name = item.path.name
        return MODULE_ORDER.index(name) if name in MODULE_ORDER else len(MODULE_ORDER)

    items.sort(key=rank)  # stable: tests keep their file order within a module


@pytest.fixture(scope="session", autouse=True)
def bring_up_timings(testbed_cluster: RunningCluster) -> None:
    """The cluster's bring-up and first apply, per phase and per play, for the summary."""
    TIMINGS.update({f"bring-up: {k}": v for k, v in testbed_cluster.timings.items()})
    TIMINGS.update({f"first apply: {play}": s for play, s in testbed_cluster.plays.items()})


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    for title, text in REPORTS.items():
        terminalreporter.section(title)
        for line in text.splitlines():
            terminalreporter.write_line(line)
    if TIMINGS:
        terminalreporter.section("testbed timings")
        for step, seconds in TIMINGS.items():
            terminalreporter.write_line(f"{step:56} {seconds:7.1f} s")
