"""Build every binary the local cluster runs, from source, into a version-keyed cache.

Kubernetes, etcd, CoreDNS and metrics-server come from the Go module proxy; pause is our own C.
Each component has a stamp holding the hash of its inputs, so a warm run costs nothing and a
changed pin rebuilds only what changed.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from e2e.localcluster import settings
from e2e.localcluster.settings import Paths

E2E = Path(__file__).resolve().parents[1]

KUBERNETES_COMMANDS = (
    "kube-apiserver",
    "kube-controller-manager",
    "kube-scheduler",
    "kubelet",
    "kube-proxy",
    "kubeadm",
    "kubectl",
)


def _version_ldflags() -> str:
    major, minor, _ = settings.KUBERNETES_VERSION.lstrip("v").split(".")
    flags = ["-s", "-w"]
    # Without these kubeadm sees "v0.0.0-master" and refuses to deploy the version.
    for package in ("k8s.io/component-base/version", "k8s.io/client-go/pkg/version"):
        flags += [
            f"-X {package}.gitVersion={settings.KUBERNETES_VERSION}",
            f"-X {package}.gitMajor={major}",
            f"-X {package}.gitMinor={minor}",
            f"-X {package}.gitTreeState=clean",
            f"-X {package}.buildDate=1970-01-01T00:00:00Z",
        ]
    return " ".join(flags)


def _go_env(paths: Paths) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        GOTOOLCHAIN=settings.GO_TOOLCHAIN,
        GOCACHE=str(paths.gocache),
        CGO_ENABLED="0",
        GOFLAGS="-trimpath",
    )
    return env


def _run(argv: Sequence[str], cwd: Path, env: Mapping[str, str]) -> None:
    result = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        tail = "\n".join((result.stderr or result.stdout).strip().splitlines()[-15:])
        raise BuildError(f"{' '.join(argv[:3])} … failed in {cwd}:\n{tail}")


class BuildError(RuntimeError):
    """A component did not build; the message carries the tool's last lines."""


def _inputs_key(*parts: str | Path) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part.read_bytes() if isinstance(part, Path) else part.encode())
    return digest.hexdigest()[:16]


def _build_kubernetes(paths: Paths, env: Mapping[str, str]) -> None:
    module = E2E / "k8s"
    packages = [f"k8s.io/kubernetes/cmd/{name}" for name in KUBERNETES_COMMANDS]
    _run(
        ["go", "build", "-ldflags", _version_ldflags(), "-o", f"{paths.bin}/", *packages],
        module,
        env,
    )


def _build_etcd(paths: Paths, env: Mapping[str, str]) -> None:
    module = E2E / "etcd"
    _run(["go", "build", "-o", str(paths.bin / "etcd"), "."], module, env)
    _run(
        ["go", "build", "-o", str(paths.bin / "etcdctl"), "go.etcd.io/etcd/etcdctl/v3"], module, env
    )


def _go_install(module_at_version: str, binary: str) -> Callable[[Paths, Mapping[str, str]], None]:
    def build(paths: Paths, env: Mapping[str, str]) -> None:
        with tempfile.TemporaryDirectory() as gobin:
            _run(["go", "install", module_at_version], Path(gobin), {**env, "GOBIN": gobin})
            shutil.move(str(Path(gobin) / binary), paths.bin / binary)

    return build


def _build_pause(paths: Paths, env: Mapping[str, str]) -> None:
    source = E2E / "pause" / "pause.c"
    _run(
        [
            "gcc",
            "-static",
            "-O2",
            "-Wall",
            "-Wextra",
            "-Werror",
            "-o",
            str(paths.bin / "pause"),
            str(source),
        ],
        E2E,
        env,
    )


def components() -> dict[
    str, tuple[str, Callable[[Paths, Mapping[str, str]], None], tuple[str, ...]]
]:
    """name → (inputs key, builder, binaries it makes)."""
    return {
        "kubernetes": (
            _inputs_key(
                settings.KUBERNETES_VERSION,
                _version_ldflags(),
                E2E / "k8s" / "go.mod",
                E2E / "k8s" / "go.sum",
            ),
            _build_kubernetes,
            KUBERNETES_COMMANDS,
        ),
        "etcd": (
            _inputs_key(E2E / "etcd" / "go.mod", E2E / "etcd" / "go.sum", E2E / "etcd" / "main.go"),
            _build_etcd,
            ("etcd", "etcdctl"),
        ),
        "coredns": (
            _inputs_key(settings.COREDNS_VERSION),
            _go_install(f"github.com/coredns/coredns@{settings.COREDNS_VERSION}", "coredns"),
            ("coredns",),
        ),
        "metrics-server": (
            _inputs_key(settings.METRICS_SERVER_VERSION),
            _go_install(
                f"sigs.k8s.io/metrics-server/cmd/metrics-server@{settings.METRICS_SERVER_VERSION}",
                "metrics-server",
            ),
            ("metrics-server",),
        ),
        "pause": (_inputs_key(E2E / "pause" / "pause.c"), _build_pause, ("pause",)),
    }


def build_all(paths: Paths, report: Callable[[str], None]) -> dict[str, float]:
    """Build what is missing or stale; return the seconds each component took (0 when cached)."""
    paths.bin.mkdir(parents=True, exist_ok=True)
    env = _go_env(paths)
    timings: dict[str, float] = {}
    for name, (key, builder, binaries) in components().items():
        stamp = paths.bin / f".{name}.stamp"
        fresh = stamp.exists() and stamp.read_text() == key
        if fresh and all((paths.bin / b).exists() for b in binaries):
            timings[name] = 0.0
            continue
        report(f"building {name} (cold builds take minutes; cached in {paths.bin})")
        started = time.monotonic()
        builder(paths, env)
        stamp.write_text(key)
        timings[name] = time.monotonic() - started
        report(f"built {name} in {timings[name]:.0f}s")
    return timings
