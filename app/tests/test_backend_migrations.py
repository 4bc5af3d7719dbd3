"""Migrations: the head constant, and the schema they build matches the tables."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from pydantic import SecretStr
from sqlalchemy import create_engine

from backend.migrate import head_revision, upgrade_to_head
from backend.migrations import HEAD
from backend.settings import Settings
from backend.tables import metadata


def test_head_constant_matches_alembic() -> None:
    assert head_revision() == HEAD


def test_migrations_build_exactly_the_tables(tmp_path: Path) -> None:
    path = tmp_path / "m.db"
    upgrade_to_head(Settings(database_url=SecretStr(f"sqlite:///{path}")))
    engine = create_engine(f"sqlite:///{path}")
    try:
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), metadata)
    finally:
        engine.dispose()
    assert diff == []
