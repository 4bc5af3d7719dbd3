"""Every scenario, rendered, is valid against the Kubernetes 1.30 and CRD schemas (strict)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tests.chart.conftest import ChartKit

CRD_KINDS = {"ServiceMonitor", "PrometheusRule", "HTTPRoute"}


def kubeconform(kit: ChartKit, manifest: Path) -> list[dict[str, Any]]:
    """Per-resource results of kubeconform -strict; a resource without a schema is an error."""
    k8s = kit.k8s_schemas_dir()
    crds = kit.crd_schemas_dir()
    result = subprocess.run(
        [
            kit.tool("kubeconform"),
            "-strict",
            "-summary",
            "-output",
            "json",
            "-verbose",
            "-kubernetes-version",
            "1.30.0",
            "-schema-location",
            f"{k8s}/{{{{ .NormalizedKubernetesVersion }}}}-standalone{{{{ .StrictSuffix }}}}"
            "/{{ .ResourceKind }}{{ .KindSuffix }}.json",
            "-schema-location",
            f"{crds}/{{{{ .Group }}}}/{{{{ .ResourceKind }}}}_{{{{ .ResourceAPIVersion }}}}.json",
            str(manifest),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    report = json.loads(result.stdout)
    resources: list[dict[str, Any]] = report["resources"]
    return resources


def test_scenario_is_valid_kubernetes_1_30(kit: ChartKit, scenario: Path, tmp_path: Path) -> None:
    manifest = tmp_path / "rendered.yaml"
    manifest.write_text(kit.render_text([scenario]), encoding="utf-8")
    results = kubeconform(kit, manifest)
    bad = [
        f"{r['kind']}/{r['name']}: {r['status']} {r.get('msg', '')}"
        for r in results
        if r["status"] != "statusValid"
    ]
    assert not bad, "\n".join(bad)
    rendered = kit.render([scenario])
    assert len(results) == len(rendered), "kubeconform did not check every rendered object"


def test_everything_scenario_covers_the_crd_kinds(kit: ChartKit) -> None:
    rendered = set(kit.kinds(kit.render([kit.ci("everything")])))
    assert rendered >= CRD_KINDS


def test_kubeconform_rejects_an_unknown_field(kit: ChartKit, tmp_path: Path) -> None:
    """The validation is strict for core and CRD kinds alike: an unknown field fails."""
    import yaml

    docs = kit.render([kit.ci("everything")])
    for doc in docs:
        if doc["kind"] in {"Deployment", "ServiceMonitor", "HTTPRoute"}:
            doc["spec"]["notAField"] = True
    manifest = tmp_path / "broken.yaml"
    manifest.write_text(yaml.safe_dump_all(docs), encoding="utf-8")
    results = kubeconform(kit, manifest)
    invalid = {r["kind"] for r in results if r["status"] == "statusInvalid"}
    assert invalid == {"Deployment", "ServiceMonitor", "HTTPRoute"}
    assert all("notAField" in r["msg"] for r in results if r["status"] == "statusInvalid")


def test_a_kind_without_a_schema_is_an_error(kit: ChartKit, tmp_path: Path) -> None:
    manifest = tmp_path / "unknown.yaml"
    manifest.write_text(
        "apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w\nspec: {}\n",
        encoding="utf-8",
    )
    results = kubeconform(kit, manifest)
    assert [r["status"] for r in results] == ["statusError"]
