"""Commands through typer's CliRunner: exit codes and exact output."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import yaml
from typer.testing import CliRunner

from kubestead.cli import app
from kubestead.commands.init import starter_text

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "cluster.yaml"
GITOPS = REPO / "gitops"
EOL_WARNING = (
    "warning: spec.kubernetes.version: Kubernetes 1.30 reached upstream end of life on "
    "2025-07-15 — plan the upgrade to the next minor"
)


def test_cli_init_prints_the_example_spec(runner: CliRunner) -> None:
    result = runner.invoke(app, ["init"])
    assert result.exit_code == 0
    # One file: examples/cluster.yaml is a link to the packaged starter.
    assert EXAMPLE.resolve() == REPO / "src" / "kubestead" / "starter.yaml"
    assert result.stdout == EXAMPLE.read_text(encoding="utf-8") == starter_text()
    assert result.stderr == ""


def test_cli_init_output_validates(runner: CliRunner, tmp_path: Path) -> None:
    spec = tmp_path / "cluster.yaml"
    spec.write_text(runner.invoke(app, ["init"]).stdout, encoding="utf-8")
    result = runner.invoke(app, ["validate", "-f", str(spec)])
    assert result.exit_code == 0
    assert result.stderr == (
        f"{spec}:9: {EOL_WARNING}\n"
        f"{spec}: valid — cluster prod, Kubernetes v1.30.3, 3 control planes, 2 workers\n"
    )


def test_cli_missing_spec_is_one_line(runner: CliRunner, tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    for command in ("validate", "render", "bundle", "apply", "status", "kubeconfig", "backup"):
        result = runner.invoke(app, [command, "-f", str(missing)])
        assert result.exit_code == 1, command
        assert result.stderr == (
            f"{missing}: error: no such file — pass the spec with -f, or create one with "
            "`kubestead init > cluster.yaml`\n"
        ), command


def test_cli_help_lists_every_command(runner: CliRunner) -> None:
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for command in (
        "init", "validate", "render", "apply", "kubeconfig", "addons", "backup", "restore",
        "reset", "status", "bundle",
    ):  # fmt: skip
        assert f"  {command} " in result.stdout


def test_cli_import_does_not_load_heavy_modules() -> None:
    code = (
        "import sys, kubestead.cli; "
        "print(sorted({m.split('.')[0] for m in sys.modules} & "
        "{'pydantic', 'pydantic_core', 'ansible_runner', 'yaml', 'rich'}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_cli_help_answers_quickly() -> None:
    start = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-m", "kubestead", "--help"], capture_output=True, text=True, check=True
    )
    elapsed = time.perf_counter() - start
    assert "Usage: " in out.stdout
    # Measured around 0.2 s; the bound leaves room for a busy CI machine.
    assert elapsed < 2.0, f"kubestead --help took {elapsed:.2f}s"


def test_cli_bundle_json_for_the_example(runner: CliRunner) -> None:
    result = runner.invoke(app, ["bundle", "-f", str(EXAMPLE), "--json"])
    assert result.exit_code == 0
    artifacts = json.loads(result.stdout)["artifacts"]
    images = {a["name"]: a["version"] for a in artifacts if a["kind"] == "image"}
    assert images == {
        "registry.k8s.io/kube-apiserver": "v1.30.3",
        "registry.k8s.io/kube-controller-manager": "v1.30.3",
        "registry.k8s.io/kube-scheduler": "v1.30.3",
        "registry.k8s.io/kube-proxy": "v1.30.3",
        # kubeadm v1.30.3's `config images list`
        "registry.k8s.io/coredns/coredns": "v1.11.1",
        "registry.k8s.io/etcd": "3.5.12-0",
        "registry.k8s.io/pause": "3.9",
        # the default CNI, the endpoint, the Metrics API
        "docker.io/cloudnativelabs/kube-router": "v2.1.0",
        "ghcr.io/kube-vip/kube-vip": "v0.9.2",
        "registry.k8s.io/metrics-server/metrics-server": "v0.7.2",
    }
    packages = {a["name"]: a["version"] for a in artifacts if a["kind"] == "package"}
    assert packages["kubeadm"] == packages["kubelet"] == packages["kubectl"] == "1.30.3-1.1"
    assert packages["cri-tools"] == "1.30.0-1.1" and packages["kubernetes-cni"] == "1.4.0-1.1"
    # everything the roles install from the distribution, the firewall's ufw included
    assert {"containerd", "runc", "conntrack", "chrony", "unattended-upgrades", "ufw"} <= set(
        packages
    )
    assert "haproxy" not in packages
    assert json.loads(result.stdout)["warnings"] == []


def test_cli_bundle_follows_the_choices(runner: CliRunner) -> None:
    spec = REPO / "tests" / "specs" / "valid" / "haproxy-cilium-restricted.yaml"
    result = runner.invoke(app, ["bundle", "-f", str(spec), "--json"])
    assert result.exit_code == 0
    names = {a["name"]: a["version"] for a in json.loads(result.stdout)["artifacts"]}
    assert names["quay.io/cilium/cilium"] == "v1.16.1"
    assert names["helm"] == "v3.15.4"
    assert names["registry.k8s.io/etcd"] == "3.5.15-0"  # v1.31.4 uses the v1.31.1+ tags
    assert {"haproxy", "keepalived"} <= set(names)
    assert "ghcr.io/kube-vip/kube-vip" not in names
    assert not any(n.startswith(("docker.io/calico/", "quay.io/tigera/")) for n in names)
    assert "coredns/etcd/pause tags for v1.31.4 were not verified" in result.stderr
    # The L7 proxy is off by default: no Envoy image to list.
    assert "cilium-envoy" not in result.stdout + result.stderr
    assert not any(n.startswith("docker.io/cloudnativelabs/") for n in names)


def test_cli_bundle_lists_calicos_operator_and_images(runner: CliRunner) -> None:
    spec = REPO / "tests" / "specs" / "valid" / "five-control-planes-zones.yaml"
    result = runner.invoke(app, ["bundle", "-f", str(spec), "--json"])
    assert result.exit_code == 0
    names = {a["name"]: a["version"] for a in json.loads(result.stdout)["artifacts"]}
    calico = [
        "node", "cni", "kube-controllers", "typha", "pod2daemon-flexvol", "csi",
        "node-driver-registrar", "apiserver",
    ]  # fmt: skip
    assert names["quay.io/tigera/operator"] == "v1.34.3"
    assert all(names[f"docker.io/calico/{name}"] == "v3.28.1" for name in calico)
    assert "docker.io/cloudnativelabs/kube-router" not in names


def test_cli_bundle_docker_runtime(runner: CliRunner) -> None:
    spec = REPO / "tests" / "specs" / "valid" / "labels-taints-docker.yaml"
    result = runner.invoke(app, ["bundle", "-f", str(spec), "--json"])
    names = {a["name"]: a["version"] for a in json.loads(result.stdout)["artifacts"]}
    assert names["cri-dockerd"] == "0.3.15"
    assert names["docker-ce"] == "5:27.1.*"
    assert "containerd" not in names


def test_cli_bundle_table_goes_to_stdout(runner: CliRunner) -> None:
    result = runner.invoke(app, ["bundle", "-f", str(EXAMPLE)])
    assert result.exit_code == 0
    lines = [line.rstrip() for line in result.stdout.splitlines()]
    assert lines[0].split() == ["kind", "name", "version", "source"]
    assert "image    registry.k8s.io/etcd" in "\n".join(lines)
    assert result.stderr == f"{EXAMPLE}:9: {EOL_WARNING}\n"


def test_cli_bundle_lists_the_addons_charts_and_images(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(app, ["bundle", "-f", str(EXAMPLE), "--json"])
    assert result.exit_code == 0
    listed = json.loads(result.stdout)
    # The cluster's own artifacts are what they are without the add-ons.
    alone = runner.invoke(
        app, ["bundle", "-f", str(EXAMPLE), "--json", "--gitops-dir", str(tmp_path / "none")]
    )
    assert listed["artifacts"] == json.loads(alone.stdout)["artifacts"]
    assert listed["warnings"] == []
    addons = listed["addons"]
    assert addons[0] == {
        "addon": "argo-cd",
        "kind": "chart",
        "name": "argo-cd",
        "version": "8.2.7",
        "source": "https://argoproj.github.io/argo-helm",
    }
    assert {
        "addon": "alloy",
        "kind": "image",
        "name": "quay.io/prometheus-operator/prometheus-config-reloader",
        "version": "v0.91.0@sha256:"
        "7d9e4eea5f1139e602508871f422b0116c60e87c662f3dcd234d5ab60cd0d8c1",
        "source": "alloy 1.11.1 chart",
    } in addons
    # Every chart an add-on Application pins, every image of gitops/images.yml, nothing else.
    charts = set()
    for path in [
        GITOPS / "bootstrap" / "argo-cd.yaml",
        *GITOPS.glob("platform/*/application.yaml"),
    ]:
        for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")):
            spec = doc["spec"]
            for source in spec.get("sources") or [spec["source"]]:
                if "chart" in source:
                    charts.add((source["chart"], source["targetRevision"], source["repoURL"]))
    assert {
        (a["name"], a["version"], a["source"]) for a in addons if a["kind"] == "chart"
    } == charts
    images = yaml.safe_load((GITOPS / "images.yml").read_text(encoding="utf-8"))
    assert sorted(f"{a['name']}:{a['version']}" for a in addons if a["kind"] == "image") == sorted(
        ref for entry in images.values() for ref in entry["images"]
    )


def test_cli_bundle_table_adds_the_addons_below_the_clusters_own(
    runner: CliRunner, tmp_path: Path
) -> None:
    alone = runner.invoke(app, ["bundle", "-f", str(EXAMPLE), "--gitops-dir", str(tmp_path)])
    assert alone.stderr == (
        f"{EXAMPLE}:9: {EOL_WARNING}\n"
        f"warning: {tmp_path}: no GitOps tree here — the add-ons' charts and images are not "
        "listed; run from the repository root or pass --gitops-dir\n"
    )
    result = runner.invoke(app, ["bundle", "-f", str(EXAMPLE)])
    assert result.exit_code == 0
    assert result.stdout.startswith(alone.stdout + "\n")
    lines = [line.rstrip() for line in result.stdout[len(alone.stdout) + 1 :].splitlines()]
    assert lines[0].split() == ["add-on", "kind", "name", "version", "source"]
    assert lines[1].split() == [
        "argo-cd", "chart", "argo-cd", "8.2.7", "https://argoproj.github.io/argo-helm"
    ]  # fmt: skip
    assert lines[2].split() == [
        "argo-cd", "image", "quay.io/argoproj/argocd", "v3.0.12", "argo-cd", "8.2.7", "chart"
    ]  # fmt: skip


def test_cli_bundle_warns_when_the_images_were_read_from_another_chart(
    runner: CliRunner, tmp_path: Path
) -> None:
    copy = tmp_path / "gitops"
    shutil.copytree(GITOPS, copy)
    images = copy / "images.yml"
    text = images.read_text(encoding="utf-8")
    images.write_text(text.replace("version: 11.4.0", "version: 11.3.0"), encoding="utf-8")
    result = runner.invoke(app, ["bundle", "-f", str(EXAMPLE), "--json", "--gitops-dir", str(copy)])
    assert result.exit_code == 0
    assert json.loads(result.stdout)["warnings"] == [
        f"{images}: velero: images read from velero 11.3.0, the Application pins velero 11.4.0 "
        "— update the list"
    ]
    images.write_text(text.replace("velero:\n  chart", "velerox:\n  chart"), encoding="utf-8")
    result = runner.invoke(app, ["bundle", "-f", str(EXAMPLE), "--gitops-dir", str(copy)])
    assert result.stderr.splitlines()[1:] == [
        f"warning: {images}: no entry for velero — its images are not listed",
        f"warning: {images}: velerox is no add-on of {copy} — fix the name",
    ]
    images.write_text(text.replace("velero:v1.17.1", "velero"), encoding="utf-8")
    result = runner.invoke(app, ["bundle", "-f", str(EXAMPLE), "--gitops-dir", str(copy)])
    assert result.exit_code == 1
    assert result.stderr.splitlines()[1:] == [
        f"error: {images}: velero: 'docker.io/velero/velero' is not a full image reference — "
        "write REGISTRY/REPOSITORY:TAG, with @sha256:DIGEST where the chart pins one"
    ]


def test_cli_version(runner: CliRunner) -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.stdout == "kubestead 0.1.0\n"
