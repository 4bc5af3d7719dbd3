"""JSON responses from models the service built itself: serialised once, never re-validated.

Returning a model from a route makes FastAPI validate it against the response model again and
encode it twice (jsonable_encoder, then json.dumps): about a fifth of a by-id read's CPU time
for data that came from our own table (ADR 0017). The route keeps `response_model=` for the
OpenAPI document; pydantic-core writes the same JSON the model would have produced.
"""

from __future__ import annotations

from collections.abc import Mapping

from fastapi import Response
from pydantic import BaseModel


def model_response(
    model: BaseModel, *, status_code: int = 200, headers: Mapping[str, str] | None = None
) -> Response:
    """`model` as application/json, exactly as FastAPI would have serialised it."""
    return Response(
        model.__pydantic_serializer__.to_json(model),
        status_code=status_code,
        headers=headers,
        media_type="application/json",
    )
