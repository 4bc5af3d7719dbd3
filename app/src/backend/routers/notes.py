"""The notes resource: create, read, list by cursor, update with optimistic concurrency, delete."""

from __future__ import annotations

import re
import uuid
from typing import Annotated

from fastapi import APIRouter, Header, Query, Response, status
from fastapi.exceptions import RequestValidationError

from backend.deps import NotesDep
from backend.pagination import Cursor, InvalidCursor
from backend.problems import problem_responses
from backend.schemas import Note, NoteCreate, NotePage, NoteUpdate, Tag

router = APIRouter(prefix="/api/v1/notes", tags=["notes"])

MAX_PAGE = 100
_ETAG = re.compile(r'^\s*(?:W/)?"(\d{1,9})"\s*$')

IfMatch = Annotated[
    str | None,
    Header(
        description=(
            'The ETag from a GET ("<version>"); the change applies only if it is current. '
            'W/"<version>" is accepted too, for clients of earlier releases.'
        ),
        pattern=r'^\s*(\*|(W/)?"\d{1,9}")\s*$',
    ),
]


def etag(note: Note) -> str:
    """A strong validator: If-Match compares strongly (RFC 9110, 13.1.1)."""
    return f'"{note.version}"'


def _expected_version(if_match: str | None) -> int | None:
    """The version an If-Match header asks for; "*" asks for none in particular."""
    if if_match is None or if_match.strip() == "*":
        return None
    match = _ETAG.match(if_match)
    if match is None:
        raise RequestValidationError(
            [
                {
                    "loc": ("header", "if-match"),
                    "msg": 'expected "<version>" or *',
                    "type": "value_error",
                }
            ]
        )
    return int(match.group(1))


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    responses=problem_responses(413, 422, 503),
)
async def create_note(data: NoteCreate, notes: NotesDep, response: Response) -> Note:
    """Create a note; the Location header points at it."""
    note = await notes.create(data)
    response.headers["Location"] = f"{router.prefix}/{note.id}"
    response.headers["ETag"] = etag(note)
    return note


@router.get("", responses=problem_responses(422, 503))
async def list_notes(
    notes: NotesDep,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE, description="Notes per page")] = 20,
    cursor: Annotated[
        str | None,
        Query(
            max_length=512,
            pattern=r"^[A-Za-z0-9_-]+$",
            description="`next_cursor` of the previous page (opaque)",
        ),
    ] = None,
    tag: Annotated[Tag | None, Query(description="Only notes with this tag")] = None,
) -> NotePage:
    """List notes, newest first, one page at a time."""
    position = None
    if cursor is not None:
        try:
            position = Cursor.decode(cursor)
        except InvalidCursor as exc:
            raise RequestValidationError(
                [{"loc": ("query", "cursor"), "msg": str(exc), "type": "value_error"}]
            ) from None
    return await notes.list_page(limit=limit, cursor=position, tag=tag)


@router.get("/{note_id}", responses=problem_responses(404, 422, 503))
async def get_note(note_id: uuid.UUID, notes: NotesDep, response: Response) -> Note:
    """Read one note; its ETag is the version to send back in If-Match."""
    note = await notes.get(note_id)
    response.headers["ETag"] = etag(note)
    return note


@router.patch("/{note_id}", responses=problem_responses(404, 409, 412, 413, 422, 503))
async def update_note(
    note_id: uuid.UUID,
    change: NoteUpdate,
    notes: NotesDep,
    response: Response,
    if_match: IfMatch = None,
) -> Note:
    """Change some fields; a stale If-Match answers 412, a stale `version` 409."""
    note = await notes.update(note_id, change, if_match=_expected_version(if_match))
    response.headers["ETag"] = etag(note)
    return note


@router.delete(
    "/{note_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=problem_responses(404, 412, 422, 503),
)
async def delete_note(note_id: uuid.UUID, notes: NotesDep, if_match: IfMatch = None) -> None:
    """Delete a note (and its tags)."""
    await notes.delete(note_id, if_match=_expected_version(if_match))
