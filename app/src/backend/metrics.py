"""Prometheus metrics, in a registry of their own per app so tests and apps never share one."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    PlatformCollector,
    ProcessCollector,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy.ext.asyncio import AsyncEngine

from backend.pg_direct import DirectPool

# Requests that match no route share this label, so scanners cannot grow the series count.
UNMATCHED_ROUTE = "unmatched"
# Latency buckets (seconds) around the service's 25 ms p99 goal.
BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


class PoolCollector(Collector):
    """The database pools' state, read at scrape time: `pool="engine"` for SQLAlchemy's,
    `pool="direct"` for the hot statements' own on PostgreSQL (pg_direct.py)."""

    def __init__(
        self, engine: Callable[[], AsyncEngine | None], direct: DirectPool | None = None
    ) -> None:
        self._engine = engine
        self._direct = direct

    _STATS = (
        ("db_pool_size", "Connections the pool keeps open at most (overflow aside)"),
        ("db_pool_checked_out", "Connections in use by requests"),
        ("db_pool_checked_in", "Idle connections in the pool"),
        ("db_pool_overflow", "Connections opened beyond the pool size"),
    )

    def _engine_stats(self) -> tuple[float, float, float, float]:
        engine = self._engine()
        if engine is None:
            return 0.0, 0.0, 0.0, 0.0
        pool: Any = engine.pool

        def read(method: str) -> float:
            value = getattr(pool, method, None)  # not every pool class counts everything
            return float(value()) if callable(value) else 0.0

        # SQLAlchemy counts overflow from -pool_size up; only connections beyond it count here.
        overflow = max(0.0, read("overflow"))
        return read("size"), read("checkedout"), read("checkedin"), overflow

    def collect(self) -> Iterable[Metric]:
        stats = {"engine": self._engine_stats()}
        if self._direct is not None:
            size, in_use, idle = self._direct.stats()
            stats["direct"] = (float(size), float(in_use), float(idle), 0.0)
        for index, (name, doc) in enumerate(self._STATS):
            family = GaugeMetricFamily(name, doc, labels=["pool"])
            for pool, values in stats.items():
                family.add_metric([pool], values[index])
            yield family


class Metrics:
    """The service's metrics and the registry that /metrics renders."""

    def __init__(
        self, engine: Callable[[], AsyncEngine | None], direct: DirectPool | None = None
    ) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        ProcessCollector(registry=self.registry)
        PlatformCollector(registry=self.registry)
        self.registry.register(PoolCollector(engine, direct))
        self.requests = Counter(
            "http_requests_total",
            "HTTP requests answered, by method, route template and status",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.duration = Histogram(
            "http_request_duration_seconds",
            "Time to answer an HTTP request, by method and route template",
            ["method", "route"],
            buckets=BUCKETS,
            registry=self.registry,
        )
        self.in_flight = Gauge(
            "http_requests_in_flight",
            "HTTP requests being answered now",
            registry=self.registry,
        )
        self.ready = Gauge(
            "backend_ready",
            "1 when /readyz answers 200, else 0 (last probe)",
            registry=self.registry,
        )
