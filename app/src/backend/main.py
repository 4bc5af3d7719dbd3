"""Assembles the application; every part lives in its own module."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.routing import APIRoute

from backend import openapi, problems
from backend.db import create_engine
from backend.metrics import Metrics
from backend.middleware.body_limit import BodyLimitMiddleware
from backend.middleware.head import HeadAsGetMiddleware
from backend.middleware.note_read import NoteReadMiddleware
from backend.middleware.observability import ObservabilityMiddleware
from backend.middleware.strict_json import StrictJSONMiddleware
from backend.migrations import HEAD
from backend.pg_direct import create_direct_pool
from backend.readiness import ReadinessProbe
from backend.repository import NoteRepository
from backend.routers import notes, ops
from backend.settings import Settings
from backend.state import AppState


def create_app(settings: Settings) -> FastAPI:
    """The ASGI app for these settings. Nothing here connects to the database."""
    engine = create_engine(settings)
    direct = create_direct_pool(engine, settings)
    readiness = ReadinessProbe(
        engine,
        HEAD,
        cache_seconds=settings.readiness_cache_seconds,
        timeout_seconds=settings.readiness_timeout_seconds,
    )
    metrics = Metrics(lambda: engine, direct)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        if direct is not None:
            await direct.close()
        await engine.dispose()

    app = FastAPI(
        title="kubestead backend",
        summary="A notes API with the operational endpoints of a well-behaved workload.",
        version=settings.version,
        lifespan=lifespan,
        docs_url="/docs",
        redoc_url=None,
        # Metrics are Prometheus' (metrics.py); no OpenTelemetry provider is configured, and
        # switching FastAPI's native telemetry off spares its per-request checks.
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    repository = NoteRepository(engine, direct)
    app.state.backend = AppState(
        settings=settings,
        engine=engine,
        notes=repository,
        metrics=metrics,
        readiness=readiness,
    )
    app.include_router(ops.router)
    app.include_router(notes.router)
    problems.install(app)
    openapi.install(app)
    # Added last = outermost: observability sees the 413 that the body limit answers, and
    # the duplicate-key check reads a body that is known to be within the limit.
    app.add_middleware(HeadAsGetMiddleware)
    app.add_middleware(StrictJSONMiddleware)
    # Inside the body limit (a GET with an oversized body is still refused), outside all the
    # rest, which a by-id read does not need (ADR 0020).
    read_route = next(
        r for r in notes.router.routes if isinstance(r, APIRoute) and r.endpoint is notes.get_note
    )
    app.add_middleware(NoteReadMiddleware, notes=repository, route=read_route)
    app.add_middleware(BodyLimitMiddleware, limit=settings.max_body_bytes)
    app.add_middleware(
        ObservabilityMiddleware,
        metrics=metrics,
        log_probes=settings.access_log_probes,
        draining=lambda: readiness.draining,
    )
    return app
