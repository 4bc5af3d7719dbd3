"""Operational endpoints in podinfo's spirit: liveness, readiness, metrics, build info."""

from __future__ import annotations

import socket
from typing import Literal

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel

from backend.deps import StateDep
from backend.middleware.liveness import ALIVE

router = APIRouter(tags=["operations"])


class ReadyStatus(BaseModel):
    status: Literal["ready", "not ready"]
    reason: str | None = None
    revision: str | None = None


class VersionInfo(BaseModel):
    version: str
    git_commit: str


class Info(BaseModel):
    hostname: str
    version: str
    git_commit: str
    pod_name: str | None
    pod_namespace: str | None
    database: Literal["sqlite", "postgresql"]


@router.get("/healthz", responses={200: {"content": {"application/json": {}}}})
async def healthz() -> Response:
    """Liveness: the process answers; never touches the database."""
    # GET and HEAD are answered by middleware/liveness.py before routing; same body.
    return Response(ALIVE, media_type="application/json")


@router.get(
    "/readyz",
    response_model=ReadyStatus,
    responses={503: {"model": ReadyStatus, "description": "Not ready; `reason` says why"}},
)
async def readyz(state: StateDep) -> JSONResponse:
    """Readiness: database reachable, schema at head, and not shutting down."""
    result = await state.readiness.check()
    state.metrics.ready.set(1 if result.ready else 0)
    body = ReadyStatus(
        status="ready" if result.ready else "not ready",
        reason=result.reason,
        revision=result.revision,
    )
    if result.ready:
        return JSONResponse(body.model_dump(exclude_none=True))
    return JSONResponse(
        body.model_dump(exclude_none=True),
        status_code=503,
        headers={"Retry-After": "1"},
    )


@router.get(
    "/metrics",
    response_class=Response,
    responses={200: {"content": {CONTENT_TYPE_LATEST.split(";")[0]: {}}}},
)
async def metrics(state: StateDep) -> Response:
    """Prometheus metrics in the text exposition format."""
    return Response(generate_latest(state.metrics.registry), media_type=CONTENT_TYPE_LATEST)


@router.get("/version")
async def version(state: StateDep) -> VersionInfo:
    """The build's version and git commit (from the image's build arguments)."""
    return VersionInfo(version=state.settings.version, git_commit=state.settings.git_commit)


@router.get("/api/info")
async def info(state: StateDep) -> Info:
    """Where this answer comes from: host, build and pod (from the downward API)."""
    settings = state.settings
    return Info(
        hostname=socket.gethostname(),
        version=settings.version,
        git_commit=settings.git_commit,
        pod_name=settings.pod_name,
        pod_namespace=settings.pod_namespace,
        database="sqlite" if state.engine.dialect.name == "sqlite" else "postgresql",
    )
