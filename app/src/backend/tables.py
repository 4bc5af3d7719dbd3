"""The schema as SQLAlchemy Core tables; Alembic migrations create exactly these."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    Uuid,
)
from sqlalchemy.engine import Dialect

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


class UTCDateTime(TypeDecorator[datetime]):
    """Timestamps stored as UTC and always read back timezone-aware, on SQLite too."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        value = value.astimezone(UTC)
        # SQLite keeps no zone: store naive UTC so that text order is time order.
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)  # noqa: S101 - the column type guarantees it
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


notes = Table(
    "notes",
    metadata,
    Column("id", Uuid(), primary_key=True),
    Column("title", String(200), nullable=False),
    Column("body", Text(), nullable=False),
    # The tags as the client gave them, so a read by id is one row; note_tags indexes them.
    Column("tags", JSON(), nullable=False),
    Column("version", Integer(), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    Index("ix_notes_created_at_id", "created_at", "id"),
)

# One row per (note, tag). created_at is copied from the note (it never changes) so that
# "notes with tag T, newest first, after cursor C" is a single range scan of one index.
note_tags = Table(
    "note_tags",
    metadata,
    Column("note_id", Uuid(), ForeignKey("notes.id", ondelete="CASCADE"), primary_key=True),
    Column("tag", String(32), primary_key=True),
    Column("created_at", UTCDateTime(), nullable=False),
    Index("ix_note_tags_tag_created_at_note_id", "tag", "created_at", "note_id"),
)
