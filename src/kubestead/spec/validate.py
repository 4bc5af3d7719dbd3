"""Load, check the header, validate the schema, then run the cross-field rules."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from kubestead.spec import rules
from kubestead.spec.explain import explain
from kubestead.spec.issues import Issue, shown
from kubestead.spec.loader import Document, LoadError, load, loads
from kubestead.spec.models import API_VERSION, KIND, Cluster
from kubestead.spec.overlay import PATH as OVERLAY_PATH
from kubestead.spec.overlay import load_overlay, overlay_file


@dataclass(frozen=True)
class Result:
    cluster: Cluster | None
    issues: list[Issue]

    @property
    def errors(self) -> list[Issue]:
        return [i for i in self.issues if i.severity == "error"]

    @property
    def warnings(self) -> list[Issue]:
        return [i for i in self.issues if i.severity == "warning"]

    @property
    def ok(self) -> bool:
        return self.cluster is not None and not self.errors


def _header(data: dict[Any, Any]) -> list[Issue]:
    # A wrong apiVersion or kind means the rest of the file follows another schema: report
    # that alone instead of a cascade of unknown fields.
    issues = []
    for key, expected in (("apiVersion", API_VERSION), ("kind", KIND)):
        value = data.get(key)
        if value is None:
            issues.append(
                Issue(
                    (key,),
                    f"is missing — the first lines must be "
                    f"`apiVersion: {API_VERSION}` and `kind: {KIND}`",
                )
            )
        elif value != expected:
            issues.append(
                Issue(
                    (key,),
                    f"{shown(repr(value))} is not a kubestead spec — write `{key}: {expected}`",
                )
            )
    return issues


def validate_document(doc: Document, options: rules.Options) -> Result:
    header = _header(doc.data)
    if header:
        return Result(None, [i.at_line(doc.line_of(i.path)) for i in header])
    try:
        cluster = Cluster.model_validate(doc.data)
    except ValidationError as error:
        issues = explain(error, Cluster)
        return Result(None, [i.at_line(doc.line_of(i.path)) for i in issues])
    found = rules.check(cluster, options)
    return Result(cluster, [i.at_line(doc.line_of(i.path)) for i in found])


def validate_text(text: str, options: rules.Options | None = None) -> Result:
    try:
        doc = loads(text)
    except LoadError as error:
        return Result(None, [error.issue])
    return validate_document(doc, options or rules.Options())


def validate_file(path: Path, options: rules.Options | None = None) -> Result:
    try:
        doc = load(path)
    except LoadError as error:
        return Result(None, [error.issue])
    result = validate_document(doc, options or rules.Options())
    named = result.cluster.spec.inventory_overlay if result.cluster is not None else None
    if named is None:
        return result
    _, problems = load_overlay(overlay_file(path, named), named)
    line = doc.line_of(OVERLAY_PATH)
    return Result(result.cluster, result.issues + [i.at_line(line) for i in problems])
