"""Hostile clients against `backend serve` on a loopback port, spoken to with raw sockets."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from app.tests.support import ServerProcess, backend_env, run_backend, running

pytestmark = pytest.mark.slow

HEADER_TIMEOUT = 1.0
MAX_CONNECTIONS = 300
MiB = 1024 * 1024


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    root = tmp_path_factory.mktemp("hostile")
    env = backend_env(
        data_dir=str(root / "data"),
        drain_delay_seconds="0",
        header_timeout_seconds=str(HEADER_TIMEOUT),
        max_connections=str(MAX_CONNECTIONS),
    )
    assert run_backend("migrate", env).returncode == 0
    with running(env, root / "server.log") as process:
        yield process
    assert "Traceback" not in process.output()


def connect(server: ServerProcess, timeout: float = 10) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=timeout)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def read_all(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection (or resets it)."""
    chunks = []
    try:
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    except ConnectionResetError:
        pass
    return b"".join(chunks)


def responses(raw: bytes) -> list[tuple[int, dict[str, str], bytes]]:
    """Split what the server sent into (status, headers, body) by Content-Length."""
    out = []
    while raw:
        head, _, rest = raw.partition(b"\r\n\r\n")
        status_line, *lines = head.decode("latin-1").split("\r\n")
        headers = {k.lower(): v.strip() for k, _, v in (h.partition(":") for h in lines)}
        length = int(headers.get("content-length", "0"))
        out.append((int(status_line.split()[1]), headers, rest[:length]))
        raw = rest[length:]
    return out


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


def assert_alive(server: ServerProcess) -> None:
    with httpx.Client(base_url=server.base_url, timeout=5) as client:
        assert client.get("/healthz").status_code == 200
        assert client.get("/api/v1/notes").status_code == 200


def test_endless_header_is_cut_off_early_and_memory_stays_small(server: ServerProcess) -> None:
    before = rss_mib(server.process.pid)
    sock = connect(server)
    sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Endless: ")
    chunk = b"a" * MiB
    sent = 0
    try:
        while sent < 256 * MiB:
            sock.sendall(chunk)
            sent += len(chunk)
    except (BrokenPipeError, ConnectionResetError):
        pass
    # What the kernel buffers on both sides is all that gets through before the cut.
    assert sent < 32 * MiB
    raw = read_all(sock) if sent else b""
    sock.close()
    if raw:  # the 431 may be lost to the reset that the unread bytes cause
        [(status, headers, body)] = responses(raw)
        assert status == 431
        assert headers["content-type"] == "application/problem+json"
        assert json.loads(body)["status"] == 431
    assert rss_mib(server.process.pid) - before < 16
    assert_alive(server)


@pytest.mark.parametrize(
    "head",
    [
        b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 20_000 + b"\r\n\r\n",
        b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + b"X-H: 1\r\n" * 101 + b"\r\n",
        b"GET /healthz?" + b"q" * 20_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
    ],
    ids=["one-large-header", "too-many-headers", "long-request-line"],
)
def test_oversized_head_is_431_problem(server: ServerProcess, head: bytes) -> None:
    with connect(server) as sock:
        sock.sendall(head)
        [(status, headers, body)] = responses(read_all(sock))
    assert status == 431
    assert headers["content-type"] == "application/problem+json"
    assert headers["connection"] == "close"
    assert json.loads(body)["title"] == "Request Header Fields Too Large"


def test_head_at_the_limits_is_served(server: ServerProcess) -> None:
    headers = b"".join(b"X-H%d: 1\r\n" % i for i in range(98))
    big = b"X-Big: " + b"a" * 14_000 + b"\r\n"
    with connect(server) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + headers + big + b"\r\n")
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        statuses = [status for status, _, _ in responses(read_all(sock))]
    assert statuses == [200, 200]


def test_slow_head_is_408_and_closed(server: ServerProcess) -> None:
    with connect(server) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")  # and never the blank line
        [(status, headers, body)] = responses(read_all(sock))
    assert status == 408
    assert headers["content-type"] == "application/problem+json"
    assert (
        json.loads(body)["detail"] == f"the request head did not arrive within {HEADER_TIMEOUT:g} s"
    )


def test_silent_connection_is_closed(server: ServerProcess) -> None:
    with connect(server) as sock:
        assert read_all(sock) == b""  # closed by the server, without a response


def test_keep_alive_connection_gets_a_new_head_deadline(server: ServerProcess) -> None:
    with connect(server) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        statuses = [status for status, _, _ in responses(read_all(sock))]
    assert statuses == [200, 408]


def test_thousands_of_half_sent_connections_do_not_starve_others(server: ServerProcess) -> None:
    flood = []
    try:
        for _ in range(MAX_CONNECTIONS * 5):
            sock = connect(server)
            sock.sendall(b"GET /api/v1/notes HTTP/1.1\r\nHost: x\r\nX-Slow: ")
            flood.append(sock)
        assert_alive(server)
        # The oldest unfinished heads were closed to keep the count under the cap.
        closed = 0
        for sock in flood:
            sock.settimeout(0.001)
            try:
                closed += sock.recv(1) == b""
            except TimeoutError:
                pass
            except ConnectionResetError:
                closed += 1
        assert closed >= len(flood) - MAX_CONNECTIONS
    finally:
        for sock in flood:
            sock.close()
    assert_alive(server)


SMUGGLED = b"GET /api/info HTTP/1.1\r\nHost: x\r\n\r\n"
GARBAGE = {
    "conflicting-content-length": (
        b"POST /api/v1/notes HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 40\r\n"
        b"\r\n{}" + SMUGGLED
    ),
    "te-and-cl": (
        b"POST /api/v1/notes HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + SMUGGLED
    ),
    "te-not-chunked-last": (
        b"POST /api/v1/notes HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, identity\r\n"
        b"\r\n0\r\n\r\n" + SMUGGLED
    ),
    "bare-lf": b"GET /healthz HTTP/1.1\nHost: x\n\n" + SMUGGLED,
    "lf-in-header-value": b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-A: 1\nX-B: 2\r\n\r\n",
    "nul-in-header": b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-A: a\x00b\r\n\r\n" + SMUGGLED,
    "nul-in-path": b"GET /heal\x00thz HTTP/1.1\r\nHost: x\r\n\r\n",
    "http2-preface": b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + b"\x00" * 9,
    "space-before-colon": b"GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length : 5\r\n\r\n",
    "not-http": b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + b"\x00" * 40,
}


@pytest.mark.parametrize("raw", GARBAGE.values(), ids=GARBAGE.keys())
def test_protocol_garbage_is_one_400_problem_and_never_a_smuggled_answer(
    server: ServerProcess, raw: bytes
) -> None:
    with connect(server) as sock:
        sock.sendall(raw)
        received = read_all(sock)
    assert received.count(b"HTTP/1.1 ") == 1, received
    [(status, headers, body)] = responses(received)
    assert status == 400
    assert headers["content-type"] == "application/problem+json"
    assert headers["connection"] == "close"
    assert json.loads(body) == {
        "type": "about:blank",
        "title": "Bad Request",
        "status": 400,
        "detail": "the request is not valid HTTP/1.1",
    }
