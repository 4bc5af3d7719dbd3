"""What the testbed knows how to build: Go components and the images made from them.

Every version comes from `kubestead.versions` (the CLI's own pins) or from the spec, so the
testbed builds what `kubestead bundle` lists and nothing of its own choosing.
"""

from __future__ import annotations

from pathlib import Path

from kubestead import versions
from testbed.bundle.gobuild import (
    GO_MODULES,
    GoComponent,
    build_as_main_module,
    build_c,
    build_in_module,
    go_install,
)
from testbed.bundle.images import DebianBase, ImageRecipe
from testbed.bundle.oci import ImageConfig

PAUSE_SOURCE = Path(__file__).resolve().parents[1] / "pause" / "pause.c"
KUBERNETES_COMMANDS = (
    "kube-apiserver",
    "kube-controller-manager",
    "kube-scheduler",
    "kube-proxy",
    "kubelet",
    "kubeadm",
    "kubectl",
)
# The plugins of the kubernetes-cni package (containernetworking/plugins, all but windows).
CNI_PLUGINS = {
    "main": (
        "bridge",
        "dummy",
        "host-device",
        "ipvlan",
        "loopback",
        "macvlan",
        "ptp",
        "tap",
        "vlan",
    ),
    "ipam": ("dhcp", "host-local", "static"),
    "meta": ("bandwidth", "firewall", "portmap", "sbr", "tuning", "vrf"),
}


# The Go components whose version follows the Kubernetes release (its minor's packages, the
# tags kubeadm deploys); a bundle with two releases builds these twice.
PER_RELEASE = ("kubernetes", "etcd", "coredns", "cri-tools", "cni-plugins")


def minor_of(version: str) -> tuple[int, int]:
    major, minor, _ = version.lstrip("v").split(".")
    return int(major), int(minor)


def kubernetes_version_ldflags(version: str) -> str:
    """`-s -w` and the -X flags that give Kubernetes binaries their version."""
    major, minor = (str(part) for part in minor_of(version))
    flags = ["-s", "-w"]
    # Without these kubeadm sees "v0.0.0-master" and refuses to deploy the version.
    for package in ("k8s.io/component-base/version", "k8s.io/client-go/pkg/version"):
        flags += [
            f"-X {package}.gitVersion={version}",
            f"-X {package}.gitMajor={major}",
            f"-X {package}.gitMinor={minor}",
            f"-X {package}.gitTreeState=clean",
            f"-X {package}.buildDate=1970-01-01T00:00:00Z",
        ]
    return " ".join(flags)


def wrapper_module(family: str, module: str, version: str) -> Path:
    """The folder testbed/go/<family>* whose go.mod requires `module version` (one release's
    wrapper module); a ValueError naming the version when none does."""
    line = f"{module} {version}"
    for go_mod in sorted(GO_MODULES.glob(f"{family}*/go.mod")):
        requires = (text.strip() for text in go_mod.read_text().splitlines())
        if any(text in {line, f"require {line}"} for text in requires):
            return go_mod.parent
    raise ValueError(f"no wrapper module under testbed/go builds {module} {version}")


