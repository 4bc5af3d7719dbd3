"""Alembic driven from code: upgrade to head, and the head revision for readiness."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory

from backend.settings import Settings

SCRIPT_LOCATION = "backend:migrations"


def alembic_config(settings: Settings | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", SCRIPT_LOCATION)
    config.attributes["settings"] = settings
    return config


def head_revision() -> str:
    """The revision the code expects; readiness fails until the database is there."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:  # pragma: no cover - the package always ships migrations
        raise RuntimeError("the package ships no migrations")
    return head


def upgrade_to_head(settings: Settings) -> None:
    """Apply every pending migration; a database already at head is left untouched."""
    command.upgrade(alembic_config(settings), "head")
