"""uvicorn's httptools protocol with the bounds it lacks: header size, count and arrival time.

httptools (llhttp) buffers a header of any length, and uvicorn sets no deadline for a request
head, so one client streaming a 256 MiB header, or thousands trickling bytes, holds memory and
connections for as long as it likes (ADR 0016). Here the head of every request is bounded in
bytes, in header count and in time, connections beyond a cap evict the oldest unfinished head,
and whatever the parser refuses is answered with the same problem+json as every other error.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import OrderedDict
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

import httptools
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from backend.problems import PROBLEM_JSON

log = logging.getLogger("backend.http")


@dataclass(frozen=True)
class HeadLimits:
    """Bounds on the request line and headers (the "head") of each request."""

    max_bytes: int
    max_headers: int
    timeout_seconds: float
    max_connections: int


class _TooManyHeaders(Exception):
    pass


def _problem(status: int, detail: str) -> bytes:
    """A complete HTTP/1.1 response that closes the connection, built without the app."""
    body = json.dumps(
        {
            "type": "about:blank",
            "title": HTTPStatus(status).phrase,
            "status": status,
            "detail": detail,
        },
        separators=(",", ":"),
    ).encode()
    head = (
        f"HTTP/1.1 {status} {HTTPStatus(status).phrase}\r\n"
        f"content-type: {PROBLEM_JSON}\r\n"
        f"content-length: {len(body)}\r\n"
        "connection: close\r\n\r\n"
    )
    return head.encode("ascii") + body


def guarded_protocol(limits: HeadLimits) -> type[HttpToolsProtocol]:
    """The protocol class uvicorn instantiates per connection, with these limits."""
    # Connections still receiving a request head, oldest first: evicted beyond the cap.
    receiving_head: OrderedDict[GuardedProtocol, None] = OrderedDict()
    too_large = _problem(
        431, f"the request head exceeds {limits.max_bytes} bytes or {limits.max_headers} headers"
    )
    too_slow = _problem(408, f"the request head did not arrive within {limits.timeout_seconds:g} s")

    class GuardedProtocol(HttpToolsProtocol):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._head_bytes = 0
            self._header_count = 0
            self._in_head = True
            self._head_begun = False  # the parser saw this head's first byte
            self._head_timer: asyncio.TimerHandle | None = None

        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            super().connection_made(transport)  # type: ignore[arg-type]
            self._watch_head()  # a connection that never sends a byte is bounded too
            while len(self.connections) > limits.max_connections and receiving_head:
                oldest = next(iter(receiving_head))
                if oldest is self:
                    break
                oldest._close(None, "evicted: too many connections with an unfinished head")

        def connection_lost(self, exc: Exception | None) -> None:
            self._end_head()
            super().connection_lost(exc)

        def _watch_head(self) -> None:
            receiving_head[self] = None
            if self._head_timer is None:
                self._head_timer = self.loop.call_later(limits.timeout_seconds, self._too_slow)

        def _end_head(self) -> None:
            self._in_head = False
            receiving_head.pop(self, None)
            if self._head_timer is not None:
                self._head_timer.cancel()
                self._head_timer = None

        def _too_slow(self) -> None:
            self._head_timer = None
            # Nothing sent at all: just close, as for an idle keep-alive connection.
            begun = self._head_begun or self._head_bytes > 0
            self._close(too_slow if begun else None, "request head timed out")

        def _close(self, response: bytes | None, reason: str) -> None:
            self._end_head()
            if self.transport.is_closing():
                return
            busy = self.cycle is not None and not self.cycle.response_complete
            if response is not None and not busy:  # never interleave with a response
                self.transport.write(response)
            log.warning("closing connection: %s", reason, extra={"client": _host(self.client)})
            self.transport.close()

        def data_received(self, data: bytes) -> None:
            self._unset_keepalive_if_required()
            while data:
                if self._in_head:
                    room = limits.max_bytes - self._head_bytes
                    if room <= 0:
                        self._close(too_large, "request head too large")
                        return
                    piece, data = data[:room], data[room:]
                    self._head_bytes += len(piece)
                else:
                    piece, data = data, b""
                if not self._feed(piece):
                    return

        def _feed(self, data: bytes) -> bool:
            try:
                self.parser.feed_data(data)
            except _TooManyHeaders:
                self._close(too_large, "too many request headers")
                return False
            except httptools.HttpParserCallbackError as exc:
                if isinstance(exc.__cause__ or exc.__context__, _TooManyHeaders):
                    self._close(too_large, "too many request headers")
                    return False
                raise
            except httptools.HttpParserError as exc:
                # Conflicting lengths, TE with CL, bare LF, NUL bytes, HTTP/2 preface: refuse
                # and close, so that nothing after the error is read as another request.
                self._close(_problem(400, "the request is not valid HTTP/1.1"), str(exc)[:120])
                return False
            except httptools.HttpParserUpgrade:
                # `Upgrade: h2c` (curl --http2) or websocket: the request is answered as plain
                # HTTP/1.1; what follows on the connection is not parsed, so close after it.
                if self.cycle is not None:
                    self.cycle.keep_alive = False
                return False
            return True

        def on_message_begin(self) -> None:
            super().on_message_begin()
            self._head_begun = True
            self._watch_head()

        def on_header(self, name: bytes, value: bytes) -> None:
            self._header_count += 1
            if self._header_count > limits.max_headers:
                raise _TooManyHeaders
            super().on_header(name, value)

        def on_headers_complete(self) -> None:
            self._end_head()
            super().on_headers_complete()

        def on_message_complete(self) -> None:
            super().on_message_complete()
            # Bytes from here on belong to the next request's head; its clock starts with
            # its first byte (on_message_begin), the keep-alive timeout covers the wait.
            self._in_head = True
            self._head_begun = False
            self._head_bytes = 0
            self._header_count = 0

    return GuardedProtocol


def _host(client: tuple[str, int] | None) -> str:
    return client[0] if client else ""
