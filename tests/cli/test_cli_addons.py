"""`kubestead addons`: the Argo CD bootstrap read from gitops/, printed exactly by --dry-run,
and run with stand-in helm and kubectl (no cluster is contacted by these tests)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from kubestead.cli import app

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "cluster.yaml"
GITOPS = REPO / "gitops"
EOL_WARNING = (
    f"{EXAMPLE}:9: warning: spec.kubernetes.version: Kubernetes 1.30 reached upstream end of "
    "life on 2025-07-15 — plan the upgrade to the next minor\n"
)

# A small tree shaped like gitops/: the output below depends on nothing else.
TREE = {
    "bootstrap/argo-cd.yaml": """\
---
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata: {name: argo-cd, namespace: argocd}
spec:
  project: platform
  sources:
    - repoURL: https://charts.example.org/argo
      chart: argo-cd
      targetRevision: 1.2.3
      helm:
        releaseName: argo-cd
        valueFiles: [$values/gitops/bootstrap/argocd-values.yaml]
    - {repoURL: https://git.example.org/k.git, targetRevision: main, ref: values}
  destination: {server: https://kubernetes.default.svc, namespace: argocd}
""",
    "bootstrap/argocd-values.yaml": "global: {domain: argocd.example.org}\n",
    "bootstrap/root.yaml": """\
---
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata: {name: root, namespace: argocd}
spec:
  project: bootstrap
  source: {repoURL: https://git.example.org/k.git, targetRevision: main, path: gitops}
  destination: {server: https://kubernetes.default.svc, namespace: argocd}
""",
    "projects/bootstrap.yaml": """\
---
apiVersion: argoproj.io/v1alpha1
kind: AppProject
metadata: {name: bootstrap, namespace: argocd}
spec:
  sourceRepos: [https://git.example.org/k.git]
  destinations: [{server: https://kubernetes.default.svc, namespace: argocd}]
""",
}


def manifests(repo: str = "https://git.example.org/k.git", revision: str = "main") -> str:
    return f"""\
---
apiVersion: argoproj.io/v1alpha1
kind: AppProject
metadata:
  name: bootstrap
  namespace: argocd
spec:
  sourceRepos:
  - {repo}
  destinations:
  - server: https://kubernetes.default.svc
    namespace: argocd
---
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: root
  namespace: argocd
spec:
  project: bootstrap
  source:
    repoURL: {repo}
    targetRevision: {revision}
    path: gitops
  destination:
    server: https://kubernetes.default.svc
    namespace: argocd
"""


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "gitops"
    for name, text in TREE.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")
    return root


def helm_line(tree: Path, kubeconfig: str = "prod.kubeconfig") -> str:
    return (
        "helm upgrade --install argo-cd argo-cd --repo https://charts.example.org/argo "
        f"--version 1.2.3 --namespace argocd --create-namespace --values "
        f"{tree}/bootstrap/argocd-values.yaml --wait --timeout 10m --kubeconfig {kubeconfig}"
    )


def addons(runner: CliRunner, tree: Path, *args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["addons", "-f", str(EXAMPLE), "--gitops-dir", str(tree), *args])
    return result.exit_code, result.stdout, result.stderr


def test_cli_addons_dry_run_prints_the_commands_and_manifests(
    runner: CliRunner, tree: Path
) -> None:
    code, out, err = addons(runner, tree, "--dry-run")
    assert code == 0
    assert out == (
        f"{helm_line(tree)}\n"
        "kubectl apply --filename - --kubeconfig prod.kubeconfig <<'EOF'\n"
        f"{manifests()}EOF\n"
    )
    assert err == EOL_WARNING


def test_cli_addons_points_the_root_application_at_a_mirror(runner: CliRunner, tree: Path) -> None:
    mirror = "ssh://git@git.internal:2222/platform/kubestead.git"
    code, out, _ = addons(
        runner,
        tree,
        "--dry-run",
        "--repo-url",
        mirror,
        "--revision",
        "v1.0.0",
        "--chart-repo",
        "oci://registry.internal/charts",
        "--kubeconfig",
        "/etc/k/admin.conf",
    )
    assert code == 0
    helm = (
        "helm upgrade --install argo-cd oci://registry.internal/charts/argo-cd --version 1.2.3 "
        f"--namespace argocd --create-namespace --values {tree}/bootstrap/argocd-values.yaml "
        "--wait --timeout 10m --kubeconfig /etc/k/admin.conf"
    )
    assert out == (
        f"{helm}\nkubectl apply --filename - --kubeconfig /etc/k/admin.conf <<'EOF'\n"
        f"{manifests(mirror, 'v1.0.0')}EOF\n"
    )


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        (
            "--repo-url",
            "ftp://git.example.org/k.git",
            "a Git URL — use https://HOST/PATH, ssh://HOST/PATH or USER@HOST:PATH",
        ),
        (
            "--repo-url",
            "git.example.org/k.git",
            "a Git URL — use https://HOST/PATH, ssh://HOST/PATH or USER@HOST:PATH",
        ),
        ("--chart-repo", "charts.example.org", "a Helm repository URL — use https://HOST/PATH "
         "or oci://HOST/PATH"),
        ("--revision", "-main", "a branch, tag or commit"),
    ],
)  # fmt: skip
def test_cli_addons_refuses_a_bad_url_in_one_line(
    runner: CliRunner, tree: Path, option: str, value: str, message: str
) -> None:
    code, out, err = addons(runner, tree, "--dry-run", option, value)
    assert (code, out) == (1, "")
    assert err == f"error: {option}: {value!r} is not {message}\n"


def test_cli_addons_reads_the_chart_version_from_bootstrap(
    runner: CliRunner, tmp_path: Path
) -> None:
    copy = tmp_path / "gitops"
    shutil.copytree(GITOPS, copy)
    application = copy / "bootstrap" / "argo-cd.yaml"
    pinned = yaml.safe_load(application.read_text(encoding="utf-8"))["spec"]["sources"][0]
    _, before, _ = addons(runner, copy, "--dry-run")
    helm = before.splitlines()[0]
    assert f" --repo {pinned['repoURL']} --version {pinned['targetRevision']} " in helm
    assert f" --values {copy}/bootstrap/argocd-values.yaml " in helm
    text = application.read_text(encoding="utf-8")
    application.write_text(
        text.replace(f"targetRevision: {pinned['targetRevision']}", "targetRevision: 99.0.1"),
        encoding="utf-8",
    )
    _, after, _ = addons(runner, copy, "--dry-run")
    assert after.splitlines()[0] == helm.replace(
        f"--version {pinned['targetRevision']} ", "--version 99.0.1 "
    )
    assert after.splitlines()[1:] == before.splitlines()[1:]


def test_cli_addons_applies_the_real_trees_project_and_root(runner: CliRunner) -> None:
    code, out, _ = addons(runner, GITOPS, "--dry-run", "--repo-url", "https://git.internal/k.git")
    assert code == 0
    applied = list(yaml.safe_load_all(out.split("<<'EOF'\n", 1)[1].removesuffix("EOF\n")))
    project = yaml.safe_load((GITOPS / "projects" / "bootstrap.yaml").read_text(encoding="utf-8"))
    root = yaml.safe_load((GITOPS / "bootstrap" / "root.yaml").read_text(encoding="utf-8"))
    project["spec"]["sourceRepos"] = ["https://git.internal/k.git"]
    root["spec"]["source"]["repoURL"] = "https://git.internal/k.git"
    assert applied == [project, root]


def fake_tools(folder: Path, helm: str = "echo 'STATUS: deployed'") -> Path:
    """helm and kubectl stand-ins that record their arguments and input in calls.log."""
    folder.mkdir(parents=True, exist_ok=True)
    log = folder / "calls.log"
    for name, body in (("helm", helm), ("kubectl", "cat >> \"$LOG\"; echo 'applied'")):
        tool = folder / name
        tool.write_text(
            f'#!/bin/sh\nLOG="{log}"\necho "{name} $*" >> "$LOG"\n{body}\n', encoding="utf-8"
        )
        tool.chmod(0o755)
    return log


def test_cli_addons_runs_helm_then_kubectl(
    runner: CliRunner, tree: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = fake_tools(tmp_path / "bin")
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    config = tmp_path / "admin.kubeconfig"
    config.write_text("apiVersion: v1\n", encoding="utf-8")
    code, out, err = addons(runner, tree, "--kubeconfig", str(config))
    assert (code, out) == (0, "")
    helm = helm_line(tree, str(config)).removeprefix("helm ")
    kubectl = f"apply --filename - --kubeconfig {config}"
    assert err == (
        f"{EOL_WARNING}"
        f"$ {tmp_path}/bin/helm {helm}\nSTATUS: deployed\n"
        f"$ {tmp_path}/bin/kubectl {kubectl}\napplied\n"
        "Argo CD is installed; the root Application syncs https://git.example.org/k.git at main "
        f"— follow it: kubectl --kubeconfig {config} -n argocd get applications\n"
    )
    assert log.read_text(encoding="utf-8") == f"helm {helm}\nkubectl {kubectl}\n{manifests()}"


def test_cli_addons_stops_when_helm_fails(
    runner: CliRunner, tree: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = fake_tools(tmp_path / "bin", "echo 'Error: Kubernetes cluster unreachable'; exit 1")
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    config = tmp_path / "admin.kubeconfig"
    config.write_text("apiVersion: v1\n", encoding="utf-8")
    code, _, err = addons(runner, tree, "--kubeconfig", str(config))
    assert code == 1
    assert err.splitlines()[-1] == (
        "error: helm upgrade failed (exit 1): Error: Kubernetes cluster unreachable — fix that "
        "and run `kubestead addons` again (it converges)"
    )
    assert "kubectl" not in log.read_text(encoding="utf-8")


def test_cli_addons_without_helm_says_how_to_get_it(
    runner: CliRunner, tree: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "empty").mkdir()
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    monkeypatch.chdir(tmp_path)  # no .tools/bin here
    code, out, err = addons(runner, tree)
    assert (code, out) == (1, "")
    assert err == EOL_WARNING + (
        "error: helm: not found on PATH or in .tools/bin — install it, or run `make ci-helm` "
        "(the pinned helm and kubectl, into .tools/bin)\n"
    )


def test_cli_addons_finds_the_tools_in_dot_tools_then_wants_the_kubeconfig(
    runner: CliRunner, tree: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_tools(tmp_path / ".tools" / "bin")
    (tmp_path / "empty").mkdir()
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    monkeypatch.chdir(tmp_path)
    code, _, err = addons(runner, tree)
    assert code == 1
    assert err == EOL_WARNING + (
        f"error: prod.kubeconfig: no such kubeconfig — write it with `kubestead kubeconfig -f "
        f"{EXAMPLE}`, or pass --kubeconfig\n"
    )


def test_cli_addons_without_a_tree_is_one_line(runner: CliRunner, tmp_path: Path) -> None:
    code, _, err = addons(runner, tmp_path / "nowhere", "--dry-run")
    assert code == 1
    assert err == EOL_WARNING + (
        f"error: {tmp_path}/nowhere: no GitOps tree here (no bootstrap/) — run kubestead from "
        "the repository root or pass --gitops-dir (or set KUBESTEAD_GITOPS_DIR)\n"
    )


def test_cli_addons_without_a_spec_is_one_line(runner: CliRunner, tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    result = runner.invoke(app, ["addons", "-f", str(missing), "--dry-run"])
    assert result.exit_code == 1
    assert result.stderr == (
        f"{missing}: error: no such file — pass the spec with -f, or create one with "
        "`kubestead init > cluster.yaml`\n"
    )


def test_cli_addons_help_says_where_it_runs(runner: CliRunner) -> None:
    result = runner.invoke(app, ["addons", "--help"])
    assert result.exit_code == 0
    assert "Runs on this machine against the cluster's API" in result.stdout
    for option in ("--kubeconfig", "--repo-url", "--revision", "--chart-repo", "--dry-run"):
        assert option in result.stdout
