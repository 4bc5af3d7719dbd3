"""What the gitops tests share: the tree's files by role, the Applications, the pinned tools.

The tools and schemas are the chart tests' (tests/chart/conftest.py, installed by
`make gitops-tools` or `make chart-tools`): a missing one fails with the command that fixes it.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.chart.conftest import REPO as REPO
from tests.chart.conftest import helm, tool

GITOPS = REPO / "gitops"
GIT_REPO_URL = "https://github.com/kubestead/kubestead.git"
EXACT_VERSION = re.compile(r"^v?\d+\.\d+\.\d+$")

Manifest = dict[str, Any]


def load_all(path: Path) -> list[Manifest]:
    return [doc for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")) if doc]


def yaml_files() -> list[Path]:
    return sorted(p for p in GITOPS.rglob("*.yaml"))


def values_files() -> list[Path]:
    """Helm values: not Kubernetes objects, checked against the upstream chart's keys instead."""
    return sorted([*GITOPS.glob("platform/*/values.yaml"), GITOPS / "bootstrap/argocd-values.yaml"])


def alternative_values() -> list[Path]:
    """Values of documented alternatives that no Application deploys (gitops/alternatives)."""
    return sorted(GITOPS.glob("alternatives/*/values.yaml"))


def kustomizations() -> list[Path]:
    return sorted(GITOPS.rglob("kustomization.yaml"))


def manifest_files() -> list[Path]:
    """Every file of Kubernetes objects that Argo CD applies as it is."""
    others = {
        *values_files(),
        *alternative_values(),
        *kustomizations(),
        GITOPS / "apps/backend/values.yaml",
    }
    return [p for p in yaml_files() if p not in others]


def kustomize(directory: Path) -> list[Manifest]:
    result = subprocess.run(
        [tool("kubectl"), "kustomize", str(directory)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if result.returncode != 0:
        pytest.fail(f"kubectl kustomize {directory} failed:\n{result.stderr}")
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


def all_objects() -> Iterator[tuple[Path, Manifest]]:
    """(source file, object) of every object in the tree, kustomizations rendered."""
    for path in manifest_files():
        for doc in load_all(path):
            yield path, doc
    for path in kustomizations():
        for doc in kustomize(path.parent):
            yield path, doc


@dataclass(frozen=True)
class Source:
    repo_url: str
    target_revision: str
    chart: str | None
    path: str | None
    ref: str | None
    value_files: tuple[str, ...]


@dataclass(frozen=True)
class Application:
    file: Path
    name: str
    project: str
    wave: int
    namespace: str
    sources: tuple[Source, ...]
    raw: Manifest

    @property
    def chart(self) -> Source | None:
        charts = [s for s in self.sources if s.chart]
        return charts[0] if charts else None


def _source(raw: Manifest) -> Source:
    helm_spec = raw.get("helm", {})
    return Source(
        repo_url=raw["repoURL"],
        target_revision=str(raw.get("targetRevision", "")),
        chart=raw.get("chart"),
        path=raw.get("path"),
        ref=raw.get("ref"),
        value_files=tuple(helm_spec.get("valueFiles", [])),
    )


def applications() -> list[Application]:
    apps = []
    for path, doc in all_objects():
        if doc.get("kind") != "Application":
            continue
        spec = doc["spec"]
        raw_sources = spec.get("sources") or [spec["source"]]
        wave = doc["metadata"].get("annotations", {}).get("argocd.argoproj.io/sync-wave", "0")
        apps.append(
            Application(
                file=path,
                name=doc["metadata"]["name"],
                project=spec["project"],
                wave=int(wave),
                namespace=spec["destination"].get("namespace", ""),
                sources=tuple(_source(s) for s in raw_sources),
                raw=doc,
            )
        )
    return apps


def application(name: str) -> Application:
    found = [a for a in applications() if a.name == name]
    assert len(found) == 1, f"expected one Application {name}, found {len(found)}"
    return found[0]


def projects() -> dict[str, Manifest]:
    return {d["metadata"]["name"]: d for _, d in all_objects() if d.get("kind") == "AppProject"}


def backend_values() -> Path:
    return GITOPS / "apps" / "backend" / "values.yaml"


def render_backend(*extra: str) -> str:
    """The backend chart as Argo CD renders it: production values, and no `helm test` pod
    (the Application sets helm.skipTests, checked in test_gitops_projects)."""
    args = ["template", "backend", str(REPO / "charts" / "backend"), "--namespace", "backend"]
    args += ["--values", str(backend_values()), "--skip-tests", *extra]
    return helm(*args).stdout


def render_backend_objects(*extra: str) -> list[Manifest]:
    return [doc for doc in yaml.safe_load_all(render_backend(*extra)) if doc]


def pod_specs(obj: Manifest) -> list[Manifest]:
    kind = obj.get("kind")
    if kind == "Pod":
        return [obj["spec"]]
    if kind in {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job"}:
        return [obj["spec"]["template"]["spec"]]
    if kind == "CronJob":
        return [obj["spec"]["jobTemplate"]["spec"]["template"]["spec"]]
    return []
