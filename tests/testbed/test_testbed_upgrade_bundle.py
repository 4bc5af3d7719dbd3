"""The offline bundle of the upgrade drill: the spec's release and the next minor, side by side.

These need no root and no build: they check what the testbed would build (`listed_artifacts`,
the Go components per release, the Kubernetes packages) and the switch that asks for it."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from kubestead import versions
from kubestead.plan import parse_version
from kubestead.spec.models import Cluster
from kubestead.spec.validate import validate_file
from testbed.bundle import catalog, debs
from testbed.bundle.offline import at_version, listed_artifacts
from testbed.errors import TestbedError
from testbed.settings import CLUSTER_SPEC, upgrade_target

SOURCE = versions.TESTED_KUBERNETES_VERSION
TARGET = versions.UPGRADE_TESTED_KUBERNETES_VERSION


@pytest.fixture
def cluster() -> Cluster:
    result = validate_file(CLUSTER_SPEC)
    assert result.cluster is not None
    return result.cluster


def test_the_upgrade_target_is_the_next_supported_minor_with_verified_image_tags() -> None:
    source, target = parse_version(SOURCE), parse_version(TARGET)
    assert (target[0], target[1]) == (source[0], source[1] + 1)
    assert (target[0], target[1]) in versions.SUPPORTED_MINORS
    _, verified = versions.kubeadm_images(TARGET)
    assert verified, f"{TARGET}'s coredns/etcd/pause tags are not verified in versions.yaml"


def test_the_bundle_lists_both_releases_each_artifact_once(cluster: Cluster) -> None:
    own = listed_artifacts(cluster)
    both = listed_artifacts(cluster, TARGET)
    assert both[: len(own)] == own
    keys = Counter((a.kind, a.name, a.version) for a in both)
    assert max(keys.values()) == 1, [k for k, n in keys.items() if n > 1]
    packages = {(a.name, a.version) for a in both if a.kind == "package"}
    revision = versions.KUBERNETES_PACKAGE_REVISION
    for release in (SOURCE, TARGET):
        for name in ("kubeadm", "kubelet", "kubectl"):
            assert (name, f"{release.lstrip('v')}-{revision}") in packages
    images = {f"{a.name}:{a.version}" for a in both if a.kind == "image"}
    for release in (SOURCE, TARGET):
        tags, _ = versions.kubeadm_images(release)
        assert f"registry.k8s.io/kube-apiserver:{release}" in images
        assert f"registry.k8s.io/etcd:{tags.etcd}" in images
        assert f"registry.k8s.io/pause:{tags.pause}" in images


def test_the_spec_at_another_version_changes_only_the_version(cluster: Cluster) -> None:
    moved = at_version(cluster, TARGET)
    assert moved.spec.kubernetes.version == TARGET
    back = at_version(moved, cluster.spec.kubernetes.version)
    assert back == cluster


def test_each_release_builds_from_its_own_wrapper_modules() -> None:
    for release in (SOURCE, TARGET):
        components = catalog.go_components(release)
        go_mod = Path(str(components["kubernetes"].inputs[2]))
        assert f"require k8s.io/kubernetes {release}\n" in go_mod.read_text()
        etcd = "v" + versions.kubeadm_images(release)[0].etcd.split("-")[0]
        assert components["etcd"].inputs[0] == etcd
    source, target = catalog.go_components(SOURCE), catalog.go_components(TARGET)
    for name in catalog.PER_RELEASE:
        if name == "cri-tools":  # one floor for both minors (versions.yaml says why)
            continue
        assert source[name].key() != target[name].key(), name
    assert source["kube-router"].key() == target["kube-router"].key()


def test_a_release_without_a_wrapper_module_is_refused_by_name() -> None:
    major, minor, patch = parse_version(TARGET)
    missing = f"v{major}.{minor}.{patch + 1}"
    with pytest.raises(ValueError, match=f"k8s.io/kubernetes {missing}"):
        catalog.go_components(missing)


def test_kubeadm_requires_the_cri_tools_floor_of_its_minor(tmp_path: Path) -> None:
    for release in (SOURCE, TARGET):
        minor = catalog.minor_of(release)
        floor = versions.CRI_TOOLS_VERSIONS[minor]
        packages = debs.kubernetes_packages(
            kubernetes_version=release.lstrip("v"),
            cri_tools_version=floor,
            cni_version=versions.KUBERNETES_CNI_VERSIONS[minor],
            kubernetes_bin=tmp_path,
            crictl_bin=tmp_path,
            cni_bin=tmp_path,
        )
        kubeadm = next(p for p in packages if p.name == "kubeadm")
        assert kubeadm.depends == (f"cri-tools (>= {floor})",)


def test_the_upgrade_switch(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KUBESTEAD_TESTBED_UPGRADE", raising=False)
    assert upgrade_target() is None
    monkeypatch.setenv("KUBESTEAD_TESTBED_UPGRADE", "0")
    assert upgrade_target() is None
    monkeypatch.setenv("KUBESTEAD_TESTBED_UPGRADE", "1")
    assert upgrade_target() == TARGET
    monkeypatch.setenv("KUBESTEAD_TESTBED_UPGRADE", "yes")
    with pytest.raises(TestbedError, match="KUBESTEAD_TESTBED_UPGRADE='yes' is not 0 or 1"):
        upgrade_target()
