"""Every version kubestead knows about, read from one data file: versions.yaml beside this one.

Validation, `bundle`, `render` (which hands the components' pins to the roles as
`kubestead_versions`) and the testbed all read these names, so they cannot disagree; the data
file says where each pin comes from.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any, NamedTuple

import yaml

DATA_FILE = Path(__file__).with_name("versions.yaml")


class KubeadmImages(NamedTuple):
    """Image tags `kubeadm config images list` prints besides the four control-plane images."""

    coredns: str
    etcd: str
    pause: str


def _minor(text: str) -> tuple[int, int]:
    major, minor = text.split(".")
    return int(major), int(minor)


def _release(text: str) -> tuple[int, int, int]:
    major, minor, patch = text.lstrip("v").split(".")
    return int(major), int(minor), int(patch)


def _load() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(DATA_FILE.read_text(encoding="utf-8"))
    return loaded


_DATA = _load()
_K8S: dict[str, Any] = _DATA["kubernetes"]
COMPONENTS: dict[str, Any] = _DATA["components"]

TESTED_KUBERNETES_VERSION: str = _K8S["tested"]
UPGRADE_TESTED_KUBERNETES_VERSION: str = _K8S["upgrade_tested"]
SUPPORTED_MINORS: tuple[tuple[int, int], ...] = tuple(_minor(m) for m in _K8S["supported_minors"])
SUPPORTED_RANGE_TEXT: str = _K8S["supported_range_text"]
END_OF_LIFE: dict[tuple[int, int], dt.date] = {
    _minor(minor): date for minor, date in _K8S["end_of_life"].items()
}
FINAL_PATCH: dict[tuple[int, int], int] = {
    _minor(minor): patch for minor, patch in _K8S["final_patch"].items()
}
KUBERNETES_PACKAGE_REVISION: str = _K8S["package_revision"]
CRI_TOOLS_VERSIONS: dict[tuple[int, int], str] = {
    _minor(minor): str(version) for minor, version in _K8S["cri_tools"].items()
}
KUBERNETES_CNI_VERSIONS: dict[tuple[int, int], str] = {
    _minor(minor): str(version) for minor, version in _K8S["kubernetes_cni"].items()
}
KUBEADM_IMAGES: dict[tuple[int, int, int], KubeadmImages] = {
    _release(release): KubeadmImages(**tags) for release, tags in _K8S["kubeadm_images"].items()
}
KUBEADM_IMAGES_VERIFIED_UP_TO: dict[tuple[int, int], int] = {
    _minor(minor): patch for minor, patch in _K8S["kubeadm_images_verified_up_to"].items()
}

KUBE_ROUTER_VERSION: str = COMPONENTS["kube_router"]
CALICO_VERSION: str = COMPONENTS["calico"]
TIGERA_OPERATOR_VERSION: str = COMPONENTS["tigera_operator"]
CILIUM_VERSION: str = str(COMPONENTS["cilium"])
HELM_VERSION: str = COMPONENTS["helm"]
KUBE_VIP_VERSION: str = COMPONENTS["kube_vip"]
METRICS_SERVER_VERSION: str = COMPONENTS["metrics_server"]
CONTAINERD_VERSIONS: dict[str, str] = COMPONENTS["containerd"]
CONTAINERD_VERSION = ", ".join(f"{v} ({distro})" for distro, v in CONTAINERD_VERSIONS.items())
DOCKER_VERSION: str = COMPONENTS["docker"]
CRI_DOCKERD_VERSION: str = str(COMPONENTS["cri_dockerd"])

KUBERNETES_GO_TOOLCHAIN: str = _DATA["testbed"]["go_toolchain"]
ARGOCD_GO_TOOLCHAIN: str = _DATA["testbed"]["argocd_go_toolchain"]
REGISTRY_VERSION: str = _DATA["testbed"]["registry"]


def kubeadm_images(version: str) -> tuple[KubeadmImages, bool]:
    """The coredns/etcd/pause tags for `version`, and whether that patch was verified."""
    major, minor, patch = _release(version)
    keys = [k for k in KUBEADM_IMAGES if k[:2] == (major, minor) and k[2] <= patch]
    images = KUBEADM_IMAGES[max(keys)]
    return images, patch <= KUBEADM_IMAGES_VERIFIED_UP_TO[(major, minor)]


def role_versions(kubernetes_version: str) -> dict[str, Any]:
    """The pins the roles read (`kubestead_versions`): the components, and the pause image
    of the cluster's release (containerd's sandbox image must be the one kubeadm pulls)."""
    images, _ = kubeadm_images(kubernetes_version)
    pins = {
        **COMPONENTS,
        "pause": images.pause,
        "kubernetes_package_revision": KUBERNETES_PACKAGE_REVISION,
    }
    # Sorted, as everything `render` writes where order carries no meaning.
    return {
        name: dict(sorted(pin.items())) if isinstance(pin, dict) else pin
        for name, pin in sorted(pins.items())
    }
