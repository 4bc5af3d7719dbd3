"""The admission policies (gitops/platform/kyverno/manifests), run with conftest against their
Rego mirrors (tests/gitops/policy, docs/adr/0019): the backend as deployed passes; a privileged
pod, an unpinned image, a pod without limits and the `latest` tag are refused."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.chart.conftest import tool
from tests.gitops import support

POLICY_DIR = Path(__file__).parent / "policy"
KYVERNO = support.GITOPS / "platform" / "kyverno" / "manifests"
DIGEST = "sha256:" + "ab" * 32
GOOD_IMAGE = f"ghcr.io/kubestead/backend@{DIGEST}"


def cluster_policies() -> dict[str, support.Manifest]:
    docs = [d for p in sorted(KYVERNO.glob("*.yaml")) for d in support.load_all(p)]
    return {d["metadata"]["name"]: d for d in docs if d["kind"] == "ClusterPolicy"}


def excluded_namespaces(policy: support.Manifest) -> list[str]:
    """The namespaces a policy leaves out; every rule of a policy must leave out the same."""
    per_rule = [
        sorted(ns for e in r["exclude"]["any"] for ns in e["resources"]["namespaces"])
        for r in policy["spec"]["rules"]
    ]
    assert all(r == per_rule[0] for r in per_rule), policy["metadata"]["name"]
    return per_rule[0]


def kyverno_data() -> dict[str, Any]:
    """The mirrors' parameters, read from the Kyverno policies themselves."""
    policies = cluster_policies()
    data: dict[str, Any] = {
        name: {"excluded_namespaces": excluded_namespaces(p)} for name, p in policies.items()
    }
    registries = policies["restrict-image-registries"]["spec"]["rules"][0]["validate"]["pattern"]
    patterns = {key: entries[0]["image"] for key, entries in registries["spec"].items()}
    assert len(set(patterns.values())) == 1, "every container kind must allow the same images"
    data["restrict-image-registries"]["images"] = next(iter(patterns.values())).split(" | ")
    rules = {r["name"]: r for r in policies["require-digest-or-signature"]["spec"]["rules"]}
    signed = rules["verify-our-signature"]["verifyImages"][0]["imageReferences"]
    skipped = rules["digest-for-other-images"]["validate"]["foreach"][0]["preconditions"]["all"]
    assert [c["value"] for c in skipped] == signed, "the digest rule must skip exactly the signed"
    data["require-digest-or-signature"]["signed_images"] = signed
    return {"kyverno": data}


def conftest(objects: list[support.Manifest], tmp_path: Path) -> list[str]:
    """The deny messages conftest gives for the objects (one file each)."""
    data = tmp_path / "data.json"
    data.write_text(json.dumps(kyverno_data()), encoding="utf-8")
    files = []
    for i, obj in enumerate(objects):
        path = tmp_path / f"object-{i}.yaml"
        path.write_text(yaml.safe_dump(obj), encoding="utf-8")
        files.append(str(path))
    result = subprocess.run(
        [
            tool("conftest"),
            "test",
            "--no-color",
            "--output",
            "json",
            "--policy",
            str(POLICY_DIR),
            "--data",
            str(data),
            *files,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if result.returncode not in (0, 1):
        pytest.fail(f"conftest failed to run:\n{result.stdout}\n{result.stderr}")
    report = json.loads(result.stdout)
    return [f["msg"] for r in report for f in r.get("failures") or []]


def refused_by(messages: list[str]) -> set[str]:
    return {m.split(":", 1)[0] for m in messages}


def pod(namespace: str = "backend", **container: Any) -> support.Manifest:
    spec = {
        "name": "app",
        "image": GOOD_IMAGE,
        "resources": {"requests": {"cpu": "10m", "memory": "16Mi"}, "limits": {"memory": "32Mi"}},
        **container,
    }
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "probe", "namespace": namespace},
        "spec": {"containers": [spec]},
    }


def test_every_kyverno_policy_has_a_mirror() -> None:
    mirror = (POLICY_DIR / "kyverno_mirror.rego").read_text(encoding="utf-8")
    for name in cluster_policies():
        assert f'applies("{name}")' in mirror, f"no Rego mirror of {name}"


