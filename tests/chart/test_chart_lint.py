"""helm lint --strict on every ci scenario, and the scenarios the issue asks for exist."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tests.chart.conftest import ChartKit

REQUIRED_SCENARIOS = {
    "default",
    "hpa",
    "ingress-tls",
    "httproute",
    "existing-secret",
    "monitoring",
    "networkpolicy-off",
    "digest",
    "everything",
}


def test_every_required_scenario_exists(kit: ChartKit) -> None:
    names = {p.name.removesuffix("-values.yaml") for p in kit.scenarios}
    assert names >= REQUIRED_SCENARIOS, f"missing ci scenarios: {REQUIRED_SCENARIOS - names}"


def test_helm_lint_strict(kit: ChartKit, scenario: Path) -> None:
    result = kit.helm("lint", "--strict", str(kit.chart), "--values", str(scenario), check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 chart(s) failed" in result.stdout


def test_helm_is_the_pinned_version(kit: ChartKit) -> None:
    version = kit.helm("version", "--template", "{{ .Version }}").stdout
    assert version.startswith("v3.17."), version


def test_chart_metadata(kit: ChartKit) -> None:
    import yaml

    meta = yaml.safe_load((kit.chart / "Chart.yaml").read_text(encoding="utf-8"))
    assert meta["apiVersion"] == "v2"
    assert meta["kubeVersion"] == ">=1.30.0-0"
    assert meta["appVersion"] == "0.1.0"
    assert any(key.startswith("artifacthub.io/") for key in meta["annotations"])


def test_chart_refuses_kubernetes_older_than_1_30(kit: ChartKit) -> None:
    result = kit.helm("template", "x", str(kit.chart), "--kube-version", "1.29.9", check=False)
    assert result.returncode != 0
    assert "kubeVersion" in result.stderr or "incompatible" in result.stderr
