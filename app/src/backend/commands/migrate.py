"""`backend migrate`: Alembic to head, waiting a bounded time for a database that is waking up."""

from __future__ import annotations

import logging
import time

from backend.database_url import parse_database_url
from backend.db import is_unavailable
from backend.settings import Settings

log = logging.getLogger("backend.migrate")

# Pauses between attempts (seconds): about a minute in all, enough for a serverless database
# to resume or a fresh PostgreSQL pod to start, short of the migration Job's deadline.
RETRY_PAUSES = (1, 2, 4, 8, 15, 30)


def run_migrate(settings: Settings) -> int:
    from backend.migrate import head_revision, upgrade_to_head

    url = parse_database_url(settings.effective_database_url)
    for attempt, pause in enumerate((*RETRY_PAUSES, None), start=1):
        try:
            upgrade_to_head(settings)
        except Exception as exc:
            if pause is None or not is_unavailable(exc):
                detail = (str(exc).splitlines() or [""])[0][:300]
                log.error(
                    "migration failed",
                    extra={"database": url.redacted, "error": type(exc).__name__, "detail": detail},
                )
                return 1
            log.warning(
                "database unreachable, retrying",
                extra={"database": url.redacted, "attempt": attempt, "retry_in_s": pause},
            )
            time.sleep(pause)
        else:
            log.info("database at head", extra={"revision": head_revision()})
            return 0
    return 1  # pragma: no cover - the loop always returns
