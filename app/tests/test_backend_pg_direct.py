"""The asyncpg pool of the hot statements (pg_direct.py): fair, observable, and self-healing."""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import asyncpg  # type: ignore[import-untyped]
import httpx
import pytest
from fastapi import FastAPI
from pydantic import SecretStr
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from backend.db import DatabaseUnavailable, create_engine
from backend.pg_create import insert_note
from backend.pg_direct import DirectPool, create_direct_pool
from backend.pg_read import fetch_note_row
from backend.schemas import Note
from backend.settings import Settings
from backend.state import AppState
from backend.tables import note_tags, notes

pytestmark = pytest.mark.anyio

NOTES = "/api/v1/notes"
# A read that holds its connection for 10 ms and returns a row shaped like a note's.
SLOW_READ = (
    "SELECT $1::uuid AS id, '[]'::json AS tags, now() AS created_at, now() AS updated_at "
    "FROM pg_sleep(0.01)"
)


@pytest.fixture
async def direct(postgres_url: str) -> AsyncIterator[tuple[AsyncEngine, DirectPool]]:
    """The engine and the direct pool of the session's PostgreSQL, as the app makes them."""
    settings = Settings(database_url=SecretStr(postgres_url))
    engine = create_engine(settings)
    pool = create_direct_pool(engine, settings)
    assert pool is not None
    try:
        yield engine, pool
    finally:
        await pool.close()
        await engine.dispose()


async def test_the_direct_pool_is_reported_and_survives_killed_connections(app: FastAPI) -> None:
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
            assert 'pool="direct"' not in metrics  # SQLite reads through the engine
            return
        assert f'db_pool_size{{pool="direct"}} {float(state.settings.db_pool_size)}' in metrics
        idle = re.search(r'^db_pool_checked_in\{pool="direct"\} (\S+)$', metrics, re.M)
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
        after = await asyncio.gather(*(client.get(path) for _ in range(8)))
        assert {r.status_code for r in after} == {200}


@pytest.mark.postgres
async def test_reads_waiting_for_a_connection_are_served_in_arrival_order(
    direct: tuple[AsyncEngine, DirectPool],
) -> None:
    # One connection, reads that hold it 10 ms, a new read every 2 ms: each released
    # connection must go to the read that waited longest, never to the one that just came.
    slow = DirectPool(direct[1].connect_options, size=1, acquire_timeout=10)
    finished: list[int] = []

    async def read(position: int) -> None:
        await fetch_note_row(slow, SLOW_READ, uuid.uuid4())
        finished.append(position)

    try:
        tasks = []
        for position in range(40):
            tasks.append(asyncio.create_task(read(position)))
            await asyncio.sleep(0.002)
        await asyncio.gather(*tasks)
    finally:
        await slow.close()
    assert finished == list(range(40))


@pytest.mark.postgres
async def test_a_create_writes_the_note_and_its_tags_or_nothing(
    direct: tuple[AsyncEngine, DirectPool],
) -> None:
    engine, pool = direct
    now = datetime.now(UTC)

    def note(tags: list[str]) -> Note:
        # Built without validation: the second tag is longer than note_tags.tag's 32 characters,
        # so the note's row is valid and only the tag index row fails.
        return Note.model_construct(
            id=uuid.uuid4(),
            title="t",
            body="",
            tags=tags,
            version=1,
            created_at=now,
            updated_at=now,
        )

    good, bad = note(["a", "b"]), note(["fine", "x" * 33])
    await insert_note(pool, good)
    with pytest.raises(asyncpg.StringDataRightTruncationError):
        await insert_note(pool, bad)
    async with engine.connect() as conn:
        counts = {
            str(n.id): (
                await conn.scalar(select(func.count()).where(notes.c.id == n.id)),
                await conn.scalar(select(func.count()).where(note_tags.c.note_id == n.id)),
            )
            for n in (good, bad)
        }
    assert counts == {str(good.id): (1, 2), str(bad.id): (0, 0)}


@pytest.mark.postgres
async def test_closing_does_not_wait_for_a_statement_that_runs_on(
    direct: tuple[AsyncEngine, DirectPool],
) -> None:
    pool = direct[1]
    stuck = asyncio.create_task(pool.execute("SELECT pg_sleep(30)"))
    await asyncio.sleep(0.3)  # the statement is running
    async with asyncio.timeout(5):  # far less than the statement's 30 s
        await pool.close(grace_seconds=0.2)
        with pytest.raises(DatabaseUnavailable):
            await stuck
