"""Turn the operator's database URL (libpq style, as Neon or RDS print it) into driver options.

The URL is split by hand, not by SQLAlchemy's `make_url`: operators paste passwords with
unencoded `@`, `:`, `/`, `#` or `%`, and a regular expression that stops at the first `@`
puts the rest of the password into the host, where it reaches every log line. Here the
credentials run to the *last* `@`, so whatever a password contains, it is never outside the
part that is masked. An `@` in the database name or query must be written `%40`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from urllib.parse import parse_qsl, unquote

from sqlalchemy.engine import URL

# libpq query parameters that the asyncpg path understands through connect_args.
_CONSUMED = frozenset({"sslmode", "sslrootcert"})
# libpq parameters that asyncpg does on its own (SCRAM channel binding) or that settings cover.
_IGNORED = frozenset({"channel_binding", "connect_timeout", "application_name"})
_SSL_MODES = frozenset({"disable", "allow", "prefer", "require", "verify-ca", "verify-full"})
_POSTGRES_SCHEMES = frozenset({"postgres", "postgresql", "postgresql+asyncpg"})
_SQLITE_SCHEMES = frozenset({"sqlite", "sqlite+aiosqlite"})
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]{0,30})://")
_HOST = re.compile(r"^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+)$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_EXAMPLE = (
    "expected e.g. postgresql://user:password@host:5432/dbname "
    "or sqlite+aiosqlite:///path/to/file.db"
)


class DatabaseURLError(ValueError):
    """The URL cannot be used; the message never contains any part of the credentials."""


@dataclass(frozen=True)
class DatabaseURL:
    """A parsed URL: the async-driver URL for SQLAlchemy plus the TLS options taken out of it."""

    url: URL
    backend: Literal["sqlite", "postgresql"]
    ssl_mode: str | None
    ssl_root_cert: str | None

    @property
    def redacted(self) -> str:
        """The URL with `***` for the whole password, safe to log."""
        return self.url.render_as_string(hide_password=True)


def parse_database_url(raw: str) -> DatabaseURL:
    """Accept postgres://, postgresql://, postgresql+asyncpg:// and sqlite[+aiosqlite]:// URLs."""
    raw = raw.strip()
    if _CONTROL.search(raw):
        # Typically a secret file with a second line; saying where would echo the secret.
        raise DatabaseURLError("contains a line break or control character; give one line")
    scheme_match = _SCHEME.match(raw)
    if scheme_match is None:
        raise DatabaseURLError(f"is not a URL; {_EXAMPLE}")
    scheme = scheme_match.group(1).lower()
    rest = raw[scheme_match.end() :]
    if scheme in _SQLITE_SCHEMES:
        return _sqlite(rest)
    if scheme not in _POSTGRES_SCHEMES:
        raise DatabaseURLError(
            f"unsupported scheme {scheme!r}; use postgresql:// (asyncpg) or sqlite+aiosqlite://"
        )
    return _postgresql(rest)


def _sqlite(rest: str) -> DatabaseURL:
    # sqlite:///relative.db and sqlite:////absolute/path.db: nothing between // and /.
    if rest and not rest.startswith("/"):
        raise DatabaseURLError(
            "a SQLite URL takes no user, password, host or port; use sqlite+aiosqlite:///path"
        )
    path, _, query = rest[1:].partition("?")
    if query:
        raise DatabaseURLError("a SQLite URL takes no query parameters")
    if not path or path == ":memory:":
        raise DatabaseURLError(
            "SQLite needs a file path (an in-memory database is private to one connection)"
        )
    if Path(path).is_dir():
        raise DatabaseURLError(f"SQLite path {path} is a directory; name a file in it")
    return DatabaseURL(URL.create("sqlite+aiosqlite", database=path), "sqlite", None, None)


def _postgresql(rest: str) -> DatabaseURL:
    credentials, at, location = rest.rpartition("@")
    username = password = None
    if at:
        user_part, colon, password_part = credentials.partition(":")
        username = unquote(user_part) or None
        password = unquote(password_part) if colon else None
    hostport, slash, path_query = location.partition("/")
    if not slash:
        hostport, _, query = hostport.partition("?")
        database = ""
    else:
        path, _, query = path_query.partition("?")
        database = unquote(path)
    host, port = _host_port(hostport)
    # Without an @, a password typed without a host may have landed in the query: name nothing.
    params = _query(query, echo=bool(at))
    ssl_mode = params.pop("sslmode", None)
    if ssl_mode is not None and ssl_mode not in _SSL_MODES:
        shown = f"sslmode={ssl_mode!r}" if at else "sslmode"
        raise DatabaseURLError(f"{shown} is not one of {', '.join(sorted(_SSL_MODES))}")
    ssl_root_cert = params.pop("sslrootcert", None)
    url = URL.create(
        "postgresql+asyncpg",
        username=username,
        password=password,
        host=host,
        port=port,
        database=database or None,
    )
    return DatabaseURL(url, "postgresql", ssl_mode, ssl_root_cert)


def _host_port(hostport: str) -> tuple[str, int | None]:
    if hostport.startswith("["):  # an IPv6 literal: [::1]:5432
        end = hostport.find("]") + 1
        host, port_text = hostport[:end], hostport[end:].removeprefix(":")
        if end == 0 or (port_text == "" and hostport[end:] not in ("", ":")):
            host, port_text = "", ""
    else:
        host, _, port_text = hostport.partition(":")
    if not host:
        raise DatabaseURLError("a PostgreSQL URL needs a host, e.g. postgresql://user@host/db")
    if not _HOST.match(host):
        # Never echoed: with a malformed URL, a password could have ended up here.
        raise DatabaseURLError(
            "the host is not a host name or address; percent-encode special characters "
            "in the user name, and an @ in the database name or query as %40"
        )
    if not port_text:
        return host.strip("[]"), None
    if not port_text.isdigit() or not 1 <= int(port_text) <= 65535:
        raise DatabaseURLError("the port must be a number from 1 to 65535")
    return host.strip("[]"), int(port_text)


def _query(query: str, *, echo: bool) -> dict[str, str]:
    params: dict[str, str] = {}
    try:
        pairs = parse_qsl(query, keep_blank_values=True, strict_parsing=bool(query))
    except ValueError:
        raise DatabaseURLError("the query string is not key=value pairs joined by &") from None
    for key, value in pairs:
        if key in params:
            shown = f" {key}" if echo else ""
            raise DatabaseURLError(f"query parameter{shown} is given more than once")
        params[key] = value
    unknown = sorted(set(params) - _CONSUMED - _IGNORED)
    if unknown:
        shown = f" {', '.join(unknown)}" if echo else ""
        raise DatabaseURLError(
            f"unsupported query parameter(s){shown}; "
            f"supported: {', '.join(sorted(_CONSUMED | _IGNORED))}"
        )
    return {k: v for k, v in params.items() if k in _CONSUMED}
