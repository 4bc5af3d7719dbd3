"""Write the spec reference table of src/kubestead/README.md from the cluster spec's models.

The pydantic models (src/kubestead/spec/models.py) are the source: each field's alias, default
and description, plus the allowed values of a Literal and the bounds of a number. The README
table between the `spec-table` markers is their mirror, generated here and checked by
tests/cli/test_cli_spec_reference.py.

    python scripts/spec_docs.py          # rewrite the table
    python scripts/spec_docs.py --check  # exit 1 when the README is out of date
"""

from __future__ import annotations

import argparse
import json
import sys
import types
import typing
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple

import annotated_types
import yaml
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from kubestead.spec.models import Cluster

README = Path(__file__).resolve().parents[1] / "src" / "kubestead" / "README.md"
BEGIN = "<!-- spec-table:begin -->"
END = "<!-- spec-table:end -->"
HEADER = "| Field | Default | Rule |\n|---|---|---|\n"


class Row(NamedTuple):
    path: str
    default: str
    rule: str


def _args(annotation: Any) -> tuple[Any, ...]:
    """What an annotation wraps: `X | None` -> (X,), `Annotated[X, ...]` -> (X,)."""
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        return tuple(a for a in typing.get_args(annotation) if a is not type(None))
    if origin is typing.Annotated:
        return typing.get_args(annotation)[:1]
    return ()


def _nested(annotation: Any, suffix: str = "") -> Iterator[tuple[type[BaseModel], str]]:
    """The models an annotation holds and the path suffix to their fields (`[]` per list)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        yield annotation, suffix
        return
    origin = typing.get_origin(annotation)
    if origin is list:
        yield from _nested(typing.get_args(annotation)[0], f"{suffix}[]")
    elif origin is dict:
        yield from _nested(typing.get_args(annotation)[1], f"{suffix}.<key>")
    for arg in _args(annotation):
        yield from _nested(arg, suffix)


def _choices(annotation: Any) -> list[Any]:
    if typing.get_origin(annotation) is typing.Literal:
        return list(typing.get_args(annotation))
    return [choice for arg in _args(annotation) for choice in _choices(arg)]


def _yaml(value: Any) -> str:
    """A default as it is written in cluster.yaml, as a code span."""
    if isinstance(value, BaseModel):
        if value != type(value)():
            raise ValueError(f"{type(value).__name__}: only all-defaults models are supported")
        value = {}
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, str):
        plain = value and not any(c.isspace() for c in value) and yaml.safe_load(value) == value
        text = value if plain else json.dumps(value)
    else:
        text = json.dumps(value)  # numbers, lists, mappings: JSON is YAML's flow style
    return f"`{text}`"


def _default(field: FieldInfo) -> str:
    if field.is_required():
        return "required"
    value = field.get_default(call_default_factory=True, validated_data={})
    return "none" if value is None else _yaml(value)


def _rule(field: FieldInfo) -> str:
    parts = []
    choices = _choices(field.annotation)
    if choices:
        parts.append(", ".join(f"`{choice}`" for choice in choices))
    ge = next((m.ge for m in field.metadata if isinstance(m, annotated_types.Ge)), None)
    le = next((m.le for m in field.metadata if isinstance(m, annotated_types.Le)), None)
    if ge is not None and le is not None:
        parts.append(f"{ge} to {le}")
    elif ge is not None or le is not None:
        parts.append(f"at least {ge}" if ge is not None else f"at most {le}")
    parts.append(" ".join((field.description or "").split()))
    return "; ".join(part for part in parts if part)


def rows(model: type[BaseModel] = Cluster, prefix: str = "") -> Iterator[Row]:
    """One row per field, depth first in declaration order: `spec.hosts[].name`."""
    for name, field in model.model_fields.items():
        path = f"{prefix}{field.alias or name}"
        yield Row(path, _default(field), _rule(field))
        for nested, suffix in _nested(field.annotation):
            yield from rows(nested, f"{path}{suffix}.")


def table() -> str:
    def cell(text: str) -> str:
        return text.replace("|", "\\|")

    return HEADER + "".join(
        f"| `{row.path}` | {cell(row.default)} | {cell(row.rule)} |\n" for row in rows()
    )


def with_table(readme: str, new_table: str) -> str:
    """The README with the text between the spec-table markers replaced by `new_table`."""
    start = readme.index(BEGIN) + len(BEGIN)
    end = readme.index(END, start)
    return f"{readme[:start]}\n{new_table}{readme[end:]}"


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only report a stale README")
    args = parser.parse_args()
    shown = README.relative_to(README.parents[2])
    readme = README.read_text(encoding="utf-8")
    try:
        wanted = with_table(readme, table())
    except ValueError:
        print(f"{shown}: no `{BEGIN}` ... `{END}` markers", file=sys.stderr)
        return 1
    if wanted == readme:
        return 0
    if args.check:
        print(f"out of date: {shown}; run `python scripts/spec_docs.py`", file=sys.stderr)
        return 1
    README.write_text(wanted, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
