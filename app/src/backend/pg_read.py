"""The by-id read on PostgreSQL: asyncpg's fetchrow on an asyncpg pool of its own.

The hottest statement of the service. Through SQLAlchemy, the statement (cache lookup, result
processing) and then the pool checkout (a greenlet switch, an AsyncConnection, isolation-level
bookkeeping) each cost more CPU than the query (ADRs 0017, 0020). The SQL is still
SQLAlchemy's, compiled once from the table; the driver settings are the engine's own
(`db.connect_args`, pooler-safe by default, ADR 0005); every other statement stays on Core.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC
from typing import Any

import asyncpg  # type: ignore[import-untyped]  # no stubs
from sqlalchemy import bindparam, select
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncEngine

from backend.database_url import parse_database_url
from backend.db import IDLE_PING_SECONDS, DatabaseUnavailable, connect_args
from backend.settings import Settings
from backend.tables import notes


def by_id_sql(dialect: Dialect) -> str:
    """SQLAlchemy's SELECT of one note, compiled once for asyncpg (`... WHERE id = $1::UUID`)."""
    return str(select(notes).where(notes.c.id == bindparam("note_id")).compile(dialect=dialect))


# The connection is broken, or the server is ending it (57P01 and the rest of class 57), or
# asyncpg lost track of its protocol state (seen when the server ends a session mid-read).
_BROKEN = (
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.InternalClientError,
    asyncpg.exceptions.OperatorInterventionError,
    OSError,
)
# Options of SQLAlchemy's asyncpg adapter that asyncpg.connect itself does not take.
_ADAPTER_ONLY = frozenset({"prepared_statement_cache_size", "prepared_statement_name_func"})


async def _nothing_to_reset(_connection: Any) -> None:
    """A lone SELECT in autocommit leaves no session state behind.

    Without this hook asyncpg runs its reset query (RESET ALL, UNLISTEN, advisory unlock) on
    every release: one more round trip per read.
    """


class NoteReader:
    """Reads one note row by id; connects lazily, on the first read."""

    def __init__(
        self, connect: dict[str, Any], *, size: int, acquire_timeout: float, sql: str
    ) -> None:
        self.connect_options = connect
        self._size = size
        self._acquire_timeout = acquire_timeout
        self._sql = sql
        self._pool: Any = None
        self._creating = asyncio.Lock()
        # Reads queue here, first come first served, and only `size` of them reach the pool.
        # asyncpg's pool hands a released connection to whichever task asks next, so under
        # load a newly arrived read overtakes one that waited, and that one goes to the back
        # of the queue: measured, most reads waited nothing and 1 % waited 70-400 ms.
        self._turns = asyncio.Semaphore(size)

    async def _open_pool(self) -> Any:
        async with self._creating:
            if self._pool is None:
                self._pool = await asyncpg.create_pool(
                    **self.connect_options,
                    min_size=0,  # nothing connects before the first read
                    max_size=self._size,
                    # Where the engine's pool pings a connection idle this long (db.py), this
                    # one closes it: after a quiet spell a read connects afresh rather than
                    # finding a connection that a pooler, NAT or suspended compute dropped.
                    max_inactive_connection_lifetime=IDLE_PING_SECONDS,
                    reset=_nothing_to_reset,
                )
        return self._pool

    async def fetch(self, note_id: uuid.UUID) -> dict[str, Any] | None:
        """The note's row as a dict, or None; DatabaseUnavailable if no connection works."""
        pool = self._pool or await self._open_pool()
        try:
            async with asyncio.timeout(self._acquire_timeout):
                await self._turns.acquire()
        except TimeoutError as exc:
            raise DatabaseUnavailable("no database connection within the pool timeout") from exc
        try:
            async with pool.acquire(timeout=self._acquire_timeout) as connection:
                try:
                    record = await connection.fetchrow(self._sql, note_id)
                except BaseException:
                    # Whatever failed (a cancelled request too), this connection's state is
                    # in doubt: it leaves the pool rather than serve the next read.
                    connection.terminate()
                    raise
        except TimeoutError as exc:
            raise DatabaseUnavailable("no database connection within the pool timeout") from exc
        except _BROKEN as exc:
            # One connection broke (a restart, a failover): the others are likely gone too,
            # so each is replaced at its next use instead of failing a request each.
            await pool.expire_connections()
            raise DatabaseUnavailable(type(exc).__name__) from exc
        finally:
            self._turns.release()
        if record is None:
            return None
        row = dict(record)
        if isinstance(row["tags"], str):  # json arrives as text: no codec on these connections
            row["tags"] = json.loads(row["tags"])
        for column in ("created_at", "updated_at"):
            row[column] = row[column].astimezone(UTC)
        return row

    def stats(self) -> tuple[int, int, int]:
        """(pool size, connections in use, idle connections), all 0 before the first read."""
        if self._pool is None:
            return self._size, 0, 0
        idle = self._pool.get_idle_size()
        return self._size, self._pool.get_size() - idle, idle

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()


def create_note_reader(engine: AsyncEngine, settings: Settings) -> NoteReader | None:
    """The reader for a PostgreSQL engine, with the engine's connection settings; else None."""
    if engine.dialect.name != "postgresql":
        return None
    _, params = engine.dialect.create_connect_args(engine.url)
    url = parse_database_url(settings.effective_database_url)
    driver = {k: v for k, v in connect_args(settings, url).items() if k not in _ADAPTER_ONLY}
    return NoteReader(
        {**params, **driver},
        size=settings.db_pool_size,
        acquire_timeout=settings.db_pool_timeout_seconds,
        sql=by_id_sql(engine.dialect),
    )
