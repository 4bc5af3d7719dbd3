"""A new note and its tags on PostgreSQL in one statement, on asyncpg (ADR 0020).

Through SQLAlchemy a create was BEGIN, an INSERT per table and COMMIT: four statements and the
engine's bookkeeping around each. One statement in autocommit is its own transaction, so the
note and its tags are written together or not at all, in one exchange with the server.
"""

from __future__ import annotations

import json

from backend.pg_direct import DirectPool
from backend.schemas import Note
from backend.tables import note_tags, notes

# A data-modifying WITH runs to completion whatever the outer INSERT does; the foreign key
# from note_tags is checked at the end of the statement, when the note exists.
CREATE_SQL = f"""
WITH note AS (
    INSERT INTO {notes.name} (id, title, body, tags, version, created_at, updated_at)
    VALUES ($1, $2, $3, $4::json, $5, $6, $6)
)
INSERT INTO {note_tags.name} (note_id, tag, created_at)
SELECT $1, tag, $6 FROM unnest($7::varchar[]) AS tag
"""  # noqa: S608 - table names from our own metadata; every value is a bound parameter


async def insert_note(pool: DirectPool, note: Note) -> None:
    """Write `note` and its tag index rows; DatabaseUnavailable if no connection works."""
    await pool.execute(
        CREATE_SQL,
        note.id,
        note.title,
        note.body,
        json.dumps(note.tags),
        note.version,
        note.created_at,
        note.tags,
    )
