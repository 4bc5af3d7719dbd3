"""Argo CD from source: its one binary, the image every Argo CD workload runs, and Redis.

The binary builds through the wrapper module testbed/go/argocd (argo-cd's go.mod has replace
directives); each component is the same binary under its own name (argv[0]). The image follows
upstream's Dockerfile (`argocd-base`): git, gpg, ssh and tini on a bookworm minbase, helm beside
the binary, user 999 `argocd`, and upstream's wrapper scripts from the module. The web UI is not
built: the module's `ui/dist/app` holds only a placeholder, and the testbed installs the headless
`manifests/core-install.yaml`, which runs no API server. Redis (Argo CD's cache) is Debian's.

Only `make e2e-gitops` (KUBESTEAD_TESTBED_GITOPS=1) builds these: the images are those
`kubestead bundle` lists for the argo-cd add-on (gitops/images.yml).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping
from pathlib import Path

from kubestead import versions
from testbed.bundle.gobuild import GO_MODULES, GoComponent, build_in_module, module_dir
from testbed.bundle.images import DebianBase, ImageRecipe
from testbed.bundle.oci import ImageConfig

MODULE = "github.com/argoproj/argo-cd/v3"
ARGOCD_UID = 999  # upstream's `argocd` user, which the manifests' runAsUser names
COMPONENTS = (
    "argocd-application-controller",
    "argocd-applicationset-controller",
    "argocd-repo-server",
    "argocd-cmp-server",
)
# Upstream's Dockerfile copies these next to the binary.
SCRIPTS = {
    "/usr/local/bin/entrypoint.sh": "entrypoint.sh",
    "/usr/local/bin/gpg-wrapper.sh": "hack/gpg-wrapper.sh",
    "/usr/local/bin/git-verify-wrapper.sh": "hack/git-verify-wrapper.sh",
}


def component(version: str) -> GoComponent:
    """The argocd binary, with upstream's version variables."""
    module = GO_MODULES / "argocd"
    if f"require {MODULE} {version}\n" not in (module / "go.mod").read_text():
        raise ValueError(f"testbed/go/argocd builds Argo CD other than {version}")
    common = f"{MODULE}/common"
    ldflags = " ".join(
        (
            "-s -w",
            f"-X {common}.version={version.lstrip('v')}",
            f"-X {common}.gitTag={version}",
            f"-X {common}.gitTreeState=clean",
            f"-X {common}.buildDate=1970-01-01T00:00:00Z",
        )
    )
    return GoComponent(
        name="argocd",
        binaries=("argocd",),
        toolchain=versions.ARGOCD_GO_TOOLCHAIN,
        build=build_in_module(module, {"argocd": f"{MODULE}/cmd"}, ldflags),
        inputs=(version, ldflags, module / "go.mod", module / "go.sum"),
    )


def module_source(version: str, env: Mapping[str, str]) -> Path:
    """Argo CD's module tree in the Go module cache (downloaded if needed; read-only)."""
    return module_dir(f"{MODULE}@{version}", GO_MODULES / "argocd", env)


IMAGE = "quay.io/argoproj/argocd"
REDIS_IMAGE = "docker/library/redis"  # the repository part, under whichever registry is listed
INSTALL_MANIFEST = "manifests/core-install.yaml"


def listed_version(references: list[str]) -> str:
    """The Argo CD version of the listed images (the tag of quay.io/argoproj/argocd)."""
    for reference in references:
        name, _, tag = reference.rpartition(":")
        if name == IMAGE:
            return tag
    raise ValueError(f"no {IMAGE} among the argo-cd add-on's images {references}")


def recipes(
    references: list[str], binary: Path, helm: Path, source: Path
) -> dict[str, ImageRecipe]:
    """A recipe for each listed image of the argo-cd add-on; an image this module cannot make
    raises, naming it (the bundle provides what is listed, or says why not)."""
    made: dict[str, ImageRecipe] = {}
    for reference in references:
        name, _, tag = reference.rpartition(":")
        if name == IMAGE:
            made[reference] = argocd_image(tag, binary, helm, source)
        elif name.endswith(f"/{REDIS_IMAGE}"):
            made[reference] = redis_image(reference)
        else:
            raise ValueError(f"the argo-cd add-on lists {reference}; the testbed cannot build it")
    return made


def redis_image(reference: str) -> ImageRecipe:
    """Argo CD's cache: Debian's redis-server (7.0 in bookworm) under the listed name. The
    manifests give it its arguments and run it as 999; with `--save ""` it writes nothing."""
    return ImageRecipe(
        reference=reference,
        base=DebianBase(packages=("redis-server",)),
        config=ImageConfig(entrypoint=("redis-server",), user="999", working_dir="/"),
    )


def argocd_image(version: str, binary: Path, helm: Path, source: Path) -> ImageRecipe:
    """quay.io/argoproj/argocd:<version>, as upstream's `argocd-base` stage lays it out."""

    def layout(rootfs: Path) -> None:
        bin_dir = rootfs / "usr/local/bin"
        for name in COMPONENTS:
            (bin_dir / name).symlink_to("argocd")
        for target, relative in SCRIPTS.items():
            script = rootfs / target.lstrip("/")
            shutil.copyfile(source / relative, script)
            script.chmod(0o755)  # the module cache keeps files read-only and not executable
        (bin_dir / "uid_entrypoint.sh").symlink_to("entrypoint.sh")
        config = rootfs / "app/config"
        for folder in ("ssh", "tls", "gpg/source", "gpg/keys"):
            (config / folder).mkdir(parents=True, exist_ok=True)
        (config / "ssh/ssh_known_hosts").touch()
        (rootfs / "etc/ssh/ssh_known_hosts").symlink_to("/app/config/ssh/ssh_known_hosts")
        keys = config / "gpg/keys"
        keys.chmod(0o700)
        os.chown(keys, ARGOCD_UID, 0)
        home = rootfs / "home/argocd"
        home.mkdir(parents=True, exist_ok=True)
        home.chmod(0o775)  # upstream: chown argocd:0, chmod g=u (any uid in group 0 may write)
        os.chown(home, ARGOCD_UID, 0)
        with (rootfs / "etc/passwd").open("a") as passwd:
            passwd.write("argocd:x:999:999::/home/argocd:/bin/sh\n")
        with (rootfs / "etc/group").open("a") as group:
            group.write("argocd:x:999:\n")

    return ImageRecipe(
        reference=f"{IMAGE}:{version}",
        files={"/usr/local/bin/argocd": binary, "/usr/local/bin/helm": helm},
        base=DebianBase(
            packages=("git", "git-lfs", "tini", "gpg", "gpg-agent", "tzdata", "openssh-client")
        ),
        config=ImageConfig(
            env=(
                "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                "USER=argocd",
            ),
            user=str(ARGOCD_UID),
            working_dir="/home/argocd",
        ),
        customize=layout,
        # Change with layout(): the cache key hashes this text, not the function.
        customize_inputs=f"argocd {version} layout 2: scripts, /app/config, owners 999",
    )
