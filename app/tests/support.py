"""Test helpers: free ports, a real PostgreSQL server, and `backend` subprocesses."""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import httpx

PG_BIN = Path(os.environ.get("BACKEND_TEST_PG_BIN", "/usr/lib/postgresql/15/bin"))
PG_PASSWORD = "pg-test-secret-7f3a"  # asserted absent from every log line and response
BACKEND = Path(sys.executable).with_name("backend")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class PostgresServer:
    """A throwaway PostgreSQL cluster on a loopback port, run as `postgres` when we are root."""

    def __init__(self) -> None:
        if not (PG_BIN / "initdb").exists():
            raise RuntimeError(
                f"PostgreSQL binaries not found in {PG_BIN}; run `make system-deps` "
                "(Debian package postgresql) or set BACKEND_TEST_PG_BIN"
            )
        self.as_postgres = os.geteuid() == 0
        # Not under pytest's tmp dirs: those are 0700 root, and the server runs as postgres.
        self.root = Path(tempfile.mkdtemp(prefix="backend-pg-"))
        self.data = self.root / "data"
        self.port = free_port()
        if self.as_postgres:
            entry = pwd.getpwnam("postgres")
            os.chown(self.root, entry.pw_uid, entry.pw_gid)

    def _run(self, *args: str) -> None:
        command = [*(("runuser", "-u", "postgres", "--") if self.as_postgres else ()), *args]
        subprocess.run(command, check=True, capture_output=True, timeout=60)

    def init(self) -> None:
        pwfile = self.root / "pw"
        pwfile.write_text(PG_PASSWORD)
        if self.as_postgres:
            entry = pwd.getpwnam("postgres")
            os.chown(pwfile, entry.pw_uid, entry.pw_gid)
        self._run(
            str(PG_BIN / "initdb"),
            "-D", str(self.data),
            "-U", "postgres",
            "-E", "UTF8",
            "--no-sync",
            "--auth-local=trust",
            "--auth-host=scram-sha-256",
            f"--pwfile={pwfile}",
        )  # fmt: skip
        pwfile.unlink()

    def start(self) -> None:
        options = (
            f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )
        self._run(
            str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-o", options,
            "-l", str(self.root / "log"), "-w", "-t", "30", "start",
        )  # fmt: skip

    def stop(self) -> None:
        self._run(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")

    def create_database(self, name: str) -> None:
        self._run(
            str(PG_BIN / "psql"), "-h", str(self.root), "-p", str(self.port), "-U", "postgres",
            "-v", "ON_ERROR_STOP=1", "-c", f'CREATE DATABASE "{name}"',
        )  # fmt: skip

    def url(self, database: str) -> str:
        return f"postgresql://postgres:{PG_PASSWORD}@127.0.0.1:{self.port}/{database}"

    def remove(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)


def backend_env(**settings: str) -> dict[str, str]:
    """The environment for a `backend` subprocess: ours without BACKEND_*, plus `settings`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("BACKEND_")}
    env["BACKEND_SECRETS_DIR"] = "/nonexistent-backend-secrets"
    env.update({f"BACKEND_{k.upper()}": v for k, v in settings.items()})
    return env


def run_backend(
    command: str, env: Mapping[str, str], timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BACKEND), command], env=dict(env), capture_output=True, text=True, timeout=timeout
    )


def output_until(
    command: str, env: Mapping[str, str], marker: str, count: int, timeout: float = 60
) -> str:
    """Run `backend COMMAND` until `count` stdout lines hold `marker`, then stop it; its stdout.

    For commands that retry for a minute: the first retry lines are what a test reads, and
    waiting for them beats sleeping a fixed time (slow on an idle machine, short on a busy one).
    """
    process = subprocess.Popen(
        [str(BACKEND), command], env=dict(env), stdout=subprocess.PIPE, text=True
    )
    assert process.stdout is not None
    timer = threading.Timer(timeout, process.kill)  # a command that prints nothing still stops
    timer.start()
    lines: list[str] = []
    try:
        for line in process.stdout:
            lines.append(line)
            if sum(marker in seen for seen in lines) >= count:
                break
    finally:
        timer.cancel()
        process.kill()
        process.wait()
        process.stdout.close()
    return "".join(lines)


class ServerProcess:
    """`backend serve` as a real process on a free loopback port, output captured to a file."""

    def __init__(self, env: Mapping[str, str], log_path: Path, *, cpu: int | None = None) -> None:
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        full_env = {**env, "BACKEND_PORT": str(self.port), "BACKEND_HOST": "127.0.0.1"}
        self._log = log_path.open("w")
        self.started_at = time.monotonic()
        # `cpu`: run on that one core only (the benchmark's "one process on one core").
        pin = ["taskset", "-c", str(cpu)] if cpu is not None else []
        self.process = subprocess.Popen(
            [*pin, str(BACKEND), "serve"], env=full_env, stdout=self._log, stderr=subprocess.STDOUT
        )

    def wait_listening(self, timeout: float = 15) -> float:
        """Seconds from start until /healthz answered."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited early:\n{self.output()}")
            try:
                if httpx.get(f"{self.base_url}/healthz", timeout=1).status_code == 200:
                    return time.monotonic() - self.started_at
            except httpx.TransportError:
                time.sleep(0.05)
        raise TimeoutError(f"server did not listen within {timeout} s:\n{self.output()}")

    def output(self) -> str:
        if not self._log.closed:
            self._log.flush()
        return self.log_path.read_text()

    def stop(self, timeout: float = 30) -> int:
        if self.process.poll() is None:
            self.process.terminate()
        try:
            return self.process.wait(timeout=timeout)
        finally:
            self._log.close()

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)
        self._log.close()


@contextmanager
def running(env: Mapping[str, str], log_path: Path) -> Iterator[ServerProcess]:
    """`backend serve` until the block ends, then SIGTERM (killed if it hangs).

    The exit code is in `server.process.returncode` afterwards.
    """
    server = ServerProcess(env, log_path)
    try:
        server.wait_listening()
        yield server
        server.stop()
    finally:
        server.kill()
