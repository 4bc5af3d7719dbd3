"""Secrets: no part of a password reaches a log line, a response or an error, whatever it holds."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.tests.support import (
    PG_PASSWORD,
    PostgresServer,
    backend_env,
    free_port,
    output_until,
    run_backend,
    running,
)
from backend import database_url
from backend.database_url import DatabaseURLError, parse_database_url

pytestmark = pytest.mark.slow

# Passwords as operators paste them: every printable ASCII character, unencoded.
PASSWORDS = st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1, max_size=40)
HOSTILE = [
    "pa@ss@word",
    "a:b/c#d%e?f",
    "%40%zz@@",
    "p@ss/host:5432/db?sslmode=disable",
    "@",
    "::::",
]


def fragments(secret: str, size: int = 6) -> set[str]:
    """Every piece of `secret` long enough to be recognisable in a log."""
    return {secret[i : i + size] for i in range(max(1, len(secret) - size + 1))}


def leaked(secret: str, text: str) -> set[str]:
    return {piece for piece in fragments(secret) if piece in text}


# The parser's own words: a password that happens to contain "postgr" is not leaked by a
# message that shows the example URL `postgresql://...`.
PARSER_TEXT = Path(database_url.__file__).read_text(encoding="utf-8")


@settings(max_examples=300, deadline=None)
@given(password=PASSWORDS)
def test_any_password_is_masked_whole(password: str) -> None:
    url = parse_database_url(f"postgresql://app:{password}@db.example.internal:5432/app")
    assert url.redacted == "postgresql+asyncpg://app:***@db.example.internal:5432/app"
    assert url.url.host == "db.example.internal"


@settings(max_examples=300, deadline=None)
@given(password=PASSWORDS, tail=st.sampled_from(["", ":99999", ":port", "/x?pool=1", "?a=b"]))
def test_errors_about_a_url_never_echo_the_password(password: str, tail: str) -> None:
    # Hosts and ports that cannot be used, and a URL without a host: refused, and the
    # message says what is wrong without quoting any part of the credentials.
    for raw in (f"postgresql://app:{password}@{tail}", f"postgresql://app:{password}{tail}"):
        try:
            parse_database_url(raw)
        except DatabaseURLError as exc:
            assert "\n" not in str(exc)
            if len(password) >= 6:
                echoed = leaked(password, str(exc)) - leaked(password, PARSER_TEXT)
                assert not echoed, str(exc)


@pytest.mark.parametrize("password", HOSTILE)
def test_hostile_password_is_used_whole(password: str) -> None:
    url = parse_database_url(f"postgresql://app:{password}@db:5432/app?sslmode=require")
    assert url.url.host == "db" and url.url.port == 5432 and url.url.database == "app"
    assert url.ssl_mode == "require"
    assert url.redacted == "postgresql+asyncpg://app:***@db:5432/app"


@pytest.mark.parametrize("password", HOSTILE)
def test_serve_start_line_and_errors_hide_a_hostile_password(password: str, tmp_path: Path) -> None:
    secret = f"{password}-{uuid.uuid4().hex[:8]}"
    closed_port = free_port()
    env = backend_env(
        database_url=f"postgresql://app:{secret}@127.0.0.1:{closed_port}/app?sslmode=disable",
        drain_delay_seconds="0",
        db_connect_timeout_seconds="1",
        log_level="debug",
    )
    with (
        running(env, tmp_path / "server.log") as server,
        httpx.Client(base_url=server.base_url, timeout=10) as client,
    ):
        # The list runs on SQLAlchemy's pool, the read by id and the create on asyncpg's own.
        paths = ("/readyz", "/api/v1/notes", f"/api/v1/notes/{uuid.uuid4()}", "/api/info")
        bodies = [client.get(path).text for path in paths]
        bodies.append(client.post("/api/v1/notes", json={"title": "t"}).text)
    assert server.process.returncode == 0
    log = server.output()
    assert f"postgresql+asyncpg://app:***@127.0.0.1:{closed_port}/app" in log
    assert "retrying read" in log
    assert not leaked(secret, log + "".join(bodies))


@pytest.mark.parametrize("password", HOSTILE[:2])
def test_migrate_retry_lines_hide_a_hostile_password(password: str) -> None:
    secret = f"{password}-{uuid.uuid4().hex[:8]}"
    port = free_port()
    url = f"postgresql://app:{secret}@127.0.0.1:{port}/app?sslmode=disable"
    env = backend_env(database_url=url, db_connect_timeout_seconds="1")
    # migrate retries for a minute; its first two retry lines are enough to read.
    output = output_until("migrate", env, "retrying", count=2)
    retries = [json.loads(line) for line in output.splitlines() if "retrying" in line]
    assert len(retries) == 2, output
    assert {r["database"] for r in retries} == {
        f"postgresql+asyncpg://app:***@127.0.0.1:{port}/app"
    }
    assert not leaked(secret, output)


def _config_error(env: dict[str, str], command: str = "serve") -> str:
    result = run_backend(command, env, timeout=30)
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    return lines[0]


@pytest.mark.parametrize("command", ["serve", "migrate"])
def test_secret_file_with_a_second_line_is_refused_without_echo(
    tmp_path: Path, command: str
) -> None:
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    (secrets / "database_url").write_text("postgresql://app:first@db/app\nsecond-line-secret\n")
    line = _config_error(backend_env(secrets_dir=str(secrets)), command)
    assert line == (
        f"backend: invalid configuration: BACKEND_DATABASE_URL: {secrets / 'database_url'} "
        "has more than one line; a secret file holds the value on one line"
    )


def test_secret_file_that_is_not_utf8_is_refused_without_echo(tmp_path: Path) -> None:
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    (secrets / "database_url").write_bytes(b"postgresql://app:Zq\xff\xfeXy7Kw@db/app\n")
    line = _config_error(backend_env(secrets_dir=str(secrets)))
    assert line.endswith("is not UTF-8 text; write the value as UTF-8")
    assert "Zq" not in line and "Xy7Kw" not in line


def test_secret_file_that_is_a_directory_is_refused(tmp_path: Path) -> None:
    secrets = tmp_path / "secrets"
    (secrets / "database_url").mkdir(parents=True)
    line = _config_error(backend_env(secrets_dir=str(secrets), data_dir=str(tmp_path / "data")))
    assert "database_url is a directory, not a file" in line
    assert not (tmp_path / "data").exists()  # no silent fallback to SQLite


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("sqlite://app:sqlite-secret@/x.db", "a SQLite URL takes no user, password, host"),
        ("postgresql://app:pw-secret@db:65536/app", "the port must be a number from 1 to 65535"),
        ("postgresql://app:pw-secret@db:0/app", "the port must be a number from 1 to 65535"),
        ("postgresql://app:pw-secret\n@db/app", "contains a line break"),
    ],
)
def test_unusable_url_is_one_line_and_exit_2(url: str, expected: str) -> None:
    line = _config_error(backend_env(database_url=url))
    assert expected in line
    assert "secret" not in line


def test_sqlite_url_naming_a_directory_is_refused(tmp_path: Path) -> None:
    line = _config_error(backend_env(database_url=f"sqlite:///{tmp_path}"))
    assert f"SQLite path {tmp_path} is a directory" in line


@pytest.mark.postgres
def test_wrong_database_password_is_503_with_the_reason(
    postgres: PostgresServer, postgres_url: str, tmp_path: Path
) -> None:
    wrong = f"wrong-{uuid.uuid4().hex}"
    env = backend_env(
        database_url=postgres_url.replace(PG_PASSWORD, wrong),
        drain_delay_seconds="0",
        readiness_cache_seconds="0",
    )
    with (
        running(env, tmp_path / "server.log") as server,
        httpx.Client(base_url=server.base_url, timeout=10) as client,
    ):
        ready = client.get("/readyz")
        reads = [client.get("/api/v1/notes") for _ in range(3)]
        reads.append(client.get(f"/api/v1/notes/{uuid.uuid4()}"))  # asyncpg's own pool
        write = client.post("/api/v1/notes", json={"title": "t"})
    assert server.process.returncode == 0
    assert ready.status_code == 503
    assert ready.json()["reason"] == (
        "database refused the connection: authentication failed; "
        "check the user and password in database_url"
    )
    for response in (*reads, write):
        assert response.status_code == 503
        assert response.headers["content-type"] == "application/problem+json"
        assert response.headers["retry-after"] == "2"
        assert "refused this service's connection" in response.json()["detail"]
    log = server.output()
    assert "Traceback" not in log and '"exception"' not in log
    refusals = [line for line in log.splitlines() if "database refused the connection" in line]
    assert len(refusals) == 5  # one line per failed request, not one per retry or a traceback
    assert wrong not in log and PG_PASSWORD not in log
