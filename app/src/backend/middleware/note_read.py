"""GET and HEAD /api/v1/notes/{id} answered before routing: the service's hottest request.

FastAPI's router, dependency solver and parameter validation were about a quarter of a by-id
read's CPU time (ADR 0017). This layer answers the canonical request itself (the id in the
36-character hyphenated form every response uses) with the status, headers and body the route
would send; anything else, a malformed id included, goes on to the route, which stays the
reference and the OpenAPI entry. A test sends the same requests both ways and compares the
answers byte for byte (ADR 0020).
"""

from __future__ import annotations

import re
import uuid

from starlette.types import ASGIApp, Receive, Scope, Send

from backend.problems import note_not_found_response
from backend.repository import NoteNotFound, NoteRepository

NOTE_PATH = re.compile(
    r"/api/v1/notes/([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})"
)
_READS = frozenset({"GET", "HEAD"})


class NoteReadMiddleware:
    """Reads one note by id without FastAPI; other requests pass through untouched."""

    def __init__(self, app: ASGIApp, notes: NoteRepository, route: object) -> None:
        self.app = app
        self.notes = notes
        self.route = route  # the route's object, so metrics label the request as the route would

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] in _READS:
            match = NOTE_PATH.fullmatch(scope["path"])
            if match is not None:
                scope["route"] = self.route
                await self._answer(uuid.UUID(match[1]), scope["method"] == "HEAD", send)
                return
        await self.app(scope, receive, send)

    async def _answer(self, note_id: uuid.UUID, head: bool, send: Send) -> None:
        # Database errors propagate: the observability layer answers them as the route's
        # exception handlers would (problems.unexpected_error_response).
        try:
            note = await self.notes.get(note_id)
        except NoteNotFound:
            problem = note_not_found_response()
            status, headers, body = problem.status_code, list(problem.raw_headers), problem.body
        else:
            body = note.__pydantic_serializer__.to_json(note)
            # In the order Starlette's Response sends them: the route's ETag, then its own two.
            headers = [
                (b"etag", b'"%d"' % note.version),
                (b"content-length", b"%d" % len(body)),
                (b"content-type", b"application/json"),
            ]
            status = 200
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": b"" if head else bytes(body)})
