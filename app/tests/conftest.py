"""Fixtures: the same API suite runs on SQLite and on a real PostgreSQL the session starts."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from pydantic import SecretStr
from sqlalchemy import delete

from app.tests.support import PostgresServer
from backend.main import create_app
from backend.migrate import upgrade_to_head
from backend.settings import Settings
from backend.state import AppState
from backend.tables import note_tags, notes


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """One PostgreSQL server for the session (tests that stop it start it again)."""
    server = PostgresServer()
    server.init()
    server.start()
    try:
        yield server
    finally:
        try:
            server.stop()
        finally:
            server.remove()


@pytest.fixture(scope="session")
def postgres_url(postgres: PostgresServer) -> str:
    """A migrated database on the session's server."""
    postgres.create_database("backend")
    url = postgres.url("backend")
    upgrade_to_head(Settings(database_url=SecretStr(url)))
    return url


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file that each test copies instead of migrating again."""
    path = tmp_path_factory.mktemp("sqlite") / "template.db"
    upgrade_to_head(Settings(database_url=SecretStr(f"sqlite+aiosqlite:///{path}")))
    return path


@pytest.fixture(
    params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)],
)
def settings(request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path) -> Settings:
    """Settings for a migrated, empty database of each kind."""
    if request.param == "sqlite":
        path = tmp_path / "backend.db"
        shutil.copy(sqlite_template, path)
        url = f"sqlite+aiosqlite:///{path}"
    else:
        url = request.getfixturevalue("postgres_url")
    return Settings(database_url=SecretStr(url), data_dir=tmp_path, readiness_cache_seconds=0)


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[FastAPI]:
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        state = application.state.backend
        assert isinstance(state, AppState)
        async with state.engine.begin() as conn:  # a clean slate on the shared PostgreSQL
            await conn.execute(delete(note_tags))
            await conn.execute(delete(notes))
        yield application


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        yield http
