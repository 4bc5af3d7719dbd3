"""Which specs a conformance run selects, and the ginkgo command line that runs them.

The regexes are RE2 (ginkgo's); the ones built here use only syntax Python's re reads the same
way, so the tests match real spec titles of e2e.test v1.30.3 with re.search, as ginkgo does.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from testbed.conformance.run import (
    CI_FOCUS,
    SUBSETS,
    TESTBED_SKIPS,
    Target,
    ginkgo_argv,
    quote_meta,
    selection,
    skip_regex,
)
from testbed.errors import TestbedError

# Real titles (full spec texts) of e2e.test v1.30.3, as its JUnit report names them.
CI_SPECS = (
    "[sig-network] Netpol NetworkPolicy between server and client should support a "
    "'default-deny-ingress' policy [Feature:NetworkPolicy]",
    "[sig-network] Netpol [LinuxOnly] NetworkPolicy between server and client using UDP should "
    "enforce policy based on Ports [Feature:NetworkPolicy]",
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
)


def _selected(chosen_focus: str, chosen_skip: str, title: str) -> bool:
    return bool(re.search(chosen_focus, title)) and not re.search(chosen_skip, title)


@pytest.mark.parametrize("title", CI_SPECS)
def test_the_ci_subset_runs_policy_services_dns_workloads_pods_and_probes(title: str) -> None:
    ci = SUBSETS["ci"]
    assert _selected(ci.focus, ci.skip, title)


@pytest.mark.parametrize("title", NOT_CI_SPECS)
def test_the_ci_subset_leaves_out_other_areas(title: str) -> None:
    ci = SUBSETS["ci"]
    assert not _selected(ci.focus, ci.skip, title)


def test_the_ci_subset_leaves_sctp_policies_to_the_full_run_of_their_feature() -> None:
    sctp = (
        "[sig-network] Netpol [Feature:SCTPConnectivity] [LinuxOnly] NetworkPolicy between server "
        "and client using SCTP should support a 'default-deny-ingress' policy "
        "[Feature:NetworkPolicy]"
    )
    assert re.search(CI_FOCUS, sctp)
    assert not _selected(SUBSETS["ci"].focus, SUBSETS["ci"].skip, sctp)
    assert not re.search(SUBSETS["conformance"].skip, sctp)


@pytest.mark.parametrize("subset", sorted(SUBSETS))
def test_every_subset_skips_serial_slow_and_disruptive_specs(subset: str) -> None:
    chosen = SUBSETS[subset]
    for tag in ("[Serial]", "[Slow]", "[Disruptive]"):
        title = f"[sig-network] Services {tag} should work after restarting [Conformance]"
        assert not _selected(chosen.focus, chosen.skip, title)
    plain = "[sig-network] Services should provide secure master service [Conformance]"
    assert _selected(chosen.focus, chosen.skip, plain)


def test_the_testbed_skips_match_their_spec_and_only_it() -> None:
    for title in TESTBED_SKIPS:
        # The brackets are literal, not character classes: the title itself matches ...
        assert re.search(skip_regex(), f"{title} [Conformance]")
        # ... and a title that only shares the words does not.
        assert not re.search(quote_meta(title), title.replace("[", "(").replace("]", ")"))


def test_quote_meta_escapes_what_re2_would_read_as_syntax() -> None:
    text = r"a.b+c*d?e(f)g|h[i]j{k}l^m$n\o"
    assert re.fullmatch(quote_meta(text), text)
    assert quote_meta("[sig-node] Pods") == r"\[sig-node\] Pods"


def test_a_focus_of_ones_own_keeps_the_subsets_skips_and_timeout() -> None:
    chosen = selection("ci", focus="Netpol")
    assert (chosen.focus, chosen.skip, chosen.timeout_s) == (
        "Netpol",
        SUBSETS["ci"].skip,
        SUBSETS["ci"].timeout_s,
    )
    assert selection() == SUBSETS["conformance"]


def test_an_unknown_subset_is_refused_with_the_known_ones() -> None:
    with pytest.raises(TestbedError, match="no subset 'smoke'; use one of conformance, ci"):
        selection("smoke")


def test_the_ci_subset_fits_a_90_minute_job() -> None:
    assert SUBSETS["ci"].timeout_s < 90 * 60


def test_ginkgo_gets_its_flags_and_e2e_test_its_own_after_the_separator(tmp_path: Path) -> None:
    suite = tmp_path / "suite"
    target = Target(kubeconfig=Path("/state/kubeconfig"), kubectl=Path("/bin/kubectl"))
    argv = ginkgo_argv(suite, SUBSETS["ci"], target, tmp_path / "report", nodes=3)
    binary = argv.index(str(suite / "e2e.test"))
    assert argv[0] == str(suite / "ginkgo")
    assert argv[binary + 1] == "--"
    ginkgo_flags, e2e_flags = argv[1:binary], argv[binary + 2 :]
    assert "--nodes=3" in ginkgo_flags
    assert f"--focus={CI_FOCUS}" in ginkgo_flags
    assert f"--skip={SUBSETS['ci'].skip}" in ginkgo_flags
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
    argv = ginkgo_argv(tmp_path, SUBSETS["conformance"], target, tmp_path, nodes=4, dry_run=True)
    binary = argv.index(str(tmp_path / "e2e.test"))
    assert argv.index("--dry-run") < binary
    # ginkgo refuses to dry-run in parallel.
    assert "--nodes=1" in argv[:binary]
