"""The `cluster.yaml` schema: strict pydantic models whose aliases are the YAML field names.

Field paths are a public interface (tests and the inventory contract depend on them): add
fields, never rename them. Cross-field rules live in `rules.py` so that they can report every
problem at once instead of stopping at the first.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from kubestead.spec.types import CIDR, Cron, DNS1123Label, IPv4, LabelKey, LabelValue, SemverV

API_VERSION = "kubestead.io/v1alpha1"
KIND = "Cluster"

EndpointProvider = Literal["kube-vip", "haproxy-keepalived", "external"]
ContainerRuntime = Literal["containerd", "docker"]
Cni = Literal["calico", "cilium"]
EncryptionAtRest = Literal["secretbox", "aescbc", "none"]
PodSecurityLevel = Literal["privileged", "baseline", "restricted"]
NodeRole = Literal["control-plane", "worker"]
TaintEffect = Literal["NoSchedule", "PreferNoSchedule", "NoExecute"]


class Strict(BaseModel):
    # strict: YAML `port: "22"` is refused rather than silently converted; frozen: the spec
    # is data, nothing mutates it after loading.
    model_config = ConfigDict(
        extra="forbid",
        strict=True,
        frozen=True,
        alias_generator=to_camel,
        validate_by_alias=True,
        validate_by_name=False,
    )


class Metadata(Strict):
    name: DNS1123Label


class ControlPlaneEndpoint(Strict):
    address: IPv4
    port: int = Field(default=6443, ge=1, le=65535)
    provider: EndpointProvider = "kube-vip"


class Kubernetes(Strict):
    version: SemverV
    control_plane_endpoint: ControlPlaneEndpoint
    pod_cidr: CIDR = Field(default="10.244.0.0/16", alias="podCIDR")
    service_cidr: CIDR = Field(default="10.96.0.0/12", alias="serviceCIDR")
    cluster_domain: str = Field(
        default="cluster.local", pattern=r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$"
    )
    container_runtime: ContainerRuntime = "containerd"
    cni: Cni = "calico"
    encryption_at_rest: EncryptionAtRest = "secretbox"
    pod_security_default: PodSecurityLevel = "baseline"


class Network(Strict):
    private_cidr: CIDR = Field(alias="privateCIDR")
    admin_cidrs: list[CIDR] = Field(default_factory=list, alias="adminCIDRs")
    firewall: bool = True


class Ssh(Strict):
    user: str = Field(min_length=1, pattern=r"^[a-z_][a-z0-9_-]*\$?$")
    port: int = Field(default=22, ge=1, le=65535)
    private_key_file: str = Field(min_length=1)


class Taint(Strict):
    key: LabelKey
    value: LabelValue = ""
    effect: TaintEffect


class Host(Strict):
    name: DNS1123Label
    address: IPv4
    role: NodeRole
    zone: LabelValue | None = None
    labels: dict[LabelKey, LabelValue] = Field(default_factory=dict)
    taints: list[Taint] = Field(default_factory=list)


class EtcdBackup(Strict):
    schedule: Cron = "0 */6 * * *"
    retain: int = Field(default=12, ge=1, le=1000)
    directory: str = Field(default="/var/backups/etcd", pattern=r"^/")


class Offline(Strict):
    """Air-gapped installs: where hosts find packages and images instead of the internet."""

    apt_sources: list[str] = Field(default_factory=list)
    registry_mirrors: dict[str, list[str]] = Field(default_factory=dict)
    kubernetes_apt_source: str = ""


class ClusterSpec(Strict):
    kubernetes: Kubernetes
    network: Network
    ssh: Ssh
    hosts: list[Host] = Field(min_length=1)
    etcd_backup: EtcdBackup = Field(default_factory=EtcdBackup)
    offline: Offline = Field(default_factory=Offline)


class Cluster(Strict):
    api_version: Literal["kubestead.io/v1alpha1"]
    kind: Literal["Cluster"]
    metadata: Metadata
    spec: ClusterSpec

    @property
    def control_planes(self) -> list[Host]:
        return [h for h in self.spec.hosts if h.role == "control-plane"]

    @property
    def workers(self) -> list[Host]:
        return [h for h in self.spec.hosts if h.role == "worker"]