def go_components(kubernetes_version: str) -> dict[str, GoComponent]:
    """Every Go component of the bundle for a Kubernetes version, by name."""
    minor = minor_of(kubernetes_version)
    # Each wrapper module pins one release's staging modules: one module per release.
    module = wrapper_module("k8s", "k8s.io/kubernetes", kubernetes_version)
    ldflags = kubernetes_version_ldflags(kubernetes_version)
    cri_tools = versions.CRI_TOOLS_VERSIONS[minor]
    cni = versions.KUBERNETES_CNI_VERSIONS[minor]
    images, _ = _kubeadm_images(kubernetes_version)
    etcd = f"v{images.etcd.split('-')[0]}"
    etcd_module = wrapper_module("etcd", "go.etcd.io/etcd/server/v3", etcd)
    components = [
        GoComponent(
            name="kubernetes",
            binaries=KUBERNETES_COMMANDS,
            toolchain=versions.KUBERNETES_GO_TOOLCHAIN,
            build=build_in_module(
                module, {c: f"k8s.io/kubernetes/cmd/{c}" for c in KUBERNETES_COMMANDS}, ldflags
            ),
            inputs=(kubernetes_version, ldflags, module / "go.mod", module / "go.sum"),
        ),
        GoComponent(
            name="etcd",
            binaries=("etcd", "etcdctl", "etcdutl"),
            toolchain=versions.KUBERNETES_GO_TOOLCHAIN,
            build=build_in_module(
                etcd_module,
                {
                    "etcd": ".",
                    "etcdctl": "go.etcd.io/etcd/etcdctl/v3",
                    "etcdutl": "go.etcd.io/etcd/etcdutl/v3",
                },
            ),
            inputs=(etcd, etcd_module),
        ),
        GoComponent(
            name="coredns",
            binaries=("coredns",),
            toolchain=versions.KUBERNETES_GO_TOOLCHAIN,
            build=go_install(
                "github.com/coredns/coredns",
                images.coredns,
                {"coredns": "github.com/coredns/coredns"},
            ),
            inputs=(images.coredns,),
        ),
        GoComponent(
            name="metrics-server",
            binaries=("metrics-server",),
            toolchain=versions.KUBERNETES_GO_TOOLCHAIN,
            build=go_install(
                "sigs.k8s.io/metrics-server",
                versions.METRICS_SERVER_VERSION,
                {"metrics-server": "sigs.k8s.io/metrics-server/cmd/metrics-server"},
                "-s -w -X k8s.io/client-go/pkg/version.gitVersion="
                + versions.METRICS_SERVER_VERSION,
            ),
            inputs=(versions.METRICS_SERVER_VERSION,),
        ),
        GoComponent(
            name="cri-tools",
            binaries=("crictl",),
            toolchain=versions.KUBERNETES_GO_TOOLCHAIN,
            # Its go.mod has replace directives: it builds as the main module.
            build=build_as_main_module(
                "sigs.k8s.io/cri-tools",
                f"v{cri_tools}",
                {"crictl": "./cmd/crictl"},
                f"-s -w -X sigs.k8s.io/cri-tools/pkg/version.Version=v{cri_tools}",
            ),
            inputs=(cri_tools,),
        ),
        GoComponent(
            name="cni-plugins",
            binaries=tuple(p for group in CNI_PLUGINS.values() for p in group),
            toolchain=versions.KUBERNETES_GO_TOOLCHAIN,
            build=go_install(
                "github.com/containernetworking/plugins",
                f"v{cni}",
                {
                    plugin: f"github.com/containernetworking/plugins/plugins/{group}/{plugin}"
                    for group, plugins in CNI_PLUGINS.items()
                    for plugin in plugins
                },
                "-s -w -X github.com/containernetworking/plugins/pkg/utils/buildversion"
                f".BuildVersion=v{cni}",
            ),
            inputs=(cni,),
        ),
        GoComponent(
            name="kube-vip",
            binaries=("kube-vip",),
            toolchain="local",
            build=build_in_module(
                GO_MODULES / "kube-vip",
                {"kube-vip": "github.com/kube-vip/kube-vip"},
                f"-s -w -X main.Version={versions.KUBE_VIP_VERSION}",
            ),
            inputs=(versions.KUBE_VIP_VERSION, GO_MODULES / "kube-vip"),
            # The checksum database does not know this version; go.sum pins it instead.
            env={"GONOSUMDB": "github.com/kube-vip"},
        ),
        GoComponent(
            name="kube-router",
            binaries=("kube-router",),
            toolchain=versions.KUBERNETES_GO_TOOLCHAIN,
            build=go_install(
                "github.com/cloudnativelabs/kube-router/v2",
                versions.KUBE_ROUTER_VERSION,
                {"kube-router": "github.com/cloudnativelabs/kube-router/v2/cmd/kube-router"},
                "-s -w -X github.com/cloudnativelabs/kube-router/v2/pkg/version.Version="
                + versions.KUBE_ROUTER_VERSION,
            ),
            inputs=(versions.KUBE_ROUTER_VERSION,),
        ),
        GoComponent(
            name="registry",
            binaries=("registry",),
            toolchain="local",
            build=go_install(
                "github.com/distribution/distribution/v3",
                versions.REGISTRY_VERSION,
                {"registry": "github.com/distribution/distribution/v3/cmd/registry"},
            ),
            inputs=(versions.REGISTRY_VERSION,),
        ),
        GoComponent(
            name="pause",
            binaries=("pause",),
            toolchain="local",
            build=build_c(PAUSE_SOURCE, "pause"),
            inputs=(PAUSE_SOURCE,),
        ),
    ]
    return {component.name: component for component in components}


def _kubeadm_images(version: str) -> tuple[versions.KubeadmImages, bool]:
    from kubestead.bundle import kubeadm_images

    return kubeadm_images(version)


