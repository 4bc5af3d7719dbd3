"""uvicorn with Kubernetes' shutdown sequence: fail readiness, keep serving, then drain.

uvicorn on its own closes the listener as soon as SIGTERM arrives, while the endpoint
removal has not yet reached every kube-proxy and ingress: new connections would be refused.
"""

from __future__ import annotations

import logging
import signal
import time
from types import FrameType

import uvicorn

from backend.http_protocol import HeadLimits, guarded_protocol
from backend.main import create_app
from backend.readiness import ReadinessProbe
from backend.settings import Settings

log = logging.getLogger(__name__)


class DrainingServer(uvicorn.Server):
    """On SIGTERM/SIGINT: readiness 503 at once, serve for `drain_delay`, then stop and drain.

    A second signal during the delay ends the delay; one during the final drain (SIGINT)
    forces the exit, as in plain uvicorn.
    """

    def __init__(self, config: uvicorn.Config, readiness: ReadinessProbe, drain_delay: float):
        super().__init__(config)
        self._readiness = readiness
        self._drain_delay = drain_delay
        self._stop_at: float | None = None

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        # Not recorded in uvicorn's _captured_signals: it would re-raise SIGTERM after a clean
        # shutdown and the process would die of it instead of exiting 0.
        now = time.monotonic()
        if self._stop_at is None:
            self._readiness.draining = True
            self._stop_at = now + self._drain_delay
            log.info(
                "shutdown requested: readiness now fails, serving on during the drain delay",
                extra={"signal": signal.Signals(sig).name, "drain_delay_s": self._drain_delay},
            )
        elif self.should_exit and sig == signal.SIGINT:
            self.force_exit = True
        else:
            self._stop_at = now

    async def on_tick(self, counter: int) -> bool:
        if await super().on_tick(counter):
            return True
        if self._stop_at is not None and time.monotonic() >= self._stop_at:
            log.info("drain delay over: closing the listener, finishing in-flight requests")
            self.should_exit = True
            return True
        return False


def serve(settings: Settings) -> None:
    """Run one server process until a signal's shutdown sequence completes."""
    app = create_app(settings)
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        loop="uvloop",
        # httptools with bounds on the request head (http_protocol.py, ADR 0016).
        http=guarded_protocol(
            HeadLimits(
                max_bytes=settings.max_header_bytes,
                max_headers=settings.max_headers,
                timeout_seconds=settings.header_timeout_seconds,
                max_connections=settings.max_connections,
            )
        ),
        ws="none",
        lifespan="on",
        access_log=False,
        log_config=None,
        server_header=False,
        proxy_headers=False,
        timeout_graceful_shutdown=int(settings.shutdown_timeout_seconds),
        timeout_keep_alive=5,
    )
    DrainingServer(config, app.state.backend.readiness, settings.drain_delay_seconds).run()
