"""`backend serve`: the HTTP API in one process."""

from __future__ import annotations

import logging

from backend.database_url import parse_database_url
from backend.settings import Settings

log = logging.getLogger("backend.serve")


def run_serve(settings: Settings) -> int:
    from backend.server import serve

    url = parse_database_url(settings.effective_database_url)
    log.info(
        "starting",
        extra={
            "version": settings.version,
            "git_commit": settings.git_commit,
            "database": url.redacted,
            "listen": f"{settings.host}:{settings.port}",
        },
    )
    serve(settings)
    log.info("stopped")
    return 0
