"""The OpenAPI document, corrected so that it describes the error bodies actually sent."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from backend.problems import PROBLEM_JSON
from backend.schemas import drop_null_variant

_PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}


def install(app: FastAPI) -> None:
    """Errors are application/problem+json with the Problem schema, 422 included."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
            )
            for path in schema.get("paths", {}).values():
                for operation in path.values():
                    for code, response in operation.get("responses", {}).items():
                        _fix_error_response(code, response)
                    for parameter in operation.get("parameters", []):
                        _drop_null(parameter)
            components = schema.get("components", {}).get("schemas", {})
            for unused in ("HTTPValidationError", "ValidationError"):
                components.pop(unused, None)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def _fix_error_response(code: str, response: dict[str, Any]) -> None:
    if not code.isdigit() or int(code) < 400:
        return
    content = response.get("content", {})
    json_schema = content.get("application/json", {}).get("schema", {})
    is_problem = json_schema == _PROBLEM_REF or json_schema.get("$ref", "").endswith(
        "/HTTPValidationError"
    )
    if is_problem:
        response["content"] = {PROBLEM_JSON: {"schema": _PROBLEM_REF}}


def _drop_null(parameter: dict[str, Any]) -> None:
    """An optional parameter is left out, never sent as null: describe only its real type."""
    if not parameter.get("required"):
        drop_null_variant(parameter.get("schema", {}))
