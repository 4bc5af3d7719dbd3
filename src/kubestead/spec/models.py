"""The `cluster.yaml` schema: strict pydantic models whose aliases are the YAML field names.

Field paths are a public interface (tests and the inventory contract depend on them): add
fields, never rename them. Cross-field rules live in `rules.py` so that they can report every
problem at once instead of stopping at the first. Every field's description states what a user
may write there, including the rules of `rules.py` that concern it: `scripts/spec_docs.py`
turns them into the reference table of src/kubestead/README.md (allowed values of a Literal and
numeric bounds are added from the types themselves).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from kubestead import versions
from kubestead.spec.overlay import MAX_BYTES as OVERLAY_MAX_BYTES
from kubestead.spec.types import (
    CIDR,
    Cron,
    DNS1123Label,
    IPv4,
    LabelKey,
    LabelValue,
    MirrorURL,
    SemverV,
    SubjectAltName,
)

API_VERSION = "kubestead.io/v1alpha1"
KIND = "Cluster"

EndpointProvider = Literal["kube-vip", "haproxy-keepalived", "external"]
ContainerRuntime = Literal["containerd", "docker"]
Cni = Literal["kube-router", "calico", "cilium"]
EncryptionAtRest = Literal["secretbox", "aescbc", "none"]
PodSecurityLevel = Literal["privileged", "baseline", "restricted"]
ControlPlaneMetrics = Literal["network", "localhost"]
NodeRole = Literal["control-plane", "worker"]
TaintEffect = Literal["NoSchedule", "PreferNoSchedule", "NoExecute"]

# Address rules shared by the hosts and the endpoint (rules.usable_addresses).
_USABLE_ADDRESS = (
    "not loopback, link-local, multicast or 0.0.0.0, not the network or broadcast address of "
    "`privateCIDR`, not inside `podCIDR` or `serviceCIDR`"
)


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
    name: DNS1123Label = Field(
        description="the cluster's name (and its kubeconfig's): a DNS-1123 label, at most 63 "
        "lower-case letters, digits and '-'"
    )


class ControlPlaneEndpoint(Strict):
    address: IPv4 = Field(
        description="IPv4 address of the API. `kube-vip`, `haproxy-keepalived`: a free address "
        "(no host's) inside `privateCIDR`, announced as a virtual IP; `external`: your load "
        f"balancer's, anywhere; in every case {_USABLE_ADDRESS}"
    )
    port: int = Field(
        default=6443,
        ge=1,
        le=65535,
        description="`kube-vip`: 6443 (ARP mode forwards no ports: the virtual IP lands on a "
        "kube-apiserver); `haproxy-keepalived`: not 6443, which kube-apiserver holds beside "
        "haproxy (use 8443); `external`: any",
    )
    provider: EndpointProvider = Field(
        default="kube-vip",
        description="what serves the endpoint: a kube-vip static pod, haproxy and keepalived on "
        "the control planes, or a load balancer of your own",
    )


class Kubernetes(Strict):
    version: SemverV = Field(
        description=f"`vMAJOR.MINOR.PATCH`, {versions.SUPPORTED_RANGE_TEXT} (`versions.yaml`); "
        "raise it to upgrade. A patch past the minor's last release is refused; a warning past "
        "the minor's upstream end of life"
    )
    control_plane_endpoint: ControlPlaneEndpoint = Field(
        description="where kubectl, the kubelets and the control planes reach the API"
    )
    api_server_extra_sans: list[SubjectAltName] = Field(
        default_factory=list,
        alias="apiServerExtraSANs",
        description="more names and addresses for the API server's certificate (an external "
        "load balancer's DNS name, say); each an IP address or a DNS name. The endpoint, the "
        "control planes and the in-cluster names are always in it",
    )
    pod_cidr: CIDR = Field(
        default="10.244.0.0/16",
        alias="podCIDR",
        description="IPv4 CIDR of the pods, no host bits; holds a /24 per host; overlaps "
        "neither `serviceCIDR` nor `privateCIDR`",
    )
    service_cidr: CIDR = Field(
        default="10.96.0.0/12",
        alias="serviceCIDR",
        description="IPv4 CIDR of the Services, no host bits; /12 or narrower; overlaps "
        "neither `podCIDR` nor `privateCIDR`",
    )
    cluster_domain: str = Field(
        default="cluster.local",
        pattern=r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$",
        description="the cluster's DNS domain: lower-case letters, digits, '-' and '.', "
        "starting and ending with a letter or digit",
    )
    container_runtime: ContainerRuntime = Field(
        default="containerd",
        description="the runtime on every host (`docker`: Docker Engine through cri-dockerd, "
        "not yet proven on hosts)",
    )
    cni: Cni = Field(
        default="kube-router",
        description="the pod network; only kube-router is proven on hosts (ADR 0014)",
    )
    encryption_at_rest: EncryptionAtRest = Field(
        default="secretbox",
        description="how kube-apiserver encrypts Secrets in etcd (`none`: not at all)",
    )
    pod_security_default: PodSecurityLevel = Field(
        default="baseline",
        description="the Pod Security Admission level enforced where a namespace sets none",
    )
    control_plane_metrics: ControlPlaneMetrics = Field(
        default="network",
        description="where etcd, the controller manager and the scheduler serve metrics: "
        "`network` on every address, which the firewall opens to the private network and the "
        "pods only (Prometheus scrapes them; CIS 1.3.7 and 1.4.2 then fail, docs/cis.md); "
        "`localhost` on 127.0.0.1 only, as the CIS benchmark asks (nothing can scrape them). "
        "Taken when a control plane is created; later the firewall alone follows it",
    )


class Network(Strict):
    private_cidr: CIDR = Field(
        alias="privateCIDR",
        description="IPv4 CIDR of the hosts' private network, no host bits: every host address "
        "inside it; overlaps neither `podCIDR` nor `serviceCIDR`",
    )
    admin_cidrs: list[CIDR] = Field(
        default_factory=list,
        alias="adminCIDRs",
        description="IPv4 CIDRs that reach SSH and the API through the firewall; not empty "
        "while `firewall` is on",
    )
    firewall: bool = Field(
        default=True, description="manage the hosts' firewall (ufw); false leaves it alone"
    )


class Ssh(Strict):
    user: str = Field(
        min_length=1,
        pattern=r"^[a-z_][a-z0-9_-]*\$?$",
        description="the login user: a lower-case POSIX user name",
    )
    port: int = Field(default=22, ge=1, le=65535, description="sshd's port on every host")
    private_key_file: str = Field(
        min_length=1,
        description="the private key on the machine that runs `apply` (not the `.pub`); "
        "refused when it cannot be read here, accepted when it does not exist here",
    )


class Taint(Strict):
    key: LabelKey = Field(description="a Kubernetes label key: `[prefix/]name`")
    value: LabelValue = Field(default="", description="a Kubernetes label value, may be empty")
    effect: TaintEffect = Field(description="what happens to pods that do not tolerate it")


class Host(Strict):
    name: DNS1123Label = Field(
        description="DNS-1123 label, unique among the hosts; not `all`, `ungrouped`, "
        "`localhost` or `workers` (Ansible's names)"
    )
    address: IPv4 = Field(
        description=f"IPv4 address inside `privateCIDR`, unique among the hosts; {_USABLE_ADDRESS}"
    )
    role: NodeRole = Field(description="a control plane also runs an etcd member")
    zone: LabelValue | None = Field(
        default=None,
        description="failure zone, a label value; becomes the node label "
        "`topology.kubernetes.io/zone`",
    )
    labels: dict[LabelKey, LabelValue] = Field(
        default_factory=dict, description="node labels: Kubernetes label keys and values"
    )
    taints: list[Taint] = Field(default_factory=list, description="node taints")


class EtcdBackup(Strict):
    schedule: Cron = Field(
        default="0 */6 * * *",
        description="five cron fields (numbers, lists, ranges, steps), run by a systemd timer",
    )
    retain: int = Field(
        default=12, ge=1, le=1000, description="snapshots kept; older ones are deleted"
    )
    directory: str = Field(
        default="/var/backups/etcd",
        pattern=r"^/",
        description="absolute path for the snapshots: a folder of its own, not a system folder "
        "(`/`, `/etc`, `/var`, ...) nor under `/tmp`, `/var/tmp` or `/dev/shm`",
    )


class Offline(Strict):
    """Air-gapped installs: where hosts find packages and images instead of the internet."""

    apt_sources: list[str] = Field(
        default_factory=list,
        description="one-line apt sources that replace the hosts' own; empty keeps them",
    )
    registry_mirrors: dict[str, list[str]] = Field(
        default_factory=dict,
        description="registry host to the mirror URLs containerd pulls its images from",
    )
    kubernetes_apt_source: str = Field(
        default="",
        description="one-line apt source of the Kubernetes packages; empty uses pkgs.k8s.io",
    )
    files_mirror: MirrorURL = Field(
        default="",
        description="http(s) base URL, no trailing slash, of a web server holding the files "
        "(helm, charts) `kubestead bundle` lists under their names; empty downloads them from "
        "upstream",
    )


class ClusterSpec(Strict):
    kubernetes: Kubernetes = Field(description="the release, its API endpoint and networks")
    network: Network = Field(description="the hosts' network and firewall")
    ssh: Ssh = Field(description="how Ansible logs in to every host")
    hosts: list[Host] = Field(
        min_length=1,
        description="the machines, at least one, in order (the first control plane runs "
        "`kubeadm init`). Control planes: 1 (warning: not highly available), 3, 5 or 7; 2, 4 "
        "and 6 refused unless `--allow-even-etcd`; more than 7 always refused. A warning when "
        "zones are given and the control planes use fewer than two",
    )
    etcd_backup: EtcdBackup = Field(
        default_factory=EtcdBackup,
        description="scheduled etcd snapshots on every control plane",
    )
    offline: Offline = Field(
        default_factory=Offline,
        description="air-gapped installs: where hosts find packages and images instead of the "
        "internet",
    )
    inventory_overlay: str | None = Field(
        default=None,
        min_length=1,
        description="a YAML file (path from the spec's folder) of Ansible variables for what "
        "the spec does not model (role defaults, connection settings), rendered as "
        "`group_vars/k8s_cluster.yml`: a mapping of variable names, at most "
        f"{OVERLAY_MAX_BYTES // 1024} KiB, no `kubestead_*` key",
    )


class Cluster(Strict):
    api_version: Literal["kubestead.io/v1alpha1"] = Field(description="the schema of this file")
    kind: Literal["Cluster"] = Field(description="the kind of object this file describes")
    metadata: Metadata = Field(description="the cluster's identity")
    spec: ClusterSpec = Field(description="the cluster's desired state")

    @property
    def control_planes(self) -> list[Host]:
        return [h for h in self.spec.hosts if h.role == "control-plane"]

    @property
    def workers(self) -> list[Host]:
        return [h for h in self.spec.hosts if h.role == "worker"]
