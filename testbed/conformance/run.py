"""Run e2e.test through the ginkgo CLI against the testbed cluster, and read its report.

The invocation is upstream's (hack/ginkgo-e2e.sh, the conformance image's runner): ginkgo with
`--nodes`, `--focus`, `--label-filter` and `--timeout` in front of the precompiled
e2e.test, whose own flags follow `--`: `--kubeconfig`, `--provider=skeleton` (no cloud),
`--kubectl-path` (the kubectl the bundle built, the hosts' own), `--report-dir` (JUnit:
report.py).

Selection: the focus is `[Conformance]` unless told; nothing is skipped by name. A run is one or
two phases: the specs that share the
cluster run in parallel, then the [Serial] ones one at a time, as sonobuoy's
certified-conformance mode runs them. The `ci` subset (CI_FOCUS) is the part a CI job can run
on this machine: its parallel phase only, without the [Slow] specs.
"""

from __future__ import annotations

import codecs
import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from testbed.conformance import report
from testbed.errors import TestbedError

CONFORMANCE_FOCUS = r"\[Conformance\]"
# The suite needs two schedulable nodes: "Conformance Tests should have at least two untainted
# nodes" counts them, and the DaemonSet rollback spec fails on one. The control planes keep
# kubeadm's NoSchedule taint, so a full run wants two workers (testbed/cluster-conformance.yaml).
CONFORMANCE_NODES = 2
# The ci subset: what a CI job can afford (about eight minutes here) of the areas the workload
# leans on. Whole areas where each spec takes seconds: the conformance specs of Services, DNS,
# Deployments and Pods (44). Where specs take minutes, named ones (CI_NAMED_SPECS), measured
# on this machine: 1 of the 45 NetworkPolicy specs (kube-router's enforcement, not a
# [Conformance] area, so not in the full run either: `--focus Netpol` runs them all; 95 to
# 137 s each here), 4 of the 6 StatefulSet specs and 3 of the 10 probe specs.
CI_AREAS = (
    r"\[sig-network\] (Services|DNS) .*\[Conformance\]",
    r"\[sig-apps\] Deployment .*\[Conformance\]",
    r"\[sig-node\] Pods .*\[Conformance\]",
)
_NETPOL = "[sig-network] Netpol NetworkPolicy between server and client should "
_STATEFULSET = "[sig-apps] StatefulSet Basic StatefulSet functionality [StatefulSetBasic] "
CI_NAMED_SPECS = (
    # Egress to a CIDR block. Ingress denied by default and admitted by namespace are
    # e2e/tests/test_network_policy.py's; the day-2 drills took the time of the other three
    # sampled here before (default deny, pod and namespace selectors, ports).
    f"{_NETPOL}allow egress access to server in CIDR block",
    # Rolling updates and the StatefulSet API (the canary and evicted-pod specs take minutes).
    f"{_STATEFULSET}should perform rolling updates and roll backs of template modifications",
    f"{_STATEFULSET}should list, patch and delete a collection of StatefulSets",
    f"{_STATEFULSET}should have a working scale subresource",
    f"{_STATEFULSET}should validate Statefulset Status endpoints",
    # Liveness restarts over exec and HTTP, and readiness; the "should *not* be restarted"
    # specs watch for four minutes each.
    '[sig-node] Probing container should be restarted with a exec "cat /tmp/health" liveness probe',
    "[sig-node] Probing container should be restarted with a /healthz http liveness probe",
    "[sig-node] Probing container with readiness probe should not be ready before initial "
    "delay and never restart",
)
# One e2e process per core: the four hosts share the two cores with the runner, and more
# processes start more pods at once, turning the specs' pod-start timeouts into failures
# that say nothing about conformance.
DEFAULT_NODES = 2
_TIMEOUT_GRACE_S = 600  # ginkgo reports and exits at its timeout; this is for a hung one
_MIN_PHASE_TIMEOUT_S = 60
_STOP_WAIT_S = 60
_READ_SIZE = 65536


@dataclass(frozen=True)
class Phase:
    """One ginkgo run of a selection: the specs its label filter keeps, in parallel or not.

    e2e.test v1.30 labels each spec with its bracketed tags (Serial, Slow, Disruptive,
    Conformance ...), so ginkgo's `--label-filter` splits a selection by them.
    """

    name: str
    label_filter: str
    parallel: bool


# [Serial] specs (scheduler predicates and preemption, DaemonSets, taint evictions) assume nothing
# else runs: they go after the others, one at a time. Two of them are also [Disruptive]: they
# taint the worker with NoExecute and take the taint off again.
PARALLEL = Phase("parallel", "!Serial", parallel=True)
SERIAL = Phase("serial", "Serial", parallel=False)
# The ci subset leaves its two [Slow] specs (StatefulSet scaling with unhealthy pods, minutes
# each) to the full run; its focus holds no [Serial] spec.
CI_PHASE = Phase("parallel", "!Serial && !Slow && !Disruptive", parallel=True)


@dataclass(frozen=True)
class Selection:
    """Which specs a run selects, its phases, and how long the whole run may take."""

    name: str
    focus: str
    timeout_s: int
    phases: tuple[Phase, ...] = (PARALLEL, SERIAL)
    schedulable_nodes: int = 1  # the fewest untainted nodes the selection can pass on


def quote_meta(text: str) -> str:
    """Go's regexp.QuoteMeta: the text as a literal in an RE2 (ginkgo's) regex."""
    return "".join(f"\\{char}" if char in r"\.+*?()|[]{}^$" else char for char in text)


