"""Prometheus metrics, in a registry of their own per app so tests and apps never share one."""

from __future__ import annotations

from collections.abc import Callable, Iterable

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

# Requests that match no route share this label, so scanners cannot grow the series count.
UNMATCHED_ROUTE = "unmatched"
# Latency buckets (seconds) around the service's 25 ms p99 goal.
BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


class PoolCollector(Collector):
    """The database pool's state, read at scrape time."""

    def __init__(self, engine: Callable[[], AsyncEngine | None]) -> None:
        self._engine = engine

    _STATS = (
        ("db_pool_size", "size", "Connections the pool keeps open"),
        ("db_pool_checked_out", "checkedout", "Connections in use by requests"),
        ("db_pool_checked_in", "checkedin", "Idle connections in the pool"),
        ("db_pool_overflow", "overflow", "Connections opened beyond the pool size"),
    )

    def collect(self) -> Iterable[Metric]:
        engine = self._engine()
        for name, method, doc in self._STATS:
            read = getattr(engine.pool, method, None) if engine is not None else None
            # SQLAlchemy counts overflow from -pool_size up; only connections beyond it count here.
            value = max(0.0, float(read())) if callable(read) else 0.0
            yield GaugeMetricFamily(name, doc, value=value)


class Metrics:
    """The service's metrics and the registry that /metrics renders."""

    def __init__(self, engine: Callable[[], AsyncEngine | None]) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        ProcessCollector(registry=self.registry)
        PlatformCollector(registry=self.registry)
        self.registry.register(PoolCollector(engine))
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
