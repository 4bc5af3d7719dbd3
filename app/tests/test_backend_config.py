"""Configuration: each invalid setting stops `backend` with exit code 2 and one line naming it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from pydantic import SecretStr

from app.tests.support import backend_env, run_backend
from backend.database_url import DatabaseURLError, parse_database_url
from backend.db import is_unavailable
from backend.settings import Settings, load_settings

pytestmark = pytest.mark.slow

SECRET = "s3cr3t-in-url"

INVALID = [
    ("PORT", "70000", "less than or equal to 65535"),
    ("PORT", "http", "valid integer"),
    ("PORT", "tcp://10.96.0.12:8000", "enableServiceLinks: false"),
    ("HOST", " ", "address to listen on"),
    ("LOG_LEVEL", "loud", "'debug', 'info', 'warning', 'error' or 'critical'"),
    ("ACCESS_LOG_PROBES", "perhaps", "valid boolean"),
    ("DRAIN_DELAY_SECONDS", "-1", "greater than or equal to 0"),
    ("SHUTDOWN_TIMEOUT_SECONDS", "1000", "less than or equal to 300"),
    ("DB_POOL_SIZE", "0", "greater than or equal to 1"),
    ("DB_MAX_OVERFLOW", "-2", "greater than or equal to 0"),
    ("DB_CONNECT_TIMEOUT_SECONDS", "0", "greater than 0"),
    ("DB_SSL_MODE", "maybe", "'verify-full'"),
    ("DB_SSL_ROOT_CERT", "/no/such/ca.pem", "not a readable file"),
    ("MAX_BODY_BYTES", "10", "greater than or equal to 1024"),
    ("DATABASE_URL", f"mysql://u:{SECRET}@db/x", "unsupported scheme 'mysql'"),
    ("DATABASE_URL", f"postgresql://u:{SECRET}@db/x?sslmode=sometimes", "sslmode='sometimes'"),
    ("DATABASE_URL", f"postgresql://u:{SECRET}@db/x?pool=9", "unsupported query parameter(s) pool"),
    ("DATABASE_URL", "sqlite+aiosqlite://", "SQLite needs a file path"),
    (
        "DATABASE_URL",
        f"postgresql://u:{SECRET}@db/x?sslmode=verify-full&sslrootcert=/missing.pem",
        "sslrootcert=/missing.pem is not a readable file",
    ),
    ("DATABASE_URL", "not a url at all", "is not a URL"),
    ("DATABASE_URL", f"postgresql://u:{SECRET}@db:port/x", "port must be a number from 1 to 65535"),
]


@pytest.mark.parametrize(
    ("command", "name", "value", "expected"),
    [("serve", *case) for case in INVALID]
    + [("migrate", *case) for case in INVALID if case[0] in ("DATABASE_URL", "DB_SSL_MODE")],
)
def test_invalid_setting_exits_2_with_one_line(
    command: str, name: str, value: str, expected: str
) -> None:
    result = run_backend(command, backend_env(**{name: value}), timeout=30)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"backend: invalid configuration: BACKEND_{name}: ")
    assert expected in lines[0]
    assert SECRET not in result.stderr + result.stdout
    assert result.stdout == ""


def test_secret_file_fills_database_url_but_nothing_else(tmp_path: Path) -> None:
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    (secrets / "database_url").write_text(f"mysql://u:{SECRET}@db/x\n")
    (secrets / "port").write_text("not-a-port")  # ignored: only secret fields come from here
    result = run_backend("migrate", backend_env(secrets_dir=str(secrets)), timeout=30)
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "backend: invalid configuration: BACKEND_DATABASE_URL: unsupported scheme 'mysql'; "
        "use postgresql:// (asyncpg) or sqlite+aiosqlite://"
    )
    assert SECRET not in result.stderr


def test_secrets_dir_that_is_a_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "file"
    path.write_text("")
    result = run_backend("serve", backend_env(secrets_dir=str(path)), timeout=30)
    assert result.returncode == 2
    assert result.stderr.strip().endswith(
        f"BACKEND_SECRETS_DIR: {path} exists but is not a directory"
    )


def test_migrate_is_idempotent_and_secret_file_url_works(tmp_path: Path) -> None:
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    (secrets / "database_url").write_text(f"sqlite:///{tmp_path / 'db' / 'x.db'}\n")
    env = backend_env(secrets_dir=str(secrets), data_dir=str(tmp_path / "unused"))
    first = run_backend("migrate", env)
    assert first.returncode == 0, first.stdout + first.stderr
    assert "Running upgrade  -> 0001" in first.stdout
    second = run_backend("migrate", env)
    assert second.returncode == 0
    assert "Running upgrade" not in second.stdout
    assert '"message": "database at head", "revision": "0001"' in second.stdout
    assert (tmp_path / "db" / "x.db").exists()
    assert not (tmp_path / "unused").exists()


def test_help_lists_both_commands() -> None:
    result = run_backend("--help", backend_env())
    assert result.returncode == 0
    assert "serve" in result.stdout and "migrate" in result.stdout


@pytest.mark.parametrize(
    ("raw", "ssl_mode", "rendered"),
    [
        (
            "postgres://u:p@h:5432/d?sslmode=require&channel_binding=require",
            "require",
            "postgresql+asyncpg://u:***@h:5432/d",
        ),
        ("postgresql+asyncpg://u@h/d", None, "postgresql+asyncpg://u@h/d"),
        ("sqlite:///x.db", None, "sqlite+aiosqlite:///x.db"),
    ],
)
def test_database_url_normalised(raw: str, ssl_mode: str | None, rendered: str) -> None:
    url = parse_database_url(raw)
    assert url.ssl_mode == ssl_mode
    assert url.redacted == rendered


def test_database_url_errors_never_contain_the_password() -> None:
    with pytest.raises(DatabaseURLError) as info:
        parse_database_url("postgresql://u:hunter2@/d")
    assert "hunter2" not in str(info.value)


def test_environment_wins_over_secret_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    (secrets / "database_url").write_text("postgresql://file:pw@db/x\n")
    for name in [k for k in os.environ if k.startswith("BACKEND_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("BACKEND_SECRETS_DIR", str(secrets))
    assert load_settings().effective_database_url == "postgresql://file:pw@db/x"
    monkeypatch.setenv("BACKEND_DATABASE_URL", "sqlite:///from-env.db")
    assert load_settings().effective_database_url == "sqlite:///from-env.db"


def test_url_sslrootcert_must_exist_unless_the_setting_replaces_it(tmp_path: Path) -> None:
    ca = tmp_path / "ca.pem"
    ca.write_text("not checked here")
    url = "postgresql://u@db/x?sslmode=verify-full&sslrootcert={}"
    settings = Settings(database_url=SecretStr(url.format(ca)))
    assert settings.effective_database_url.endswith(str(ca))
    with pytest.raises(ValueError, match=r"sslrootcert=/missing\.pem is not a readable file"):
        Settings(database_url=SecretStr(url.format("/missing.pem")))
    # BACKEND_DB_SSL_ROOT_CERT wins over the URL's sslrootcert, which is then not read.
    Settings(database_url=SecretStr(url.format("/missing.pem")), db_ssl_root_cert=ca)


@pytest.mark.parametrize(
    ("error", "retry"),
    [
        (FileNotFoundError(2, "No such file or directory", "/missing.pem"), False),
        (PermissionError(13, "Permission denied", "/ca.pem"), False),
        (ConnectionRefusedError(111, "Connection refused"), True),
        (TimeoutError(), True),
        (OSError(101, "Network is unreachable"), True),
    ],
)
def test_local_file_errors_are_not_database_outages(error: OSError, retry: bool) -> None:
    assert is_unavailable(error) is retry
