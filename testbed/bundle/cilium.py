"""Cilium from source: the agent and operator binaries, their images, and the Helm chart.

The binaries build through the wrapper module testbed/go/cilium (Cilium's go.mod has replace
directives); the agent image is a bookworm minbase with what the chart's containers run
(iproute2, iptables, ipset, kmod, bash, util-linux's nsenter) and clang, which the agent
compiles its BPF programs with at start. Upstream ships LLVM 19.1.7: so does Debian bookworm
(clang-19). The chart is packaged from the module's own `install/kubernetes/cilium`. Where the
images differ from upstream's, testbed/README.md says how.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path

from kubestead import versions
from testbed.bundle.gobuild import GO_MODULES, GoComponent, build_in_module, module_dir
from testbed.bundle.images import DebianBase, ImageRecipe
from testbed.bundle.oci import ImageConfig
from testbed.errors import TestbedError

MODULE = "github.com/cilium/cilium"
# Cilium 1.16's go.mod asks for go 1.22, as Kubernetes 1.30 does.
TOOLCHAIN = versions.KUBERNETES_GO_TOOLCHAIN
# Binaries of the agent image (Makefile SUBDIRS_CILIUM_CONTAINER) and the generic operator.
AGENT_BINARIES = {
    "cilium-agent": f"{MODULE}/daemon",
    "cilium-dbg": f"{MODULE}/cilium-dbg",
    "cilium-health": f"{MODULE}/cilium-health",
    "cilium-health-responder": f"{MODULE}/cilium-health/responder",
    "cilium-bugtool": f"{MODULE}/bugtool",
    "cilium-mount": f"{MODULE}/tools/mount",
    "cilium-sysctlfix": f"{MODULE}/tools/sysctlfix",
    "cilium-cni": f"{MODULE}/plugins/cilium-cni",
}
OPERATOR = {"cilium-operator-generic": f"{MODULE}/operator"}
# Scripts the chart's containers run, from the module (images/cilium/Dockerfile copies them).
SCRIPTS = {
    "/init-container.sh": "images/cilium/init-container.sh",
    "/install-plugin.sh": "plugins/cilium-cni/install-plugin.sh",
    "/cni-uninstall.sh": "plugins/cilium-cni/cni-uninstall.sh",
}
CLANG = "clang-19"


def component(version: str) -> GoComponent:
    """The agent's and the operator's binaries, with upstream's tags and version string."""
    module = GO_MODULES / "cilium"
    if f"{MODULE} v{version}\n" not in (module / "go.mod").read_text():
        raise ValueError(f"testbed/go/cilium builds Cilium other than {version}")
    # pkg/version parses "VERSION GITHASH DATE"; the date is the release's.
    ldflags = (
        f'-s -w -X "{MODULE}/pkg/version.ciliumVersion={version} testbed 1970-01-01T00:00:00+00:00"'
    )
    packages = {**AGENT_BINARIES, **OPERATOR}
    tags = dict.fromkeys(AGENT_BINARIES, "osusergo")
    tags["cilium-operator-generic"] = "osusergo,ipam_provider_operator"
    return GoComponent(
        name="cilium",
        binaries=tuple(packages),
        toolchain=TOOLCHAIN,
        build=build_in_module(module, packages, ldflags, tags),
        inputs=(version, ldflags, json.dumps(tags, sort_keys=True), module),
        # The checksum database does not answer for Cilium's modules; go.sum pins them.
        env={"GONOSUMDB": "github.com/cilium"},
    )


def module_source(version: str, env: Mapping[str, str]) -> Path:
    """Cilium's module tree in the Go module cache (downloaded if needed; read-only)."""
    return module_dir(
        f"{MODULE}@v{version}", GO_MODULES / "cilium", {**env, "GONOSUMDB": "github.com/cilium"}
    )


def images(version: str, binaries: Path, source: Path, loopback: Path) -> list[ImageRecipe]:
    """The agent and operator images (quay.io/cilium/cilium, quay.io/cilium/operator-generic)."""

    def agent_extras(rootfs: Path) -> None:
        # The BPF sources the agent compiles from, as `make install-bpf` lays them out.
        library = rootfs / "var/lib/cilium"
        library.mkdir(mode=0o750, parents=True)
        shutil.copytree(
            source / "bpf", library / "bpf", ignore=shutil.ignore_patterns(".gitignore")
        )
        for path in [library / "bpf", *(library / "bpf").rglob("*")]:
            path.chmod(0o755 if path.is_dir() else 0o644)
        for target, relative in SCRIPTS.items():
            script = rootfs / target.lstrip("/")
            shutil.copyfile(source / relative, script)
            script.chmod(0o755)  # the module cache keeps files read-only and not executable
        (rootfs / "usr/bin/cilium").symlink_to("cilium-dbg")
        (rootfs / "usr/local/bin/clang").symlink_to(f"/usr/bin/{CLANG}")
        (rootfs / "home/cilium").mkdir(parents=True)

    agent_files = {f"/usr/bin/{name}": binaries / name for name in AGENT_BINARIES}
    agent_files["/opt/cni/bin/cilium-cni"] = agent_files.pop("/usr/bin/cilium-cni")
    # install-plugin.sh copies the loopback plugin when the host has none.
    agent_files["/cni/loopback"] = loopback
    return [
        ImageRecipe(
            reference=f"quay.io/cilium/cilium:v{version}",
            files=agent_files,
            base=DebianBase(
                packages=("iproute2", "iptables", "ipset", "kmod", "ca-certificates", CLANG)
            ),
            config=ImageConfig(
                cmd=("/usr/bin/cilium-dbg",),
                env=(
                    "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                    "HUBBLE_SERVER=unix:///var/run/cilium/hubble.sock",
                    "INITSYSTEM=SYSTEMD",
                ),
                working_dir="/home/cilium",
            ),
            customize=agent_extras,
            customize_inputs=f"cilium {version} bpf and scripts",
        ),
        ImageRecipe(
            reference=f"quay.io/cilium/operator-generic:v{version}",
            files={"/usr/bin/cilium-operator-generic": binaries / "cilium-operator-generic"},
            config=ImageConfig(cmd=("/usr/bin/cilium-operator-generic",)),
        ),
    ]


def package_chart(helm: Path, source: Path, version: str, out_dir: Path) -> Path:
    """`helm package` of the module's chart: cilium-<version>.tgz, as helm.cilium.io has it."""
    result = subprocess.run(
        [str(helm), "package", str(source / "install/kubernetes/cilium"), "-d", str(out_dir)],
        capture_output=True,
        text=True,
        check=False,
    )
    chart = out_dir / f"cilium-{version}.tgz"
    if result.returncode != 0 or not chart.is_file():
        raise TestbedError(f"helm package of Cilium {version}'s chart: {result.stderr[-800:]}")
    return chart
