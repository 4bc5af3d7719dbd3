"""Turn the operator's database URL (libpq style, as Neon or RDS print it) into driver options."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

# libpq query parameters that the asyncpg path understands through connect_args.
_CONSUMED = frozenset({"sslmode", "sslrootcert"})
# libpq parameters that asyncpg does on its own (SCRAM channel binding) or that settings cover.
_IGNORED = frozenset({"channel_binding", "connect_timeout", "application_name"})
_SSL_MODES = frozenset({"disable", "allow", "prefer", "require", "verify-ca", "verify-full"})


class DatabaseURLError(ValueError):
    """The URL cannot be used; the message never contains the password."""


@dataclass(frozen=True)
class DatabaseURL:
    """A parsed URL: the async-driver URL for SQLAlchemy plus the TLS options taken out of it."""

    url: URL
    backend: Literal["sqlite", "postgresql"]
    ssl_mode: str | None
    ssl_root_cert: str | None

    @property
    def redacted(self) -> str:
        """The URL without its password, safe to log."""
        return self.url.render_as_string(hide_password=True)


def parse_database_url(raw: str) -> DatabaseURL:
    """Accept postgres://, postgresql://, postgresql+asyncpg:// and sqlite[+aiosqlite]:// URLs."""
    try:
        url = make_url(raw.strip())
    except (ArgumentError, ValueError):  # ValueError: a port that is not a number
        raise DatabaseURLError(
            "is not a URL; expected e.g. postgresql://user:password@host:5432/dbname "
            "or sqlite+aiosqlite:///path/to/file.db"
        ) from None
    driver = url.drivername
    if driver in ("sqlite", "sqlite+aiosqlite"):
        if not url.database or url.database == ":memory:":
            raise DatabaseURLError(
                "SQLite needs a file path (an in-memory database is private to one connection)"
            )
        return DatabaseURL(url.set(drivername="sqlite+aiosqlite"), "sqlite", None, None)
    if driver not in ("postgres", "postgresql", "postgresql+asyncpg"):
        raise DatabaseURLError(
            f"unsupported scheme {driver!r}; use postgresql:// (asyncpg) or sqlite+aiosqlite://"
        )
    if not url.host:
        raise DatabaseURLError("a PostgreSQL URL needs a host, e.g. postgresql://user@host/db")
    unknown = sorted(set(url.query) - _CONSUMED - _IGNORED)
    if unknown:
        raise DatabaseURLError(
            f"unsupported query parameter(s) {', '.join(unknown)}; "
            f"supported: {', '.join(sorted(_CONSUMED | _IGNORED))}"
        )
    ssl_mode = _single(url, "sslmode")
    if ssl_mode is not None and ssl_mode not in _SSL_MODES:
        raise DatabaseURLError(
            f"sslmode={ssl_mode!r} is not one of {', '.join(sorted(_SSL_MODES))}"
        )
    ssl_root_cert = _single(url, "sslrootcert")
    clean = url.set(drivername="postgresql+asyncpg", query={})
    return DatabaseURL(clean, "postgresql", ssl_mode, ssl_root_cert)


def _single(url: URL, key: str) -> str | None:
    value = url.query.get(key)
    if isinstance(value, tuple):
        raise DatabaseURLError(f"query parameter {key} is given more than once")
    return value
