"""The conformance suite's programs, built from source into the cache like the bundle's.

- `conformance`: e2e.test, the ginkgo CLI, agnhost and nonewprivs' `nnp`, all from the wrapper
  module testbed/go/e2e (k8s.io/kubernetes at the tested release with its staging modules
  replaced by their matching tags, ginkgo v2.15.0 as kubernetes pins it). e2e.test is
  `go test -c` with the tags and version ldflags of upstream's hack/lib/golang.sh; CGO is off
  here (as for every testbed binary), where upstream links e2e.test dynamically.
- `sample-apiserver`: k8s.io/sample-apiserver v0.29.2, what the e2e image `sample-apiserver:1.29.2`
  holds; built as the main module (its go.mod has replace directives), as its image's Makefile
  does.
- From the bundle, already cached by `make up`: CoreDNS (the agnhost and jessie-dnsutils images
  ship a `/coredns`).
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from kubestead import versions
from testbed.bundle import catalog, gobuild
from testbed.bundle.gobuild import (
    GO_MODULES,
    GoComponent,
    build_as_main_module,
    build_in_module,
    run_go,
)
from testbed.errors import TestbedError

MODULE = GO_MODULES / "e2e"
KUBERNETES_VERSION = versions.TESTED_KUBERNETES_VERSION  # what testbed/go/e2e requires
E2E_PACKAGE = "k8s.io/kubernetes/test/e2e"
GINKGO_PACKAGE = "github.com/onsi/ginkgo/v2/ginkgo"
# test/images/agnhost/VERSION in the kubernetes module of that release: the source the binary
# is built from. The suite pulls agnhost:2.47, built upstream from an earlier tree (images.py).
AGNHOST_SOURCE_VERSION = "2.48"
SAMPLE_APISERVER_VERSION = "v0.29.2"
# hack/lib/golang.sh: `gotags="selinux,notest,..."` for every binary and test binary.
UPSTREAM_TAGS = "selinux,notest"
SUITE_BINARIES = ("e2e.test", "ginkgo", "agnhost", "nnp")
_LIST_TIMEOUT_S = 120


def version_ldflags(version: str) -> str:
    """The bundle's version flags, for every package that links them ("all=", as upstream)."""
    return f"all={catalog.kubernetes_version_ldflags(version)}"


def _build_suite(ldflags: str) -> Callable[[Path, Mapping[str, str]], None]:
    agnhost_ldflags = f"-s -w -X 'main.Version={AGNHOST_SOURCE_VERSION}'"
    binaries = [
        build_in_module(MODULE, {"ginkgo": GINKGO_PACKAGE}, ldflags, {"ginkgo": UPSTREAM_TAGS}),
        build_in_module(
            MODULE, {"agnhost": "k8s.io/kubernetes/test/images/agnhost"}, agnhost_ldflags
        ),
        build_in_module(MODULE, {"nnp": "k8s.io/kubernetes/test/images/nonewprivs"}, "-s -w"),
    ]

    def run(out: Path, env: Mapping[str, str]) -> None:
        # `go test -c`, as upstream builds its test targets (test/e2e/e2e.test).
        argv = ["go", "test", "-c", "-ldflags", ldflags, "-tags", UPSTREAM_TAGS]
        run_go([*argv, "-o", str(out / "e2e.test"), E2E_PACKAGE], MODULE, env)
        for build in binaries:
            build(out, env)

    return run


def suite_component() -> GoComponent:
    """e2e.test, ginkgo, agnhost and nnp, from testbed/go/e2e."""
    if f"k8s.io/kubernetes {KUBERNETES_VERSION}\n" not in (MODULE / "go.mod").read_text():
        raise ValueError(f"testbed/go/e2e does not require k8s.io/kubernetes {KUBERNETES_VERSION}")
    ldflags = version_ldflags(KUBERNETES_VERSION)
    return GoComponent(
        name="conformance",
        binaries=SUITE_BINARIES,
        toolchain=versions.KUBERNETES_GO_TOOLCHAIN,
        build=_build_suite(ldflags),
        inputs=(KUBERNETES_VERSION, ldflags, AGNHOST_SOURCE_VERSION, UPSTREAM_TAGS, MODULE),
    )


def sample_apiserver_component() -> GoComponent:
    """The aggregator spec's extension API server (image sample-apiserver:1.29.2)."""
    return GoComponent(
        name="sample-apiserver",
        binaries=("sample-apiserver",),
        toolchain=versions.KUBERNETES_GO_TOOLCHAIN,
        # Its Makefile: `git checkout tags/v0.29.2 && go install .`, plain flags.
        build=build_as_main_module(
            "k8s.io/sample-apiserver", SAMPLE_APISERVER_VERSION, {"sample-apiserver": "."}
        ),
        inputs=(SAMPLE_APISERVER_VERSION,),
    )


@dataclass(frozen=True)
class Binaries:
    """The folders the suite and its images are made from."""

    suite: Path  # e2e.test, ginkgo, agnhost, nnp
    sample_apiserver: Path
    coredns: Path  # the bundle's CoreDNS
    kubernetes_source: Path  # the k8s.io/kubernetes module tree (read-only): image data files


Report = Callable[[str], None]


def build_binaries(cache: Path, report: Report) -> Binaries:
    """Build (or take from the cache) every program of the suite and its images."""
    folders: dict[str, Path] = {}
    components = [
        suite_component(),
        sample_apiserver_component(),
        catalog.go_components(KUBERNETES_VERSION)["coredns"],
    ]
    for component in components:
        started = time.monotonic()
        folders[component.name], built = gobuild.build(component, cache)
        if built:
            report(f"built {component.name} in {time.monotonic() - started:.0f} s")
    env = gobuild.go_env(cache, components[0])
    return Binaries(
        suite=folders["conformance"],
        sample_apiserver=folders["sample-apiserver"],
        coredns=folders["coredns"],
        kubernetes_source=module_source(env),
    )


def module_source(env: Mapping[str, str]) -> Path:
    """The k8s.io/kubernetes module tree in the Go module cache (downloaded if needed)."""
    return gobuild.module_dir("k8s.io/kubernetes", MODULE, env)


def listed_images(e2e_test: Path) -> list[str]:
    """Every image reference e2e.test knows (`--list-images`: its test/utils/image manifest)."""
    result = subprocess.run(
        [str(e2e_test), "--list-images"],
        capture_output=True,
        text=True,
        check=False,
        timeout=_LIST_TIMEOUT_S,
        env={"PATH": "/usr/bin:/bin"},  # no KUBECONFIG, no KUBE_TEST_REPO*: the built-in names
    )
    if result.returncode != 0:
        raise TestbedError(f"{e2e_test} --list-images exited {result.returncode}: {result.stderr}")
    return sorted(line.strip() for line in result.stdout.splitlines() if line.strip())
