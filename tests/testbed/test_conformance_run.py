"""Which specs a conformance run selects, and the ginkgo command line that runs them.

The regexes are RE2 (ginkgo's); the ones built here use only syntax Python's re reads the same
way, so the tests match real spec titles of e2e.test v1.30.3 with re.search, as ginkgo does.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from testbed.conformance.run import (
    CI_FOCUS,
    CI_NAMED_SPECS,
    PARALLEL,
    SERIAL,
    SUBSETS,
    Target,
    ginkgo_argv,
    quote_meta,
    run_suite,
    selection,
)
from testbed.errors import TestbedError

# Real titles (full spec texts) of e2e.test v1.30.3, as its JUnit report names them.
CI_SPECS = (
    "[sig-network] Netpol NetworkPolicy between server and client should allow egress access "
    "to server in CIDR block [Feature:NetworkPolicy]",
    "[sig-network] Services should serve a basic endpoint from pods [Conformance]",
    "[sig-network] DNS should provide DNS for the cluster [Conformance]",
    "[sig-apps] Deployment deployment should support rollover [Conformance]",
    "[sig-apps] StatefulSet Basic StatefulSet functionality [StatefulSetBasic] should perform "
    "rolling updates and roll backs of template modifications [Conformance]",
    "[sig-node] Pods should be submitted and removed [NodeConformance] [Conformance]",
    '[sig-node] Probing container should be restarted with a exec "cat /tmp/health" liveness '
    "probe [NodeConformance] [Conformance]",
)
NOT_CI_SPECS = (
    "[sig-storage] ConfigMap should be consumable from pods in volume [NodeConformance] "
    "[Conformance]",
    "[sig-api-machinery] AdmissionWebhook [Privileged:ClusterAdmin] should mutate pod and apply "
    "defaults after mutation [Conformance]",
    # Not conformance: a Services spec outside the subset's scope.
    "[sig-network] Services should be able to up and down services",
    "[sig-apps] ReplicaSet should serve a basic image on each replica with a public image "
    "[Conformance]",
    # A DNS spec, but for another provider's cluster.
    "[sig-network] DNS should provide DNS for the cluster [Provider:GCE]",
    # Sampled areas: NetworkPolicy specs not named (and the SCTP twin of one), a probe spec
    # that watches for four minutes, and a title that only starts like a named one.
    "[sig-network] Netpol NetworkPolicy between server and client should deny ingress access "
    "to updated pod [Feature:NetworkPolicy]",
    "[sig-network] Netpol NetworkPolicy between server and client should support a "
    "'default-deny-ingress' policy [Feature:NetworkPolicy]",
    "[sig-network] Netpol [Feature:SCTPConnectivity] [LinuxOnly] NetworkPolicy between server "
    "and client using SCTP should support a 'default-deny-ingress' policy "
    "[Feature:NetworkPolicy]",
    '[sig-node] Probing container should *not* be restarted with a exec "cat /tmp/health" '
    "liveness probe [NodeConformance] [Conformance]",
    "[sig-apps] StatefulSet Basic StatefulSet functionality [StatefulSetBasic] should perform "
    "rolling updates and roll backs of template modifications with PVCs [sig-apps]",
)


def _selected(chosen_focus: str, title: str) -> bool:
    return bool(re.search(chosen_focus, title))


@pytest.mark.parametrize("title", CI_SPECS)
def test_the_ci_subset_runs_policy_services_dns_workloads_pods_and_probes(title: str) -> None:
    ci = SUBSETS["ci"]
    assert _selected(ci.focus, title)


@pytest.mark.parametrize("title", CI_NAMED_SPECS)
def test_each_named_spec_of_the_ci_subset_is_selected_with_its_tags(title: str) -> None:
    ci = SUBSETS["ci"]
    assert _selected(ci.focus, f"{title} [Feature:NetworkPolicy]")
    assert _selected(ci.focus, f"{title} [NodeConformance] [Conformance]")


@pytest.mark.parametrize("title", NOT_CI_SPECS)
def test_the_ci_subset_leaves_out_other_areas(title: str) -> None:
    ci = SUBSETS["ci"]
    assert not _selected(ci.focus, title)


def _keeps(label_filter: str, labels: set[str]) -> bool:
    """ginkgo's --label-filter for the forms the phases use: `A || B`, `A && !B`, `!A`."""
    return any(
        all(
            (term[1:] not in labels) if term.startswith("!") else term in labels
            for term in (part.strip() for part in alternative.split("&&"))
        )
        for alternative in label_filter.split("||")
    )


# The label sets e2e.test v1.30.3 gives conformance specs (its dry run prints them).
PLAIN = {"sig-network", "Conformance"}
SLOW = {"sig-apps", "Slow", "Conformance"}
SERIAL_ONLY = {"sig-scheduling", "Serial", "Conformance"}
SERIAL_DISRUPTIVE = {"sig-node", "Serial", "Disruptive", "Conformance"}


