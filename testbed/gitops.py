"""Argo CD on the testbed's cluster, and the git repository it syncs from (`make e2e-gitops`).

Argo CD comes from the bundle: its own headless install (`manifests/core-install.yaml` of the
module the bundle built the binary from, at the version gitops/images.yml lists), its two
images renamed to exactly what `kubestead bundle` lists for the argo-cd add-on, in the
namespace the tree declares. Not the argo-helm chart `kubestead addons` installs: that chart
cannot be fetched here (gitops/README.md says what that leaves unproven).

The repository on the machine's git server holds what the tree's backend Application reads:
charts/backend, and the values file at the path the Application names, which is the
production values with what this cluster lacks or differs in (`CLUSTER_OVERRIDES`).
"""

from __future__ import annotations

import copy
import json
import secrets
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import yaml

from testbed import backend
from testbed.bundle.argocd import IMAGE as ARGOCD_IMAGE
from testbed.bundle.argocd import REDIS_IMAGE
from testbed.cluster import RunningCluster
from testbed.errors import TestbedError
from testbed.settings import REPO, Bench

GITOPS = REPO / "gitops"
NAMESPACE = "argocd"
REPOSITORY = "kubestead.git"
APPLICATION = "backend"
VALUES_PATH = "gitops/apps/backend/values.yaml"
# The tree's Applications and projects name this repository; here they name the git server's.
TREE_REPO_URL = "https://github.com/kubestead/kubestead.git"
DATABASE_SECRET = {"name": "backend-database", "key": "database_url"}
# Argo CD's workloads in core-install, each waited for after the install.
WORKLOADS = (
    "deployment/argocd-redis",
    "deployment/argocd-repo-server",
    "deployment/argocd-applicationset-controller",
    "statefulset/argocd-application-controller",
)


def install_manifest(cluster: RunningCluster) -> str:
    """The bundle's core-install.yaml, every image renamed to the one the bundle lists."""
    bundle = cluster.bundle
    if bundle.argocd_install is None:
        raise TestbedError("the bundle carries no Argo CD: run with KUBESTEAD_TESTBED_GITOPS=1")
    listed = [f"{a.name}:{a.version}" for a in bundle.addon_artifacts if a.kind == "image"]
    return renamed_install(bundle.argocd_install, listed)


def renamed_install(install: Path, listed: list[str]) -> str:
    """Argo CD's install manifest with its images renamed to the argo-cd add-on's listed ones
    (Argo CD's own, and Redis under the chart's registry); any other image is refused."""
    argocd = next(r for r in listed if r.rpartition(":")[0] == ARGOCD_IMAGE)
    redis = next(r for r in listed if r.rpartition(":")[0].endswith(f"/{REDIS_IMAGE}"))
    documents = [d for d in yaml.safe_load_all(install.read_text()) if d]
    for document in documents:
        pod = document.get("spec", {}).get("template", {}).get("spec", {})
        for container in pod.get("containers", []) + pod.get("initContainers", []):
            name = container["image"].rpartition(":")[0]
            if name == ARGOCD_IMAGE:
                container["image"] = argocd
            elif name.rpartition("/")[2] == "redis":
                container["image"] = redis
            else:
                raise TestbedError(f"core-install runs {container['image']}, which no add-on lists")
    return yaml.safe_dump_all(documents)


def tree_object(relative: str, kind: str, name: str) -> dict[str, Any]:
    """One object of the gitops tree, as the file has it."""
    for document in yaml.safe_load_all((GITOPS / relative).read_text()):
        if document and document["kind"] == kind and document["metadata"]["name"] == name:
            return dict(document)
    raise TestbedError(f"gitops/{relative} has no {kind} {name}")


def install_argocd(cluster: RunningCluster) -> float:
    """Argo CD in the tree's argocd namespace; seconds until every workload is ready."""
    started = time.monotonic()
    namespace = tree_object("platform/namespaces/manifests/namespaces.yaml", "Namespace", NAMESPACE)
    cluster.kubectl("apply", "-f", "-", input_text=json.dumps(namespace))
    # Server-side: the CRDs are too large for the last-applied annotation (as upstream says).
    cluster.kubectl(
        "apply", "--server-side", "--force-conflicts", "-n", NAMESPACE, "-f", "-",
        input_text=install_manifest(cluster),
    )  # fmt: skip
    # The API server generates this key on its first start; the headless install has none,
    # and the controller refuses to sync without it.
    key = {"stringData": {"server.secretkey": secrets.token_urlsafe(32)}}
    cluster.kubectl(
        "-n", NAMESPACE, "patch", "secret", "argocd-secret", "--patch-file", "/dev/stdin",
        input_text=json.dumps(key),
    )  # fmt: skip
    for workload in WORKLOADS:
        cluster.kubectl("-n", NAMESPACE, "rollout", "status", workload, "--timeout=300s")
    return time.monotonic() - started


# The production values (gitops/apps/backend/values.yaml) need what this cluster does not run:
# no Gateway API, no Prometheus Operator, a database without TLS.
CLUSTER_OVERRIDES: dict[str, Any] = {
    "httpRoute": {"enabled": False},
    "serviceMonitor": {"enabled": False},
    "prometheusRule": {"enabled": False},
    "database": {"sslMode": ""},
}


