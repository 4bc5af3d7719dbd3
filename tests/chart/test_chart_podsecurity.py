"""Every pod the chart makes is admitted under Pod Security `restricted` (Kubernetes 1.30).

The verdict comes from the upstream Pod Security Admission library, the code the
API server runs, built into `chart-psa-check` (tests/chart/psa) by `make chart-tools`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tests.chart.conftest import ChartKit


def test_every_pod_is_admitted_as_restricted(kit: ChartKit, scenario: Path, tmp_path: Path) -> None:
    manifest = tmp_path / "rendered.yaml"
    manifest.write_text(kit.render_text([scenario]), encoding="utf-8")
    code, verdicts = kit.psa_check(manifest)
    refused = [v for v in verdicts if not v["allowed"]]
    assert code == 0 and not refused, json.dumps(refused, indent=2)
    pod_objects = {name for name, _ in kit.pod_specs(kit.render([scenario]))}
    assert {v["object"] for v in verdicts} == pod_objects, "an object with pods was not checked"


def test_a_weakened_security_context_is_refused_by_pod_security(
    kit: ChartKit, tmp_path: Path
) -> None:
    manifest = tmp_path / "weak.yaml"
    manifest.write_text(
        kit.render_text(
            sets={
                "database.url": "postgresql://u:p@db/x",
                "podSecurityOptOut": "true",
                "podSecurityContext.runAsNonRoot": "false",
                "securityContext.runAsNonRoot": "false",
                "securityContext.runAsUser": "0",
            }
        ),
        encoding="utf-8",
    )
    code, verdicts = kit.psa_check(manifest)
    assert code == 1
    refused = {v["object"] for v in verdicts if not v["allowed"]}
    assert refused == {"Deployment/backend", "Job/backend-migrate", "Pod/backend-test"}
    assert all(
        any("runAsNonRoot" in r or "runAsUser" in r for r in v["reasons"])
        for v in verdicts
        if not v["allowed"]
    )
