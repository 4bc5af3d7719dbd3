"""Every object in gitops/ and the backend as deployed validate strictly against Kubernetes 1.30
and the CRD schemas (../shared/crd-schemas); an object without a schema is an error."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tests.chart.conftest import ChartKit
from tests.chart.test_chart_schemas import kubeconform
from tests.gitops import support

# Every YAML file under gitops/ is one of these; a new kind of file must be placed here first.
ROLES = {
    "values": {*support.values_files(), *support.alternative_values(), support.backend_values()},
    "kustomization": set(support.kustomizations()),
    "manifests": set(support.manifest_files()),
}


def validate(objects: list[support.Manifest], tmp_path: Path) -> list[str]:
    """kubeconform -strict over the objects; the problems, empty when all are valid."""
    manifest = tmp_path / "objects.yaml"
    manifest.write_text(yaml.safe_dump_all(objects, sort_keys=False), encoding="utf-8")
    results = kubeconform(ChartKit(), manifest)
    problems = [
        f"{r['kind']}/{r['name']}: {r['status']} {r.get('msg', '')}"
        for r in results
        if r["status"] != "statusValid"
    ]
    if len(results) != len(objects):
        problems.append(f"kubeconform checked {len(results)} of {len(objects)} objects")
    return problems


def test_every_yaml_file_has_a_known_role() -> None:
    files = set(support.yaml_files())
    placed = set().union(*ROLES.values())
    assert files == placed, f"files in no role: {sorted(map(str, files - placed))}"
    assert not ROLES["values"] & ROLES["manifests"]


@pytest.mark.parametrize(
    "path",
    sorted(ROLES["manifests"] | ROLES["kustomization"]),
    ids=lambda p: str(p.relative_to(support.GITOPS)),
)
def test_objects_are_valid_kubernetes_1_30(path: Path, tmp_path: Path) -> None:
    if path.name == "kustomization.yaml":
        objects = support.kustomize(path.parent)
    else:
        objects = support.load_all(path)
    assert objects, f"{path} holds no object"
    problems = validate(objects, tmp_path)
    assert not problems, "\n".join(problems)


def test_the_backend_as_deployed_is_valid_kubernetes_1_30(tmp_path: Path) -> None:
    objects = support.render_backend_objects()
    assert {"Deployment", "HTTPRoute", "ServiceMonitor", "PrometheusRule"} <= {
        o["kind"] for o in objects
    }
    problems = validate(objects, tmp_path)
    assert not problems, "\n".join(problems)


def test_an_unknown_field_in_a_crd_object_is_refused(tmp_path: Path) -> None:
    """The validation is strict for the CRD kinds this tree adds (Application, ClusterPolicy)."""
    objects = [
        doc
        for path in (
            support.GITOPS / "bootstrap/root.yaml",
            support.GITOPS / "platform/kyverno/manifests/pods.yaml",
        )
        for doc in support.load_all(path)
    ]
    for doc in objects:
        doc["spec"]["notAField"] = True
    problems = validate(objects, tmp_path)
    assert len(problems) == len(objects)
    assert all("notAField" in p for p in problems)


def test_a_kind_without_a_schema_fails_loudly(tmp_path: Path) -> None:
    widget = {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}}
    problems = validate([widget], tmp_path)
    assert problems and "statusError" in problems[0]