def merged(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """base with override laid over it, mappings merged key by key (as Helm merges values)."""
    result = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(result.get(key), dict):
            result[key] = merged(result[key], value)
        else:
            result[key] = copy.deepcopy(value)
    return result


def backend_values(bench: Bench, image: str, **changes: Any) -> dict[str, Any]:
    """The values file the repository carries: production's, fitted to this cluster."""
    production = yaml.safe_load((REPO / VALUES_PATH).read_text())
    fitted = merged(production, CLUSTER_OVERRIDES)
    fitted = merged(fitted, backend.cluster_values(bench, image))
    return merged(fitted, changes)


class Repository:
    """The repository Argo CD syncs from: a bare one under the git server, and a work tree."""

    def __init__(self, url: str, bare: Path, work: Path) -> None:
        self.url, self.bare, self.work = url, bare, work

    @classmethod
    def on(cls, bench: Bench) -> Repository:
        """The bench's: served by its git server (settings.GIT_PORT), at REPOSITORY."""
        return cls(
            bench.git_url(REPOSITORY), bench.git_root / REPOSITORY, bench.run_dir / "git-work"
        )

    def git(self, *args: str, cwd: Path | None = None) -> str:
        argv = [
            "git", "-c", "user.name=kubestead e2e", "-c", "user.email=e2e@kubestead.invalid",
            "-c", "init.defaultBranch=main", *args,
        ]  # fmt: skip
        result = subprocess.run(
            argv, cwd=cwd or self.work, capture_output=True, text=True, check=False, timeout=60
        )
        if result.returncode != 0:
            raise TestbedError(f"git {' '.join(args[:2])}: {result.stderr.strip()[-500:]}")
        return result.stdout.strip()

    def create(self, values: dict[str, Any]) -> str:
        """A first commit of charts/backend and the values file; its hash."""
        shutil.rmtree(self.bare, ignore_errors=True)
        shutil.rmtree(self.work, ignore_errors=True)
        self.bare.parent.mkdir(parents=True, exist_ok=True)
        self.git("init", "--bare", "--quiet", str(self.bare), cwd=self.bare.parent)
        self.work.mkdir(parents=True)
        self.git("init", "--quiet")
        shutil.copytree(REPO / "charts" / "backend", self.work / "charts" / "backend")
        return self.commit(values, "the backend chart and its values")

    def commit(self, values: dict[str, Any], message: str) -> str:
        """Write the values file, commit, push to main; the new commit's hash."""
        target = self.work / VALUES_PATH
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(yaml.safe_dump(values, sort_keys=False))
        self.git("add", "--all")
        self.git("commit", "--quiet", "-m", message)
        self.git("push", "--quiet", str(self.bare), "HEAD:refs/heads/main")
        return self.git("rev-parse", "HEAD")


def repointed(document: dict[str, Any], url: str) -> dict[str, Any]:
    """An Application or AppProject of the tree with the tree's repository replaced by url."""
    text = json.dumps(document)
    if TREE_REPO_URL not in text:
        name = f"{document['kind']} {document['metadata']['name']}"
        raise TestbedError(f"{name} names no {TREE_REPO_URL}")
    return dict(json.loads(text.replace(TREE_REPO_URL, url)))


def deploy_backend_application(cluster: RunningCluster, repository: Repository) -> None:
    """The tree's backend namespace, apps project and backend Application, on this repository;
    the database URL in the Secret the SealedSecret makes in production."""
    namespace = tree_object(
        "platform/namespaces/manifests/namespaces.yaml", "Namespace", backend.NAMESPACE
    )
    cluster.kubectl("apply", "-f", "-", input_text=json.dumps(namespace))
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": DATABASE_SECRET["name"], "namespace": backend.NAMESPACE},
        "stringData": {DATABASE_SECRET["key"]: cluster.database_url},
    }
    cluster.kubectl("apply", "-f", "-", input_text=json.dumps(secret))  # on stdin, never argv
    project = repointed(tree_object("projects/apps.yaml", "AppProject", "apps"), repository.url)
    application = repointed(
        tree_object("apps/backend/application.yaml", "Application", APPLICATION), repository.url
    )
    for document in (project, application):
        cluster.kubectl("apply", "-f", "-", input_text=json.dumps(document))


def application(cluster: RunningCluster) -> dict[str, Any]:
    result = cluster.kubectl("-n", NAMESPACE, "get", "application", APPLICATION, "-o", "json")
    return dict(json.loads(result.stdout))


def refresh(cluster: RunningCluster) -> None:
    """What a push webhook does: ask Argo CD to compare with the repository now, instead of at
    its next poll (every 3 minutes by default)."""
    cluster.kubectl(
        "-n", NAMESPACE, "annotate", "--overwrite", "application", APPLICATION,
        "argocd.argoproj.io/refresh=normal",
    )  # fmt: skip


def wait_synced(cluster: RunningCluster, revision: str, timeout: float = 300) -> dict[str, Any]:
    """The Application once it is Synced at revision and Healthy; a timeout says where it was."""
    deadline = time.monotonic() + timeout
    while True:
        status = application(cluster).get("status", {})
        sync, health = status.get("sync", {}), status.get("health", {})
        # An Application of several sources (the chart, and the values by `ref`) reports one
        # revision per source; here both are the same repository's.
        revisions = sync.get("revisions") or [sync.get("revision")]
        if (
            sync.get("status") == "Synced"
            and set(revisions) == {revision}
            and health.get("status") == "Healthy"
            and status.get("operationState", {}).get("phase") in {None, "Succeeded"}
        ):
            return dict(status)
        if time.monotonic() > deadline:
            operation = status.get("operationState", {})
            raise TestbedError(
                f"Application {APPLICATION} not Synced at {revision[:8]} and Healthy within "
                f"{timeout:.0f} s: sync {sync.get('status')} at {[str(r)[:8] for r in revisions]}, "
                f"health {health.get('status')}, operation {operation.get('phase')}: "
                f"{str(operation.get('message', ''))[:500]}; conditions "
                f"{status.get('conditions', [])}"
            )
        time.sleep(1)
