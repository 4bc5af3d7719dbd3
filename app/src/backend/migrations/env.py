"""Alembic's entry point: runs the migrations over the service's own async engine."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy import text
from sqlalchemy.engine import Connection

from backend.db import create_engine
from backend.settings import Settings, load_settings
from backend.tables import metadata

# Any number well away from what applications pick; one migrator at a time per database.
_PG_LOCK_KEY = 4_202_611


def _migrate(connection: Connection) -> None:
    if connection.dialect.name == "postgresql":
        # Two migrate Jobs (an upgrade racing a rollback) must not interleave DDL.
        connection.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_LOCK_KEY})
    context.configure(
        connection=connection,
        target_metadata=metadata,
        compare_type=True,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run(settings: Settings) -> None:
    engine = create_engine(settings)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_migrate)
            await connection.commit()
    finally:
        await engine.dispose()


def _main() -> None:
    settings = context.config.attributes.get("settings")
    if not isinstance(settings, Settings):
        settings = load_settings()
    asyncio.run(_run(settings))


if context.is_offline_mode():
    raise SystemExit("offline (--sql) migrations are not supported; run `backend migrate`")
_main()
