"""The backend's Grafana dashboard: valid JSON that Grafana's sidecar loads, and every query
uses metrics that really exist: the backend's (scraped from its /metrics, in process) or the
cluster's (kube-state-metrics and the kubelet's cAdvisor, which kube-prometheus-stack scrapes)."""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from backend.main import create_app
from backend.migrate import upgrade_to_head
from backend.settings import Settings
from tests.gitops import support

DASHBOARDS = support.GITOPS / "platform" / "kube-prometheus-stack" / "dashboards"

# Metrics that come from elsewhere than the backend, each from its documented source:
# kube-state-metrics docs/metrics/workload/{deployment,horizontalpodautoscaler,pod}-metrics.md
# and the kubelet's cAdvisor endpoint (container_*), both scraped by kube-prometheus-stack.
CLUSTER_METRICS = {
    "kube_deployment_status_replicas_available",
    "kube_horizontalpodautoscaler_status_current_replicas",
    "kube_horizontalpodautoscaler_status_desired_replicas",
    "kube_horizontalpodautoscaler_spec_max_replicas",
    "kube_pod_container_resource_requests",
    "kube_pod_container_resource_limits",
    "container_cpu_usage_seconds_total",
    "container_memory_working_set_bytes",
    # Prometheus's own per-target series.
    "up",
}
PROMQL_WORDS = {
    "sum",
    "by",
    "without",
    "rate",
    "irate",
    "increase",
    "histogram_quantile",
    "avg",
    "max",
    "min",
    "count",
    "on",
    "ignoring",
    "group_left",
    "group_right",
    "and",
    "or",
    "unless",
    "absent",
    "clamp_min",
    "clamp_max",
    "offset",
    "bool",
    "topk",
    "bottomk",
}


def metric_names(expr: str) -> set[str]:
    """The metric names a PromQL expression reads."""
    text = re.sub(r'"[^"]*"', "", expr)
    text = re.sub(r"\{[^}]*\}", " ", text)
    text = re.sub(r"\[[^\]]*\]", " ", text)
    text = re.sub(r"\b(by|without|on|ignoring)\s*\([^)]*\)", " ", text)
    names = set(re.findall(r"[A-Za-z_:][A-Za-z0-9_:]*", text))
    return {n for n in names if n not in PROMQL_WORDS}


def exported_metrics(tmp_path: Path) -> set[str]:
    """Names in the backend's real /metrics output after a few requests, histogram series
    (_bucket, _count, _sum) included."""
    database = tmp_path / "backend.db"
    settings = Settings(
        database_url=SecretStr(f"sqlite+aiosqlite:///{database}"),
        data_dir=tmp_path,
        readiness_cache_seconds=0,
    )
    upgrade_to_head(settings)

    async def scrape() -> str:
        app = create_app(settings)
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
                await client.post("/api/v1/notes", json={"title": "dashboards"})
                await client.get("/readyz")
                return (await client.get("/metrics")).text

    text = asyncio.run(scrape())
    return {
        line.split("{")[0].split(" ")[0]
        for line in text.splitlines()
        if line and not line.startswith("#")
    }


def dashboards() -> list[Path]:
    found = sorted(DASHBOARDS.glob("*.json"))
    assert found, f"no dashboards in {DASHBOARDS}"
    return found


def queries(dashboard: dict[str, Any]) -> list[tuple[str, str]]:
    return [
        (panel["title"], target["expr"])
        for panel in dashboard["panels"]
        if panel["type"] != "row"
        for target in panel["targets"]
    ]


def test_metric_names_are_read_from_promql() -> None:
    expr = 'histogram_quantile(0.9, sum by (le) (rate(a_bucket{route!~"/x"}[5m]))) / on (pod) b'
    assert metric_names(expr) == {"a_bucket", "b"}


@pytest.mark.parametrize("path", dashboards(), ids=lambda p: p.name)
def test_dashboard_is_valid_and_complete(path: Path) -> None:
    dashboard = json.loads(path.read_text(encoding="utf-8"))
    assert dashboard["uid"] and dashboard["title"]
    panels = [p for p in dashboard["panels"] if p["type"] != "row"]
    assert len({p["id"] for p in dashboard["panels"]}) == len(dashboard["panels"])
    assert all(p["targets"] for p in panels), "a panel without a query"
    titles = " ".join(p["title"].lower() for p in panels)
    for topic in ("request rate", "error", "latency", "in flight", "pool", "hpa", "pods"):
        assert topic in titles, f"no panel about {topic}"


@pytest.mark.parametrize("path", dashboards(), ids=lambda p: p.name)
def test_every_query_uses_metrics_that_exist(path: Path, tmp_path: Path) -> None:
    exported = exported_metrics(tmp_path)
    assert "http_requests_total" in exported and "http_request_duration_seconds_bucket" in exported
    dashboard = json.loads(path.read_text(encoding="utf-8"))
    unknown = {
        (title, name)
        for title, expr in queries(dashboard)
        for name in metric_names(expr)
        if name not in exported and name not in CLUSTER_METRICS
    }
    assert not unknown, f"metrics neither exported nor cluster-provided: {sorted(unknown)}"
    used = {n for _, e in queries(dashboard) for n in metric_names(e)}
    assert used & exported >= {"http_requests_total", "http_requests_in_flight", "db_pool_size"}


def test_grafana_loads_the_dashboards() -> None:
    """The kustomization makes one ConfigMap with the sidecar's label, holding every JSON file."""
    objects = support.kustomize(DASHBOARDS)
    assert [o["kind"] for o in objects] == ["ConfigMap"]
    config_map = objects[0]
    values = support.load_all(support.GITOPS / "platform/kube-prometheus-stack/values.yaml")[0]
    sidecar = values["grafana"]["sidecar"]["dashboards"]
    assert config_map["metadata"]["labels"][sidecar["label"]] == sidecar["labelValue"]
    assert set(config_map["data"]) == {p.name for p in dashboards()}
