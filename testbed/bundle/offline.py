"""The offline bundle of a cluster spec: exactly what `kubestead bundle` lists, built here.

`kubestead bundle` says what an air-gapped install of the spec needs; this module builds each
listed artifact from source (or, for the distribution's packages, takes them from the machine's
Debian mirror) and refuses one it cannot build. So the testbed provides what the CLI lists and
nothing else, and the hosts can only find it through the spec's own `offline` settings.
"""

from __future__ import annotations

import tarfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from kubestead import versions
from kubestead.bundle import AddonArtifact, Artifact, addon_artifacts, bundle
from kubestead.spec.models import Cluster
from testbed.bundle import argocd, backend_image, catalog, cilium, debs, gobuild
from testbed.bundle.aptrepo import cached_repo
from testbed.bundle.images import build_image
from testbed.cache import cache_key, cached_entry
from testbed.errors import TestbedError
from testbed.mirror import DebianMirror, machine_mirror
from testbed.rootfs import cached_rootfs, rootfs_key
from testbed.settings import REPO

KUBERNETES_PACKAGES = ("kubeadm", "kubelet", "kubectl", "cri-tools", "kubernetes-cni")


@dataclass
class OfflineBundle:
    """Where each part of the bundle is, once built."""

    artifacts: list[Artifact]  # what `kubestead bundle` listed, all of it provided
    rootfs: Path  # the hosts' root filesystem tree
    debian_repo: Path
    kubernetes_repo: Path
    files: Path  # helm and charts, for spec.offline.filesMirror
    images: dict[str, Path]  # reference -> OCI archive, for the registry
    workload_images: dict[str, Path]  # the backend's image: the workload, not the platform
    binaries: dict[str, Path]  # Go component -> the folder of its binaries (the spec's release)
    # The argo-cd add-on, only for `make e2e-gitops`: what `kubestead bundle` lists for it, its
    # images, and Argo CD's own headless install manifest from the module built.
    addon_artifacts: list[AddonArtifact] = field(default_factory=list)
    addon_images: dict[str, Path] = field(default_factory=dict)
    argocd_install: Path | None = None
    # Every Kubernetes release the bundle carries: the spec's, and the upgrade target when asked.
    releases: tuple[str, ...] = ()
    timings: dict[str, float] = field(default_factory=dict)

    def has_release(self, version: str) -> bool:
        return version in self.releases

    @property
    def registry(self) -> Path:
        """The registry binary the machine serves the images with."""
        return self.binaries["registry"] / "registry"

    @property
    def kubectl(self) -> Path:
        return self.binaries["kubernetes"] / "kubectl"

    @property
    def backend_image(self) -> str:
        return next(iter(self.workload_images))


Report = Callable[[str], None]


def at_version(cluster: Cluster, version: str) -> Cluster:
    """The same spec with spec.kubernetes.version set to `version` (validated again)."""
    document = cluster.model_dump(by_alias=True)
    document["spec"]["kubernetes"]["version"] = version
    return Cluster.model_validate(document)


def listed_artifacts(cluster: Cluster, upgrade_to: str | None = None) -> list[Artifact]:
    """What `kubestead bundle` lists for the spec, and for the spec at `upgrade_to` when given:
    each (kind, name, version) once, the spec's own first."""
    artifacts = list(bundle(cluster).artifacts)
    if upgrade_to:
        seen = {(a.kind, a.name, a.version) for a in artifacts}
        for artifact in bundle(at_version(cluster, upgrade_to)).artifacts:
            if (artifact.kind, artifact.name, artifact.version) not in seen:
                seen.add((artifact.kind, artifact.name, artifact.version))
                artifacts.append(artifact)
    return artifacts


