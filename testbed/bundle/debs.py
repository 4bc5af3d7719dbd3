"""The Kubernetes packages, as pkgs.k8s.io publishes them, made from the binaries built here.

kubeadm, kubelet, kubectl, cri-tools and kubernetes-cni with the upstream names, versions
(`1.30.3-1.1`), dependencies, files and systemd units (the facts are from the packaging specs
in kubernetes/release, cmd/krel/templates/latest; the unit texts here are written to behave
the same), in a flat repository indexed by apt-ftparchive: the same shape as
`deb https://pkgs.k8s.io/core:/stable:/v1.30/deb/ /`, which `spec.offline.kubernetesAptSource`
replaces. Upstream links kubelet against glibc; ours is static, so it does not depend on libc6.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from testbed.errors import TestbedError

MAINTAINER = "Kubernetes Authors <dev@kubernetes.io>"
HOMEPAGE = "https://kubernetes.io"

KUBELET_SERVICE = """\
[Unit]
Description=kubelet: The Kubernetes Node Agent
Documentation=https://kubernetes.io/docs/
Wants=network-online.target
After=network-online.target

[Service]
ExecStart=/usr/bin/kubelet
Restart=always
StartLimitInterval=0
RestartSec=10

[Install]
WantedBy=multi-user.target
"""

# kubeadm's drop-in: the flags kubeadm init/join write at run time reach the kubelet through it.
KUBEADM_DROP_IN = """\
# Note: This dropin only works with kubeadm and kubelet v1.11+
[Service]
Environment="KUBELET_KUBECONFIG_ARGS=--bootstrap-kubeconfig=/etc/kubernetes/bootstrap-kubelet.conf \
--kubeconfig=/etc/kubernetes/kubelet.conf"
Environment="KUBELET_CONFIG_ARGS=--config=/var/lib/kubelet/config.yaml"
# Written by "kubeadm init" and "kubeadm join": the KUBELET_KUBEADM_ARGS variable.
EnvironmentFile=-/var/lib/kubelet/kubeadm-flags.env
# Overrides of the kubelet's flags as a last resort (KUBELET_EXTRA_ARGS); prefer
# nodeRegistration.kubeletExtraArgs in kubeadm's configuration.
EnvironmentFile=-/etc/default/kubelet
ExecStart=
ExecStart=/usr/bin/kubelet $KUBELET_KUBECONFIG_ARGS $KUBELET_CONFIG_ARGS $KUBELET_KUBEADM_ARGS \
$KUBELET_EXTRA_ARGS
"""

# As upstream: enabled on install (systemctl preset), never started by the package: kubeadm
# starts it once there is a configuration.
KUBELET_POSTINST = """\
#!/bin/sh
set -e
if [ "$1" = "configure" ]; then
    systemctl preset kubelet.service >/dev/null 2>&1 || :
fi
"""
KUBELET_PRERM = """\
#!/bin/sh
set -e
if [ "$1" = "remove" ] || [ "$1" = "purge" ]; then
    systemctl --no-reload disable kubelet.service >/dev/null 2>&1 || :
    systemctl stop kubelet.service >/dev/null 2>&1 || :
