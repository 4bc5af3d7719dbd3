"""Every address, port, version and path the local cluster uses, in one place.

The node lives on a bridge the harness creates (`kubestead0`, 10.214.0.1/24): pods reach the
API server there, and every listener is bound to it or to loopback. Nothing here is routable
off the machine: the service and pod ranges are pinned to local devices or blackholed.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

KUBERNETES_VERSION = "v1.30.3"
# kubeadm v1.30.3's cmd/kubeadm/app/constants: DefaultEtcdVersion, CoreDNSVersion, PauseVersion.
ETCD_VERSION = "v3.5.12"
ETCD_IMAGE_TAG = "3.5.12-0"
COREDNS_VERSION = "v1.11.1"
PAUSE_VERSION = "3.9"
# 0.7.x is the line that supports Kubernetes 1.30 (0.8 needs 1.31).
METRICS_SERVER_VERSION = "v0.7.2"
# What Kubernetes v1.30.3 was built with; newer Go breaks some of its old linkname uses.
GO_TOOLCHAIN = "go1.22.5"

BRIDGE = "kubestead0"
NODE_IP = "10.214.0.1"
NODE_CIDR = "10.214.0.1/24"
NODE_NAME = "kubestead-e2e"
CNI_BRIDGE = "ksbr-cni0"
POD_CIDR = "10.244.0.0/16"
NODE_POD_CIDR = "10.244.0.0/24"
SERVICE_CIDR = "10.96.0.0/12"
KUBERNETES_SERVICE_IP = "10.96.0.1"
DNS_SERVICE_IP = "10.96.0.10"
CLUSTER_DOMAIN = "cluster.local"
API_PORT = 6443
POSTGRES_PORT = 5432
IPTABLES_GUARD_CHAIN = "KUBESTEAD-E2E-GUARD"


def _cache_root() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(os.environ.get("KUBESTEAD_E2E_CACHE", Path(base) / "kubestead"))


@dataclass(frozen=True)
class Paths:
    """Where things live. The cache survives `down`; the state does not."""

    cache: Path
    state: Path

    @classmethod
    def default(cls) -> Paths:
        state = Path(os.environ.get("KUBESTEAD_E2E_STATE", "/var/lib/kubestead-e2e"))
        return cls(cache=_cache_root(), state=state)

    @property
    def bin(self) -> Path:
        return self.cache / f"bin-{KUBERNETES_VERSION}"

    @property
    def images(self) -> Path:
        return self.cache / "e2e-images"

    @property
    def gocache(self) -> Path:
        return self.cache / "go-build"

    @property
    def pki(self) -> Path:
        return self.state / "pki"

    @property
    def kubeconfigs(self) -> Path:
        return self.state / "kubeconfig"

    @property
    def admin_kubeconfig(self) -> Path:
        return self.kubeconfigs / "admin.conf"

    @property
    def logs(self) -> Path:
        return self.state / "logs"

    @property
    def pids(self) -> Path:
        return self.state / "pids"

    @property
    def etcd_data(self) -> Path:
        return self.state / "etcd"

    @property
    def kubelet_root(self) -> Path:
        return self.state / "kubelet"

    @property
    def containerd_root(self) -> Path:
        return self.state / "containerd" / "root"

    @property
    def containerd_state(self) -> Path:
        return self.state / "containerd" / "state"

    @property
    def containerd_socket(self) -> Path:
        return self.state / "containerd" / "containerd.sock"

    @property
    def cni_conf(self) -> Path:
        return self.state / "cni" / "net.d"

    @property
    def config(self) -> Path:
        return self.state / "config"
