"""The notes API's request and response bodies, with every limit the issue sets."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    model_validator,
)

MAX_TAGS = 10


def _storable(value: str) -> str:
    # PostgreSQL text cannot hold NUL, and a lone surrogate cannot be encoded as UTF-8:
    # refuse both here (422) instead of failing in the driver (500).
    if "\x00" in value:
        raise ValueError("must not contain the NUL character")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("must be valid Unicode text (no lone surrogates)") from None
    return value


_NO_NUL = r"^[^\x00]*$"  # stated in the schema too, so clients (and schemathesis) know
Title = Annotated[
    str, Field(min_length=1, max_length=200, pattern=_NO_NUL), AfterValidator(_storable)
]
Body = Annotated[str, Field(max_length=10_000, pattern=_NO_NUL), AfterValidator(_storable)]
Tag = Annotated[
    str,
    Field(min_length=1, max_length=32, pattern=r"^[^\x00-\x1f\x7f]+$"),
    AfterValidator(_storable),
]


def _unique(tags: list[str]) -> list[str]:
    """Drop repeated tags, keeping the first occurrence's position; then count them."""
    unique = list(dict.fromkeys(tags))
    if len(unique) > MAX_TAGS:
        raise ValueError(f"at most {MAX_TAGS} distinct tags; got {len(unique)}")
    return unique


# No maxItems: repeats are dropped before counting (documented), which JSON Schema cannot say.
Tags = Annotated[
    list[Tag],
    Field(description=f"At most {MAX_TAGS} distinct tags; repeats are dropped, first one kept."),
    AfterValidator(_unique),
]


def _number_not_bool_or_text(value: Any) -> Any:
    # pydantic's lax mode reads true as 1 and "1" as 1; JSON Schema's integer is neither.
    # An integral float (2.0) is an integer in JSON Schema and stays accepted.
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("must be a JSON integer (not true, false or a string)")
    return value


# Every number a request body carries goes through _number_not_bool_or_text.
Version = Annotated[int, Field(ge=1, le=2**31 - 1), BeforeValidator(_number_not_bool_or_text)]


class NoteCreate(BaseModel):
    """A new note."""

    model_config = ConfigDict(extra="forbid")

    title: Title
    body: Body = ""
    tags: Tags = Field(default_factory=list)


def drop_null_variant(schema: dict[str, Any]) -> None:
    """Describe a value that is left out, never sent as null, by its real type only.

    `X | None` becomes `X`, and its `default: null` goes too (a type that has no null
    cannot default to it). Used for NoteUpdate's fields and for optional parameters.
    """
    variants = schema.get("anyOf")
    if not isinstance(variants, list):
        return
    real = [v for v in variants if v != {"type": "null"}]
    if len(real) == 1 and len(real) < len(variants):
        del schema["anyOf"]
        schema.update(real[0])
        if "default" in schema and schema["default"] is None:
            del schema["default"]


def _omit_null_variants(schema: dict[str, Any]) -> None:
    """Optional fields are left out, never null: the document shows only their real type."""
    for prop in schema.get("properties", {}).values():
        drop_null_variant(prop)


class NoteUpdate(BaseModel):
    """A partial update: only the fields given change; `version`, if given, must be current."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=_omit_null_variants)

    title: Title | None = None
    body: Body | None = None
    tags: Tags | None = None
    version: Version | None = None

    @model_validator(mode="after")
    def _no_nulls(self) -> NoteUpdate:
        for name in ("title", "body", "tags", "version"):
            if name in self.model_fields_set and getattr(self, name) is None:
                raise ValueError(f"{name} cannot be null; leave it out to keep the current value")
        return self


class Note(BaseModel):
    """A stored note."""

    id: uuid.UUID
    title: str
    body: str
    tags: list[str]
    version: int = Field(description="Increases by one on every change; send it back to update.")
    created_at: datetime
    updated_at: datetime


class NotePage(BaseModel):
    """One page of notes, newest first; pass `next_cursor` back as `cursor` for the next page."""

    items: list[Note]
    next_cursor: str | None
