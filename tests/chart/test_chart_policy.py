"""Policy scans of the rendered chart: checkov and kube-score, zero failures.

Skips are written where they apply, each with its reason: `checkov.io/skipN` and
`kube-score/ignore` annotations in the templates, and the one kube-score flag
below. kube-score stands in for kube-linter, which the Go module proxy does not
serve here.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from tests.chart.conftest import ChartKit

# No CPU limit on purpose (values.yaml `resources`): CFS throttling adds latency on idle nodes.
KUBE_SCORE_FLAGS = ["--ignore-container-cpu-limit"]

# A scenario that turns a safeguard off on purpose fails exactly the check for it.
EXPECTED_FAILURES: dict[str, dict[str, set[str]]] = {
    "networkpolicy-off": {"checkov": {"CKV2_K8S_6"}, "kube-score": {"pod-networkpolicy"}},
}


def scenario_name(path: Path) -> str:
    return path.name.removesuffix("-values.yaml")


def checkov_failures(kit: ChartKit, manifest: Path) -> tuple[set[str], dict[str, Any]]:
    env = {
        **os.environ,
        # Keep checkov offline: no guideline download, no telemetry.
        "BC_SKIP_MAPPING": "TRUE",
        "CHECKOV_RUN_SCA_PACKAGE_SCAN_V2": "false",
    }
    result = subprocess.run(
        [
            kit.tool("checkov"),
            "--quiet",
            "--skip-download",
            "--framework",
            "kubernetes",
            "--output",
            "json",
            "--file",
            str(manifest),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env=env,
    )
    assert result.stdout, f"checkov printed nothing:\n{result.stderr}"
    report: Any = json.loads(result.stdout)
    # One report per framework; a clean run with nothing failed may be a summary only.
    reports = report if isinstance(report, list) else [report]
    failed: set[str] = set()
    summary: dict[str, Any] = {}
    for item in reports:
        summary = item.get("summary", summary)
        for check in item.get("results", {}).get("failed_checks", []):
            failed.add(check["check_id"])
    return failed, summary


def kube_score_failures(kit: ChartKit, manifest: Path) -> set[str]:
    result = subprocess.run(
        [
            kit.tool("kube-score"),
            "score",
            "--kubernetes-version",
            "v1.30",
            "--output-format",
            "json",
            *KUBE_SCORE_FLAGS,
            str(manifest),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.stdout, f"kube-score printed nothing:\n{result.stderr}"
    failed: set[str] = set()
    for obj in json.loads(result.stdout):
        for check in obj["checks"]:
            # grade 1 = critical, 5 = warning; 7 = almost ok, 10 = ok (kube-score's scale).
            if not check["skipped"] and check["grade"] < 7:
                failed.add(check["check"]["id"])
    return failed


@pytest.fixture
def rendered(kit: ChartKit, scenario: Path, tmp_path: Path) -> Path:
    manifest = tmp_path / f"{scenario_name(scenario)}.yaml"
    manifest.write_text(kit.render_text([scenario]), encoding="utf-8")
    return manifest


def test_checkov(kit: ChartKit, scenario: Path, rendered: Path) -> None:
    failed, summary = checkov_failures(kit, rendered)
    expected = EXPECTED_FAILURES.get(scenario_name(scenario), {}).get("checkov", set())
    assert failed == expected
    assert summary.get("passed", 0) > 100, f"checkov ran too few checks: {summary}"


def test_kube_score(kit: ChartKit, scenario: Path, rendered: Path) -> None:
    failed = kube_score_failures(kit, rendered)
    expected = EXPECTED_FAILURES.get(scenario_name(scenario), {}).get("kube-score", set())
    assert failed == expected


def test_the_scanners_find_what_the_chart_prevents(kit: ChartKit, tmp_path: Path) -> None:
    """The scans are live: the same defaults with the safeguards off (which the chart
    renders only when told to) fail them."""
    manifest = tmp_path / "weak.yaml"
    manifest.write_text(
        kit.render_text(
            sets={
                "podSecurityOptOut": "true",
                "securityContext.readOnlyRootFilesystem": "false",
                "securityContext.allowPrivilegeEscalation": "true",
            }
        ),
        encoding="utf-8",
    )
    failed, _ = checkov_failures(kit, manifest)
    assert {"CKV_K8S_20", "CKV_K8S_22"} <= failed
    assert "container-security-context-readonlyrootfilesystem" in kube_score_failures(kit, manifest)


def test_every_skip_has_a_reason(kit: ChartKit) -> None:
    skips = 0
    for template in (kit.chart / "templates").rglob("*.yaml"):
        for line in template.read_text(encoding="utf-8").splitlines():
            match = re.search(r"checkov\.io/skip\d+: (\S+?)=(.*)$", line)
            if match:
                skips += 1
                assert re.fullmatch(r"CKV2?_K8S_\d+", match.group(1)), line
                assert len(match.group(2).strip()) > 15, f"{template.name}: no reason in {line}"
    assert skips > 0
