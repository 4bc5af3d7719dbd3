"""Typed dependencies for the routers: `notes: NotesDep` instead of repeating Depends()."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from backend.repository import NoteRepository
from backend.state import AppState


# async on purpose: FastAPI runs plain `def` dependencies in a worker thread, a thread hop
# per request for what is an attribute lookup.
async def get_state(request: Request) -> AppState:
    state = request.app.state.backend
    assert isinstance(state, AppState)  # noqa: S101 - create_app always sets it
    return state


async def get_notes(request: Request) -> NoteRepository:
    return (await get_state(request)).notes


StateDep = Annotated[AppState, Depends(get_state)]
NotesDep = Annotated[NoteRepository, Depends(get_notes)]
