"""Migrations: the head constant, and the schema they build matches the tables."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from pydantic import SecretStr
from sqlalchemy.engine import Connection

from app.tests.support import PostgresServer
from backend.db import create_engine
from backend.migrate import head_revision, upgrade_to_head
from backend.migrations import HEAD
from backend.settings import Settings
from backend.tables import metadata


def test_head_constant_matches_alembic() -> None:
    assert head_revision() == HEAD


def _drift(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(
        connection, opts={"compare_type": True, "compare_server_default": True}
    )
    return list(compare_metadata(context, metadata))


@pytest.fixture(
    params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)],
)
def fresh_database(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of a new, empty database of each kind (not the shared, migrated one)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'm.db'}"
    postgres: PostgresServer = request.getfixturevalue("postgres")
    name = f"drift_{uuid.uuid4().hex[:12]}"
    postgres.create_database(name)
    return postgres.url(name)


async def _drift_of(settings: Settings) -> list[Any]:
    engine = create_engine(settings)  # the service's engine: asyncpg, or aiosqlite
    try:
        async with engine.connect() as conn:
            return await conn.run_sync(_drift)
    finally:
        await engine.dispose()


def test_migrations_build_exactly_the_tables(fresh_database: str, tmp_path: Path) -> None:
    settings = Settings(database_url=SecretStr(fresh_database), data_dir=tmp_path)
    upgrade_to_head(settings)  # runs its own event loop, so this test is not async
    assert asyncio.run(_drift_of(settings)) == []
