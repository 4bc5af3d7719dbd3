"""Benchmark one `backend serve` process with wrk, on SQLite and on a PostgreSQL it starts.

Prints a markdown table: req/s, p50 and p99 for GET /healthz, GET /api/v1/notes/{id} and
POST /api/v1/notes; cold start (process start to the first 200 from /readyz); RSS after the
load; and podinfo's GET /healthz measured the same way in the same run, as the yardstick.
The server under test (ours, then podinfo with GOMAXPROCS=1) is pinned to one core, wrk to
the others. Figures, not pass/fail: the targets are in the issue and in docs/benchmarks.md.

    python app/bench/run.py [--duration 8] [--connections 32] [--only sqlite|postgresql]
                            [--podinfo .tools/bin/podinfo]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # app/, for tests.support
from tests.support import (
    PostgresServer,
    ServerProcess,
    backend_env,
    free_port,
    run_backend,
)

POST_SCRIPT = """
wrk.method = "POST"
wrk.body = '{"title": "bench", "body": "a note written by wrk", "tags": ["bench", "load"]}'
wrk.headers["Content-Type"] = "application/json"
"""


@dataclass
class Result:
    database: str
    endpoint: str
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int
    cpu_ms: float  # server CPU per request: comparable across runs on a busy machine


def _ms(value: str, unit: str) -> float:
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


# The core the server under test runs on, and the cores left to wrk (and PostgreSQL).
SERVER_CPU = (os.cpu_count() or 1) - 1
CLIENT_CPUS = ",".join(str(c) for c in range(SERVER_CPU)) or "0"


def pin_postgres(server: PostgresServer) -> None:
    """Keep PostgreSQL off the server's core: its backends, forked later, inherit the mask."""
    postmaster = (server.data / "postmaster.pid").read_text().split()[0]
    command = ["taskset", "-a", "-p", "-c", CLIENT_CPUS, postmaster]
    subprocess.run(command, check=True, capture_output=True)  # noqa: S603 - our own arguments


def run_wrk(
    url: str, *, duration: int, connections: int, script: Path | None
) -> tuple[float, float, float, int]:
    command = ["taskset", "-c", CLIENT_CPUS]
    command += ["wrk", "-t2", f"-c{connections}", f"-d{duration}s", "--latency", "--timeout", "5s"]
    if script is not None:
        command += ["-s", str(script)]
    # wrk from PATH with arguments built here: nothing comes from outside this script.
    done = subprocess.run([*command, url], capture_output=True, text=True, check=True)  # noqa: S603
    out = done.stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    percentiles = re.findall(r"^\s+(50|99)%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
    latency = {p: _ms(v, u) for p, v, u in percentiles}
    errors = 0
    if match := re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out):
        errors += int(match.group(1))
    if match := re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out
    ):
        errors += sum(int(g) for g in match.groups())
    return rps, latency["50"], latency["99"], errors


