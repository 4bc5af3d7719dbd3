"""Build the offline bundle's binaries from source with the Go module proxy, into the cache.

Each component is one cache entry named after the hash of its inputs (versions, wrapper
modules, flags, toolchain), so a warm run costs nothing and a changed pin rebuilds only what
changed. Modules with replace directives cannot be `go install`ed: those build through a small
wrapper module under testbed/go/ that copies the replaces (kubernetes, etcd), or as the main
module from a copy of their own source (cri-tools).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from testbed.cache import cached_entry
from testbed.errors import TestbedError

GO_MODULES = Path(__file__).resolve().parents[1] / "go"
_BUILD_TIMEOUT_S = 3600


@dataclass(frozen=True)
class GoComponent:
    """Binaries built together: how, with which toolchain, and what decides their bytes."""

    name: str
    binaries: tuple[str, ...]
    toolchain: str  # GOTOOLCHAIN: what upstream released the version with, or "local"
    build: Callable[[Path, Mapping[str, str]], None]  # (output folder, environment)
    inputs: tuple[str | Path, ...] = ()  # version strings and files hashed into the key
    env: Mapping[str, str] = field(default_factory=dict)  # e.g. GONOSUMDB

    def key(self) -> str:
        digest = hashlib.sha256()
        for item in (self.toolchain, json.dumps(sorted(self.env.items())), *self.inputs):
            if isinstance(item, Path):
                for path in sorted(item.rglob("*")) if item.is_dir() else [item]:
                    if path.is_file():
                        digest.update(str(path.relative_to(item.parent)).encode())
                        digest.update(path.read_bytes())
            else:
                digest.update(item.encode())
        digest.update("\0".join(self.binaries).encode())
        return digest.hexdigest()[:16]


def run_go(argv: Sequence[str], cwd: Path, env: Mapping[str, str]) -> str:
    """Run a go command, return its output; a failure is a TestbedError with its last lines."""
    result = subprocess.run(
        list(argv),
        cwd=cwd,
        env=dict(env),
        capture_output=True,
        text=True,
        check=False,
        timeout=_BUILD_TIMEOUT_S,
    )
    if result.returncode != 0:
        tail = "\n".join((result.stderr or result.stdout).strip().splitlines()[-15:])
        raise TestbedError(f"{' '.join(argv[:3])} … failed in {cwd}:\n{tail}")
    return result.stdout


def module_dir(module: str, cwd: Path, env: Mapping[str, str]) -> Path:
    """`go mod download -json module[@version]` run in cwd: the module's tree in the module
    cache (read-only), downloaded if needed."""
    listing = run_go(["go", "mod", "download", "-json", module], cwd, env)
    return Path(json.loads(listing)["Dir"])


def go_env(cache: Path, component: GoComponent) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        GOTOOLCHAIN=component.toolchain,
        GOCACHE=str(cache / "go-build"),
        CGO_ENABLED="0",
        GOFLAGS="-trimpath -buildvcs=false",
        **component.env,
    )
    return env


def build(component: GoComponent, cache: Path) -> tuple[Path, bool]:
    """The folder holding the component's binaries; (folder, True) when it was just built."""
    env = go_env(cache, component)

    def make(scratch: Path) -> None:
        component.build(scratch, env)
        missing = [b for b in component.binaries if not (scratch / b).is_file()]
        if missing:
            raise TestbedError(f"{component.name}: the build made no {', '.join(missing)}")

    return cached_entry(cache / "gobin", f"{component.name}-{component.key()}", make)


# Builders, each a closure over what it needs.


def build_in_module(
    module: Path,
    packages: Mapping[str, str],
    ldflags: str = "",
    tags: Mapping[str, str] | None = None,
) -> Callable[[Path, Mapping[str, str]], None]:
    """`go build` each package (binary name -> import path) inside a wrapper module.

    tags: binary name -> its build tags (comma-separated), where upstream builds with some.
    """

    def run(out: Path, env: Mapping[str, str]) -> None:
        for binary, package in packages.items():
            argv = ["go", "build", "-ldflags", ldflags, "-o", str(out / binary)]
            if tags and tags.get(binary):
                argv += ["-tags", tags[binary]]
            run_go([*argv, package], module, env)

    return run


def go_install(
    module: str, version: str, packages: Mapping[str, str], ldflags: str = ""
) -> Callable[[Path, Mapping[str, str]], None]:
    """`go install package@version` for each (binary name -> package path in module)."""

    def run(out: Path, env: Mapping[str, str]) -> None:
        with tempfile.TemporaryDirectory() as gobin:
            argv = ["go", "install", "-ldflags", ldflags]
            argv += [f"{package}@{version}" for package in packages.values()]
            run_go(argv, Path(gobin), {**env, "GOBIN": gobin})
            for binary, package in packages.items():
                shutil.move(str(Path(gobin) / package.rsplit("/", 1)[-1]), out / binary)

    del module  # named for readers: every package lives in it
    return run


def build_as_main_module(
    module: str, version: str, packages: Mapping[str, str], ldflags: str = ""
) -> Callable[[Path, Mapping[str, str]], None]:
    """Build packages of `module@version` as the main module, so its replace directives apply.

    The module proxy serves the source; a copy of it (the module cache is read-only) is the
    working tree. Package paths are relative to the module root ("./cmd/crictl").
    """

    def run(out: Path, env: Mapping[str, str]) -> None:
        with tempfile.TemporaryDirectory() as scratch:
            mod_mode = {**env, "GOFLAGS": "-mod=mod"}
            source = module_dir(f"{module}@{version}", Path(scratch), mod_mode)
            tree = Path(scratch) / "src"
            shutil.copytree(source, tree)
            for path in [tree, *tree.rglob("*")]:
                path.chmod(path.stat().st_mode | 0o200)
            for binary, package in packages.items():
                # The module's zip keeps a partial vendor/ folder: build from the module cache.
                run_go(
                    [
                        "go",
                        "build",
                        "-mod=mod",
                        "-ldflags",
                        ldflags,
                        "-o",
                        str(out / binary),
                        package,
                    ],
                    tree,
                    env,
                )

    return run


def build_c(source: Path, binary: str) -> Callable[[Path, Mapping[str, str]], None]:
    """A static C binary (the pause container's), with warnings as errors."""

    def run(out: Path, env: Mapping[str, str]) -> None:
        argv = ["gcc", "-static", "-O2", "-Wall", "-Wextra", "-Werror", "-o", str(out / binary)]
        result = subprocess.run(
            [*argv, str(source)], capture_output=True, text=True, check=False, env=dict(env)
        )
        if result.returncode != 0:
            raise TestbedError(f"gcc {source.name} failed:\n{result.stderr[-1500:]}")

    return run
