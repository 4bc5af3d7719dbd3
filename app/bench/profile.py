"""Where one request's CPU time goes: `backend serve` under pyinstrument while wrk loads it.

Prints the share of sampled time (self time, so nothing is counted twice) by package:
asyncpg, SQLAlchemy, FastAPI, Starlette, pydantic, uvicorn/httptools, the event loop,
logging, metrics and the service's own code. The profiler slows the server; the shares,
not the rates, are the result.

    python app/bench/profile.py [--endpoint read|healthz|write] [--duration 8]
"""

from __future__ import annotations

import argparse
import pstats
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # app/, for tests.support
from bench.run import POST_SCRIPT

from tests.support import PostgresServer, backend_env, free_port, run_backend

# First match wins: a path fragment of the sampled function's file, and the label it counts to.
PACKAGES = [
    ("/asyncpg/", "asyncpg (driver, protocol)"),
    ("/sqlalchemy/", "SQLAlchemy (engine, pool, result rows)"),
    ("/greenlet/", "SQLAlchemy (engine, pool, result rows)"),
    ("/fastapi/", "FastAPI (routing, dependencies, validation)"),
    ("/starlette/", "Starlette (middleware stack, responses)"),
    ("/pydantic", "pydantic (validation, serialisation)"),
    ("/uvicorn/", "uvicorn + httptools (HTTP parsing, transport)"),
    ("/httptools/", "uvicorn + httptools (HTTP parsing, transport)"),
    ("/prometheus_client/", "metrics (prometheus_client)"),
    ("/logging/", "logging (access log line)"),
    ("/json/", "logging (access log line)"),
    ("backend/logs.py", "logging (access log line)"),
    ("backend/", "the service's code (middleware, repository, routes)"),
    ("/asyncio/", "event loop (asyncio, uvloop)"),
    ("/uvloop/", "event loop (asyncio, uvloop)"),
]


def category(filename: str) -> str:
    for fragment, label in PACKAGES:
        if fragment in filename:
            return label
    return "other (builtins, uuid, datetime, ...)"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--endpoint", choices=["read", "healthz", "write"], default="read")
    parser.add_argument("--duration", type=int, default=8)
    parser.add_argument("--top", type=int, default=0, help="also print the N hottest functions")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="backend-profile-"))
    postgres = PostgresServer()
    postgres.init()
    postgres.start()
    try:
        postgres.create_database("profile")
        env = backend_env(database_url=postgres.url("profile"), drain_delay_seconds="0")
        if run_backend("migrate", env).returncode != 0:
            raise RuntimeError("migrate failed")
        port = free_port()
        out = work / "profile.pstats"
        command = [sys.executable, "-m", "pyinstrument", "--interval", "0.001", "-r", "pstats"]
        command += ["-o", str(out), "-m", "backend.cli", "serve"]
        server = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
            command, env={**env, "BACKEND_PORT": str(port)}, stdout=subprocess.DEVNULL
        )
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"{base}/healthz", timeout=1)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        note = httpx.post(f"{base}/api/v1/notes", json={"title": "profile", "tags": ["p"]})
        wrk = ["wrk", "-t2", "-c32", f"-d{args.duration}s"]
        if args.endpoint == "write":
            script = work / "post.lua"
            script.write_text(POST_SCRIPT)
            wrk += ["-s", str(script), f"{base}/api/v1/notes"]
        elif args.endpoint == "healthz":
            wrk.append(f"{base}/healthz")
        else:
            wrk.append(f"{base}/api/v1/notes/{note.json()['id']}")
        subprocess.run(wrk, check=True, capture_output=True)  # noqa: S603
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)
        stats = pstats.Stats(str(out))
        if args.top:
            stats.sort_stats("tottime").print_stats(args.top)
        shares: Counter[str] = Counter()
        for (filename, _, function), (_, _, self_time, _, _) in stats.stats.items():  # type: ignore[attr-defined]
            if (
                function == "<module>"
                or filename.startswith("<")
                or filename.endswith("runners.py")
            ):
                continue  # imports at start-up, the thread root, and uvloop's own C loop (idle)
            shares[category(filename)] += self_time
    finally:
        postgres.stop()
        postgres.remove()
    total = sum(shares.values())
    print(f"\n{args.endpoint}: share of busy samples by package ({total:.1f} s sampled)\n")
    print("| where | share |")
    print("| --- | ---: |")
    for label, seconds in shares.most_common():
        print(f"| {label} | {100 * seconds / total:.0f} % |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
