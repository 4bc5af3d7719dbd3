"""Turn pydantic's validation errors into `path: what is wrong — what to do` issues."""

from __future__ import annotations

import difflib
import types
import typing
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from kubestead.spec.issues import Issue, Path_, escape

_EXPECTED = {
    "string_type": "a string",
    "int_type": "an integer",
    "bool_type": "true or false",
    "list_type": "a list",
    "dict_type": "a mapping",
    "model_type": "a mapping",
    "model_attributes_type": "a mapping",
}


def _type_name(value: Any) -> str:
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return f"the string {_short(value)}"
    return f"{type(value).__name__} {_short(value)}"


def _short(value: Any) -> str:
    # repr() escapes control characters: a user value can never split the issue's line.
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _unwrap(annotation: Any) -> list[Any]:
    """The classes an annotation can hold: `list[Host] | None` -> [Host]."""
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType, list, dict, typing.Annotated):
        args = typing.get_args(annotation)
        if origin is typing.Annotated:
            args = args[:1]
        return [leaf for arg in args for leaf in _unwrap(arg)]
    return [annotation]


def model_at(root: type[BaseModel], path: Path_) -> type[BaseModel] | None:
    """The model that a mapping at `path` is validated against, or None when it is not one."""
    current: type[BaseModel] | None = root
    for part in path:
        if current is None:
            return None
        if isinstance(part, int):
            continue
        field = next(
            (f for name, f in current.model_fields.items() if (f.alias or name) == part), None
        )
        if field is None:
            return None
        models = [
            leaf
            for leaf in _unwrap(field.annotation)
            if isinstance(leaf, type) and issubclass(leaf, BaseModel)
        ]
        current = models[0] if models else None
    return current


def known_keys(root: type[BaseModel], path: Path_) -> list[str]:
    model = model_at(root, path)
    if model is None:
        return []
    return [f.alias or name for name, f in model.model_fields.items()]


def _message(error: ErrorDetails, root: type[BaseModel]) -> str:
    kind = error["type"]
    value = error.get("input")
    loc = tuple(error["loc"])
    ctx = error.get("ctx") or {}
    if kind == "kubestead":
        return escape(error["msg"])  # the checks of types.py escape what they echo already
    if kind == "missing":
        return "is required — add it (`kubestead init` prints a complete example)"
    if kind == "extra_forbidden":
        # The key is the issue's path (escaped by `dotted`); the message only names known keys.
        key = str(loc[-1])
        choices = known_keys(root, loc[:-1])
        close = difflib.get_close_matches(key, choices, n=1, cutoff=0.6)
        if not close:
            lowered = {c.lower(): c for c in choices}
            close = [lowered[key.lower()]] if key.lower() in lowered else []
        if close:
            return f"unknown field — did you mean `{close[0]}`?"
        allowed = ", ".join(choices) if choices else "none"
        return f"unknown field — remove it (fields allowed here: {allowed})"
    if kind == "literal_error":
        expected = str(ctx.get("expected", "")).replace("'", "")
        return f"{_short(value)} is not allowed — use one of: {expected}"
    if kind in _EXPECTED:
        hint = ""
        if kind in ("int_type", "bool_type") and isinstance(value, str):
            hint = " (write it without quotes)"
        elif kind == "string_type" and value is not None:
            hint = " (quote it)"
        return f"expected {_EXPECTED[kind]}, got {_type_name(value)} — change it{hint}"
    if kind in ("greater_than_equal", "less_than_equal", "greater_than", "less_than"):
        return f"{_short(value)} is out of range: {error['msg'].lower()} — change it"
    if kind == "too_short":
        return "is empty — add at least one entry"
    if kind == "string_pattern_mismatch":
        return f"{_short(value)} has the wrong form (pattern {ctx.get('pattern')}) — fix it"
    if kind == "string_too_short":
        return "is empty — give it a value"
    return f"{escape(error['msg'])} — fix it"


def explain(error: ValidationError, root: type[BaseModel]) -> list[Issue]:
    issues: list[Issue] = []
    for detail in error.errors(include_url=False):
        loc: Path_ = tuple(p for p in detail["loc"] if isinstance(p, str | int))
        # Pydantic reports a bad mapping key at `key.[key]`; the key itself is the path.
        loc = tuple(p for p in loc if p != "[key]")
        issues.append(Issue(path=loc, message=_message(detail, root)))
    return issues
