"""Keep a chart README's values table in step with its values.yaml.

values.yaml documents each key with a `# -- text` comment (the helm-docs
convention) right above it; this script turns those comments into the Markdown
table between the README's `values-table` markers, with each key's type (from
values.schema.json) and default (from values.yaml).

    python scripts/chart_values_table.py --write charts/backend   # rewrite the table
    python scripts/chart_values_table.py --check charts/backend   # exit 1 when stale

--check also fails when a key in values.yaml has no `# --` comment on itself or
on a parent map, so that every value stays documented where it is defined.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

START = "<!-- values-table:start -->"
END = "<!-- values-table:end -->"
_KEY_LINE = re.compile(r"^(?P<indent> *)(?P<key>[A-Za-z0-9_.-]+):(?:\s|$)")
_DOC_START = re.compile(r"^ *# -- ?(?P<text>.*)$")
_DOC_MORE = re.compile(r"^ *# ?(?P<text>.*)$")
_MISSING = object()


@dataclass(frozen=True)
class Row:
    key: str
    type: str
    default: str
    description: str


def _lookup(values: Any, path: list[str]) -> Any:
    node = values
    for part in path:
        if not isinstance(node, dict) or part not in node:
            return _MISSING
        node = node[part]
    return node


def documented_keys(values_text: str, values: dict[str, Any]) -> dict[str, str]:
    """Map each dotted key with a `# --` comment to that comment's text."""
    docs: dict[str, str] = {}
    stack: list[tuple[int, str]] = []
    pending: list[str] | None = None
    for line in values_text.splitlines():
        start = _DOC_START.match(line)
        if start:
            pending = [start.group("text").strip()]
            continue
        if pending is not None and line.lstrip().startswith("#"):
            more = _DOC_MORE.match(line)
            pending.append(more.group("text").strip() if more else "")
            continue
        match = _KEY_LINE.match(line)
        if not match:
            if line.strip():
                pending = None
            continue
        indent = len(match.group("indent"))
        while stack and stack[-1][0] >= indent:
            stack.pop()
        path = [key for _, key in stack] + [match.group("key")]
        stack.append((indent, match.group("key")))
        # Keys inside list items do not resolve through maps: they are data, not values keys.
        if _lookup(values, path) is not _MISSING and pending is not None:
            docs[".".join(path)] = " ".join(part for part in pending if part)
        pending = None
    return docs


def leaf_keys(values: Any, prefix: str = "") -> list[str]:
    """Dotted keys of every value that is not itself a non-empty map."""
    if not isinstance(values, dict) or not values:
        return [prefix] if prefix else []
    keys: list[str] = []
    for key, value in values.items():
        keys.extend(leaf_keys(value, f"{prefix}.{key}" if prefix else str(key)))
    return keys


def _schema_type(schema: dict[str, Any], path: list[str]) -> str | None:
    node: Any = schema
    for part in path:
        node = node.get("properties", {}).get(part) if isinstance(node, dict) else None
        if node is None:
            return None
    kinds = node.get("type")
    if kinds is None and "oneOf" in node:
        kinds = [option.get("type") for option in node["oneOf"]]
    if isinstance(kinds, list):
        return " or ".join(str(kind) for kind in kinds)
    return str(kinds) if kinds else None


def _python_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if value is None:
        return "null"
    return "object"


def rows(chart: Path) -> list[Row]:
    text = (chart / "values.yaml").read_text(encoding="utf-8")
    values = yaml.safe_load(text) or {}
    schema_path = chart / "values.schema.json"
    schema = json.loads(schema_path.read_text(encoding="utf-8")) if schema_path.exists() else {}
    docs = documented_keys(text, values)
    result = []
    for key, description in docs.items():
        path = key.split(".")
        value = _lookup(values, path)
        kind = _schema_type(schema, path) or _python_type(value)
        if isinstance(value, dict) and any(other.startswith(f"{key}.") for other in docs):
            default = "see the keys below"
        else:
            default = "`" + json.dumps(value, separators=(",", ":")).replace("|", "\\|") + "`"
        result.append(Row(key, kind, default, description.replace("|", "\\|")))
    return result


def undocumented(chart: Path) -> list[str]:
    text = (chart / "values.yaml").read_text(encoding="utf-8")
    values = yaml.safe_load(text) or {}
    docs = documented_keys(text, values)
    missing = []
    for leaf in leaf_keys(values):
        parts = leaf.split(".")
        if not any(".".join(parts[:n]) in docs for n in range(1, len(parts) + 1)):
            missing.append(leaf)
    return missing


def table(chart: Path) -> str:
    lines = ["| Key | Type | Default | Description |", "| --- | --- | --- | --- |"]
    lines += [f"| `{r.key}` | {r.type} | {r.default} | {r.description} |" for r in rows(chart)]
    return "\n".join(lines)


def _split_readme(readme: Path) -> tuple[str, str, str]:
    text = readme.read_text(encoding="utf-8")
    if START not in text or END not in text:
        raise SystemExit(f"{readme}: no {START} ... {END} markers; add them where the table goes")
    head, rest = text.split(START, 1)
    body, tail = rest.split(END, 1)
    return head, body, tail


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--check", action="store_true", help="exit 1 if the table is stale")
    mode.add_argument("--write", action="store_true", help="rewrite the table in README.md")
    parser.add_argument("chart", type=Path, help="chart directory, e.g. charts/backend")
    args = parser.parse_args(argv)

    chart: Path = args.chart
    readme = chart / "README.md"
    missing = undocumented(chart)
    if missing:
        print(
            f"{chart}/values.yaml: no `# --` comment on {', '.join(missing)}; "
            "document each key (or its parent map) where it is defined",
            file=sys.stderr,
        )
        return 1
    head, body, tail = _split_readme(readme)
    wanted = f"\n{table(chart)}\n"
    if args.write:
        readme.write_text(f"{head}{START}{wanted}{END}{tail}", encoding="utf-8")
        return 0
    if body != wanted:
        print(
            f"{readme}: the values table differs from values.yaml; run `make chart-docs`",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
