"""Operational endpoints, error shapes, body limit, request ids, metrics and access logs."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text

from backend.logs import JSONFormatter
from backend.state import AppState

pytestmark = pytest.mark.anyio


def state_of(app: FastAPI) -> AppState:
    state = app.state.backend
    assert isinstance(state, AppState)
    return state


async def test_healthz_is_200(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_readyz_is_200_at_head(client: httpx.AsyncClient) -> None:
    response = await client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ready", "revision": "0001"}


async def test_readyz_is_503_while_draining(app: FastAPI, client: httpx.AsyncClient) -> None:
    state_of(app).readiness.draining = True
    response = await client.get("/readyz")
    assert response.status_code == 503
    assert response.json() == {"status": "not ready", "reason": "shutting down"}
    # Responses tell keep-alive clients to reconnect elsewhere.
    assert (await client.get("/healthz")).headers["connection"] == "close"


async def test_readyz_is_503_when_schema_behind(app: FastAPI, client: httpx.AsyncClient) -> None:
    engine = state_of(app).engine
    async with engine.begin() as conn:
        await conn.execute(text("UPDATE alembic_version SET version_num = '0000'"))
    try:
        response = await client.get("/readyz")
        assert response.status_code == 503
        assert response.json()["reason"].startswith("database schema at revision 0000")
        assert response.headers["retry-after"] == "1"
    finally:
        async with engine.begin() as conn:
            await conn.execute(text("UPDATE alembic_version SET version_num = '0001'"))


async def test_readyz_is_503_before_migrations(client: httpx.AsyncClient, app: FastAPI) -> None:
    engine = state_of(app).engine
    async with engine.begin() as conn:
        await conn.execute(text("ALTER TABLE alembic_version RENAME TO alembic_version_away"))
    try:
        response = await client.get("/readyz")
        assert response.status_code == 503
        assert "run `backend migrate`" in response.json()["reason"]
    finally:
        async with engine.begin() as conn:
            await conn.execute(text("ALTER TABLE alembic_version_away RENAME TO alembic_version"))


async def test_version_and_info(client: httpx.AsyncClient) -> None:
    assert (await client.get("/version")).json() == {
        "version": "0.0.0-dev",
        "git_commit": "unknown",
    }
    info = (await client.get("/api/info")).json()
    assert set(info) == {
        "hostname",
        "version",
        "git_commit",
        "pod_name",
        "pod_namespace",
        "database",
    }
    assert info["hostname"]


async def test_unknown_route_and_method_are_problem_json(client: httpx.AsyncClient) -> None:
    missing = await client.get("/no/such/thing")
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"
    assert missing.json()["title"] == "Not Found"
    wrong = await client.put("/api/v1/notes")
    assert wrong.status_code == 405
    assert wrong.json()["status"] == 405
    assert "GET" in wrong.headers["allow"]


async def test_oversize_body_with_content_length_is_413(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/v1/notes", json={"title": "t", "body": "x" * 70_000})
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"
    assert "65536 bytes" in response.json()["detail"]


async def test_oversize_chunked_body_is_413(client: httpx.AsyncClient) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"title": "t", "body": "'
        for _ in range(100):
            yield b"x" * 1024
        yield b'"}'

    response = await client.post(
        "/api/v1/notes", content=chunks(), headers={"content-type": "application/json"}
    )
    assert "content-length" not in response.request.headers
    assert response.status_code == 413


async def test_request_id_is_kept_or_made(client: httpx.AsyncClient) -> None:
    kept = await client.get("/healthz", headers={"X-Request-ID": "abc-123"})
    assert kept.headers["x-request-id"] == "abc-123"
    made = await client.get("/healthz", headers={"X-Request-ID": "bad id\twith spaces"})
    assert made.headers["x-request-id"] != "bad id\twith spaces"
    assert len(made.headers["x-request-id"]) == 32
    problem = await client.get("/nowhere", headers={"X-Request-ID": "trace-me"})
    assert problem.json()["request_id"] == "trace-me"


async def test_metrics_use_route_templates_and_collapse_unknown_routes(
    client: httpx.AsyncClient,
) -> None:
    note = (await client.post("/api/v1/notes", json={"title": "m"})).json()
    for _ in range(3):
        await client.get(f"/api/v1/notes/{note['id']}")
    for i in range(20):
        await client.get(f"/scanner/probe-{i}")
    await client.request("BREW", "/coffee")
    body = (await client.get("/metrics")).text
    assert (
        'http_requests_total{method="GET",route="/api/v1/notes/{note_id}",status="200"} 3.0' in body
    )
    assert 'http_requests_total{method="GET",route="unmatched",status="404"} 20.0' in body
    assert 'http_requests_total{method="other",route="unmatched",status="404"} 1.0' in body
    assert "probe-" not in body and note["id"] not in body
    assert (
        'http_request_duration_seconds_bucket{le="0.025",method="POST",route="/api/v1/notes"}'
        in body
    )
    assert "http_requests_in_flight 1.0" in body  # the /metrics request itself
    assert 'db_pool_size{pool="engine"} 5.0' in body
    assert 'db_pool_overflow{pool="engine"} 0.0' in body
    assert 'db_pool_checked_out{pool="engine"}' in body


async def test_access_log_line_per_request_and_probes_skipped(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="backend.access"):
        await client.get("/healthz")
        await client.get("/readyz")
        await client.get("/api/v1/notes", headers={"X-Request-ID": "req-1"})
    records = [r for r in caplog.records if r.name == "backend.access"]
    assert len(records) == 1
    line = json.loads(JSONFormatter().format(records[0]))
    assert line["route"] == "/api/v1/notes"
    assert line["method"] == "GET"
    assert line["status"] == 200
    assert line["request_id"] == "req-1"
    assert isinstance(line["duration_ms"], float)


def test_json_formatter_writes_one_line_with_extras() -> None:
    record = logging.LogRecord("x", logging.WARNING, __file__, 1, "hello %s", ("you",), None)
    record.__dict__["route"] = "/r"
    line = JSONFormatter().format(record)
    assert "\n" not in line
    data = json.loads(line)
    assert data["message"] == "hello you"
    assert data["level"] == "warning"
    assert data["route"] == "/r"


async def test_openapi_documents_problem_errors(client: httpx.AsyncClient) -> None:
    schema = (await client.get("/openapi.json")).json()
    patch = schema["paths"]["/api/v1/notes/{note_id}"]["patch"]["responses"]
    for code in ("404", "409", "412", "413", "422", "503"):
        assert list(patch[code]["content"]) == ["application/problem+json"]
    assert "HTTPValidationError" not in schema["components"]["schemas"]
    for path in ("/healthz", "/readyz", "/metrics", "/version", "/api/info"):
        assert path in schema["paths"]


async def test_unexpected_error_is_500_problem_with_request_id(
    app: FastAPI, client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    async def explode() -> None:
        raise RuntimeError("secret internals")

    app.router.add_api_route("/test-only/explode", explode)  # only in this test's app
    with caplog.at_level(logging.INFO):
        response = await client.get("/test-only/explode", headers={"X-Request-ID": "boom-1"})
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["x-request-id"] == "boom-1"
    body = response.json()
    assert body["request_id"] == "boom-1"
    assert body["status"] == 500
    assert "secret internals" not in response.text
    assert "Traceback" not in response.text
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1, [r.getMessage() for r in errors]
    assert getattr(errors[0], "request_id", None) == "boom-1"
    assert errors[0].exc_info is not None
    access = [r for r in caplog.records if r.name == "backend.access"]
    assert [getattr(r, "status", None) for r in access] == [500]


async def test_openapi_shows_optional_values_without_null(client: httpx.AsyncClient) -> None:
    schema = (await client.get("/openapi.json")).json()
    described = list(schema["components"]["schemas"]["NoteUpdate"]["properties"].values())
    for path in schema["paths"].values():
        described += [p["schema"] for op in path.values() for p in op.get("parameters", [])]
    assert described
    for item in described:
        assert "anyOf" not in item, item
        assert item.get("default", "unset") is not None, item
    assert schema["components"]["schemas"]["NoteUpdate"]["properties"]["title"]["type"] == "string"
