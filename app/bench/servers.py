"""Compare HTTP servers for the same app under load and under hostile clients (ADR 0016).

For each server: req/s of GET /healthz and of a by-id read on PostgreSQL (wrk), then three
hostile clients on raw sockets: how many bytes of one endless header it reads before it cuts
the connection, how much its RSS grows meanwhile, and how long it keeps a connection whose
request head never ends. Needs requirements/bench.txt (granian, hypercorn).

    python app/bench/servers.py [--duration 5]
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # app/, for tests.support
from bench.run import cpu_seconds, rss_mib, run_wrk

from tests.support import PostgresServer, backend_env, free_port, run_backend

BIN = Path(sys.executable).parent
MiB = 1024 * 1024
STREAM_LIMIT = 64 * MiB
SLOW_LIMIT = 15.0


def servers(port: int) -> dict[str, list[str]]:
    app = ["--app-dir", str(Path(__file__).parent)]
    uvicorn = [str(BIN / "uvicorn"), *app, "--host", "127.0.0.1", "--port", str(port)]
    uvicorn += ["--loop", "uvloop", "--no-access-log", "--log-level", "warning"]
    return {
        "backend serve (uvicorn + httptools, guarded)": [str(BIN / "backend"), "serve"],
        "uvicorn + httptools": [*uvicorn, "--http", "httptools", "asgi_app:app"],
        "uvicorn + h11 (16 KiB event limit)": [
            *uvicorn, "--http", "h11", "--h11-max-incomplete-event-size", "16384", "asgi_app:app",
        ],
        "granian (1 worker, 1 runtime thread)": [
            str(BIN / "granian"), "--interface", "asgi", "--loop", "uvloop", "--workers", "1",
            "--runtime-threads", "1", "--no-ws", "--host", "127.0.0.1", "--port", str(port),
            "--working-dir", str(Path(__file__).parent), "--log-level", "warning",
            "asgi_app:app",
        ],
        "hypercorn (uvloop)": [
            str(BIN / "hypercorn"), "-k", "uvloop", "-b", f"127.0.0.1:{port}",
            "--log-level", "warning", "asgi_app:app",
        ],
    }  # fmt: skip


def tree(pid: int) -> list[int]:
    """The process and its children (granian serves from a worker process)."""
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return [pid, *(int(c) for c in children)]


def tree_cpu(pid: int) -> float:
    return sum(cpu_seconds(p) for p in tree(pid))


def tree_rss(pid: int) -> float:
    return sum(rss_mib(p) for p in tree(pid))


@dataclass
class Row:
    server: str
    healthz_rps: float
    healthz_cpu_ms: float
    read_rps: float
    read_cpu_ms: float
    header_bytes_read: str
    rss_growth_mib: float
    slow_head_closed_after: str


def _wait(port: int, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("server exited early")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.1)
    raise TimeoutError("server did not start")


def endless_header(port: int) -> int:
    """Bytes of one endless header sent before the server cut the connection."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Endless: ")
    chunk, sent = b"a" * MiB, 0
    try:
        while sent < STREAM_LIMIT:
            sock.sendall(chunk)
            sent += len(chunk)
    except OSError:
        pass
    finally:
        sock.close()
    return sent


def slow_head(port: int) -> float | None:
    """Seconds until the server closes a connection whose head never ends (None: not yet)."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=SLOW_LIMIT)
    start = time.monotonic()
    sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
    try:
        while sock.recv(65536):
            pass
        return time.monotonic() - start
    except TimeoutError:
        return None
    except OSError:
        return time.monotonic() - start
    finally:
        sock.close()


def measure(name: str, command: list[str], env: dict[str, str], port: int, d: int) -> Row:
    proc = subprocess.Popen(  # noqa: S603 - commands built above
        command, env={**env, "BACKEND_PORT": str(port)}, cwd=Path(__file__).parent,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        _wait(port, proc)
        base = f"http://127.0.0.1:{port}"
        note = httpx.post(f"{base}/api/v1/notes", json={"title": "read me"}).json()
        figures: list[float] = []
        for url in (f"{base}/healthz", f"{base}/api/v1/notes/{note['id']}"):
            run_wrk(url, duration=2, connections=32, script=None)
            cpu = tree_cpu(proc.pid)
            rps = run_wrk(url, duration=d, connections=32, script=None)[0]
            figures += [rps, 1000 * (tree_cpu(proc.pid) - cpu) / (rps * d)]
        before = tree_rss(proc.pid)
        sent = endless_header(port)
        growth = tree_rss(proc.pid) - before
        closed = slow_head(port)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
    shown = f"{sent / MiB:.0f} MiB" + (" (all)" if sent >= STREAM_LIMIT else "")
    after = f"{closed:.1f} s" if closed is not None else f"> {SLOW_LIMIT:g} s"
    return Row(name, *figures, shown, growth, after)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=5)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="backend-servers-"))
    postgres = PostgresServer()
    rows = []
    try:
        postgres.init()
        postgres.start()
        postgres.create_database("servers")
        env = backend_env(
            database_url=postgres.url("servers"), drain_delay_seconds="0", log_level="warning"
        )
        if run_backend("migrate", env).returncode != 0:
            raise RuntimeError("migrate failed")
        for name in servers(0):
            port = free_port()
            rows.append(measure(name, servers(port)[name], env, port, args.duration))
    finally:
        postgres.stop()
        postgres.remove()
        shutil.rmtree(work, ignore_errors=True)
    print(f"\nwrk -t2 -c32 -d{args.duration}s; load average {os.getloadavg()[0]:.1f}\n")
    print(
        "| server | /healthz req/s | CPU ms/req | by-id read req/s | CPU ms/req "
        "| endless header: bytes sent before the cut | RSS growth MiB "
        "| unfinished head closed after |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for r in rows:
        print(
            f"| {r.server} | {r.healthz_rps:,.0f} | {r.healthz_cpu_ms:.3f} | {r.read_rps:,.0f} "
            f"| {r.read_cpu_ms:.3f} | {r.header_bytes_read} | {r.rss_growth_mib:.0f} "
            f"| {r.slow_head_closed_after} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