@pytest.mark.parametrize("labels", [PLAIN, SLOW, SERIAL_ONLY, SERIAL_DISRUPTIVE])
def test_the_full_run_runs_every_conformance_spec_in_exactly_one_phase(labels: set[str]) -> None:
    full = SUBSETS["conformance"]
    phases = [phase for phase in full.phases if _keeps(phase.label_filter, labels)]
    assert len(phases) == 1
    # [Serial] specs assume nothing else runs: they get a phase of one process.
    assert phases[0].parallel is not ("Serial" in labels)


def test_the_serial_phase_comes_after_the_parallel_one() -> None:
    assert [phase.name for phase in SUBSETS["conformance"].phases] == ["parallel", "serial"]


@pytest.mark.parametrize("labels", [SLOW, SERIAL_ONLY, SERIAL_DISRUPTIVE])
def test_the_ci_subset_leaves_slow_serial_and_disruptive_specs_to_the_full_run(
    labels: set[str],
) -> None:
    assert not any(_keeps(phase.label_filter, labels) for phase in SUBSETS["ci"].phases)
    assert _keeps(SUBSETS["ci"].phases[0].label_filter, PLAIN)


def test_the_label_filter_reader_of_these_tests_reads_negations_and_alternatives() -> None:
    assert _keeps("!Serial", PLAIN) and not _keeps("!Serial", SERIAL_ONLY)
    assert _keeps("Slow || Serial", SLOW) and not _keeps("Slow || Serial", PLAIN)
    assert not _keeps("!Serial && !Slow", SLOW)


def test_a_full_run_needs_the_two_schedulable_nodes_the_suite_counts() -> None:
    assert SUBSETS["conformance"].schedulable_nodes == 2
    # The ci subset runs on testbed/cluster.yaml's one worker; a focus of one's own may too.
    assert SUBSETS["ci"].schedulable_nodes == 1
    assert selection("conformance", focus="DNS").schedulable_nodes == 1
    assert selection("conformance", phases=["serial"]).schedulable_nodes == 2


def test_quote_meta_escapes_what_re2_would_read_as_syntax() -> None:
    text = r"a.b+c*d?e(f)g|h[i]j{k}l^m$n\o"
    assert re.fullmatch(quote_meta(text), text)
    assert quote_meta("[sig-node] Pods") == r"\[sig-node\] Pods"


def test_a_focus_of_ones_own_keeps_the_subsets_skips_and_timeout() -> None:
    chosen = selection("ci", focus="Netpol")
    assert (chosen.focus, chosen.timeout_s, chosen.phases) == (
        "Netpol",
        SUBSETS["ci"].timeout_s,
        SUBSETS["ci"].phases,
    )
    assert selection() == SUBSETS["conformance"]


def test_a_run_in_parts_keeps_only_the_named_phases_and_its_own_timeout() -> None:
    serial = selection("conformance", phases=["serial"], timeout_s=1800)
    assert [phase.name for phase in serial.phases] == ["serial"]
    assert (serial.focus, serial.timeout_s) == (
        SUBSETS["conformance"].focus,
        1800,
    )
    with pytest.raises(TestbedError, match="--phase 'serial': subset 'ci' has the phases parallel"):
        selection("ci", phases=["serial"])
    with pytest.raises(TestbedError, match="--timeout 5 s: give at least 60 s"):
        selection(timeout_s=5)


def test_an_unknown_subset_is_refused_with_the_known_ones() -> None:
    with pytest.raises(TestbedError, match="no subset 'smoke'; use one of conformance, ci"):
        selection("smoke")


def test_the_ci_subset_fits_a_90_minute_job() -> None:
    assert SUBSETS["ci"].timeout_s < 90 * 60


def test_ginkgo_gets_its_flags_and_e2e_test_its_own_after_the_separator(tmp_path: Path) -> None:
    suite = tmp_path / "suite"
    target = Target(kubeconfig=Path("/state/kubeconfig"), kubectl=Path("/bin/kubectl"))
    ci = SUBSETS["ci"]
    argv = ginkgo_argv(suite, ci, ci.phases[0], target, tmp_path / "report", nodes=3)
    binary = argv.index(str(suite / "e2e.test"))
    assert argv[0] == str(suite / "ginkgo")
    assert argv[binary + 1] == "--"
    ginkgo_flags, e2e_flags = argv[1:binary], argv[binary + 2 :]
    assert "--nodes=3" in ginkgo_flags
    assert f"--focus={CI_FOCUS}" in ginkgo_flags
    assert not any(flag.startswith("--skip") for flag in ginkgo_flags)  # none by name
    assert f"--label-filter={ci.phases[0].label_filter}" in ginkgo_flags
    assert f"--timeout={SUBSETS['ci'].timeout_s}s" in ginkgo_flags
    assert "--dry-run" not in ginkgo_flags
    assert {
        "--kubeconfig=/state/kubeconfig",
        "--provider=skeleton",
        "--kubectl-path=/bin/kubectl",
        f"--report-dir={tmp_path / 'report'}",
    } <= set(e2e_flags)


