"""The backend's PostgreSQL for the local cluster: Debian's server, on the node's bridge address.

A stand-in for the serverless Postgres the backend uses in production: it lives outside the
cluster (as Neon or Aurora would), reached by the pods over the network, with a password.
"""

from __future__ import annotations

import secrets
import shutil
import subprocess
from pathlib import Path

from e2e.localcluster import processes, settings
from e2e.localcluster.settings import Paths

PG_BIN = Path("/usr/lib/postgresql/15/bin")
DATABASE = "backend"
ROLE = "backend"


def start(paths: Paths) -> str:
    """Initialise and start PostgreSQL; return the backend's database URL (also saved, 0600)."""
    if not (PG_BIN / "initdb").exists():
        raise RuntimeError(
            f"PostgreSQL 15 is not installed ({PG_BIN}) — apt-get install postgresql-15"
        )
    data, run = paths.state / "postgres" / "data", paths.state / "postgres" / "run"
    for folder in (data, run):
        folder.mkdir(parents=True, exist_ok=True)
        shutil.chown(folder, "postgres", "postgres")
    data.chmod(0o700)
    password = secrets.token_urlsafe(18)
    pwfile = paths.state / "postgres" / "pw"
    pwfile.write_text(password + "\n")
    shutil.chown(pwfile, "postgres", "postgres")
    _as_postgres(
        [
            str(PG_BIN / "initdb"),
            "-D",
            str(data),
            "-U",
            "postgres",
            "--auth-local=trust",
            "--auth-host=scram-sha-256",
            "-E",
            "UTF8",
            "--locale=C.UTF-8",
        ]
    )
    with (data / "pg_hba.conf").open("a") as hba:
        hba.write(f"host {DATABASE} {ROLE} {settings.POD_CIDR} scram-sha-256\n")
        hba.write(f"host {DATABASE} {ROLE} {settings.NODE_IP}/32 scram-sha-256\n")
    process = processes.start(
        paths,
        "postgres",
        [
            str(PG_BIN / "postgres"),
            "-D",
            str(data),
            "-c",
            f"listen_addresses={settings.NODE_IP}",
            "-c",
            f"port={settings.POSTGRES_PORT}",
            "-c",
            f"unix_socket_directories={run}",
            "-c",
            "max_connections=200",
        ],
        user="postgres",
    )
    for _ in range(60):
        if (
            _as_postgres(
                [str(PG_BIN / "pg_isready"), "-h", str(run), "-p", str(settings.POSTGRES_PORT)],
                check=False,
            ).returncode
            == 0
        ):
            break
        if process.poll() is not None:
            raise RuntimeError("PostgreSQL exited at start:\n" + processes.tail(paths, "postgres"))
        subprocess.run(["sleep", "0.5"], check=True)
    psql = [
        str(PG_BIN / "psql"),
        "-h",
        str(run),
        "-p",
        str(settings.POSTGRES_PORT),
        "-U",
        "postgres",
        "-v",
        "ON_ERROR_STOP=1",
        "-q",
    ]
    _as_postgres([*psql, "-c", f"CREATE ROLE {ROLE} LOGIN PASSWORD '{password}'"])
    _as_postgres([*psql, "-c", f"CREATE DATABASE {DATABASE} OWNER {ROLE}"])
    pwfile.unlink()
    url = f"postgresql://{ROLE}:{password}@{settings.NODE_IP}:{settings.POSTGRES_PORT}/{DATABASE}"
    target = paths.config / "database_url"
    target.write_text(url + "\n")
    target.chmod(0o600)
    return url


def _as_postgres(argv: list[str], check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        ["runuser", "-u", "postgres", "--", *argv], capture_output=True, text=True, check=False
    )
    if check and result.returncode != 0:
        raise RuntimeError(f"{Path(argv[0]).name} failed: {result.stderr.strip()[-500:]}")
    return result
