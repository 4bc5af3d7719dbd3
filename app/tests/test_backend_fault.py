"""PostgreSQL stops mid-run: readiness fails fast, the API answers 503, and all recovers."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import httpx
import pytest
from pydantic import SecretStr

from app.tests.support import PG_PASSWORD, PostgresServer
from backend.main import create_app
from backend.settings import Settings

pytestmark = [pytest.mark.anyio, pytest.mark.postgres, pytest.mark.slow]


@pytest.fixture
async def pg_client(postgres_url: str) -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings(database_url=SecretStr(postgres_url), db_connect_timeout_seconds=2)
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            yield client


async def wait_for(client: httpx.AsyncClient, path: str, status: int, within: float) -> float:
    start = time.monotonic()
    while True:
        if (await client.get(path)).status_code == status:
            return time.monotonic() - start
        if time.monotonic() - start > within:
            raise AssertionError(f"{path} did not answer {status} within {within} s")
        await _sleep(0.1)


async def _sleep(seconds: float) -> None:
    import anyio

    await anyio.sleep(seconds)


async def test_database_outage_and_recovery(
    postgres: PostgresServer, pg_client: httpx.AsyncClient
) -> None:
    acknowledged = []
    for i in range(5):
        response = await pg_client.post("/api/v1/notes", json={"title": f"before {i}"})
        assert response.status_code == 201
        acknowledged.append(response.json()["id"])
    assert (await pg_client.get("/readyz")).status_code == 200

    postgres.stop()
    try:
        took = await wait_for(pg_client, "/readyz", 503, within=5)
        assert took < 5
        ready = await pg_client.get("/readyz")
        assert ready.json()["status"] == "not ready"
        assert "unreachable" in ready.json()["reason"]
        assert (await pg_client.get("/healthz")).status_code == 200
        for response in (
            await pg_client.get(f"/api/v1/notes/{acknowledged[0]}"),
            await pg_client.get("/api/v1/notes"),
            await pg_client.post("/api/v1/notes", json={"title": "during"}),
        ):
            assert response.status_code == 503
            assert response.headers["content-type"] == "application/problem+json"
            assert response.headers["retry-after"]
            body = response.text
            assert "Traceback" not in body and PG_PASSWORD not in body
            assert response.json()["detail"] == "the database is unavailable; retry shortly"
    finally:
        postgres.start()

    await wait_for(pg_client, "/readyz", 200, within=10)
    for note_id in acknowledged:
        assert (await pg_client.get(f"/api/v1/notes/{note_id}")).status_code == 200
    after = await pg_client.post("/api/v1/notes", json={"title": "after"})
    assert after.status_code == 201
