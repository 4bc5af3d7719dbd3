"""pytest fixtures of the testbed: `test_hosts` (three bare hosts) and `testbed_cluster`.

Register them in a conftest.py with `from testbed.fixtures import test_hosts` (the repo root
is on pytest's path). Both are session-scoped, shared by every conftest that imports them,
and torn down at the end of the session. Without root or the tools they skip, except under
CI=true, where they fail with one line (CI must never pass by skipping the real runs).

`test_hosts` yields a `TestHosts` (testbed/bench.py): `hosts` (each with `.name`, `.address`,
`.exec(argv)` run inside without SSH), `ssh_user` (a sudo user), `ssh_private_key`,
`ssh_known_hosts`, `apt_source` (the Debian repository on the bridge), `private_cidr`,
`bridge_address`, `ssh_argv(host, *command)`, `timings`.

`testbed_cluster` yields a `RunningCluster` (testbed/cluster.py): the cluster `kubestead
apply -f testbed/cluster.yaml` made, with its hosts, kubeconfig, bundle and database URL.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import TypeVar

import pytest

from testbed.bench import BenchLifecycle, TestHost, TestHosts
from testbed.errors import TestbedError, TestbedUnavailableError

__all__ = ["TestHost", "TestHosts", "test_hosts", "testbed_cluster"]

T = TypeVar("T")


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"true", "1", "yes"}


def _bring_up(up: Callable[[], T]) -> T:
    """up(), with a missing capability a skip (a failure in CI) and any error one clear line."""
    problem: str | None = None
    try:
        return up()
    except TestbedUnavailableError as exc:
        if not in_ci():
            pytest.skip(f"testbed unavailable: {exc}")
        problem = f"testbed unavailable under CI=true: {exc}"
    except TestbedError as exc:
        problem = "\n".join([f"testbed: {exc}", *getattr(exc, "__notes__", [])])
    # Outside the except block, so the report shows the message and no exception chain.
    pytest.fail(problem, pytrace=False)


def _report(config: pytest.Config, timings: dict[str, float], what: str) -> None:
    """Print the bring-up phases in the terminal, past pytest's output capture."""
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    capture = config.pluginmanager.get_plugin("capturemanager")
    if reporter is None or capture is None:
        return
    phases = ", ".join(f"{phase} {seconds:.1f}" for phase, seconds in timings.items())
    with capture.global_and_fixture_disabled():
        reporter.write_line(f"\n{what} up in seconds: {phases}")


@pytest.fixture(scope="session")
def test_hosts(request: pytest.FixtureRequest) -> Iterator[TestHosts]:
    """Three running hosts on a private bridge, torn down at the end of the session."""
    from testbed import hosts

    lifecycle: list[BenchLifecycle] = []

    def up() -> TestHosts:
        bench_lifecycle, running = hosts.up(owner="pytest")
        lifecycle.append(bench_lifecycle)
        return running

    running = _bring_up(up)
    _report(request.config, running.timings, "test hosts")
    try:
        yield running
    finally:
        try:
            lifecycle[0].down()
        finally:
            lifecycle[0].release()


REUSE = "KUBESTEAD_E2E_REUSE"
HAND_ON = "KUBESTEAD_E2E_HAND_ON"
TAKE_OVER = "KUBESTEAD_E2E_TAKE_OVER"


@pytest.fixture(scope="session")
def testbed_cluster(request: pytest.FixtureRequest) -> Iterator[object]:
    """The testbed's cluster, made by `kubestead apply`; removed (twice) at the end.

    With KUBESTEAD_E2E_REUSE=1 (for working on the tests, never in CI) the session uses the
    cluster `make up` left running instead, and leaves it up.

    `make e2e` runs two sessions. With KUBESTEAD_E2E_HAND_ON=1 (the first) a session whose reset
    drill left every host clean hands the hosts on instead of removing them; with
    KUBESTEAD_E2E_TAKE_OVER=1 (the second) a session that finds hosts handed on applies its
    spec from scratch on them: the reset drill's second half.
    """
    from testbed.cluster import ClusterTestbed, RunningCluster

    if os.environ.get(REUSE) == "1":
        if in_ci():
            pytest.fail(f"{REUSE}=1 under CI=true: CI brings its own cluster", pytrace=False)
        yield _bring_up(lambda: ClusterTestbed().attach())
        return
    testbed: list[ClusterTestbed] = []

    taken_over: list[bool] = []

    def up() -> RunningCluster:
        testbed.append(ClusterTestbed())
        handed_on = testbed[0].lifecycle.handed_on() is not None
        taken_over.append(os.environ.get(TAKE_OVER) == "1" and handed_on)
        if taken_over[0]:
            return testbed[0].take_over("pytest")
        return testbed[0].up("pytest", with_backend=False)

    try:
        running = _bring_up(up)
    except BaseException:
        if testbed:
            testbed[0].lifecycle.release()
        raise
    what = "cluster (applied on the hosts the last session reset)" if taken_over[0] else "cluster"
    _report(request.config, running.timings, what)
    try:
        yield running
    finally:
        lifecycle = testbed[0].lifecycle
        if os.environ.get(HAND_ON) == "1" and running.hosts_reset:
            lifecycle.hand_on()
        else:
            try:
                lifecycle.down()
                lifecycle.down()  # a second down must find nothing and fail on nothing
            finally:
                lifecycle.release()
