"""Readiness: the database answers, its schema is at the head revision, and no drain is on."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from backend.db import is_unavailable, refusal


@dataclass(frozen=True)
class Readiness:
    """The outcome of one check; `reason` says what is missing when not ready."""

    ready: bool
    reason: str | None = None
    revision: str | None = None


class ReadinessProbe:
    """Checks the database at most once per `cache_seconds`, however often probes arrive.

    Probes from the kubelet, a load balancer and Prometheus add up; against a serverless
    database that scales to zero, each query would also keep it awake and billed.
    """

    def __init__(
        self, engine: AsyncEngine, head: str, *, cache_seconds: float, timeout_seconds: float
    ) -> None:
        self._engine = engine
        self._head = head
        self._cache_seconds = cache_seconds
        self._timeout = timeout_seconds
        self._last: tuple[float, Readiness] | None = None
        self._lock = asyncio.Lock()
        self.draining = False

    async def check(self) -> Readiness:
        if self.draining:
            return Readiness(False, "shutting down")
        async with self._lock:  # concurrent probes wait for one query instead of each running one
            now = time.monotonic()
            if self._last is not None and now - self._last[0] < self._cache_seconds:
                return self._last[1]
            result = await self._query()
            self._last = (time.monotonic(), result)
            return result

    async def _query(self) -> Readiness:
        try:
            async with asyncio.timeout(self._timeout), self._engine.connect() as conn:
                revision = await conn.scalar(text("SELECT version_num FROM alembic_version"))
        except TimeoutError:
            return Readiness(False, f"database did not answer within {self._timeout:g} s")
        except DBAPIError as exc:
            if (refused := refusal(exc)) is not None:
                return Readiness(False, f"database refused the connection: {refused}")
            if is_unavailable(exc) and "alembic_version" not in str(exc.orig):
                return Readiness(False, f"database unreachable ({type(exc.orig).__name__})")
            return Readiness(False, "database schema missing; run `backend migrate`")
        except Exception as exc:
            if is_unavailable(exc):
                return Readiness(False, f"database unreachable ({type(exc).__name__})")
            raise
        if revision != self._head:
            return Readiness(
                False,
                f"database schema at revision {revision}, expected {self._head}; "
                "run `backend migrate`",
                revision,
            )
        return Readiness(True, None, revision)
