"""Every version kubestead knows about, in one place.

The supported Kubernetes range and the component pins live here so that validation, `bundle`
and the docs cannot disagree. The Ansible roles pin the same component versions in their
defaults; a change here is a change there.
"""

from __future__ import annotations

import datetime as dt
from typing import NamedTuple

# Supported Kubernetes minors, oldest first. kubeadm upgrades one minor at a time, so this
# list is also the upgrade path.
SUPPORTED_MINORS: tuple[tuple[int, int], ...] = ((1, 30), (1, 31), (1, 32))
SUPPORTED_RANGE_TEXT = "v1.30.0 up to v1.32.x"

# Upstream end of life per minor (kubernetes.io/releases/patch-releases).
END_OF_LIFE: dict[tuple[int, int], dt.date] = {
    (1, 30): dt.date(2025, 6, 28),
    (1, 31): dt.date(2025, 10, 28),
    (1, 32): dt.date(2026, 2, 28),
}


class KubeadmImages(NamedTuple):
    """Image tags `kubeadm config images list` prints besides the four control-plane images."""

    coredns: str
    etcd: str
    pause: str


# Keyed by the first patch release that uses the tags; a version takes the entry of the
# highest key at or below it within its minor. Source: the output of `kubeadm config images
# list` per release as recorded in kubernetes/minikube
# pkg/minikube/constants/constants_kubeadm_images.go (v1.30.0-v1.30.6, v1.31.0-v1.31.2,
# v1.32.0-beta.0) and kubeadm's cmd/kubeadm/app/constants/constants.go on the release
# branches (PauseVersion, CoreDNSVersion, DefaultEtcdVersion).
KUBEADM_IMAGES: dict[tuple[int, int, int], KubeadmImages] = {
    (1, 30, 0): KubeadmImages(coredns="v1.11.1", etcd="3.5.12-0", pause="3.9"),
    (1, 30, 5): KubeadmImages(coredns="v1.11.3", etcd="3.5.15-0", pause="3.9"),
    (1, 31, 0): KubeadmImages(coredns="v1.11.1", etcd="3.5.15-0", pause="3.10"),
    (1, 31, 1): KubeadmImages(coredns="v1.11.3", etcd="3.5.15-0", pause="3.10"),
    (1, 32, 0): KubeadmImages(coredns="v1.11.3", etcd="3.5.16-0", pause="3.10"),
}
# The newest patch per minor whose tags were checked against the sources above; a later
# patch is listed with a warning that its tags are assumed unchanged.
KUBEADM_IMAGES_VERIFIED_UP_TO: dict[tuple[int, int], int] = {(1, 30): 6, (1, 31): 2, (1, 32): 0}

# Pins shared with the Ansible roles (ansible/roles/*/defaults/main.yml); a change here is a
# change there. Calico is installed through the Tigera operator of its release.
CALICO_VERSION = "v3.28.1"
TIGERA_OPERATOR_VERSION = "v1.34.3"  # the operator of Calico v3.28.1's tigera-operator.yaml
CILIUM_VERSION = "1.16.1"
HELM_VERSION = "v3.15.4"  # installs the Cilium chart
KUBE_VIP_VERSION = "v0.8.3"
DOCKER_VERSION = "5:27.1.*"
CRI_DOCKERD_VERSION = "0.3.15"
# The distribution's containerd, one minor per distribution (container_runtime/vars/).
CONTAINERD_VERSION = "1.7.* (Ubuntu 24.04), 1.6.* (Debian 12)"
# pkgs.k8s.io publishes one repository per minor; its package revision is -1.1.
KUBERNETES_PACKAGE_REVISION = "1.1"