# A named spec's title ends where its tags start: "... of template modifications" must not
# select "... of template modifications with PVCs" (which needs a StorageClass) too.
CI_FOCUS = "|".join([*CI_AREAS, *(quote_meta(title) + r" \[" for title in CI_NAMED_SPECS)])

SUBSETS = {
    # 402 specs: hours on this machine.
    "conformance": Selection(
        "conformance", CONFORMANCE_FOCUS, 5 * 3600, schedulable_nodes=CONFORMANCE_NODES
    ),
    # About eight minutes here, on testbed/cluster.yaml's one worker; a hung run gives up long
    # before it could eat a CI job's time.
    "ci": Selection("ci", CI_FOCUS, 30 * 60, (CI_PHASE,)),
}


def selection(
    subset: str = "conformance",
    focus: str | None = None,
    phases: Sequence[str] = (),
    timeout_s: int | None = None,
) -> Selection:
    """A named subset, or another focus, only the named phases, another timeout.

    A full run takes hours here: `phases` and `timeout_s` let it be run in parts, each with its
    own report (the serial phase alone, then the parallel one).
    """
    if subset not in SUBSETS:
        raise TestbedError(f"no subset {subset!r}; use one of {', '.join(SUBSETS)}")
    chosen = SUBSETS[subset]
    names = [phase.name for phase in chosen.phases]
    unknown = [name for name in phases if name not in names]
    if unknown:
        raise TestbedError(
            f"--phase {unknown[0]!r}: subset {subset!r} has the phases {', '.join(names)}"
        )
    if timeout_s is not None and timeout_s < _MIN_PHASE_TIMEOUT_S:
        raise TestbedError(f"--timeout {timeout_s} s: give at least {_MIN_PHASE_TIMEOUT_S} s")
    return Selection(
        chosen.name if focus is None else f"{subset} with --focus",
        chosen.focus if focus is None else focus,
        chosen.timeout_s if timeout_s is None else timeout_s,
        tuple(phase for phase in chosen.phases if not phases or phase.name in phases),
        # A focus of one's own may pick specs that pass on one node; those that cannot say so.
        chosen.schedulable_nodes if focus is None else 1,
    )


@dataclass(frozen=True)
class Target:
    """The cluster a run talks to, as the machine reaches it."""

    kubeconfig: Path
    kubectl: Path


def ginkgo_argv(
    suite: Path,
    chosen: Selection,
    phase: Phase,
    target: Target,
    report_dir: Path,
    nodes: int = DEFAULT_NODES,
    dry_run: bool = False,
    timeout_s: int | None = None,
) -> list[str]:
    """One phase's ginkgo command line: its flags, the precompiled e2e.test, `--`, e2e.test's."""
    processes = nodes if phase.parallel and not dry_run else 1  # ginkgo refuses a parallel dry run
    argv = [
        str(suite / "ginkgo"),
        f"--nodes={processes}",
        f"--focus={chosen.focus}",
        f"--label-filter={phase.label_filter}",
        f"--timeout={timeout_s or chosen.timeout_s}s",
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
    say: Callable[[str], None] = lambda _: None,
) -> report.SuiteReport:
    """Run each phase of the selection, whatever the earlier ones found; one report of all.

    A phase's JUnit report and log (ginkgo's output, also sent to stderr) are in
    <report_dir>/<phase>/; the phases share the selection's timeout.
    """
    report_dir = report_dir.resolve()  # ginkgo runs in it: a relative path would nest
    deadline = time.monotonic() + chosen.timeout_s
    parts = []
    for phase in chosen.phases:
        phase_dir = report_dir / phase.name
        phase_dir.mkdir(parents=True, exist_ok=True)
        junit = phase_dir / report.JUNIT_NAME
        junit.unlink(missing_ok=True)  # never read an earlier run's report as this one's
        timeout_s = max(_MIN_PHASE_TIMEOUT_S, int(deadline - time.monotonic()))
        argv = ginkgo_argv(suite, chosen, phase, target, phase_dir, nodes, dry_run, timeout_s)
        say(f"phase {phase.name}: label filter {phase.label_filter!r}, report {phase_dir}")
        log = phase_dir / "e2e.log"
        with log.open("w") as sink:
            code = _follow(argv, phase_dir, sink, timeout_s + _TIMEOUT_GRACE_S)
        if not junit.is_file():
            raise TestbedError(f"ginkgo exited {code} and wrote no {junit}; see {log}")
        part = report.parse(junit)
        say(f"phase {phase.name}: {part.summary()}")
        parts.append(part)
    return report.combine(parts)


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
        start_new_session=True,
    )
    watchdog = threading.Timer(deadline_s, _stop, args=(process,))
    watchdog.start()
    # As it comes, not by line: a parallel ginkgo prints a dot per finished spec on one line,
    # the only sign of progress for many minutes.
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    try:
        assert process.stdout is not None  # noqa: S101 - stdout=PIPE
        while chunk := os.read(process.stdout.fileno(), _READ_SIZE):
            text = decoder.decode(chunk)
            sink.write(text)
            sink.flush()
            sys.stderr.write(text)
            sys.stderr.flush()
        return process.wait()
    except BaseException:
        _stop(process)
        raise
    finally:
        watchdog.cancel()
        if process.stdout is not None:
            process.stdout.close()


def _stop(process: subprocess.Popen[bytes]) -> None:
    for signal_number in (signal.SIGINT, signal.SIGKILL):
        if process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal_number)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=_STOP_WAIT_S)