def cpu_seconds(pid: int) -> float:
    """User + system CPU time the process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


def cold_start(server: ServerProcess, timeout: float = 30) -> float:
    """Seconds from process start to the first 200 from /readyz."""
    deadline = time.monotonic() + timeout
    with httpx.Client(timeout=1) as client:
        while time.monotonic() < deadline:
            try:
                if client.get(f"{server.base_url}/readyz").status_code == 200:
                    return time.monotonic() - server.started_at
            except httpx.TransportError:
                pass
            time.sleep(0.005)
    raise TimeoutError(server.output())


def bench_database(
    name: str,
    url: str | None,
    work: Path,
    *,
    duration: int,
    connections: int,
    extra: dict[str, str] | None = None,
) -> tuple[list[Result], float, float]:
    settings = {"data_dir": str(work / "data"), "drain_delay_seconds": "0", **(extra or {})}
    if url is not None:
        settings["database_url"] = url
    env = backend_env(**settings)
    migrated = run_backend("migrate", env)
    if migrated.returncode != 0:
        raise RuntimeError(migrated.stdout + migrated.stderr)
    log = work / f"server-{len(list(work.glob('server-*')))}.log"
    server = ServerProcess(env, log, cpu=SERVER_CPU)
    try:
        started = cold_start(server)
        note = httpx.post(f"{server.base_url}/api/v1/notes", json={"title": "read me"}).json()
        script = work / "post.lua"
        script.write_text(POST_SCRIPT)
        targets = [
            ("GET /healthz", f"{server.base_url}/healthz", None),
            ("GET /api/v1/notes/{id}", f"{server.base_url}/api/v1/notes/{note['id']}", None),
            ("POST /api/v1/notes", f"{server.base_url}/api/v1/notes", script),
        ]
        results = []
        for label, target, lua in targets:
            run_wrk(target, duration=2, connections=connections, script=lua)  # warm-up
            cpu_before = cpu_seconds(server.process.pid)
            rps, p50, p99, errors = run_wrk(
                target, duration=duration, connections=connections, script=lua
            )
            cpu_ms = 1000 * (cpu_seconds(server.process.pid) - cpu_before) / (rps * duration)
            results.append(Result(name, label, rps, p50, p99, errors, cpu_ms))
        rss = rss_mib(server.process.pid)
    finally:
        server.stop()
    return results, started, rss


def bench_podinfo(binary: Path, *, duration: int, connections: int) -> Result:
    """podinfo's GET /healthz on the same core, with one Go scheduler thread (GOMAXPROCS=1)."""
    port = free_port()
    command = ["taskset", "-c", str(SERVER_CPU), str(binary), "--port", str(port)]
    command += ["--level", "error"]
    env = {**os.environ, "GOMAXPROCS": "1"}
    process = subprocess.Popen(  # noqa: S603 - the pinned binary built by mk/app.mk
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        url = f"http://127.0.0.1:{port}/healthz"
        deadline = time.monotonic() + 15
        while True:
            try:
                if httpx.get(url, timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        run_wrk(url, duration=2, connections=connections, script=None)  # warm-up
        cpu_before = cpu_seconds(process.pid)
        rps, p50, p99, errors = run_wrk(
            url, duration=duration, connections=connections, script=None
        )
        cpu_ms = 1000 * (cpu_seconds(process.pid) - cpu_before) / (rps * duration)
    finally:
        process.terminate()
        process.wait(timeout=10)
    return Result("podinfo (Go)", "GET /healthz", rps, p50, p99, errors, cpu_ms)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=8, help="seconds of load per endpoint")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--only", choices=["sqlite", "postgresql"])
    parser.add_argument(
        "--podinfo",
        type=Path,
        default=Path(os.environ.get("PODINFO", ".tools/bin/podinfo")),
        help="podinfo binary (mk/app.mk builds the pinned version)",
    )
    args = parser.parse_args()
    if not args.podinfo.is_file():
        print(
            f"bench: {args.podinfo} not found; run `make bench-app`, which builds it",
            file=sys.stderr,
        )
        return 1
    if shutil.which("wrk") is None:
        print("bench: wrk not found; run `make system-deps` (Debian package wrk)", file=sys.stderr)
        return 1
    work = Path(tempfile.mkdtemp(prefix="backend-bench-"))
    rows: list[Result] = []

    def yardstick() -> Result:
        # Right after each configuration, so that podinfo sees the same machine load.
        return bench_podinfo(args.podinfo, duration=args.duration, connections=args.connections)

    extras: list[tuple[str, float, float]] = []
    postgres: PostgresServer | None = None
    try:
        if args.only in (None, "sqlite"):
            results, started, rss = bench_database(
                "sqlite", None, work, duration=args.duration, connections=args.connections
            )
            rows += [*results, yardstick()]
            extras.append(("sqlite", started, rss))
        if args.only in (None, "postgresql"):
            postgres = PostgresServer()
            postgres.init()
            postgres.start()
            pin_postgres(postgres)
            postgres.create_database("bench")
            # The default (pooler-safe, ADR 0005), then with prepared statements for a
            # direct connection, to show what the pooler safety costs, then with a larger
            # pool: 32 connections share 5 + 5 pooled ones, so the database's round-trip
            # time, not this process's CPU, can set the read rate on a busy machine.
            for label, extra in (
                ("postgresql", {}),
                ("postgresql, prepared statements", {"db_prepared_statements": "true"}),
                ("postgresql, pool 20", {"db_pool_size": "20", "db_max_overflow": "0"}),
            ):
                results, started, rss = bench_database(
                    label,
                    postgres.url("bench"),
                    work,
                    duration=args.duration,
                    connections=args.connections,
                    extra=extra,
                )
                rows += [*results, yardstick()]
                extras.append((label, started, rss))
    finally:
        if postgres is not None:
            postgres.stop()
            postgres.remove()
        shutil.rmtree(work, ignore_errors=True)

    load = os.getloadavg()[0]
    print(
        f"\nwrk -t2 -c{args.connections} -d{args.duration}s on CPU(s) {CLIENT_CPUS} against one "
        f"server process pinned to CPU {SERVER_CPU}; load average {load:.1f} on "
        f"{os.cpu_count()} CPUs (`uptime`: other work on the machine shares them)\n"
    )
    print("| database | endpoint | req/s | p50 ms | p99 ms | errors | server CPU ms/req |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: |")
    for r in rows:
        figures = f"{r.rps:,.0f} | {r.p50_ms:.2f} | {r.p99_ms:.2f} | {r.errors} | {r.cpu_ms:.3f}"
        print(f"| {r.database} | {r.endpoint} | {figures} |")
    print()
    for ours, podinfo in zip(rows[0::4], rows[3::4], strict=True):
        ratio = ours.rps / podinfo.rps
        print(f"{ours.database}: GET /healthz at {ratio:.2f} of podinfo's rate, measured after it")
    print("\n| database | cold start s (exec to first 200 from /readyz) | RSS MiB after load |")
    print("| --- | ---: | ---: |")
    for name, started, rss in extras:
        print(f"| {name} | {started:.2f} | {rss:.0f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
