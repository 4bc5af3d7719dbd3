"""The GitOps proof's parts that need no cluster: the argo-cd add-on's images the bundle would
build, the values and Application the proof hands Argo CD, and the git server it syncs from
(a real `git daemon` on loopback)."""

from __future__ import annotations

import re
import socket
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import pytest
import yaml

from kubestead.bundle import addon_artifacts
from testbed import gitops, services
from testbed.bundle import argocd
from testbed.errors import TestbedError
from testbed.processes import stop_recorded
from testbed.settings import REPO, cluster_bench
from tests.chart.conftest import helm


def argo_cd_images() -> list[str]:
    listed, _ = addon_artifacts(REPO / "gitops")
    return [f"{a.name}:{a.version}" for a in listed if a.addon == "argo-cd" and a.kind == "image"]


def test_every_image_listed_for_argo_cd_has_a_recipe_of_that_name() -> None:
    images = argo_cd_images()
    version = argocd.listed_version(images)
    argocd.component(version)  # the wrapper module builds exactly the listed version
    made = argocd.recipes(images, Path("/b/argocd"), Path("/b/helm"), Path("/src"))
    assert sorted(made) == sorted(images)
    assert {r.reference for r in made.values()} == set(images)
    argocd_recipe = made[f"{argocd.IMAGE}:{version}"]
    assert argocd_recipe.files["/usr/local/bin/argocd"] == Path("/b/argocd")
    assert argocd_recipe.config.user == str(argocd.ARGOCD_UID)


def test_an_image_the_testbed_cannot_build_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match=r"quay\.io/other/tool:1\.0"):
        argocd.recipes([*argo_cd_images(), "quay.io/other/tool:1.0"], Path(), Path(), Path())
    with pytest.raises(
        ValueError, match=re.escape("testbed/go/argocd builds Argo CD other than v9.9.9")
    ):
        argocd.component("v9.9.9")


def test_the_committed_values_are_productions_fitted_to_the_testbed_and_render() -> None:
    bench = cluster_bench()
    values = gitops.backend_values(bench, "ghcr.io/kubestead/backend:e2e", config={"x": 1})
    production = yaml.safe_load((REPO / gitops.VALUES_PATH).read_text())
    assert values["autoscaling"] == production["autoscaling"]
    assert values["database"]["existingSecret"] == gitops.DATABASE_SECRET
    assert values["config"] == {**production["config"], "x": 1}
    values["config"].pop("x")
    rendered = _render(values)
    kinds = {doc["kind"] for doc in rendered}
    assert {"Deployment", "Service", "HorizontalPodAutoscaler", "NetworkPolicy"} <= kinds
    # Nothing that needs a CRD the testbed does not install.
    assert not kinds & {"HTTPRoute", "ServiceMonitor", "PrometheusRule"}
    deployment = next(doc for doc in rendered if doc["kind"] == "Deployment")
    image = deployment["spec"]["template"]["spec"]["containers"][0]["image"]
    assert image == "ghcr.io/kubestead/backend:e2e"


def _render(values: dict[str, object]) -> list[dict[str, Any]]:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "values.yaml"
        path.write_text(yaml.safe_dump(values))
        text = helm("template", "backend", str(REPO / "charts/backend"), "-n", "backend",
                    "--values", str(path)).stdout  # fmt: skip
    return [doc for doc in yaml.safe_load_all(text) if doc]


def test_the_tree_application_and_project_are_repointed_and_nothing_else() -> None:
    url = "git://192.0.2.1:9418/kubestead.git"
    application = gitops.tree_object("apps/backend/application.yaml", "Application", "backend")
    moved = gitops.repointed(application, url)
    assert [s["repoURL"] for s in moved["spec"]["sources"]] == [url, url]
    for kept in ("syncPolicy", "ignoreDifferences", "destination", "project"):
        assert moved["spec"][kept] == application["spec"][kept]
    project = gitops.repointed(gitops.tree_object("projects/apps.yaml", "AppProject", "apps"), url)
    assert project["spec"]["sourceRepos"] == [url]
    with pytest.raises(TestbedError, match=re.escape(f"names no {gitops.TREE_REPO_URL}")):
        gitops.repointed(moved, url)


def test_core_install_images_are_renamed_to_the_listed_ones_or_refused(tmp_path: Path) -> None:
    install = tmp_path / "core-install.yaml"
    # As core-install.yaml has them: Redis from Docker Hub, Argo CD at the listed version.
    argocd_image = next(i for i in argo_cd_images() if i.startswith(f"{argocd.IMAGE}:"))
    pod = {
        "containers": [{"name": "r", "image": "redis:7.2.7-alpine"}],
        "initContainers": [{"name": "i", "image": argocd_image}],
    }
    deployment = {"kind": "Deployment", "spec": {"template": {"spec": pod}}}
    install.write_text(yaml.safe_dump_all([{"kind": "ConfigMap"}, deployment]))
    renamed = yaml.safe_load_all(gitops.renamed_install(install, argo_cd_images()))
    images = [c["image"] for doc in renamed for c in _containers(doc)]
    assert sorted(images) == sorted(argo_cd_images())
    pod["containers"][0]["image"] = "quay.io/someone/else:1"
    install.write_text(yaml.safe_dump(deployment))
    with pytest.raises(TestbedError, match=re.escape("quay.io/someone/else:1, which no add-on")):
        gitops.renamed_install(install, argo_cd_images())


def _containers(document: dict[str, Any]) -> list[dict[str, str]]:
    pod = document.get("spec", {}).get("template", {}).get("spec", {})
    return [*pod.get("containers", []), *pod.get("initContainers", [])]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_the_git_server_serves_each_push_of_the_repository(tmp_path: Path) -> None:
    port = _free_port()
    root, services_dir = tmp_path / "git", tmp_path / "services"
    services_dir.mkdir()
    services.start_git(root, services_dir, "127.0.0.1", port)
    try:
        url = f"git://127.0.0.1:{port}/{gitops.REPOSITORY}"
        repository = gitops.Repository(url, root / gitops.REPOSITORY, tmp_path / "work")
        first = repository.create({"config": {"logLevel": "info"}})
        second = repository.commit({"config": {"logLevel": "debug"}}, "debug")
        heads = subprocess.run(
            ["git", "ls-remote", url, "refs/heads/main"],
            capture_output=True, text=True, check=True, timeout=30,
        ).stdout  # fmt: skip
        assert heads.split() == [second, "refs/heads/main"] and first != second
        clone = tmp_path / "clone"
        subprocess.run(["git", "clone", "-q", url, str(clone)], check=True, timeout=30)
        assert (clone / "charts/backend/Chart.yaml").is_file()
        assert yaml.safe_load((clone / gitops.VALUES_PATH).read_text())["config"] == {
            "logLevel": "debug"
        }
    finally:
        stop_recorded(services_dir / "git.pid", str(root))
