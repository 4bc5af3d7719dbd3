"""The read by id on PostgreSQL: SQLAlchemy's SELECT, run by asyncpg's fetchrow (ADR 0020)."""

from __future__ import annotations

import json
import uuid
from datetime import UTC
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.engine import Dialect

from backend.pg_direct import DirectPool
from backend.tables import notes


def by_id_sql(dialect: Dialect) -> str:
    """SQLAlchemy's SELECT of one note, compiled once for asyncpg (`... WHERE id = $1::UUID`)."""
    return str(select(notes).where(notes.c.id == bindparam("note_id")).compile(dialect=dialect))


async def fetch_note_row(pool: DirectPool, sql: str, note_id: uuid.UUID) -> dict[str, Any] | None:
    """The note's row as a dict, or None; DatabaseUnavailable if no connection works."""
    record = await pool.fetchrow(sql, note_id)
    if record is None:
        return None
    row = dict(record)
    if isinstance(row["tags"], str):  # json arrives as text: no codec on these connections
        row["tags"] = json.loads(row["tags"])
    for column in ("created_at", "updated_at"):
        row[column] = row[column].astimezone(UTC)
    return row
