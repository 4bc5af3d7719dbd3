"""Request id, access log line, metrics and drain behaviour for every HTTP request."""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Callable

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from backend.logs import request_id_var
from backend.metrics import UNMATCHED_ROUTE, Metrics
from backend.middleware.liveness import LIVENESS_PATH, answer_liveness, is_liveness_probe
from backend.problems import unexpected_error_response

access_log = logging.getLogger("backend.access")

PROBE_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})
_VALID_REQUEST_ID = re.compile(rb"^[A-Za-z0-9._:-]{1,128}$")


class ObservabilityMiddleware:
    """Outermost layer: sees every response, including the ones error handlers make."""

    def __init__(
        self,
        app: ASGIApp,
        metrics: Metrics,
        *,
        log_probes: bool,
        draining: Callable[[], bool],
    ) -> None:
        self.app = app
        self.metrics = metrics
        self.log_probes = log_probes
        self.draining = draining

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        request_id = _request_id(scope)
        token = request_id_var.set(request_id)
        status = 500
        started = False
        metrics = self.metrics

        async def send_wrapper(message: Message) -> None:
            nonlocal status, started
            if message["type"] == "http.response.start":
                started = True
                status = message["status"]
                headers = MutableHeaders(scope=message)
                headers["X-Request-ID"] = request_id
                if self.draining():
                    # Keep-alive clients reconnect, and their next connection lands on a pod
                    # that is not leaving.
                    headers["Connection"] = "close"
            await send(message)

        metrics.in_flight.inc()
        liveness = is_liveness_probe(scope)
        try:
            try:
                if liveness:
                    await answer_liveness(scope, send_wrapper)
                else:
                    await self.app(scope, receive, send_wrapper)
            except Exception as exc:
                # Starlette's fallback handler would answer outside this middleware: without
                # the X-Request-ID header, the request id in the body, or the access log status.
                if started:
                    raise  # too late for an error response; the server drops the connection
                response = unexpected_error_response(exc)  # logs it, with the request id
                await response(scope, receive, send_wrapper)
        finally:
            metrics.in_flight.dec()
            duration = time.perf_counter() - start
            route = scope.get("route")
            template = (
                LIVENESS_PATH if liveness else getattr(route, "path", None) or UNMATCHED_ROUTE
            )
            method = _known(scope["method"])
            metrics.requests.labels(method, template, str(status)).inc()
            metrics.duration.labels(method, template).observe(duration)
            if self.log_probes or scope["path"] not in PROBE_PATHS:
                access_log.info(
                    "request",
                    extra={
                        "request_id": request_id,
                        "method": method,
                        "route": template,
                        "status": status,
                        "duration_ms": round(duration * 1000, 3),
                        "client": (scope.get("client") or ("", 0))[0],
                    },
                )
            request_id_var.reset(token)


_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE"})


def _known(method: str) -> str:
    """A method label that cannot be used to grow the series count on unmatched routes."""
    return method if method in _METHODS else "other"


def _request_id(scope: Scope) -> str:
    for name, value in scope["headers"]:
        if name == b"x-request-id" and _VALID_REQUEST_ID.match(value):
            return str(value.decode("ascii"))
    return uuid.uuid4().hex