fi
"""
KUBELET_POSTRM = """\
#!/bin/sh
set -e
systemctl daemon-reload >/dev/null 2>&1 || :
"""


@dataclass(frozen=True)
class Package:
    """One .deb: control fields, files (path in the package -> source or text), scripts."""

    name: str
    version: str  # upstream version without revision, e.g. 1.30.3
    section: str
    summary: str
    depends: tuple[str, ...] = ()
    binaries: Mapping[str, Path] = field(default_factory=dict)  # /usr/bin/x -> built binary
    texts: Mapping[str, str] = field(default_factory=dict)  # path -> content (0644)
    conffiles: tuple[str, ...] = ()
    scripts: Mapping[str, str] = field(default_factory=dict)  # postinst/prerm/postrm -> text

    def full_version(self, revision: str) -> str:
        return f"{self.version}-{revision}"

    def control(self, revision: str, installed_kib: int) -> str:
        fields = {
            "Package": self.name,
            "Version": self.full_version(revision),
            "Architecture": "amd64",
            "Maintainer": MAINTAINER,
            "Installed-Size": str(installed_kib),
            "Depends": ",".join(self.depends),
            "Section": self.section,
            "Priority": "optional",
            "Homepage": HOMEPAGE,
            "Description": f"{self.summary}\n {self.summary}.",
        }
        return "".join(f"{key}: {value}\n" for key, value in fields.items() if value)


def kubernetes_packages(
    kubernetes_version: str,
    cri_tools_version: str,
    cni_version: str,
    kubernetes_bin: Path,
    crictl_bin: Path,
    cni_bin: Path,
) -> list[Package]:
    """The five packages of a pkgs.k8s.io minor repository, for these versions.

    cri_tools_version is also kubeadm's floor: its package requires `cri-tools (>= X)`.
    """
    return [
        Package(
            name="kubeadm",
            version=kubernetes_version,
            section="admin",
            summary="Command-line utility for administering a Kubernetes cluster",
            depends=(f"cri-tools (>= {cri_tools_version})",),
            binaries={"/usr/bin/kubeadm": kubernetes_bin / "kubeadm"},
            texts={"/lib/systemd/system/kubelet.service.d/10-kubeadm.conf": KUBEADM_DROP_IN},
        ),
        Package(
            name="kubelet",
            version=kubernetes_version,
            section="net",
            summary="Node agent for Kubernetes clusters",
            depends=(
                "iptables (>= 1.4.21)",
                "kubernetes-cni (>= 1.2.0)",
                "iproute2",
                "mount",
                "socat",
                "util-linux",
                "ethtool",
                "ebtables",
                "conntrack",
            ),
            binaries={"/usr/bin/kubelet": kubernetes_bin / "kubelet"},
            texts={
                "/lib/systemd/system/kubelet.service": KUBELET_SERVICE,
                "/etc/default/kubelet": "KUBELET_EXTRA_ARGS=\n",
                # dpkg-deb keeps no empty folders: upstream ships these to create them.
                "/var/lib/kubelet/.kubelet-keep": "",
                "/etc/kubernetes/manifests/.kubelet-keep": "",
            },
            conffiles=("/etc/default/kubelet",),
            scripts={
                "postinst": KUBELET_POSTINST,
                "prerm": KUBELET_PRERM,
                "postrm": KUBELET_POSTRM,
            },
        ),
        Package(
            name="kubectl",
            version=kubernetes_version,
            section="admin",
            summary="Command-line utility for interacting with a Kubernetes cluster",
            binaries={"/usr/bin/kubectl": kubernetes_bin / "kubectl"},
        ),
        Package(
            name="cri-tools",
            version=cri_tools_version,
            section="admin",
            summary="Command-line utility for interacting with a container runtime",
            binaries={"/usr/bin/crictl": crictl_bin / "crictl"},
        ),
        Package(
            name="kubernetes-cni",
            version=cni_version,
            section="net",
            summary="Binaries required to provision kubernetes container networking",
            binaries={
                f"/opt/cni/bin/{plugin.name}": plugin
                for plugin in sorted(cni_bin.iterdir())
                if plugin.is_file()
            },
            texts={"/etc/cni/net.d/.kubernetes-cni-keep": ""},
        ),
    ]


def build_deb(package: Package, revision: str, out_dir: Path) -> Path:
    """Write `<name>_<version>_amd64.deb` into out_dir with dpkg-deb; return its path."""
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch) / "root"
        for inside, source in package.binaries.items():
            path = root / inside.lstrip("/")
            path.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, path)
            path.chmod(0o755)
        for inside, text in package.texts.items():
            path = root / inside.lstrip("/")
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
            path.chmod(0o644)
        doc = root / "usr/share/doc" / package.name
        doc.mkdir(parents=True, exist_ok=True)
        (doc / "README.md").write_text(
            f"{package.name} {package.version}, built from source by kubestead's testbed.\n"
        )
        installed_kib = sum(p.stat().st_size for p in root.rglob("*") if p.is_file()) // 1024
        debian = root / "DEBIAN"
        debian.mkdir()
        (debian / "control").write_text(package.control(revision, installed_kib))
        if package.conffiles:
            (debian / "conffiles").write_text("".join(f"{c}\n" for c in package.conffiles))
        for script, text in package.scripts.items():
            (debian / script).write_text(text)
            (debian / script).chmod(0o755)
        for path in [root, *root.rglob("*")]:
            if path.is_dir():
                path.chmod(0o755)
        target = out_dir / f"{package.name}_{package.full_version(revision)}_amd64.deb"
        result = subprocess.run(
            ["dpkg-deb", "--root-owner-group", "-Zxz", "--build", str(root), str(target)],
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise TestbedError(f"dpkg-deb {package.name}: {result.stderr.strip()[-800:]}")
    return target


def index_repository(repo: Path) -> None:
    """A flat repository's Packages and Release files, as apt expects them (`deb URL ./`)."""
    for name, command in (("Packages", "packages"), ("Release", "release")):
        result = subprocess.run(
            ["apt-ftparchive", command, "."], cwd=repo, capture_output=True, text=True, check=False
        )
        if result.returncode != 0:
            raise TestbedError(f"apt-ftparchive {command} {repo}: {result.stderr[-500:]}")
        (repo / name).write_text(result.stdout)