def build_bundle(
    cluster: Cluster,
    cache: Path,
    report: Report,
    upgrade_to: str | None = None,
    *,
    with_argocd: bool = False,
) -> OfflineBundle:
    """Build (or take from the cache) everything the spec's offline install needs.

    upgrade_to: a release the bundle carries too, as an operator mirrors the next minor before
    an upgrade: what `kubestead bundle` lists for the spec at that version is added (the
    Kubernetes packages of both in one repository, both releases' images in the registry).
    with_argocd: the images `kubestead bundle` lists for the argo-cd add-on too, built from
    source (`make e2e-gitops`).
    """
    artifacts = listed_artifacts(cluster, upgrade_to)
    mirror = machine_mirror()
    version = cluster.spec.kubernetes.version
    timings: dict[str, float] = {}

    def step(name: str, work: Callable[[], tuple[Path, bool]]) -> Path:
        started = time.monotonic()
        path, built = work()
        if built:
            timings[name] = time.monotonic() - started
            report(f"built {name} in {timings[name]:.0f} s")
        return path

    report("offline bundle: building what is missing (cold builds take minutes; cached)")
    rootfs = step("node root filesystem", lambda: cached_rootfs(cache, mirror))
    components = catalog.go_components(version)
    wanted = _components_for(artifacts, cluster)
    if cluster.spec.kubernetes.cni == "cilium":
        components["cilium"] = cilium.component(versions.CILIUM_VERSION)
        components["helm"] = catalog.helm_component()
    binaries: dict[str, Path] = {}
    for name in wanted:
        binaries[name] = step(name, lambda c=components[name]: gobuild.build(c, cache))  # type: ignore[misc]
    # The upgrade target's own builds of what differs per release; the rest is shared.
    releases = {version: binaries}
    if upgrade_to:
        upgrade_components = catalog.go_components(upgrade_to)
        releases[upgrade_to] = dict(binaries)
        for name in catalog.PER_RELEASE:
            component = upgrade_components[name]
            releases[upgrade_to][name] = step(
                f"{name} ({upgrade_to})",
                lambda c=component: gobuild.build(c, cache),  # type: ignore[misc]
            )

    os_packages = sorted(
        a.name for a in artifacts if a.kind == "package" and a.name not in KUBERNETES_PACKAGES
    )
    debian_repo = step(
        "Debian repository",
        lambda: cached_repo(cache, rootfs, rootfs_key(mirror), mirror, os_packages),
    )
    kubernetes_repo = step(
        "Kubernetes repository", lambda: _kubernetes_repo(cache, artifacts, releases)
    )
    recipes = {
        r.reference: r
        for release, built in releases.items()
        for r in catalog.platform_images(release, built)
    }
    if "cilium" in binaries:
        env = gobuild.go_env(cache, components["cilium"])
        source = cilium.module_source(versions.CILIUM_VERSION, env)
        loopback = binaries["cni-plugins"] / "loopback"
        for recipe in cilium.images(versions.CILIUM_VERSION, binaries["cilium"], source, loopback):
            recipes[recipe.reference] = recipe
    images: dict[str, Path] = {}
    for artifact in artifacts:
        if artifact.kind != "image":
            continue
        reference = f"{artifact.name}:{artifact.version}"
        recipe_for = recipes.get(reference)
        if recipe_for is None:
            raise TestbedError(f"`kubestead bundle` lists {reference}; the testbed cannot build it")
        images[reference] = step(reference, lambda r=recipe_for: build_image(cache, r, mirror))  # type: ignore[misc]
    backend = backend_image.recipe()
    workload = {
        backend.reference: step("backend image", lambda: build_image(cache, backend, mirror))
    }
    files = step("files", lambda: _files(cache, artifacts, binaries, components))
    addons: list[AddonArtifact] = []
    addon_images: dict[str, Path] = {}
    install: Path | None = None
    if with_argocd:
        addons, addon_images, install = _argocd(cache, mirror, step)
    return OfflineBundle(
        artifacts=artifacts,
        rootfs=rootfs,
        debian_repo=debian_repo,
        kubernetes_repo=kubernetes_repo,
        files=files,
        images=images,
        workload_images=workload,
        binaries=binaries,
        addon_artifacts=addons,
        addon_images=addon_images,
        argocd_install=install,
        releases=tuple(releases),
        timings=timings,
    )


Step = Callable[[str, Callable[[], tuple[Path, bool]]], Path]


def _argocd(
    cache: Path, mirror: DebianMirror, step: Step
) -> tuple[list[AddonArtifact], dict[str, Path], Path]:
    """The argo-cd add-on's listed images, built from source, and core-install.yaml."""
    listed, _ = addon_artifacts(REPO / "gitops")
    mine = [a for a in listed if a.addon == "argo-cd"]
    references = [f"{a.name}:{a.version}" for a in mine if a.kind == "image"]
    try:
        version = argocd.listed_version(references)
        component = argocd.component(version)
    except ValueError as exc:
        raise TestbedError(f"argo-cd add-on: {exc}") from None
    binary = step("argocd", lambda: gobuild.build(component, cache))
    helm = step("helm", lambda: gobuild.build(catalog.helm_component(), cache))
    source = argocd.module_source(version, gobuild.go_env(cache, component))
    try:
        recipes = argocd.recipes(references, binary / "argocd", helm / "helm", source)
    except ValueError as exc:
        raise TestbedError(str(exc)) from None
    images = {
        reference: step(reference, lambda r=recipe: build_image(cache, r, mirror))  # type: ignore[misc]
        for reference, recipe in recipes.items()
    }
    return mine, images, source / argocd.INSTALL_MANIFEST


def kubernetes_binaries(version: str, cache: Path) -> Path:
    """The folder of the Kubernetes binaries (kubeadm, kubectl, ...), built if missing."""
    folder, _ = gobuild.build(catalog.go_components(version)["kubernetes"], cache)
    return folder