_PATH = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def platform_images(kubernetes_version: str, binaries: dict[str, Path]) -> list[ImageRecipe]:
    """The images kubeadm, the endpoint and metrics-server run, from the built binaries.

    binaries: component name -> the folder holding its binaries (gobuild.build's result).
    """
    images, _ = _kubeadm_images(kubernetes_version)
    k8s = binaries["kubernetes"]
    recipes = [
        # Upstream: distroless static as root, the binary in /usr/local/bin; kubeadm's static
        # pods run the bare command name, found through PATH.
        ImageRecipe(
            reference=f"registry.k8s.io/{name}:{kubernetes_version}",
            files={f"/usr/local/bin/{name}": k8s / name},
            config=ImageConfig(env=(_PATH,)),
        )
        for name in ("kube-apiserver", "kube-controller-manager", "kube-scheduler")
    ]
    recipes += [
        # kube-proxy runs iptables, ip6tables (and -save/-restore) and conntrack: Debian's,
        # whose iptables defaults to the nft backend as Debian 12's and Ubuntu 24.04's hosts do.
        ImageRecipe(
            reference=f"registry.k8s.io/kube-proxy:{kubernetes_version}",
            files={"/usr/local/bin/kube-proxy": k8s / "kube-proxy"},
            base=DebianBase(packages=("iptables", "conntrack")),
            config=ImageConfig(env=(_PATH,)),
        ),
        # etcdutl is not in the upstream image; the backup script and restores use it.
        ImageRecipe(
            reference=f"registry.k8s.io/etcd:{images.etcd}",
            files={
                f"/usr/local/bin/{tool}": binaries["etcd"] / tool
                for tool in ("etcd", "etcdctl", "etcdutl")
            },
            config=ImageConfig(env=(_PATH,)),
        ),
        # As upstream: non-root, binding :53 through the binary's file capability.
        ImageRecipe(
            reference=f"registry.k8s.io/coredns/coredns:{images.coredns}",
            files={"/coredns": binaries["coredns"] / "coredns"},
            capabilities={"/coredns": ("cap_net_bind_service",)},
            config=ImageConfig(entrypoint=("/coredns",), user="65532:65532"),
        ),
        ImageRecipe(
            reference=f"registry.k8s.io/pause:{images.pause}",
            files={"/pause": binaries["pause"] / "pause"},
            config=ImageConfig(entrypoint=("/pause",), user="65535:65535"),
        ),
        ImageRecipe(
            reference=(
                f"registry.k8s.io/metrics-server/metrics-server:{versions.METRICS_SERVER_VERSION}"
            ),
            files={"/metrics-server": binaries["metrics-server"] / "metrics-server"},
            config=ImageConfig(entrypoint=("/metrics-server",), user="65534:65534"),
        ),
    ]
    if "kube-router" in binaries:
        # Upstream: alpine with iptables, ipset, iproute2 and conntrack; privileged, root.
        recipes.append(
            ImageRecipe(
                reference=f"docker.io/cloudnativelabs/kube-router:{versions.KUBE_ROUTER_VERSION}",
                files={"/usr/local/bin/kube-router": binaries["kube-router"] / "kube-router"},
                base=DebianBase(packages=("iptables", "ipset", "iproute2", "conntrack")),
                config=ImageConfig(entrypoint=("/usr/local/bin/kube-router",), env=(_PATH,)),
            )
        )
    if "kube-vip" in binaries:
        # Upstream: FROM scratch, the binary, root (it reads admin.conf, mode 0600).
        recipes.append(
            ImageRecipe(
                reference=f"ghcr.io/kube-vip/kube-vip:{versions.KUBE_VIP_VERSION}",
                files={"/kube-vip": binaries["kube-vip"] / "kube-vip"},
                config=ImageConfig(entrypoint=("/kube-vip",)),
            )
        )
    return recipes


def helm_component() -> GoComponent:
    """Helm for the nodes: the cni role installs Cilium's chart with it."""
    ldflags = f"-s -w -X helm.sh/helm/v3/internal/version.version={versions.HELM_VERSION}"
    return GoComponent(
        name="helm",
        binaries=("helm",),
        toolchain=versions.KUBERNETES_GO_TOOLCHAIN,
        build=go_install(
            "helm.sh/helm/v3", versions.HELM_VERSION, {"helm": "helm.sh/helm/v3/cmd/helm"}, ldflags
        ),
        inputs=(versions.HELM_VERSION, ldflags),
    )
