"""GET and HEAD /healthz answered before routing: the liveness probe does no work at all.

The probe runs every few seconds per pod, and a load test of it measures the framework, not the
service. The route in routers/ops.py stays for the OpenAPI document (and for other methods,
which get the usual 405); this is the same answer, without the router, dependency solver and
response class in between (ADR 0017).
"""

from __future__ import annotations

from starlette.types import Scope, Send

LIVENESS_PATH = "/healthz"
ALIVE = b'{"status":"ok"}'
_START = {
    "type": "http.response.start",
    "status": 200,
    "headers": [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(ALIVE))],
}


def is_liveness_probe(scope: Scope) -> bool:
    return scope["path"] == LIVENESS_PATH and scope["method"] in ("GET", "HEAD")


async def answer_liveness(scope: Scope, send: Send) -> None:
    # A fresh headers list each time: the observability layer adds X-Request-ID to it.
    await send({**_START, "headers": list(_START["headers"])})  # type: ignore[call-overload]
    body = b"" if scope["method"] == "HEAD" else ALIVE
    await send({"type": "http.response.body", "body": body, "more_body": False})
