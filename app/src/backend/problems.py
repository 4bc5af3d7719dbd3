"""One error shape for every failure: RFC 9457 problem details, never a traceback."""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import compile_path

from backend.db import DatabaseUnavailable, is_unavailable, refusal
from backend.logs import request_id_var
from backend.repository import NoteNotFound, VersionConflict

PROBLEM_JSON = "application/problem+json"
log = logging.getLogger(__name__)


class FieldError(BaseModel):
    """One invalid field of a request."""

    loc: str = Field(description="Where: body.title, query.limit, path.note_id, header.if-match")
    msg: str
    type: str


class Problem(BaseModel):
    """An error, as RFC 9457 problem details."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str | None = None
    request_id: str | None = None
    errors: list[FieldError] | None = None


class PayloadTooLarge(StarletteHTTPException):
    """The request body is larger than BACKEND_MAX_BODY_BYTES."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the request body exceeds the limit of {limit} bytes")


def problem_response(
    status: int,
    detail: str | None = None,
    *,
    errors: list[FieldError] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    """A problem+json response; `title` is the standard phrase of `status`."""
    body = Problem(
        title=HTTPStatus(status).phrase,
        status=status,
        detail=detail,
        request_id=request_id_var.get(),
        errors=errors,
    )
    return JSONResponse(
        body.model_dump(exclude_none=True),
        status_code=status,
        headers=headers,
        media_type=PROBLEM_JSON,
    )


def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)  # noqa: S101 - registered for this type
    detail = exc.detail if exc.detail != HTTPStatus(exc.status_code).phrase else None
    headers = dict(exc.headers or {})
    if exc.status_code == 400 and exc.__cause__ is not None:
        # FastAPI's answer to a body it cannot decode (not UTF-8, say): the same 422 as
        # for malformed JSON, so that clients handle one status for "fix your body".
        error = FieldError(loc="body", msg="the body is not valid JSON", type="json_invalid")
        return problem_response(422, "the request body cannot be parsed", errors=[error])
    if exc.status_code == 404 and detail is None:
        detail = "no such endpoint; see /openapi.json for the API"
    if exc.status_code == 405:
        # Starlette names only the first route that matched the path; list all of them.
        allowed = _allowed_methods(request)
        headers["Allow"] = ", ".join(allowed)
        detail = f"this endpoint answers {', '.join(allowed)}"
    return problem_response(exc.status_code, detail, headers=headers)


def _allowed_methods(request: Request) -> list[str]:
    methods: set[str] = set()
    for template, operations in request.app.openapi().get("paths", {}).items():
        if compile_path(template)[0].match(request.url.path):
            methods |= {m.upper() for m in operations}
    if "GET" in methods:
        methods.add("HEAD")
    return sorted(methods)


def _loc(parts: tuple[Any, ...]) -> str:
    return ".".join(str(p) for p in parts)


def _validation_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)  # noqa: S101 - registered for this type
    errors = [
        FieldError(
            loc=_loc(tuple(e.get("loc", ()))),
            msg=str(e.get("msg", "")),
            type=str(e.get("type", "")),
        )
        for e in exc.errors()
    ]
    return problem_response(422, "the request has invalid fields; see errors", errors=errors)


def note_not_found_response() -> JSONResponse:
    """The 404 for an unknown note id (the route's handler and the fast read path share it)."""
    return problem_response(404, "no note has this id")


def _not_found(_: Request, exc: Exception) -> JSONResponse:
    return note_not_found_response()


def _conflict(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, VersionConflict)  # noqa: S101 - registered for this type
    where = "If-Match" if exc.precondition else "version"
    return problem_response(
        412 if exc.precondition else 409,
        f"the note was changed meanwhile ({where} is stale; current version is {exc.current}); "
        "read it again and retry",
    )


def _unavailable_or_internal(_: Request, exc: Exception) -> JSONResponse:
    return unexpected_error_response(exc)


def unexpected_error_response(exc: BaseException) -> JSONResponse:
    """503 for an unreachable database, else a logged 500 that tells the client nothing more."""
    request_id = request_id_var.get()
    extra = {} if request_id is None else {"request_id": request_id}
    if (refused := refusal(exc)) is not None:
        # A configuration fault, not a bug: one line naming it, no traceback per request.
        log.warning("database refused the connection: %s", refused, extra=extra)
        return problem_response(
            503,
            "the database refused this service's connection; the operator must fix its "
            "configuration",
            headers={"Retry-After": "2"},
        )
    if is_unavailable(exc):
        log.warning("database unavailable: %s", type(exc).__name__, extra=extra)
        return problem_response(
            503, "the database is unavailable; retry shortly", headers={"Retry-After": "2"}
        )
    log.error("unhandled error", exc_info=exc, extra=extra)
    return problem_response(500, "an unexpected error occurred; it has been logged")


def install(app: FastAPI) -> None:
    """Register the handlers that turn every exception into a problem response."""
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(NoteNotFound, _not_found)
    app.add_exception_handler(VersionConflict, _conflict)
    # Database errors are answered where they are raised, without the traceback that
    # Starlette's last-resort handler logs: an outage is an expected state, not a bug.
    for db_error in (DBAPIError, PoolTimeoutError, OSError, DatabaseUnavailable):
        app.add_exception_handler(db_error, _unavailable_or_internal)
    # The observability middleware answers any other exception itself (with the request id);
    # this handler is the last resort for a failure outside it.
    app.add_exception_handler(Exception, _unavailable_or_internal)


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for the errors a route can answer (see openapi.py for the media type)."""
    return {s: {"model": Problem, "description": HTTPStatus(s).phrase} for s in statuses}
