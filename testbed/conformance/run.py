"""Run e2e.test through the ginkgo CLI against the testbed cluster, and read its report.

The invocation is upstream's (hack/ginkgo-e2e.sh, the conformance image's runner): ginkgo with
`--nodes`, `--focus`, `--skip` and `--timeout` in front of the precompiled e2e.test, whose own
flags follow `--`: `--kubeconfig`, `--provider=skeleton` (no cloud), `--kubectl-path` (the
kubectl the bundle built, the hosts' own), `--report-dir` (JUnit: report.py).

Selection: the focus is `[Conformance]` unless told; the skip always drops the [Serial],
[Slow] and [Disruptive] specs and the TESTBED_SKIPS, each with the reason it cannot pass here.
The `ci` subset (CI_FOCUS) is the part a 90-minute job can run on this machine.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from testbed.conformance import report
from testbed.errors import TestbedError

CONFORMANCE_FOCUS = r"\[Conformance\]"
# Upstream's conformance runs leave these to dedicated serial jobs; on two cores they would
# take the whole run (and [Disruptive] ones restart the shared hosts' components).
SKIP_TAGS = (r"\[Serial\]", r"\[Slow\]", r"\[Disruptive\]")
# Specs that cannot pass on this testbed whatever the cluster does, by title (matched
# literally anywhere in the spec's full text), with why.
TESTBED_SKIPS: Mapping[str, str] = {
    "[sig-architecture] Conformance Tests should have at least two untainted nodes": (
        "testbed/cluster.yaml has one worker; the three control planes keep kubeadm's "
        "NoSchedule taint, so only one node is untainted"
    ),
}
# NetworkPolicy enforcement (kube-router's, not a [Conformance] area), then the conformance
# specs of Services, DNS, Deployments, StatefulSets, Pods and probes.
CI_FOCUS = (
    r"\[sig-network\] Netpol .*\[Feature:NetworkPolicy\]"
    r"|\[sig-network\] (Services|DNS) .*\[Conformance\]"
    r"|\[sig-apps\] (Deployment|StatefulSet) .*\[Conformance\]"
    r"|\[sig-node\] (Pods|Probing container) .*\[Conformance\]"
)
# In the ci subset only: NetworkPolicy over SCTP is an optional feature upstream runs in jobs
# of its own; the subset checks the TCP/UDP policy kube-router enforces for the workload.
CI_EXTRA_SKIPS = (r"\[Feature:SCTPConnectivity\]",)

# One e2e process per core: the four hosts share the two cores with the runner, and more
# processes start more pods at once, turning the specs' pod-start timeouts into failures
# that say nothing about conformance.
DEFAULT_NODES = 2
_TIMEOUT_GRACE_S = 600  # ginkgo reports and exits at its timeout; this is for a hung one
_STOP_WAIT_S = 60


@dataclass(frozen=True)
class Selection:
    """Which specs a run selects, and how long the whole run may take."""

    name: str
    focus: str
    skip: str
    timeout_s: int


def quote_meta(text: str) -> str:
    """Go's regexp.QuoteMeta: the text as a literal in an RE2 (ginkgo's) regex."""
    return "".join(f"\\{char}" if char in r"\.+*?()|[]{}^$" else char for char in text)


def skip_regex(extra: Sequence[str] = ()) -> str:
    """The tags, the testbed's named specs (literally), then any extra alternatives."""
    return "|".join([*SKIP_TAGS, *(quote_meta(title) for title in TESTBED_SKIPS), *extra])


SUBSETS = {
    # About 370 specs: hours on this machine.
    "conformance": Selection("conformance", CONFORMANCE_FOCUS, skip_regex(), 5 * 3600),
    # Leaves a 90-minute CI job room for the image push and the report.
    "ci": Selection("ci", CI_FOCUS, skip_regex(CI_EXTRA_SKIPS), 75 * 60),
}


def selection(subset: str = "conformance", focus: str | None = None) -> Selection:
    """A named subset, or its skip and timeout with another focus."""
    if subset not in SUBSETS:
        raise TestbedError(f"no subset {subset!r}; use one of {', '.join(SUBSETS)}")
    chosen = SUBSETS[subset]
    if focus is None:
        return chosen
    return Selection(f"{subset} with --focus", focus, chosen.skip, chosen.timeout_s)


@dataclass(frozen=True)
class Target:
    """The cluster a run talks to, as the machine reaches it."""

    kubeconfig: Path
    kubectl: Path


def ginkgo_argv(
    suite: Path,
    chosen: Selection,
    target: Target,
    report_dir: Path,
    nodes: int = DEFAULT_NODES,
    dry_run: bool = False,
) -> list[str]:
    """The ginkgo command line: its flags, the precompiled e2e.test, `--`, e2e.test's flags."""
    argv = [
        str(suite / "ginkgo"),
        f"--nodes={1 if dry_run else nodes}",  # ginkgo refuses a parallel dry run
        f"--focus={chosen.focus}",
        f"--skip={chosen.skip}",
        f"--timeout={chosen.timeout_s}s",
        "--no-color",
    ]
    if dry_run:
        argv.append("--dry-run")
    return [
        *argv,
        str(suite / "e2e.test"),
        "--",
        f"--kubeconfig={target.kubeconfig}",
        "--provider=skeleton",
        f"--kubectl-path={target.kubectl}",
        f"--report-dir={report_dir}",
        "--disable-log-dump",  # it gathers node logs over a cloud provider's SSH: none here
    ]


def run_suite(
    suite: Path,
    chosen: Selection,
    target: Target,
    report_dir: Path,
    nodes: int = DEFAULT_NODES,
    dry_run: bool = False,
) -> report.SuiteReport:
    """Run the selection; ginkgo's output goes to stderr and to <report_dir>/e2e.log."""
    report_dir = report_dir.resolve()  # ginkgo runs in it: a relative path would nest
    report_dir.mkdir(parents=True, exist_ok=True)
    junit = report_dir / report.JUNIT_NAME
    junit.unlink(missing_ok=True)  # never read an earlier run's report as this one's
    argv = ginkgo_argv(suite, chosen, target, report_dir, nodes, dry_run)
    log = report_dir / "e2e.log"
    with log.open("w") as sink:
        code = _follow(argv, report_dir, sink, chosen.timeout_s + _TIMEOUT_GRACE_S)
    if not junit.is_file():
        raise TestbedError(f"ginkgo exited {code} and wrote no {junit}; see {log}")
    return report.parse(junit)


def _follow(argv: Sequence[str], cwd: Path, sink: TextIO, deadline_s: float) -> int:
    """Run argv in a process group of its own, its output to sink and stderr; its exit code.

    Its own group, so that a hung run, or a Ctrl-C here, stops ginkgo's parallel e2e.test
    processes too: SIGINT first (ginkgo then writes its report), SIGKILL if they linger.
    """
    process = subprocess.Popen(
        list(argv),
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    watchdog = threading.Timer(deadline_s, _stop, args=(process,))
    watchdog.start()
    try:
        assert process.stdout is not None  # noqa: S101 - stdout=PIPE
        for line in process.stdout:
            sink.write(line)
            sys.stderr.write(line)
        return process.wait()
    except BaseException:
        _stop(process)
        raise
    finally:
        watchdog.cancel()
        if process.stdout is not None:
            process.stdout.close()


def _stop(process: subprocess.Popen[str]) -> None:
    for signal_number in (signal.SIGINT, signal.SIGKILL):
        if process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal_number)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=_STOP_WAIT_S)
