"""Notes storage: every statement the API runs, written so that concurrent writers stay correct."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import and_, bindparam, delete, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from backend.db import retry_read
from backend.pagination import Cursor
from backend.pg_create import insert_note
from backend.pg_direct import DirectPool
from backend.pg_read import by_id_sql, fetch_note_row
from backend.schemas import Note, NoteCreate, NotePage, NoteUpdate
from backend.tables import note_tags, notes


class NoteNotFound(Exception):
    """No note has this id."""


@dataclass
class VersionConflict(Exception):
    """The note changed since the client read it; `current` is its version now."""

    current: int
    precondition: bool  # True when If-Match named no current version (412), else `version` (409)


def _note(row: Mapping[Any, Any]) -> Note:
    # Rows of our own table, written through validated models: constructing without
    # validating again saves a pass over every field per note (ADR 0017).
    return Note.model_construct(
        id=row["id"],
        title=row["title"],
        body=row["body"],
        tags=list(row["tags"]),
        version=row["version"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


# Built once: SQLAlchemy memoises a statement's cache key, so the hot read skips rebuilding it.
_BY_ID = select(notes).where(notes.c.id == bindparam("note_id"))


class NoteRepository:
    """The notes table and its tag index, over one engine."""

    def __init__(self, engine: AsyncEngine, direct: DirectPool | None = None) -> None:
        """`direct` serves the read by id and the create on PostgreSQL (ADR 0020)."""
        self._engine = engine
        # Reads are single SELECTs: in autocommit they need no BEGIN and no ROLLBACK, two
        # round trips fewer per request on PostgreSQL (and no transaction held on a pooler).
        self._reader = engine.execution_options(isolation_level="AUTOCOMMIT")
        self._direct = direct
        self._by_id_sql = by_id_sql(engine.dialect) if direct is not None else ""

    async def create(self, data: NoteCreate) -> Note:
        now = datetime.now(UTC)
        note = Note(
            id=uuid.uuid4(),
            title=data.title,
            body=data.body,
            tags=data.tags,
            version=1,
            created_at=now,
            updated_at=now,
        )
        if self._direct is not None:
            await insert_note(self._direct, note)
            return note
        async with self._engine.begin() as conn:
            await conn.execute(insert(notes).values(note.model_dump()))
            await self._write_tags(conn, note.id, note.tags, now)
        return note

    async def get(self, note_id: uuid.UUID) -> Note:
        async def read() -> Note:
            row: Mapping[Any, Any] | None
            if self._direct is not None:
                row = await fetch_note_row(self._direct, self._by_id_sql, note_id)
            else:
                async with self._reader.connect() as conn:
                    found = (await conn.execute(_BY_ID, {"note_id": note_id})).first()
                    row = None if found is None else found._mapping
            if row is None:
                raise NoteNotFound
            return _note(row)

        return await retry_read(read)

    async def list_page(self, *, limit: int, cursor: Cursor | None, tag: str | None) -> NotePage:
        if tag is None:
            created_at, key = notes.c.created_at, notes.c.id
            query = select(notes)
        else:
            created_at, key = note_tags.c.created_at, note_tags.c.note_id
            query = (
                select(notes)
                .join(note_tags, note_tags.c.note_id == notes.c.id)
                .where(note_tags.c.tag == tag)
            )
        if cursor is not None:
            query = query.where(
                or_(
                    created_at < cursor.created_at,
                    and_(created_at == cursor.created_at, key < cursor.id),
                )
            )
        # One row more than asked tells whether another page exists, without a COUNT.
        query = query.order_by(created_at.desc(), key.desc()).limit(limit + 1)

        async def read() -> list[Note]:
            async with self._reader.connect() as conn:
                return [_note(row._mapping) for row in await conn.execute(query)]

        items = await retry_read(read)
        next_cursor = None
        if len(items) > limit:
            items = items[:limit]
            next_cursor = Cursor(items[-1].created_at, items[-1].id).encode()
        return NotePage(items=items, next_cursor=next_cursor)

    async def update(
        self,
        note_id: uuid.UUID,
        change: NoteUpdate,
        *,
        if_match: frozenset[int] | None,
    ) -> Note:
        """Apply `change` in one UPDATE guarded by the expected version (no read-modify-write)."""
        now = datetime.now(UTC)
        values: dict[str, Any] = change.model_dump(
            include={"title", "body", "tags"}, exclude_unset=True
        )
        if not values:
            return await self._unchanged(note_id, change.version, if_match=if_match)
        values |= {"version": notes.c.version + 1, "updated_at": now}
        stmt = update(notes).where(notes.c.id == note_id)
        if if_match is not None:
            stmt = stmt.where(notes.c.version.in_(sorted(if_match)))
        if change.version is not None:
            stmt = stmt.where(notes.c.version == change.version)
        async with self._engine.begin() as conn:
            row = (await conn.execute(stmt.values(values).returning(*notes.c))).first()
            if row is None:
                await self._explain_miss(conn, note_id, if_match)
            assert row is not None  # noqa: S101 - _explain_miss always raises
            note = _note(row._mapping)
            if "tags" in values:
                await conn.execute(delete(note_tags).where(note_tags.c.note_id == note_id))
                await self._write_tags(conn, note_id, note.tags, note.created_at)
        return note

    async def _unchanged(
        self, note_id: uuid.UUID, version: int | None, *, if_match: frozenset[int] | None
    ) -> Note:
        """An update that changes no field: check the versions as `update` does, write nothing."""

        async def read() -> Note:
            async with self._reader.connect() as conn:
                row = (await conn.execute(select(notes).where(notes.c.id == note_id))).first()
                if (
                    row is None
                    or (if_match is not None and row.version not in if_match)
                    or version not in (None, row.version)
                ):
                    await self._explain_miss(conn, note_id, if_match)
            assert row is not None  # noqa: S101 - _explain_miss always raises
            return _note(row._mapping)

        return await retry_read(read)

    async def delete(self, note_id: uuid.UUID, *, if_match: frozenset[int] | None) -> None:
        stmt = delete(notes).where(notes.c.id == note_id)
        if if_match is not None:
            stmt = stmt.where(notes.c.version.in_(sorted(if_match)))
        async with self._engine.begin() as conn:
            # Tags go with the note through ON DELETE CASCADE (SQLite: PRAGMA foreign_keys).
            result = await conn.execute(stmt)
            if result.rowcount == 0:
                await self._explain_miss(conn, note_id, if_match)

    async def _explain_miss(
        self, conn: AsyncConnection, note_id: uuid.UUID, if_match: frozenset[int] | None
    ) -> None:
        current = await conn.scalar(select(notes.c.version).where(notes.c.id == note_id))
        if current is None:
            raise NoteNotFound
        raise VersionConflict(
            current=current, precondition=if_match is not None and current not in if_match
        )

    @staticmethod
    async def _write_tags(
        conn: AsyncConnection, note_id: uuid.UUID, tags: list[str], created_at: datetime
    ) -> None:
        if tags:
            await conn.execute(
                insert(note_tags),
                [{"note_id": note_id, "tag": t, "created_at": created_at} for t in tags],
            )
