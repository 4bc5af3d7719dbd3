"""The backend's PostgreSQL: Debian's server on the machine, on the cluster bench's bridge.

A stand-in for the serverless Postgres the backend uses in production: it lives outside the
cluster (as Neon or Aurora would), reached by the pods over the network, with a password. It
listens on the bridge address only, and accepts the backend's role from the hosts' network
(pod traffic leaving a node is masqueraded to the node's address).
"""

from __future__ import annotations

import secrets
import shutil
import subprocess
import time
from pathlib import Path

from testbed.errors import TestbedError, TestbedUnavailableError
from testbed.processes import start_detached
from testbed.settings import POSTGRES_PORT, Bench

PG_BIN = Path("/usr/lib/postgresql/15/bin")
DATABASE = "backend"
ROLE = "backend"


def start(bench: Bench, services_dir: Path) -> str:
    """Initialise and start PostgreSQL; return the backend's database URL (also saved, 0600)."""
    if not (PG_BIN / "initdb").exists():
        raise TestbedUnavailableError(
            f"PostgreSQL 15 is not installed ({PG_BIN}); `make system-deps` installs it"
        )
    home = bench.run_dir / "postgres"
    data, sockets = home / "data", home / "run"
    for folder in (data, sockets):
        folder.mkdir(parents=True, exist_ok=True)
        shutil.chown(folder, "postgres", "postgres")
    data.chmod(0o700)
    _as_postgres(
        [
            str(PG_BIN / "initdb"),
            "-D", str(data),
            "-U", "postgres",
            "--auth-local=trust",
            "--auth-host=scram-sha-256",
            "-E", "UTF8",
            "--locale=C.UTF-8",
        ]
    )  # fmt: skip
    with (data / "pg_hba.conf").open("a") as hba:
        hba.write(f"host {DATABASE} {ROLE} {bench.network} scram-sha-256\n")
    process = start_detached(
        [
            "runuser", "-u", "postgres", "--",
            str(PG_BIN / "postgres"),
            "-D", str(data),
            "-c", f"listen_addresses={bench.machine_address}",
            "-c", f"port={POSTGRES_PORT}",
            "-c", f"unix_socket_directories={sockets}",
            "-c", "max_connections=200",
        ],
        services_dir / "postgres.log",
        services_dir / "postgres.pid",
    )  # fmt: skip
    ready = [str(PG_BIN / "pg_isready"), "-h", str(sockets), "-p", str(POSTGRES_PORT)]
    deadline = time.monotonic() + 30
    while _as_postgres(ready, check=False).returncode != 0:
        if process.poll() is not None or time.monotonic() > deadline:
            log = (services_dir / "postgres.log").read_text(errors="replace")[-800:]
            raise TestbedError(f"PostgreSQL did not start:\n{log}")
        time.sleep(0.5)
    password = secrets.token_urlsafe(18)
    psql = [
        str(PG_BIN / "psql"),
        "-h", str(sockets),
        "-p", str(POSTGRES_PORT),
        "-U", "postgres",
        "-v", "ON_ERROR_STOP=1",
        "-q",
    ]  # fmt: skip
    # The password goes through psql's stdin, never a command line.
    _as_postgres(psql, stdin=f"CREATE ROLE {ROLE} LOGIN PASSWORD '{password}';\n")
    _as_postgres([*psql, "-c", f"CREATE DATABASE {DATABASE} OWNER {ROLE}"])
    url = f"postgresql://{ROLE}:{password}@{bench.machine_address}:{POSTGRES_PORT}/{DATABASE}"
    target = home / "database_url"
    target.write_text(url + "\n")
    target.chmod(0o600)
    return url


def _as_postgres(
    argv: list[str], *, check: bool = True, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        ["runuser", "-u", "postgres", "--", *argv],
        capture_output=True,
        text=True,
        check=False,
        input=stdin,
    )
    if check and result.returncode != 0:
        raise TestbedError(f"{Path(argv[0]).name} failed: {result.stderr.strip()[-500:]}")
    return result