def test_a_dry_run_is_a_serial_ginkgo_run(tmp_path: Path) -> None:
    target = Target(kubeconfig=Path("/dev/null"), kubectl=Path("kubectl"))
    full = SUBSETS["conformance"]
    argv = ginkgo_argv(tmp_path, full, PARALLEL, target, tmp_path, nodes=4, dry_run=True)
    binary = argv.index(str(tmp_path / "e2e.test"))
    assert argv.index("--dry-run") < binary
    # ginkgo refuses to dry-run in parallel.
    assert "--nodes=1" in argv[:binary]


def test_the_serial_phase_runs_one_process_and_its_share_of_the_time(tmp_path: Path) -> None:
    target = Target(kubeconfig=Path("/dev/null"), kubectl=Path("kubectl"))
    full = SUBSETS["conformance"]
    argv = ginkgo_argv(tmp_path, full, SERIAL, target, tmp_path, nodes=4, timeout_s=120)
    binary = argv.index(str(tmp_path / "e2e.test"))
    assert {"--nodes=1", "--label-filter=Serial", "--timeout=120s"} <= set(argv[:binary])


# A stand-in for ginkgo (the real one is built by `make conformance-build`, not by `make test`):
# it prints a dot without a newline, as a parallel ginkgo does per finished spec, records its
# flags, and writes a JUnit report of one spec named after its phase's label filter.
STAND_IN_GINKGO = r"""#!/bin/sh
report=""
for arg in "$@"; do
  case "$arg" in
    --report-dir=*) report="${arg#--report-dir=}" ;;
    --label-filter=*) labels="${arg#--label-filter=}" ;;
  esac
done
echo "$@" > "$report/argv"
printf '•'
cat > "$report/junit_01.xml" <<XML
<testsuites><testsuite name="Kubernetes e2e suite">
<testcase name="[It] a spec run under $labels" status="$STATUS"></testcase>
<testcase name="[It] a spec no phase selected" status="skipped">
<skipped message="skipped"/></testcase>
</testsuite></testsuites>
XML
"""


def _stand_in(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, status: str) -> Path:
    suite = tmp_path / "suite"
    suite.mkdir()
    ginkgo = suite / "ginkgo"
    ginkgo.write_text(STAND_IN_GINKGO)
    ginkgo.chmod(0o755)
    monkeypatch.setenv("STATUS", status)
    return suite


def test_a_run_goes_through_every_phase_and_reports_them_together(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    suite = _stand_in(tmp_path, monkeypatch, "passed")
    target = Target(kubeconfig=Path("/state/kubeconfig"), kubectl=Path("/bin/kubectl"))
    said: list[str] = []
    result = run_suite(suite, SUBSETS["conformance"], target, tmp_path / "r", 2, say=said.append)
    assert result.summary() == "2 passed, 0 failed, 0 skipped"
    assert (result.specs, result.not_selected) == (2, 0)
    parallel, serial = tmp_path / "r" / "parallel", tmp_path / "r" / "serial"
    assert "--nodes=2" in (parallel / "argv").read_text().split()
    assert "--nodes=1" in (serial / "argv").read_text().split()
    # The dot without a newline reached the phase's log.
    assert (parallel / "e2e.log").read_text() == "•"
    assert said[-1] == "phase serial: 1 passed, 0 failed, 0 skipped"


def test_a_failing_phase_does_not_stop_the_next_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    suite = _stand_in(tmp_path, monkeypatch, "failed")
    target = Target(kubeconfig=Path("/state/kubeconfig"), kubectl=Path("/bin/kubectl"))
    result = run_suite(suite, SUBSETS["conformance"], target, tmp_path / "r")
    assert [outcome.name for outcome in result.failed] == [
        "a spec run under !Serial",
        "a spec run under Serial",
    ]


def test_a_phase_without_a_report_is_an_error_naming_its_log(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    suite = _stand_in(tmp_path, monkeypatch, "passed")
    (suite / "ginkgo").write_text("#!/bin/sh\necho 'ginkgo: e2e.test not found'\nexit 1\n")
    target = Target(kubeconfig=Path("/state/kubeconfig"), kubectl=Path("/bin/kubectl"))
    with pytest.raises(TestbedError, match=r"ginkgo exited 1 and wrote no .*parallel/junit_01"):
        run_suite(suite, SUBSETS["ci"], target, tmp_path / "r")


Node = dict[str, Any]


def _node(name: str, *, ready: bool = True, cordoned: bool = False, taints: str = "") -> Node:
    return {
        "metadata": {"name": name},
        "spec": {
            "unschedulable": cordoned,
            "taints": [{"key": "k", "effect": effect} for effect in taints.split()],
        },
        "status": {"conditions": [{"type": "Ready", "status": "True" if ready else "False"}]},
    }


def test_schedulable_nodes_are_ready_uncordoned_and_free_of_blocking_taints() -> None:
    from testbed.conformance.on_cluster import schedulable_nodes

    listed = [
        _node("cp-1", taints="NoSchedule"),
        _node("cp-2", taints="PreferNoSchedule"),  # a preference, not a refusal
        _node("worker-2"),
        _node("worker-1"),
        _node("worker-3", cordoned=True),
        _node("worker-4", ready=False),
        _node("worker-5", taints="NoExecute"),
    ]
    assert schedulable_nodes(listed) == ["cp-2", "worker-1", "worker-2"]
    assert schedulable_nodes([]) == []
