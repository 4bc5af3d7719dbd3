"""Everything an offline install of a spec needs: packages, binaries and images.

The list mirrors what the Ansible roles install for the spec's choices, at the pins of
`versions.py`; `kubeadm config images list` is the upstream source of the control-plane images.
The platform add-ons (gitops/) come apart: their charts from their Applications, their images
from `gitops/images.yml` (`addon_artifacts`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

from kubestead import versions
from kubestead.spec.models import Cluster

OS_APT = "distribution apt repository (or spec.offline.aptSources)"
# Images the Tigera operator deploys for Calico (it pulls them from docker.io/calico).
CALICO_IMAGES = (
    "node",
    "cni",
    "kube-controllers",
    "typha",
    "pod2daemon-flexvol",
    "csi",
    "node-driver-registrar",
    "apiserver",
)


@dataclass(frozen=True)
class Artifact:
    kind: str  # package | binary | image | chart
    name: str
    version: str
    source: str


@dataclass(frozen=True)
class Bundle:
    artifacts: list[Artifact]
    warnings: list[str]

    def as_json(self) -> dict[str, object]:
        return {"artifacts": [asdict(a) for a in self.artifacts], "warnings": self.warnings}


@dataclass(frozen=True)
class AddonArtifact:
    addon: str  # the Application that installs it
    kind: str  # chart | image
    name: str
    version: str
    source: str


def kubeadm_images(version: str) -> tuple[versions.KubeadmImages, bool]:
    """The coredns/etcd/pause tags for `version`, and whether that patch was verified."""
    return versions.kubeadm_images(version)


def _packages(cluster: Cluster) -> list[Artifact]:
    k8s = cluster.spec.kubernetes
    major, minor = (int(p) for p in k8s.version.lstrip("v").split(".")[:2])
    k8s_apt = f"pkgs.k8s.io v{major}.{minor} repository (or spec.offline.kubernetesAptSource)"
    revision = versions.KUBERNETES_PACKAGE_REVISION
    exact = f"{k8s.version.lstrip('v')}-{revision}"
    items = [
        Artifact("package", name, exact, k8s_apt) for name in ("kubeadm", "kubelet", "kubectl")
    ]
    # Dependencies of kubeadm/kubelet in the same repository, at what the minor's carries.
    for name, pinned in (
        ("cri-tools", versions.CRI_TOOLS_VERSIONS),
        ("kubernetes-cni", versions.KUBERNETES_CNI_VERSIONS),
    ):
        known = pinned.get((major, minor))
        version = f"{known}-{revision}" if known else f"newest in the v{major}.{minor} repository"
        items.append(Artifact("package", name, version, k8s_apt))
    # What the roles install from the distribution: os_baseline, the firewall, the packages
    # kubeadm's preflight looks for.
    os_packages = ["chrony", "unattended-upgrades", "conntrack", "socat", "ethtool", "ebtables"]
    if cluster.spec.network.firewall:
        os_packages.append("ufw")
    items += [Artifact("package", name, "distribution", OS_APT) for name in os_packages]
    if k8s.container_runtime == "containerd":
        items += [
            Artifact("package", "containerd", versions.CONTAINERD_VERSION, OS_APT),
            Artifact("package", "runc", "distribution (containerd's dependency)", OS_APT),
        ]
    else:
        docker_apt = "Docker apt repository (or spec.offline.aptSources)"
        items += [
            Artifact("package", name, versions.DOCKER_VERSION, docker_apt)
            for name in ("docker-ce", "docker-ce-cli")
        ]
        items.append(Artifact("package", "containerd.io", "newest (docker-ce's)", docker_apt))
        items.append(
            Artifact(
                "package",
                "cri-dockerd",
                versions.CRI_DOCKERD_VERSION,
                "github.com/Mirantis/cri-dockerd releases (.deb)",
            )
        )
    if k8s.control_plane_endpoint.provider == "haproxy-keepalived":
        items += [
            Artifact("package", name, "distribution", OS_APT) for name in ("haproxy", "keepalived")
        ]
    return items


def _images(cluster: Cluster) -> tuple[list[Artifact], bool]:
    k8s = cluster.spec.kubernetes
    extra, verified = kubeadm_images(k8s.version)
    kubeadm = f"kubeadm {k8s.version} (`kubeadm config images list`)"
    items = [
        Artifact("image", f"registry.k8s.io/{name}", k8s.version, kubeadm)
        for name in ("kube-apiserver", "kube-controller-manager", "kube-scheduler", "kube-proxy")
    ]
    items += [
        Artifact("image", "registry.k8s.io/coredns/coredns", extra.coredns, kubeadm),
        Artifact("image", "registry.k8s.io/etcd", extra.etcd, kubeadm),
        Artifact("image", "registry.k8s.io/pause", extra.pause, kubeadm),
    ]
    if k8s.cni == "kube-router":
        items.append(
            Artifact(
                "image",
                "docker.io/cloudnativelabs/kube-router",
                versions.KUBE_ROUTER_VERSION,
                "kube-router (cni role)",
            )
        )
    elif k8s.cni == "calico":
        calico = f"Calico {versions.CALICO_VERSION} (Tigera operator)"
        items.append(
            Artifact("image", "quay.io/tigera/operator", versions.TIGERA_OPERATOR_VERSION, calico)
        )
        items += [
            Artifact("image", f"docker.io/calico/{name}", versions.CALICO_VERSION, calico)
            for name in CALICO_IMAGES
        ]
    else:
        cilium = f"Cilium {versions.CILIUM_VERSION} Helm chart"
        mirror = "spec.offline.filesMirror"
        helm_file = f"helm-{versions.HELM_VERSION}-linux-amd64.tar.gz"
        chart_file = f"cilium-{versions.CILIUM_VERSION}.tgz"
        items += [
            Artifact(
                "binary", "helm", versions.HELM_VERSION, f"get.helm.sh ({mirror}/{helm_file})"
            ),
            Artifact(
                "chart",
                "cilium/cilium",
                versions.CILIUM_VERSION,
                f"helm.cilium.io ({mirror}/{chart_file})",
            ),
        ]
        # The L7 proxy (Envoy) is off by default (cni role), so the agent and operator are all.
        items += [
            Artifact("image", f"quay.io/cilium/{name}", f"v{versions.CILIUM_VERSION}", cilium)
            for name in ("cilium", "operator-generic")
        ]
    if k8s.control_plane_endpoint.provider == "kube-vip":
        items.append(
            Artifact("image", "ghcr.io/kube-vip/kube-vip", versions.KUBE_VIP_VERSION, "kube-vip")
        )
    items.append(
        Artifact(
            "image",
            "registry.k8s.io/metrics-server/metrics-server",
            versions.METRICS_SERVER_VERSION,
            "metrics-server role",
        )
    )
    return items, verified


def bundle(cluster: Cluster) -> Bundle:
    images, verified = _images(cluster)
    version = cluster.spec.kubernetes.version
    warnings = []
    if not verified:
        minor = ".".join(version.lstrip("v").split(".")[:2])
        warnings.append(
            f"the coredns/etcd/pause tags for {version} were not verified; they are those of the "
            f"newest verified {minor} patch — compare with `kubeadm config images list "
            f"--kubernetes-version {version}`"
        )
    return Bundle(_packages(cluster) + images, warnings)


def addon_artifacts(gitops: Path) -> tuple[list[AddonArtifact], list[str]]:
    """Each add-on's chart (from its Application) and images (from images.yml), and a warning
    for every add-on the two files do not agree on."""
    from kubestead import addons

    if not (gitops / "bootstrap").is_dir():
        return [], [
            f"{gitops}: no GitOps tree here — the add-ons' charts and images are not listed; "
            "run from the repository root or pass --gitops-dir"
        ]
    listed = {entry.addon: entry for entry in addons.images(gitops)}
    where = gitops / addons.IMAGES_FILE
    items, warnings = [], []
    charts = addons.charts(gitops)
    for chart in charts:
        items.append(AddonArtifact(chart.addon, "chart", chart.name, chart.version, chart.repo_url))
        entry = listed.get(chart.addon)
        if entry is None:
            warnings.append(f"{where}: no entry for {chart.addon} — its images are not listed")
            continue
        if (entry.chart, entry.version) != (chart.name, chart.version):
            warnings.append(
                f"{where}: {chart.addon}: images read from {entry.chart} {entry.version}, "
                f"the Application pins {chart.name} {chart.version} — update the list"
            )
        source = f"{chart.name} {chart.version} chart"
        for ref in entry.images:
            name, version = addons.split_reference(ref)
            items.append(AddonArtifact(chart.addon, "image", name, version, source))
    # An add-on without a chart (the namespaces) has an entry too, with images of its own if any.
    folders = {p.name for p in gitops.glob("platform/*") if p.is_dir()}
    for entry in listed.values():
        if entry.addon in {c.addon for c in charts}:
            continue
        if entry.addon not in folders:
            warnings.append(f"{where}: {entry.addon} is no add-on of {gitops} — fix the name")
        for ref in entry.images:
            name, version = addons.split_reference(ref)
            items.append(AddonArtifact(entry.addon, "image", name, version, str(where)))
    return items, warnings
