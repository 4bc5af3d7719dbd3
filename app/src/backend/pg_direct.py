"""The hottest statements on PostgreSQL, on an asyncpg pool of their own (ADR 0020).

Through SQLAlchemy, the statement (cache lookup, result processing) and the pool checkout (a
greenlet switch, an `AsyncConnection`, isolation-level bookkeeping) each cost more CPU than the
query itself (ADRs 0017, 0020). The read by id (pg_read.py) and the create (pg_create.py) run
here; every other statement, and SQLite, stays on SQLAlchemy Core. The driver options are the
engine's own (`db.connect_args`, pooler-safe by default, ADR 0005).
"""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg  # type: ignore[import-untyped]  # no stubs
from sqlalchemy.ext.asyncio import AsyncEngine

from backend.database_url import parse_database_url
from backend.db import IDLE_PING_SECONDS, DatabaseUnavailable, connect_args
from backend.settings import Settings

# The connection is broken, or the server is ending it (57P01 and the rest of class 57), or
# asyncpg lost track of its protocol state (seen when the server ends a session mid-read).
_BROKEN = (
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.InternalClientError,
    asyncpg.exceptions.OperatorInterventionError,
    OSError,
)
# The server has stopped taking requests when the pool closes; anything still running by then
# is cut off rather than hold up the process's exit.
CLOSE_TIMEOUT_SECONDS = 5.0
# Options of SQLAlchemy's asyncpg adapter that asyncpg.connect itself does not take.
_ADAPTER_ONLY = frozenset({"prepared_statement_cache_size", "prepared_statement_name_func"})


async def _nothing_to_reset(_connection: Any) -> None:
    """A lone statement in autocommit leaves no session state behind.

    Without this hook asyncpg runs its reset query (RESET ALL, UNLISTEN, advisory unlock) on
    every release: one more round trip per request.
    """


class DirectPool:
    """asyncpg connections taken in arrival order; nothing connects before the first use."""

    def __init__(self, connect: dict[str, Any], *, size: int, acquire_timeout: float) -> None:
        self.connect_options = connect
        self._size = size
        self._acquire_timeout = acquire_timeout
        self._pool: Any = None
        self._creating = asyncio.Lock()
        # Requests queue here, first come first served, and only `size` of them reach the
        # pool. asyncpg's pool hands a released connection to whichever task asks next, so
        # under load a newly arrived request overtakes one that waited, and that one goes to
        # the back of the queue: measured, most reads waited nothing and 1 % waited 70-400 ms.
        self._turns = asyncio.Semaphore(size)

    async def _open_pool(self) -> Any:
        async with self._creating:
            if self._pool is None:
                self._pool = await asyncpg.create_pool(
                    **self.connect_options,
                    min_size=0,
                    max_size=self._size,
                    # Where the engine's pool pings a connection idle this long (db.py), this
                    # one closes it: after a quiet spell a request connects afresh rather than
                    # finding a connection that a pooler, NAT or suspended compute dropped.
                    max_inactive_connection_lifetime=IDLE_PING_SECONDS,
                    reset=_nothing_to_reset,
                )
        return self._pool

    async def fetchrow(self, sql: str, *args: Any) -> Any:
        """asyncpg's `fetchrow`; DatabaseUnavailable if no connection works in time."""
        return await self._run("fetchrow", sql, args)

    async def execute(self, sql: str, *args: Any) -> Any:
        """asyncpg's `execute`; DatabaseUnavailable if no connection works in time."""
        return await self._run("execute", sql, args)

    async def _run(self, method: str, sql: str, args: tuple[Any, ...]) -> Any:
        pool = self._pool or await self._open_pool()
        try:
            async with asyncio.timeout(self._acquire_timeout):
                await self._turns.acquire()
        except TimeoutError as exc:
            raise DatabaseUnavailable("no database connection within the pool timeout") from exc
        try:
            async with pool.acquire(timeout=self._acquire_timeout) as connection:
                try:
                    return await getattr(connection, method)(sql, *args)
                except BaseException:
                    # Whatever failed (a cancelled request too), this connection's state is
                    # in doubt: it leaves the pool rather than serve the next request.
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

    def stats(self) -> tuple[int, int, int]:
        """(pool size, connections in use, idle connections), all 0 before the first use."""
        if self._pool is None:
            return self._size, 0, 0
        idle = self._pool.get_idle_size()
        return self._size, self._pool.get_size() - idle, idle

    async def close(self, grace_seconds: float = CLOSE_TIMEOUT_SECONDS) -> None:
        """Close the connections once released; after `grace_seconds`, close them anyway."""
        if self._pool is None:
            return
        try:
            await asyncio.wait_for(self._pool.close(), grace_seconds)
        except TimeoutError:
            self._pool.terminate()  # a statement still running: shutdown must not hang on it


def create_direct_pool(engine: AsyncEngine, settings: Settings) -> DirectPool | None:
    """The pool for a PostgreSQL engine, with the engine's connection settings; else None."""
    if engine.dialect.name != "postgresql":
        return None
    _, params = engine.dialect.create_connect_args(engine.url)
    url = parse_database_url(settings.effective_database_url)
    driver = {k: v for k, v in connect_args(settings, url).items() if k not in _ADAPTER_ONLY}
    return DirectPool(
        {**params, **driver},
        size=settings.db_pool_size,
        acquire_timeout=settings.db_pool_timeout_seconds,
    )
