"""The conformance run's JUnit report, as ginkgo v2.15 writes it for e2e.test, read into counts."""

from __future__ import annotations

from pathlib import Path

import pytest

from testbed.conformance.report import Outcome, SuiteReport, combine, parse
from testbed.errors import TestbedError

# The shape of e2e.test's junit_01.xml: failure descriptions without a message attribute,
# timelines only for failures, every spec of the suite listed, newlines in attributes escaped
# (Go's encoding/xml writes &#xA;).
JUNIT = """\
<?xml version="1.0" encoding="UTF-8"?>
  <testsuites tests="9" disabled="3" errors="1" failures="2" time="812.5">
      <testsuite name="Kubernetes e2e suite" package="/opt" tests="9" disabled="0" skipped="3"
                 errors="1" failures="2" time="812.5" timestamp="2026-11-30T10:00:00">
          <properties>
              <property name="SuiteSucceeded" value="false"></property>
          </properties>
          <testcase name="[SynchronizedBeforeSuite]" classname="Kubernetes e2e suite"
                    status="passed" time="12.1"></testcase>
          <testcase name="[It] [sig-apps] Deployment should support rollover [Conformance]"
                    classname="Kubernetes e2e suite" status="passed" time="31.2"></testcase>
          <testcase name="[It] [sig-network] DNS should provide DNS for services  [Conformance]"
                    classname="Kubernetes e2e suite" status="failed" time="610.0">
              <failure message="" type="failed">[FAILED] Unexpected error:
    &lt;*errors.errorString&gt;: timed out waiting for the condition
In [It] at: k8s.io/kubernetes/test/e2e/network/dns_common.go:459 @ 11/30/26 10:10:00.1
</failure>
              <system-err>the timeline</system-err>
          </testcase>
          <testcase name="[It] [sig-node] Probing container should be restarted [Conformance]"
                    classname="Kubernetes e2e suite" status="timedout" time="300.0">
              <failure message="" type="timedout">[TIMEDOUT] A suite timeout occurred
In [It] at: k8s.io/kubernetes/test/e2e/common/node/container_probe.go:80 @ 11/30/26 10:15:00
</failure>
          </testcase>
          <testcase name="[It] [sig-cli] Kubectl client should work [Conformance]"
                    classname="Kubernetes e2e suite" status="panicked" time="1.0">
              <error message="" type="panicked">[PANICKED] Test Panicked
In [It] at: runtime/panic.go:261 @ 11/30/26 10:16:00
</error>
          </testcase>
          <testcase name="[It] [sig-storage] Flexvolumes should be mountable [Slow]"
                    classname="Kubernetes e2e suite" status="skipped" time="0">
              <skipped message="skipped"></skipped>
          </testcase>
          <testcase name="[It] [sig-network] Services should work with a LoadBalancer [Conformance]"
                    classname="Kubernetes e2e suite" status="skipped" time="0.3">
              <skipped message="skipped - Only supported for providers [gce gke] \
(not skeleton)&#xA;a second line"></skipped>
          </testcase>
          <testcase name="[It] [sig-node] a pending spec" classname="Kubernetes e2e suite"
                    status="pending" time="0">
              <skipped message="pending"></skipped>
          </testcase>
          <testcase name="[SynchronizedAfterSuite]" classname="Kubernetes e2e suite"
                    status="failed" time="2.0">
              <failure message="" type="failed">[FAILED] namespaces left behind
In [SynchronizedAfterSuite] at: k8s.io/kubernetes/test/e2e/e2e.go:90 @ 11/30/26 10:20:00
</failure>
          </testcase>
      </testsuite>
  </testsuites>
"""


@pytest.fixture
def report(tmp_path: Path) -> Path:
    path = tmp_path / "junit_01.xml"
    path.write_text(JUNIT)
    return path


def test_counts_only_the_specs_the_run_selected(report: Path) -> None:
    result = parse(report)
    assert result.summary() == "1 passed, 4 failed, 1 skipped"
    # The filtered-out and the pending spec are not "skipped": nobody chose them.
    assert result.not_selected == 2
    assert (result.specs, result.selected) == (7, 5)


def test_each_failure_keeps_its_message_and_where_it_failed(report: Path) -> None:
    failed = {outcome.name: outcome.reason for outcome in parse(report).failed}
    dns = failed["[sig-network] DNS should provide DNS for services  [Conformance]"]
    assert dns == (
        "Unexpected error: <*errors.errorString>: timed out waiting for the condition "
        "(k8s.io/kubernetes/test/e2e/network/dns_common.go:459)"
    )
    probe = failed["[sig-node] Probing container should be restarted [Conformance]"]
    assert probe.startswith("A suite timeout occurred (")
    # A panic is an <error>, not a <failure>: still a failed spec.
    assert failed["[sig-cli] Kubectl client should work [Conformance]"].startswith("Test Panicked")
    # A suite node that failed is reported under its node name, though it is no spec.
    assert failed["[SynchronizedAfterSuite]"].startswith("namespaces left behind")


def test_a_spec_that_skipped_itself_says_why_in_one_line(report: Path) -> None:
    assert parse(report).skipped == [
        Outcome(
            "[sig-network] Services should work with a LoadBalancer [Conformance]",
            "Only supported for providers [gce gke] (not skeleton)",
        )
    ]


def test_the_rendered_report_lists_every_failure_and_skip_under_the_counts(report: Path) -> None:
    lines = parse(report).render().splitlines()
    assert lines[0] == "1 passed, 4 failed, 1 skipped"
    assert lines[1] == "failed:"
    assert "  [sig-network] DNS should provide DNS for services  [Conformance]" in lines
    skipped_at = lines.index("skipped:")
    assert lines[skipped_at + 1].startswith("  [sig-network] Services should work")
    assert lines[skipped_at + 2] == "    Only supported for providers [gce gke] (not skeleton)"


def test_a_long_failure_message_is_cut_to_fit_a_line(tmp_path: Path) -> None:
    path = tmp_path / "junit_01.xml"
    path.write_text(
        '<testsuites><testsuite><testcase name="[It] x" status="failed">'
        f'<failure type="failed">[FAILED] {"y" * 1000}</failure>'
        "</testcase></testsuite></testsuites>"
    )
    (outcome,) = parse(path).failed
    assert len(outcome.reason) == 300
    assert outcome.reason.endswith("…")


def test_a_report_that_is_not_junit_is_refused_with_its_path(tmp_path: Path) -> None:
    path = tmp_path / "junit_01.xml"
    path.write_text("ginkgo crashed before writing")
    with pytest.raises(TestbedError, match=r"junit_01\.xml: not a readable JUnit report"):
        parse(path)
    with pytest.raises(TestbedError, match=r"missing\.xml"):
        parse(tmp_path / "missing.xml")


def test_phases_combine_into_one_report_of_what_any_phase_selected(report: Path) -> None:
    parallel = parse(report)  # selected 5 of the suite's 7 specs
    # The serial phase's report lists the same 7 specs; it selected 1 the parallel one did not.
    serial = SuiteReport(passed=1, specs=7, not_selected=6)
    both = combine([parallel, serial])
    assert both.summary() == "2 passed, 4 failed, 1 skipped"
    assert [outcome.name for outcome in both.failed] == [o.name for o in parallel.failed]
    assert (both.specs, both.selected, both.not_selected) == (7, 6, 1)
