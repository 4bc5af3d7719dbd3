"""One real cluster for the whole e2e session: brought up first, torn down last (twice, to
prove `down` is idempotent). Timings are printed at the end of the run."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from e2e.localcluster import cluster, processes
from e2e.localcluster.settings import Paths
from e2e.tests.timings import TIMINGS

REPO = Path(__file__).resolve().parents[2]


@dataclass
class Cluster:
    paths: Paths
    helm: Path
    timings: dict[str, float] = field(default_factory=dict)

    def kubectl(self, *args: str, input_text: str | None = None, check: bool = True) -> str:
        return cluster.kubectl(self.paths, *args, input_text=input_text, check=check).stdout


def _require_root_linux() -> None:
    reason = None
    if sys.platform != "linux":
        reason = "the e2e cluster needs Linux"
    elif os.geteuid() != 0:
        reason = "the e2e cluster needs root"
    if reason:
        if os.environ.get("CI"):
            pytest.fail(f"{reason}; CI must run the real cluster, never skip it")
        pytest.skip(reason)


@pytest.fixture(scope="session")
def local_cluster() -> Iterator[Cluster]:
    _require_root_linux()
    paths = Paths.default()
    helm = Path(os.environ.get("KUBESTEAD_HELM", REPO / ".tools" / "bin" / "helm"))
    assert helm.exists(), f"helm not found at {helm}: run `make chart-tools`"
    started = time.monotonic()
    try:
        timings = cluster.up(paths, Path(sys.executable))
    except BaseException:
        cluster.down(paths)
        raise
    TIMINGS.update(
        {
            "binaries build (0 = cached)": timings["build"],
            "images": timings["images"],
            "cluster up": timings["cluster"],
        }
    )
    try:
        yield Cluster(paths, helm, timings)
    finally:
        cluster.down(paths)
        cluster.down(paths)  # a second `down` must find nothing and fail on nothing
        assert not paths.state.exists(), "down left the state directory behind"
        assert not processes.started(paths)
        TIMINGS["e2e total"] = time.monotonic() - started


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if TIMINGS:
        terminalreporter.section("local cluster timings")
        for step, seconds in TIMINGS.items():
            terminalreporter.write_line(f"{step:32} {seconds:7.1f} s")