def build_host_packages(cluster: Cluster, cache: Path) -> tuple[Path, Path]:
    """Only the hosts' root filesystem and Debian repository (the OS-level tests need no more)."""
    mirror = machine_mirror()
    rootfs, _ = cached_rootfs(cache, mirror)
    os_packages = sorted(
        a.name
        for a in bundle(cluster).artifacts
        if a.kind == "package" and a.name not in KUBERNETES_PACKAGES
    )
    repo, _ = cached_repo(cache, rootfs, rootfs_key(mirror), mirror, os_packages)
    return rootfs, repo


def _components_for(artifacts: list[Artifact], cluster: Cluster) -> list[str]:
    """The Go components the listed artifacts need, plus the registry the testbed serves."""
    names = ["kubernetes", "etcd", "coredns", "metrics-server", "cri-tools", "cni-plugins", "pause"]
    if any(a.name == "ghcr.io/kube-vip/kube-vip" for a in artifacts):
        names.append("kube-vip")
    cni = cluster.spec.kubernetes.cni
    names += {"cilium": ["cilium", "helm"], "kube-router": ["kube-router"]}.get(cni, [])
    return [*names, "registry"]


def _kubernetes_repo(
    cache: Path, artifacts: list[Artifact], releases: dict[str, dict[str, Path]]
) -> tuple[Path, bool]:
    """One flat repository with the Kubernetes packages of each release (binaries by release)."""
    revision = versions.KUBERNETES_PACKAGE_REVISION
    packages: list[debs.Package] = []
    for version, binaries in releases.items():
        minor = catalog.minor_of(version)
        for package in debs.kubernetes_packages(
            kubernetes_version=version.lstrip("v"),
            cri_tools_version=versions.CRI_TOOLS_VERSIONS[minor],
            cni_version=versions.KUBERNETES_CNI_VERSIONS[minor],
            kubernetes_bin=binaries["kubernetes"],
            crictl_bin=binaries["cri-tools"],
            cni_bin=binaries["cni-plugins"],
        ):
            if package not in packages:  # cri-tools can be the same for two minors
                packages.append(package)
    built = sorted((p.name, p.full_version(revision)) for p in packages)
    listed = sorted((a.name, a.version) for a in artifacts if a.name in KUBERNETES_PACKAGES)
    if listed != built:
        raise TestbedError(
            f"`kubestead bundle` lists the Kubernetes packages {listed}; the testbed builds {built}"
        )
    # Everything that decides the .debs: the packages' fields and texts, and the binaries
    # (their folders are named after the hash of their own inputs).
    key = cache_key({"packages": [repr(package) for package in packages], "revision": revision})

    def build(scratch: Path) -> None:
        repo = scratch / "repo"
        repo.mkdir()
        for package in packages:
            debs.build_deb(package, revision, repo)
        debs.index_repository(repo)

    entry, made = cached_entry(cache, f"k8srepo-{key}", build)
    return entry / "repo", made


def _files(
    cache: Path,
    artifacts: list[Artifact],
    binaries: dict[str, Path],
    components: dict[str, gobuild.GoComponent],
) -> tuple[Path, bool]:
    """The files mirror: each listed binary and chart under the name the roles ask for."""
    listed = [a for a in artifacts if a.kind in {"binary", "chart"}]
    key = cache_key(
        {
            "files": sorted((a.kind, a.name, a.version) for a in listed),
            "binaries": sorted(str(binaries[n]) for n in ("helm", "cilium") if n in binaries),
        }
    )

    def build(scratch: Path) -> None:
        files = scratch / "files"
        files.mkdir()
        for artifact in listed:
            if artifact.kind == "binary" and artifact.name == "helm":
                _helm_tarball(binaries["helm"] / "helm", artifact.version, files)
            elif artifact.kind == "chart" and artifact.name == "cilium/cilium":
                env = gobuild.go_env(cache, components["cilium"])
                source = cilium.module_source(artifact.version, env)
                cilium.package_chart(binaries["helm"] / "helm", source, artifact.version, files)
            else:
                raise TestbedError(
                    f"`kubestead bundle` lists {artifact.kind} {artifact.name}; "
                    "the testbed cannot provide it"
                )

    entry, made = cached_entry(cache, f"files-{key}", build)
    return entry / "files", made


def _helm_tarball(helm: Path, version: str, files: Path) -> None:
    """helm-<version>-linux-amd64.tar.gz with linux-amd64/helm, as get.helm.sh has it."""
    target = files / f"helm-{version}-linux-amd64.tar.gz"
    with tarfile.open(target, "w:gz") as tar:
        tar.add(helm, arcname="linux-amd64/helm")
