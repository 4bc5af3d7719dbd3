"""The async engine: pooler-safe PostgreSQL through asyncpg, or SQLite through aiosqlite."""

from __future__ import annotations

import asyncio
import logging
import ssl
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import event
from sqlalchemy.exc import DBAPIError, DisconnectionError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from backend.database_url import DatabaseURL, parse_database_url
from backend.settings import Settings

log = logging.getLogger(__name__)
T = TypeVar("T")

# Reads are retried this many times after the first try, with these pauses (seconds) between:
# enough to ride over a pooled connection that died or a serverless database that is waking up,
# short enough that the client still gets an answer (503 + Retry-After) within a second or two.
READ_RETRY_PAUSES = (0.05, 0.2, 0.5)


# OSErrors about local files, not the network.
_LOCAL_FILE_ERRORS = (FileNotFoundError, PermissionError, IsADirectoryError, NotADirectoryError)


class DatabaseUnavailable(Exception):
    """The database cannot be reached now; the request may succeed later (HTTP 503)."""


def is_unavailable(exc: BaseException) -> bool:
    """True for errors that mean "database unreachable", as opposed to a bad statement."""
    if isinstance(exc, _LOCAL_FILE_ERRORS):
        return False  # a missing or unreadable local file (a CA bundle): retrying cannot help
    if isinstance(exc, DatabaseUnavailable | OSError | PoolTimeoutError | ConnectionError):
        return True
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    if isinstance(exc, OperationalError | InterfaceError):
        return True
    # asyncpg's "the database system is starting up / shutting down" errors.
    return type(exc).__name__ in {
        "CannotConnectNowError",
        "AdminShutdownError",
        "ConnectionDoesNotExistError",
    }


# SQLSTATEs with which the server refuses this client: the configuration is wrong, so
# retrying within the request cannot help, but it is an outage of the service (503), not a bug.
_REFUSALS = {
    "28P01": "authentication failed; check the user and password in database_url",
    "28000": "authentication failed; the server does not accept this user from here (pg_hba)",
    "3D000": "the database named in database_url does not exist",
}


def refusal(exc: BaseException) -> str | None:
    """Why the database server refused the connection (wrong password, no such database)."""
    for error in (exc, getattr(exc, "orig", None), exc.__cause__):
        reason = _REFUSALS.get(str(getattr(error, "sqlstate", None)))
        if reason is not None:
            return reason
    return None


def _ssl_context(mode: str, root_cert: str | None) -> ssl.SSLContext | bool | str:
    if mode == "disable":
        return False
    if mode in ("allow", "prefer"):
        return mode  # asyncpg understands libpq's opportunistic modes itself
    context = ssl.create_default_context(cafile=root_cert)
    if mode == "require":
        # libpq's "require" encrypts without checking who answers; verify-* is the safe choice.
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    elif mode == "verify-ca":
        context.check_hostname = False
    return context


def connect_args(settings: Settings, url: DatabaseURL) -> dict[str, Any]:
    """The driver arguments for this URL and these settings."""
    if url.backend == "sqlite":
        return {"timeout": settings.db_connect_timeout_seconds}
    args: dict[str, Any] = {
        "timeout": settings.db_connect_timeout_seconds,
        "server_settings": {"application_name": "backend"},
    }
    if not settings.db_prepared_statements:
        # A transaction-mode pooler hands each transaction to any server connection, where a
        # statement prepared earlier is unknown and a generated name may already be taken:
        # keep no cache on either layer and give every statement a unique name.
        args["statement_cache_size"] = 0
        args["prepared_statement_cache_size"] = 0
        args["prepared_statement_name_func"] = _unique_statement_name
    mode = settings.db_ssl_mode or url.ssl_mode
    root_cert = str(settings.db_ssl_root_cert) if settings.db_ssl_root_cert else url.ssl_root_cert
    if mode is not None:
        args["ssl"] = _ssl_context(mode, root_cert)
    return args


def _unique_statement_name() -> str:
    return f"__backend_{uuid.uuid4().hex}__"


# A pooled connection idle longer than this is checked before use. A busy pool is never
# pinged: SQLAlchemy's pre-ping costs four round trips per checkout with asyncpg (BEGIN, the
# ping's prepare and execute, ROLLBACK), more than the read itself (ADR 0017). The threshold
# is well under the idle timeouts that drop connections (poolers, NAT, serverless suspend).
IDLE_PING_SECONDS = 10.0


def _mark_idle(_dbapi_connection: Any, record: Any) -> None:
    record.info["idle_since"] = time.monotonic()


def _ping_if_idle(dbapi_connection: Any, record: Any, dialect: Any) -> None:
    idle_since = record.info.get("idle_since")
    if idle_since is None or time.monotonic() - idle_since < IDLE_PING_SECONDS:
        return
    try:
        alive = dialect.do_ping(dbapi_connection)
    except Exception:
        alive = False
    if not alive:
        # The pool replaces the connection and tries again (SQLAlchemy's disconnect handling).
        raise DisconnectionError("pooled connection went stale while idle")


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets readers run beside the writer; busy_timeout waits instead of failing on a lock.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def create_engine(settings: Settings) -> AsyncEngine:
    """An engine that connects lazily: creating it never blocks on, nor fails for, the database."""
    url = parse_database_url(settings.effective_database_url)
    if url.backend == "sqlite":
        Path(url.url.database or ".").parent.mkdir(parents=True, exist_ok=True)
    engine = create_async_engine(
        url.url,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        pool_timeout=settings.db_pool_timeout_seconds,
        pool_pre_ping=False,  # replaced by _ping_if_idle
        pool_recycle=1800,
        connect_args=connect_args(settings, url),
        hide_parameters=True,
    )
    if url.backend == "sqlite":
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
    dialect = engine.sync_engine.dialect

    def ping_if_idle(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        _ping_if_idle(dbapi_connection, record, dialect)

    event.listen(engine.sync_engine.pool, "checkin", _mark_idle)
    event.listen(engine.sync_engine.pool, "checkout", ping_if_idle)
    return engine


async def retry_read(operation: Callable[[], Awaitable[T]]) -> T:
    """Run an idempotent read, retrying with backoff while the database is unreachable.

    Writes are never retried here: a lost reply to a COMMIT leaves the outcome unknown,
    and replaying it could apply it twice.
    """
    for pause in (*READ_RETRY_PAUSES, None):
        try:
            return await operation()
        except Exception as exc:
            if pause is None or not is_unavailable(exc):
                raise
            log.warning("database unavailable, retrying read", extra={"retry_in_s": pause})
            await asyncio.sleep(pause)
    raise AssertionError("unreachable")  # pragma: no cover
