"""The by-id read answered before routing (middleware/note_read.py) answers as the route does."""

from __future__ import annotations

import asyncio
import logging
import re
import uuid
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from pydantic import SecretStr
from sqlalchemy import text

from backend.db import create_engine
from backend.deps import get_notes
from backend.middleware import note_read
from backend.pg_read import NoteReader, create_note_reader
from backend.settings import Settings
from backend.state import AppState

pytestmark = pytest.mark.anyio

NOTES = "/api/v1/notes"
REQUEST_ID = {"X-Request-ID": "parity-check"}  # the same id both ways: problem bodies carry it


async def answers(
    client: httpx.AsyncClient, requests: list[tuple[str, str]]
) -> list[tuple[int, list[tuple[bytes, bytes]], bytes]]:
    """Status, raw headers in order, and body of each request."""
    result = []
    for method, path in requests:
        response = await client.request(method, path, headers=REQUEST_ID)
        result.append((response.status_code, response.headers.raw, response.content))
    return result


async def test_answers_match_the_route_byte_for_byte(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    created = await client.post(NOTES, json={"title": "ünïcode", "body": "b", "tags": ["x", "y"]})
    note: dict[str, Any] = created.json()
    await client.patch(f"{NOTES}/{note['id']}", json={"title": "second version"})
    paths = [
        f"{NOTES}/{note['id']}",
        f"{NOTES}/{note['id'].upper()}",
        f"{NOTES}/{note['id']}?unrelated=1",
        f"{NOTES}/{uuid.uuid4()}",
        f"{NOTES}/{note['id']}/",
        f"{NOTES}/{note['id'].replace('-', '')}",
        f"{NOTES}/not-a-uuid",
    ]
    requests = [(method, path) for path in paths for method in ("GET", "HEAD")]

    fast = await answers(client, requests)
    monkeypatch.setattr(note_read, "NOTE_PATH", re.compile(r"(?!)"))  # matches nothing
    routed = await answers(client, requests)

    assert [status for status, _, _ in fast][:8] == [200, 200, 200, 200, 200, 200, 404, 404]
    for request, fast_answer, routed_answer in zip(requests, fast, routed, strict=True):
        assert fast_answer == routed_answer, request


async def test_the_read_is_answered_without_the_router(app: FastAPI) -> None:
    def no_repository() -> None:
        raise RuntimeError("the route's dependencies ran")

    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://test"
    ) as client:
        note = (await client.post(NOTES, json={"title": "fast"})).json()
        app.dependency_overrides[get_notes] = no_repository
        response = await client.get(f"{NOTES}/{note['id']}")
        assert response.status_code == 200
        assert response.json()["title"] == "fast"
        # The route itself would have failed: this request goes through it.
        assert (await client.get(f"{NOTES}/{note['id'].replace('-', '')}")).status_code == 500

        metrics = (await client.get("/metrics")).text
        sample = re.search(
            r'^http_requests_total\{method="GET",route="/api/v1/notes/\{note_id\}",status="200"\}'
            r" (\S+)$",
            metrics,
            re.M,
        )
        assert sample is not None, "the fast read is counted under the route's template"
        assert float(sample[1]) == 1.0


async def test_the_read_pool_is_reported_and_survives_killed_connections(
    app: FastAPI, caplog: pytest.LogCaptureFixture
) -> None:
    state: AppState = app.state.backend
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://test"
    ) as client:
        note = (await client.post(NOTES, json={"title": "pooled"})).json()
        path = f"{NOTES}/{note['id']}"
        reads = await asyncio.gather(*(client.get(path) for _ in range(8)))
        assert {r.status_code for r in reads} == {200}
        metrics = (await client.get("/metrics")).text
        if state.engine.dialect.name == "sqlite":
            assert 'pool="by_id"' not in metrics  # SQLite reads through the engine
            return
        assert f'db_pool_size{{pool="by_id"}} {float(state.settings.db_pool_size)}' in metrics
        idle = re.search(r'^db_pool_checked_in\{pool="by_id"\} (\S+)$', metrics, re.M)
        assert idle is not None and float(idle[1]) >= 1

        # Every other session of this database ends, as in a failover or a pooler restart.
        async with state.engine.connect() as conn:
            killed = await conn.scalar(
                text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            )
        assert killed >= 1
        with caplog.at_level(logging.WARNING):
            after = await asyncio.gather(*(client.get(path) for _ in range(8)))
        assert {r.status_code for r in after} == {200}


@pytest.mark.postgres
async def test_reads_waiting_for_a_connection_are_served_in_arrival_order(
    postgres_url: str,
) -> None:
    # One connection, reads that hold it 10 ms, a new read every 2 ms: each released
    # connection must go to the read that waited longest, never to the one that just came.
    engine = create_engine(Settings(database_url=SecretStr(postgres_url)))
    reader = create_note_reader(engine, Settings(database_url=SecretStr(postgres_url)))
    assert reader is not None
    slow = NoteReader(
        reader.connect_options,
        size=1,
        acquire_timeout=10,
        sql="SELECT $1::uuid AS id, '[]'::json AS tags, now() AS created_at, "
        "now() AS updated_at FROM pg_sleep(0.01)",
    )
    finished: list[int] = []

    async def read(position: int) -> None:
        await slow.fetch(uuid.uuid4())
        finished.append(position)

    try:
        tasks = []
        for position in range(40):
            tasks.append(asyncio.create_task(read(position)))
            await asyncio.sleep(0.002)
        await asyncio.gather(*tasks)
    finally:
        await slow.close()
        await engine.dispose()
    assert finished == list(range(40))
