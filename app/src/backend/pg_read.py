"""The by-id read on PostgreSQL: asyncpg's fetchrow on a connection from SQLAlchemy's pool.

The hottest statement of the service. SQLAlchemy Core costs more than the query here (statement
cache lookup, greenlet switches, result type processing, a named prepare): about a third of
the read's CPU time (ADR 0017). The SQL is still SQLAlchemy's, compiled once from the table;
the pool, its idle ping and the pooler-safe driver settings (ADR 0005) stay as they are.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC
from typing import Any

import asyncpg  # type: ignore[import-untyped]  # no stubs; two exception classes used
from sqlalchemy import bindparam, select
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection

from backend.db import DatabaseUnavailable
from backend.tables import notes


def by_id_sql(dialect: Dialect) -> str:
    """SQLAlchemy's SELECT of one note, compiled once for asyncpg (`... WHERE id = $1::UUID`)."""
    return str(select(notes).where(notes.c.id == bindparam("note_id")).compile(dialect=dialect))


# The connection is broken (not the statement): it must leave the pool.
_BROKEN = (asyncpg.PostgresConnectionError, asyncpg.InterfaceError, OSError)


async def fetch_note_row(
    conn: AsyncConnection, sql: str, note_id: uuid.UUID
) -> dict[str, Any] | None:
    """The note's row as a dict, or None; DatabaseUnavailable if the connection broke."""
    raw = await conn.get_raw_connection()
    try:
        record = await raw.driver_connection.fetchrow(sql, note_id)  # type: ignore[union-attr]
    except _BROKEN as exc:
        await conn.invalidate(exc)
        raise DatabaseUnavailable(type(exc).__name__) from exc
    if record is None:
        return None
    row = dict(record)
    if isinstance(row["tags"], str):  # SQLAlchemy's dialect installs a json codec; in case not
        row["tags"] = json.loads(row["tags"])
    for column in ("created_at", "updated_at"):
        row[column] = row[column].astimezone(UTC)
    return row
