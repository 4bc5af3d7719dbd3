"""HEAD on every GET route (RFC 9110 9.3.2): the GET's status and headers, without the body.

FastAPI routes declared with `@router.get` answer only GET, while load balancers and uptime
checks probe with HEAD. Running the GET keeps Content-Length, ETag and the rest identical.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class HeadAsGetMiddleware:
    """Runs a HEAD request as GET and sends the response without its body."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def send_without_body(message: Message) -> None:
            if message["type"] == "http.response.body":
                if message.get("more_body", False):
                    return
                message = {"type": "http.response.body", "body": b"", "more_body": False}
            await send(message)

        # A copy: the server keeps its own scope, in which the method is still HEAD.
        await self.app({**scope, "method": "GET"}, receive, send_without_body)