def test_a_well_formed_pod_passes(tmp_path: Path) -> None:
    assert conftest([pod()], tmp_path) == []


def test_the_backend_as_deployed_passes(tmp_path: Path) -> None:
    assert conftest(support.render_backend_objects(), tmp_path) == []


def test_the_backend_pinned_by_digest_passes(tmp_path: Path) -> None:
    objects = support.render_backend_objects("--set", f"image.digest={DIGEST}")
    images = {c["image"] for o in objects for s in support.pod_specs(o) for c in s["containers"]}
    assert images == {GOOD_IMAGE}
    assert conftest(objects, tmp_path) == []


@pytest.mark.parametrize(
    ("container", "policies"),
    [
        ({"securityContext": {"privileged": True}}, {"disallow-privileged-containers"}),
        ({"image": "registry.kubestead.internal/nginx:1.27"}, {"require-digest-or-signature"}),
        (
            {"image": "docker.io/library/nginx:1.27"},
            {"restrict-image-registries", "require-digest-or-signature"},
        ),
        ({"image": "ghcr.io/kubestead/backend:latest"}, {"disallow-latest-tag"}),
        ({"image": "ghcr.io/kubestead/backend"}, {"disallow-latest-tag"}),
        (
            {"resources": {"requests": {"cpu": "10m", "memory": "16Mi"}}},
            {"require-requests-limits"},
        ),
        ({"resources": {}}, {"require-requests-limits"}),
    ],
    ids=[
        "privileged",
        "unpinned",
        "foreign-registry",
        "latest",
        "no-tag",
        "no-limits",
        "no-resources",
    ],
)
def test_a_bad_pod_is_refused_by_exactly_its_policy(
    container: dict[str, Any], policies: set[str], tmp_path: Path
) -> None:
    assert refused_by(conftest([pod(**container)], tmp_path)) == policies


def test_a_deployment_template_is_checked_like_a_pod(tmp_path: Path) -> None:
    bad = pod(securityContext={"privileged": True})
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "d", "namespace": "team-x"},
        "spec": {"selector": {}, "template": {"metadata": {}, "spec": bad["spec"]}},
    }
    assert refused_by(conftest([deployment], tmp_path)) == {"disallow-privileged-containers"}


def test_privileged_pods_run_only_in_the_named_namespaces(tmp_path: Path) -> None:
    privileged = {
        "securityContext": {"privileged": True},
        "image": "docker.io/falcosecurity/falco:0.44.1",
    }
    assert conftest([pod("falco", **privileged)], tmp_path) == []
    assert "disallow-privileged-containers" in refused_by(
        conftest([pod("kyverno", **privileged)], tmp_path)
    )


def test_the_exemptions_match_the_namespaces() -> None:
    """disallow-privileged exempts exactly the privileged Pod Security namespaces (each with
    its reason) and kube-system; the image and resource policies leave out exactly the
    platform's namespaces and Kubernetes' own."""
    namespaces = support.load_all(
        support.GITOPS / "platform" / "namespaces" / "manifests" / "namespaces.yaml"
    )
    privileged = set()
    platform = set()
    for ns in namespaces:
        labels = ns["metadata"]["labels"]
        if labels["pod-security.kubernetes.io/enforce"] == "privileged":
            privileged.add(ns["metadata"]["name"])
            reason = ns["metadata"].get("annotations", {}).get("kubestead.io/pod-security-reason")
            assert reason and len(reason) > 40, f"{ns['metadata']['name']}: no reason given"
        if labels["kubestead.io/tier"] == "platform":
            platform.add(ns["metadata"]["name"])
    policies = cluster_policies()
    kubernetes = {"kube-system", "kube-public", "kube-node-lease"}
    assert set(excluded_namespaces(policies["disallow-privileged-containers"])) == privileged | {
        "kube-system"
    }
    for name in (
        "restrict-image-registries",
        "require-digest-or-signature",
        "require-requests-limits",
    ):
        assert set(excluded_namespaces(policies[name])) == platform | kubernetes, name
    assert set(excluded_namespaces(policies["disallow-latest-tag"])) == kubernetes
    backend = next(n for n in namespaces if n["metadata"]["name"] == "backend")
    assert backend["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
