"""Read the suite's JUnit report (`<report-dir>/junit_01.xml`) into counts and reasons.

e2e.test writes it through ginkgo v2's JUnit reporter: one <testcase> per spec of the whole
suite, named `[It] <full spec text>`, with `status` the spec's state. Specs the focus and skip
regexes filtered out are there too, as `skipped` without a reason ("skipped"); a spec that
skipped itself at run time (wrong provider, too few nodes) says why ("skipped - <why>").
Suite nodes ([SynchronizedBeforeSuite], [ReportAfterSuite] ...) count only when they fail.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from testbed.errors import TestbedError

JUNIT_NAME = "junit_01.xml"
_FAILED_STATES = frozenset({"failed", "timedout", "interrupted", "aborted", "panicked"})
_STATE_PREFIX = re.compile(r"^\[[A-Z]+\]\s*")  # "[FAILED] ", "[TIMEDOUT] " ...
_LOCATION = re.compile(r"^In \[\w+\] at: (\S+)")
_REASON_CHARS = 300


@dataclass(frozen=True)
class Outcome:
    """One spec that did not pass, and why."""

    name: str
    reason: str


@dataclass
class SuiteReport:
    """What a run did with the specs it selected."""

    passed: int = 0
    failed: list[Outcome] = field(default_factory=list)
    skipped: list[Outcome] = field(default_factory=list)  # selected, then skipped themselves
    not_selected: int = 0  # filtered out by focus/skip/label filter (or pending)
    specs: int = 0  # every spec of the suite the report lists, selected or not

    @property
    def selected(self) -> int:
        return self.specs - self.not_selected

    def summary(self) -> str:
        return f"{self.passed} passed, {len(self.failed)} failed, {len(self.skipped)} skipped"

    def render(self) -> str:
        """The counts, then each failed and skipped spec with its reason, one per line."""
        lines = [self.summary()]
        for title, outcomes in (("failed", self.failed), ("skipped", self.skipped)):
            if outcomes:
                lines.append(f"{title}:")
                lines += [f"  {outcome.name}\n    {outcome.reason}" for outcome in outcomes]
        return "\n".join(lines)


def _first_lines(text: str) -> str:
    """The failure's message (the lines before ginkgo's "In [It] at:"), on one line."""
    message: list[str] = []
    location = ""
    for line in text.strip().splitlines():
        found = _LOCATION.match(line.strip())
        if found:
            location = found.group(1)
            break
        message.append(line.strip())
    reason = _STATE_PREFIX.sub("", " ".join(part for part in message if part))
    if len(reason) > _REASON_CHARS:
        reason = reason[: _REASON_CHARS - 1] + "…"
    return f"{reason} ({location})" if location else reason or "no reason recorded"


def _failure_reason(case: ET.Element) -> str:
    detail = case.find("failure")
    if detail is None:
        detail = case.find("error")
    if detail is None:
        return "no reason recorded"
    return _first_lines(detail.text or detail.get("message") or "")


def parse(report: Path) -> SuiteReport:
    """Counts and per-spec reasons from a JUnit file ginkgo v2 wrote."""
    try:
        root = ET.parse(report).getroot()  # noqa: S314 - written by the e2e.test built here
    except (OSError, ET.ParseError) as exc:
        raise TestbedError(f"{report}: not a readable JUnit report ({exc})") from exc
    result = SuiteReport()
    for case in root.iter("testcase"):
        raw = case.get("name", "")
        status = case.get("status", "")
        is_spec = raw.startswith("[It] ")
        name = raw.removeprefix("[It] ")
        if is_spec:
            result.specs += 1
        if status in _FAILED_STATES:
            result.failed.append(Outcome(name, _failure_reason(case)))
        elif not is_spec:
            continue  # a suite node that did its job
        elif status == "passed":
            result.passed += 1
        elif status == "skipped":
            skipped = case.find("skipped")
            message = skipped.get("message", "") if skipped is not None else ""
            why = message.removeprefix("skipped").removeprefix(" - ").strip()
            if why:
                result.skipped.append(Outcome(name, why.splitlines()[0]))
            else:
                result.not_selected += 1
        else:  # pending: never selected
            result.not_selected += 1
    return result


def combine(parts: Sequence[SuiteReport]) -> SuiteReport:
    """One report of phases run one after the other, each report listing the whole suite.

    A spec one phase selected is "not selected" in the others' reports: the specs no phase
    selected are the suite's specs less those the phases selected.
    """
    result = SuiteReport()
    for part in parts:
        result.passed += part.passed
        result.failed += part.failed
        result.skipped += part.skipped
        result.specs = max(result.specs, part.specs)
    result.not_selected = result.specs - sum(part.selected for part in parts)
    return result
