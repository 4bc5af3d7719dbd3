"""Refuse JSON request bodies with a repeated object key, which json.loads resolves silently.

`{"title": "a", "title": "b"}` means different things to different parsers (the first or the
last wins); a proxy that checked one and a service that stores the other is a known bypass.
The body is read here (after the size limit) and passed on unchanged.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from backend.problems import FieldError, PayloadTooLarge, problem_response

_WITH_BODY = frozenset({"POST", "PUT", "PATCH"})


class DuplicateKey(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise DuplicateKey(key)
        result[key] = value
    return result


def _is_json(scope: Scope) -> bool:
    for name, value in scope["headers"]:
        if name == b"content-type":
            media = value.split(b";", 1)[0].strip().lower()
            return bool(media == b"application/json" or media.endswith(b"+json"))
    return True  # FastAPI parses a body without Content-Type as JSON too


async def _read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break  # the client went away; the app sees what came
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


class StrictJSONMiddleware:
    """422 problem+json naming the key when a JSON body repeats one."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in _WITH_BODY or not _is_json(scope):
            await self.app(scope, receive, send)
            return
        try:
            body = await _read_body(receive)
        except PayloadTooLarge as exc:  # raised by the body limit outside us, mid-stream
            response = problem_response(413, str(exc.detail), headers={"Connection": "close"})
            await response(scope, receive, send)
            return
        try:
            json.loads(body, object_pairs_hook=_no_duplicates)
        except DuplicateKey as exc:
            error = FieldError(
                loc=f"body.{exc.key}",
                msg=f"the key {exc.key!r} appears twice",
                type="json_duplicate_key",
            )
            response = problem_response(422, "the request body repeats a key", errors=[error])
            await response(scope, receive, send)
            return
        except ValueError:
            pass  # not JSON at all: FastAPI answers that with its own 422
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)
