"""`backend serve` as a real process: graceful shutdown under load, startup without a database."""

from __future__ import annotations

import threading
import time
import uuid
from collections import Counter
from pathlib import Path

import httpx
import pytest

from app.tests.support import ServerProcess, backend_env, free_port, run_backend

pytestmark = pytest.mark.slow

DRAIN_DELAY = 2.0
GRACE_PERIOD = 30.0


def test_sigterm_drains_without_failing_a_request(tmp_path: Path) -> None:
    env = backend_env(
        data_dir=str(tmp_path / "data"),
        drain_delay_seconds=str(DRAIN_DELAY),
        shutdown_timeout_seconds="10",
        readiness_cache_seconds="0",
    )
    assert run_backend("migrate", env).returncode == 0
    server = ServerProcess(env, tmp_path / "server.log")
    try:
        server.wait_listening()
        note = httpx.post(f"{server.base_url}/api/v1/notes", json={"title": "load"}, timeout=5)
        note_url = f"{server.base_url}/api/v1/notes/{note.json()['id']}"

        sigterm_at: list[float] = []
        stop_sending = threading.Event()
        outcomes: Counter[str] = Counter()
        lock = threading.Lock()

        def load(worker: int) -> None:
            with httpx.Client(timeout=5) as client:
                while not stop_sending.is_set():
                    sent = time.monotonic()
                    try:
                        if worker % 2:
                            status = client.get(note_url).status_code
                        else:
                            status = client.post(
                                f"{server.base_url}/api/v1/notes", json={"title": "w"}
                            ).status_code
                        result = str(status)
                    except httpx.TransportError as exc:
                        result = type(exc).__name__
                    phase = "before" if not sigterm_at or sent < sigterm_at[0] else "drain"
                    with lock:
                        outcomes[f"{phase}:{result}"] += 1

        workers = [threading.Thread(target=load, args=(i,)) for i in range(6)]
        for worker in workers:
            worker.start()
        time.sleep(1.0)
        sigterm_at.append(time.monotonic())
        server.process.terminate()

        # Readiness fails at once, while requests are still served.
        with httpx.Client(timeout=2) as probe:
            ready = probe.get(f"{server.base_url}/readyz")
        assert ready.status_code == 503
        assert ready.json()["reason"] == "shutting down"

        # Send for (almost) the whole drain delay, then stop before the listener closes.
        time.sleep(DRAIN_DELAY - 0.4)
        stop_sending.set()
        for worker in workers:
            worker.join(timeout=10)

        exit_code = server.process.wait(timeout=GRACE_PERIOD)
        stopped_after = time.monotonic() - sigterm_at[0]
    finally:
        server.kill()

    failures = {k: v for k, v in outcomes.items() if not k.endswith((":200", ":201"))}
    assert failures == {}, outcomes
    assert sum(v for k, v in outcomes.items() if k.startswith("before")) > 20
    assert sum(v for k, v in outcomes.items() if k.startswith("drain")) > 20
    assert exit_code == 0, server.output()
    assert DRAIN_DELAY <= stopped_after < GRACE_PERIOD
    log = server.output()
    assert "Traceback" not in log
    assert "shutdown requested" in log and "drain delay over" in log


def test_starts_without_database_and_never_logs_the_password(tmp_path: Path) -> None:
    secret = f"pw-{uuid.uuid4().hex}"
    closed_port = free_port()  # nothing listens here
    env = backend_env(
        database_url=f"postgresql://app:{secret}@127.0.0.1:{closed_port}/app?sslmode=disable",
        drain_delay_seconds="0",
        db_connect_timeout_seconds="1",
        log_level="debug",
        access_log_probes="true",
    )
    server = ServerProcess(env, tmp_path / "server.log")
    try:
        cold_start = server.wait_listening()
        assert cold_start < 10
        bodies = []
        with httpx.Client(base_url=server.base_url, timeout=10) as client:
            ready = client.get("/readyz")
            assert ready.status_code == 503
            assert "database unreachable" in ready.json()["reason"]
            assert client.get("/healthz").status_code == 200
            listing = client.get("/api/v1/notes")
            assert listing.status_code == 503
            for path in ("/api/info", "/version", "/metrics", "/openapi.json", "/readyz"):
                bodies.append(client.get(path).text)
            bodies += [ready.text, listing.text]
        assert server.process.poll() is None  # still up: no crash loop
        assert server.stop() == 0
    finally:
        server.kill()
    log = server.output()
    assert secret not in log
    assert all(secret not in body for body in bodies)
    assert f"postgresql+asyncpg://app:***@127.0.0.1:{closed_port}/app" in log
    assert '"route": "/readyz"' in log  # probes are logged when asked
