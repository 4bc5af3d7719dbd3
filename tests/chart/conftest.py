"""Fixtures of the chart tests: the pinned tools, the ci scenarios and a renderer.

The tools come from `make chart-tools` (installed under .tools/ and found through
KUBESTEAD_TOOLS_DIR, which mk/chart.mk exports). A missing tool or schema folder
fails the test with the command that fixes it: nothing here skips quietly.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
CHART = REPO / "charts" / "backend"
SCENARIOS = sorted(CHART.glob("ci/*-values.yaml"))
NAMESPACE = "backend"
RELEASE = "backend"

Manifest = dict[str, Any]
Render = Callable[..., list[Manifest]]


def tools_dir() -> Path:
    return Path(os.environ.get("KUBESTEAD_TOOLS_DIR", REPO / ".tools"))


def tool(name: str) -> str:
    """Absolute path of a pinned tool; fails with the fix when it is not installed."""
    path = tools_dir() / "bin" / name
    if not path.exists():
        found = shutil.which(name)
        if found is None:
            pytest.fail(f"{name} is not installed in {path.parent}; run `make chart-tools`")
        return found
    return str(path)


def k8s_schemas_dir() -> Path:
    path = Path(os.environ.get("KUBESTEAD_K8S_SCHEMAS", tools_dir() / "k8s-schemas"))
    if not (path / "v1.30.0-standalone-strict" / "deployment-apps-v1.json").exists():
        pytest.fail(f"no Kubernetes 1.30 JSON schemas in {path}; run `make chart-tools`")
    return path


def crd_schemas_dir() -> Path:
    """The CRD schema catalog (../shared/crd-schemas, or KUBESTEAD_CRD_SCHEMAS)."""
    default = REPO.parent / "shared" / "crd-schemas"
    path = Path(os.environ.get("KUBESTEAD_CRD_SCHEMAS", default))
    wanted = [
        "monitoring.coreos.com/servicemonitor_v1.json",
        "monitoring.coreos.com/prometheusrule_v1.json",
        "gateway.networking.k8s.io/httproute_v1.json",
    ]
    missing = [name for name in wanted if not (path / name).exists()]
    if missing:
        pytest.fail(
            f"CRD schemas missing in {path}: {', '.join(missing)}. Put the shared catalog at "
            "../shared/crd-schemas or point KUBESTEAD_CRD_SCHEMAS at a copy of it"
        )
    return path


def helm(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [tool("helm"), *args], capture_output=True, text=True, timeout=120, check=False
    )
    if check and result.returncode != 0:
        pytest.fail(f"helm {' '.join(args)} failed:\n{result.stderr}")
    return result


def template_args(
    values: list[Path], sets: dict[str, str], set_strings: dict[str, str]
) -> list[str]:
    args = ["template", RELEASE, str(CHART), "--namespace", NAMESPACE]
    for path in values:
        args += ["--values", str(path)]
    for key, value in sets.items():
        args += ["--set", f"{key}={value}"]
    for key, value in set_strings.items():
        args += ["--set-string", f"{key}={value}"]
    return args


def render_text(
    values: list[Path] | None = None,
    sets: dict[str, str] | None = None,
    set_strings: dict[str, str] | None = None,
) -> str:
    return helm(*template_args(values or [], sets or {}, set_strings or {})).stdout


def render(
    values: list[Path] | None = None,
    sets: dict[str, str] | None = None,
    set_strings: dict[str, str] | None = None,
) -> list[Manifest]:
    text = render_text(values, sets, set_strings)
    return [doc for doc in yaml.safe_load_all(text) if doc]


def render_error(sets: dict[str, str], values: list[Path] | None = None) -> str:
    """The error helm prints for values the chart must refuse; fails if helm renders them."""
    result = helm(*template_args(values or [], sets, {}), check=False)
    if result.returncode == 0:
        pytest.fail(f"helm rendered values it should refuse: {sets}")
    return result.stderr


def psa_check(manifest: Path) -> tuple[int, list[dict[str, Any]]]:
    """Exit code and per-object verdicts of the upstream Pod Security Admission library at
    `restricted` (tests/chart/psa): 0 when every pod is admitted, 1 when one is not."""
    result = subprocess.run(
        [tool("chart-psa-check"), str(manifest)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode in {0, 1}, result.stderr
    return result.returncode, [json.loads(line) for line in result.stdout.splitlines()]


@pytest.fixture(params=SCENARIOS, ids=[p.name.removesuffix("-values.yaml") for p in SCENARIOS])
def scenario(request: pytest.FixtureRequest) -> Iterator[Path]:
    path: Path = request.param
    yield path


def find(manifests: list[Manifest], kind: str, name: str | None = None) -> Manifest:
    matches = [
        m
        for m in manifests
        if m["kind"] == kind and (name is None or m["metadata"]["name"] == name)
    ]
    assert len(matches) == 1, f"expected one {kind} {name or ''}, found {len(matches)}"
    return matches[0]


def kinds(manifests: list[Manifest]) -> list[str]:
    return sorted(m["kind"] for m in manifests)


def pod_specs(manifests: list[Manifest]) -> list[tuple[str, Manifest]]:
    """(kind/name, pod spec) of every object that runs pods."""
    specs = []
    for m in manifests:
        name = f"{m['kind']}/{m['metadata']['name']}"
        if m["kind"] == "Pod":
            specs.append((name, m["spec"]))
        elif m["kind"] in {"Deployment", "Job", "StatefulSet", "DaemonSet"}:
            specs.append((name, m["spec"]["template"]["spec"]))
    return specs


class ChartKit:
    """What the tests use, handed out by the `kit` fixture (test modules cannot import
    each other under --import-mode=importlib; a TYPE_CHECKING import gives the type)."""

    chart = CHART
    repo = REPO
    namespace = NAMESPACE
    release = RELEASE
    scenarios = SCENARIOS
    tool = staticmethod(tool)
    helm = staticmethod(helm)
    render = staticmethod(render)
    render_text = staticmethod(render_text)
    render_error = staticmethod(render_error)
    find = staticmethod(find)
    kinds = staticmethod(kinds)
    pod_specs = staticmethod(pod_specs)
    psa_check = staticmethod(psa_check)
    k8s_schemas_dir = staticmethod(k8s_schemas_dir)
    crd_schemas_dir = staticmethod(crd_schemas_dir)

    @staticmethod
    def ci(name: str) -> Path:
        path = CHART / "ci" / f"{name}-values.yaml"
        assert path.exists(), f"no scenario {path}"
        return path


@pytest.fixture(scope="session")
def kit() -> ChartKit:
    return ChartKit()
