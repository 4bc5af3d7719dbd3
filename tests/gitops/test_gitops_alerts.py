"""The backend's SLO alerts, as Argo CD deploys them (the chart with gitops/apps/backend's
values), tested with promtool: each fires on a synthetic series that breaches it and stays
silent on a healthy one."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.chart.conftest import tool
from tests.gitops import support

SELECTOR = 'job="backend",namespace="backend"'
USER = SELECTOR + ',method="GET",route="/api/v1/notes"'
PROBE = SELECTOR + ',method="GET",route="/readyz"'


def counter(labels: str, per_minute: float, minutes: int, name: str) -> dict[str, str]:
    """A counter growing by `per_minute` each minute for `minutes` minutes."""
    return {"series": f"{name}{{{labels}}}", "values": f"0+{per_minute}x{minutes}"}


def requests(status: str, per_minute: float, minutes: int, labels: str = USER) -> dict[str, str]:
    return counter(f'{labels},status="{status}"', per_minute, minutes, "http_requests_total")


def durations(fast_per_minute: float, all_per_minute: float, minutes: int) -> list[dict[str, str]]:
    """A histogram: `fast_per_minute` requests within 0.5 s out of `all_per_minute`."""
    return [
        counter(
            f'{USER},le="0.5"', fast_per_minute, minutes, "http_request_duration_seconds_bucket"
        ),
        counter(USER, all_per_minute, minutes, "http_request_duration_seconds_count"),
    ]


# alert -> (eval time, breaching series, healthy series)
SCENARIOS: dict[str, tuple[str, list[dict[str, str]], list[dict[str, str]]]] = {
    "BackendTargetDown": (
        "10m",
        [{"series": f'up{{{SELECTOR},pod="backend-1"}}', "values": "0x20"}],
        [{"series": f'up{{{SELECTOR},pod="backend-1"}}', "values": "1x20"}],
    ),
    # 9% errors against a budget burn threshold of 14.4 x 0.1% = 1.44%.
    "BackendErrorBudgetBurnFast": (
        "70m",
        [requests("200", 60, 80), requests("500", 6, 80)],
        [requests("200", 60, 80), requests("500", 0.03, 80), requests("503", 600, 80, PROBE)],
    ),
    # 1% errors for 7 hours: above 6 x 0.1% = 0.6%, below the fast threshold.
    "BackendErrorBudgetBurnSlow": (
        "7h",
        [requests("200", 60, 430), requests("500", 0.6, 430)],
        [requests("200", 60, 430), requests("500", 0.03, 430), requests("503", 600, 430, PROBE)],
    ),
    # Half the requests slower than 0.5 s against 14.4 x 1% = 14.4%.
    "BackendLatencyBudgetBurnFast": ("70m", durations(30, 60, 80), durations(60, 60, 80)),
    # 10% slower than 0.5 s for 7 hours: above 6 x 1% = 6%, below the fast threshold.
    "BackendLatencyBudgetBurnSlow": ("7h", durations(54, 60, 430), durations(59.7, 60, 430)),
}


@pytest.fixture(scope="module")
def rules(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """The rendered PrometheusRule's groups as a rules file, and its alerts by name."""
    rule = [o for o in support.render_backend_objects() if o["kind"] == "PrometheusRule"]
    assert len(rule) == 1
    path = tmp_path_factory.mktemp("rules") / "rules.yaml"
    path.write_text(yaml.safe_dump(rule[0]["spec"]), encoding="utf-8")
    alerts = {r["alert"]: r for g in rule[0]["spec"]["groups"] for r in g["rules"]}
    return path, alerts


def promtool(rules_file: Path, tests: list[dict[str, Any]], tmp_path: Path) -> tuple[int, str]:
    test_file = tmp_path / "tests.yaml"
    test_file.write_text(
        yaml.safe_dump(
            {"rule_files": [str(rules_file)], "evaluation_interval": "1m", "tests": tests}
        ),
        encoding="utf-8",
    )
    result = subprocess.run(
        [tool("promtool"), "test", "rules", str(test_file)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return result.returncode, result.stdout + result.stderr


def case(
    alert: dict[str, Any],
    at: str,
    series: list[dict[str, str]],
    fires: bool,
    extra_labels: dict[str, str] | None = None,
) -> dict[str, Any]:
    labels = {**alert["labels"], **(extra_labels or {})}
    expected = [{"exp_labels": labels, "exp_annotations": alert["annotations"]}] if fires else []
    return {
        "interval": "1m",
        "input_series": series,
        "alert_rule_test": [{"eval_time": at, "alertname": alert["alert"], "exp_alerts": expected}],
    }


def test_every_alert_has_a_scenario(rules: tuple[Path, dict[str, Any]]) -> None:
    assert set(rules[1]) == set(SCENARIOS)


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_alert_fires_on_a_breach_and_not_on_health(
    name: str, rules: tuple[Path, dict[str, Any]], tmp_path: Path
) -> None:
    rules_file, alerts = rules
    at, breach, healthy = SCENARIOS[name]
    code, out = promtool(
        rules_file,
        [case(alerts[name], at, breach, fires=True), case(alerts[name], at, healthy, fires=False)],
        tmp_path,
    )
    assert code == 0, out


def test_target_down_fires_when_the_series_is_absent(
    rules: tuple[Path, dict[str, Any]], tmp_path: Path
) -> None:
    rules_file, alerts = rules
    other = [{"series": 'up{job="other",namespace="other"}', "values": "1x20"}]
    # absent() labels its result with the selector's equality matchers.
    selector = {"job": "backend", "namespace": "backend"}
    down = case(alerts["BackendTargetDown"], "10m", other, True, selector)
    code, out = promtool(rules_file, [down], tmp_path)
    assert code == 0, out


@pytest.mark.parametrize("budget", ["Error", "Latency"])
def test_a_slow_burn_alone_does_not_page(
    budget: str, rules: tuple[Path, dict[str, Any]], tmp_path: Path
) -> None:
    """A slow burn for hours opens a ticket (Slow, warning) but pages nobody (Fast stays
    silent): 1% errors, or 10% of requests over 0.5 s."""
    rules_file, alerts = rules
    at, breach, _ = SCENARIOS[f"Backend{budget}BudgetBurnSlow"]
    fast = alerts[f"Backend{budget}BudgetBurnFast"]
    code, out = promtool(rules_file, [case(fast, at, breach, fires=False)], tmp_path)
    assert code == 0, out


def test_promtool_reports_a_wrong_expectation(
    rules: tuple[Path, dict[str, Any]], tmp_path: Path
) -> None:
    """The harness can fail: a healthy series that is said to fire is an error."""
    rules_file, alerts = rules
    at, _, healthy = SCENARIOS["BackendErrorBudgetBurnFast"]
    code, out = promtool(
        rules_file, [case(alerts["BackendErrorBudgetBurnFast"], at, healthy, True)], tmp_path
    )
    assert code != 0
    assert "BackendErrorBudgetBurnFast" in out
