"""Create notes and their tag index.

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from backend.tables import UTCDateTime

revision = "0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "notes",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_notes"),
    )
    op.create_index("ix_notes_created_at_id", "notes", ["created_at", "id"])
    op.create_table(
        "note_tags",
        sa.Column("note_id", sa.Uuid(), nullable=False),
        sa.Column("tag", sa.String(32), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["note_id"], ["notes.id"], name="fk_note_tags_note_id_notes", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("note_id", "tag", name="pk_note_tags"),
    )
    op.create_index(
        "ix_note_tags_tag_created_at_note_id", "note_tags", ["tag", "created_at", "note_id"]
    )


def downgrade() -> None:
    op.drop_table("note_tags")
    op.drop_table("notes")
