"""The notes resource: create, read, list by cursor, update with optimistic concurrency, delete."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Header, Query, Response, status
from fastapi.exceptions import RequestValidationError

from backend.deps import NotesDep
from backend.pagination import Cursor, InvalidCursor
from backend.preconditions import IF_MATCH_PATTERN, if_match_versions
from backend.problems import problem_responses
from backend.responses import model_response
from backend.schemas import Note, NoteCreate, NotePage, NoteUpdate, Tag

router = APIRouter(prefix="/api/v1/notes", tags=["notes"])

MAX_PAGE = 100

IfMatch = Annotated[
    str | None,
    Header(
        description=(
            'ETags from a GET ("<version>"), separated by commas, or *; the change applies '
            "only if the note's current version is among them. Weak tags (W/...) never match "
            "(RFC 9110 compares If-Match strongly)."
        ),
        pattern=IF_MATCH_PATTERN,
    ),
]


def etag(note: Note) -> str:
    """A strong validator: If-Match compares strongly (RFC 9110, 13.1.1)."""
    return f'"{note.version}"'


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=Note,
    responses=problem_responses(413, 422, 503),
)
async def create_note(data: NoteCreate, notes: NotesDep) -> Response:
    """Create a note; the Location header points at it."""
    note = await notes.create(data)
    headers = {"Location": f"{router.prefix}/{note.id}", "ETag": etag(note)}
    return model_response(note, status_code=201, headers=headers)


@router.get("", response_model=NotePage, responses=problem_responses(422, 503))
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
) -> Response:
    """List notes, newest first, one page at a time."""
    position = None
    if cursor is not None:
        try:
            position = Cursor.decode(cursor)
        except InvalidCursor as exc:
            raise RequestValidationError(
                [{"loc": ("query", "cursor"), "msg": str(exc), "type": "value_error"}]
            ) from None
    return model_response(await notes.list_page(limit=limit, cursor=position, tag=tag))


@router.get("/{note_id}", response_model=Note, responses=problem_responses(404, 422, 503))
async def get_note(note_id: uuid.UUID, notes: NotesDep) -> Response:
    """Read one note; its ETag is the version to send back in If-Match."""
    note = await notes.get(note_id)
    return model_response(note, headers={"ETag": etag(note)})


@router.patch(
    "/{note_id}",
    response_model=Note,
    responses=problem_responses(404, 409, 412, 413, 422, 503),
)
async def update_note(
    note_id: uuid.UUID,
    change: NoteUpdate,
    notes: NotesDep,
    if_match: IfMatch = None,
) -> Response:
    """Change some fields; a stale If-Match answers 412, a stale `version` 409."""
    note = await notes.update(note_id, change, if_match=if_match_versions(if_match))
    return model_response(note, headers={"ETag": etag(note)})


@router.delete(
    "/{note_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=problem_responses(404, 412, 422, 503),
)
async def delete_note(note_id: uuid.UUID, notes: NotesDep, if_match: IfMatch = None) -> None:
    """Delete a note (and its tags)."""
    await notes.delete(note_id, if_match=if_match_versions(if_match))
