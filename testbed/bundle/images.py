"""Container images from the binaries built here, as OCI archives in the cache.

Each image is a recipe: files to put in (built binaries), an optional Debian bookworm base (a
debootstrapped minbase with packages, for images that need more than one static binary), and
the runtime config. An image is built once per hash of its inputs. Where an image differs from
the upstream one it stands in for, testbed/README.md says how.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import struct
import subprocess
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from testbed.bundle.oci import CAPABILITY_XATTR, ImageConfig, write_image
from testbed.cache import cache_key, cached_entry
from testbed.commands import run
from testbed.mirror import SUITE, DebianMirror

_DEBOOTSTRAP_TIMEOUT_S = 1800
# Linux capability numbers (include/uapi/linux/capability.h) the images set on files.
CAPABILITIES = {"cap_net_bind_service": 10, "cap_net_admin": 12, "cap_net_raw": 13}


@dataclass(frozen=True)
class DebianBase:
    """A bookworm minbase root filesystem with these packages (Recommends left out)."""

    packages: tuple[str, ...]

    def key(self, mirror: DebianMirror) -> str:
        return cache_key({"suite": SUITE, "packages": sorted(self.packages), "mirror": mirror.uri})


@dataclass(frozen=True)
class ImageRecipe:
    """How one image is made: its files, base, runtime config and file capabilities."""

    reference: str
    config: ImageConfig
    files: Mapping[str, Path] = field(default_factory=dict)  # path in the image -> source
    base: DebianBase | None = None
    # Path in the image -> capabilities its binary gets (permitted and effective), as setcap.
    capabilities: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    # Extra steps on the assembled root filesystem (the backend's pip install), and what
    # decides their result (hashed into the key).
    customize: Callable[[Path], None] | None = None
    customize_inputs: str = ""

    def key(self, mirror: DebianMirror) -> str:
        digest = hashlib.sha256()
        digest.update(self.reference.encode())
        digest.update(json.dumps(self.config.as_json(), sort_keys=True).encode())
        digest.update(json.dumps(sorted(self.capabilities.items())).encode())
        digest.update(self.customize_inputs.encode())
        if self.base is not None:
            digest.update(self.base.key(mirror).encode())
        for target, source in sorted(self.files.items()):
            digest.update(target.encode())
            digest.update(file_digest(source).encode())
        return digest.hexdigest()[:16]

    @property
    def slug(self) -> str:
        """A cache-friendly name: registry.k8s.io/coredns/coredns:<tag> -> coredns."""
        return self.reference.rsplit(":", 1)[0].rsplit("/", 1)[-1]


def file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as data:
        while chunk := data.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def file_capability(names: tuple[str, ...]) -> bytes:
    """The security.capability value `setcap <names>+ep` writes (VFS_CAP_REVISION_2)."""
    permitted = 0
    for name in names:
        permitted |= 1 << CAPABILITIES[name]
    magic = 0x02000000 | 0x1  # revision 2, effective
    return struct.pack("<IIIII", magic, permitted & 0xFFFFFFFF, 0, permitted >> 32, 0)


def _passwd(rootfs: Path) -> None:
    etc = rootfs / "etc"
    etc.mkdir(parents=True, exist_ok=True)
    # The users distroless images have: root, nonroot (65532) and nobody.
    (etc / "passwd").write_text(
        "root:x:0:0:root:/root:/sbin/nologin\n"
        "nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\n"
        "nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n"
    )
    (etc / "group").write_text("root:x:0:\nnobody:x:65534:\nnonroot:x:65532:\n")
    (rootfs / "tmp").mkdir(mode=0o1777, exist_ok=True)
    (rootfs / "tmp").chmod(0o1777)


def cached_base(cache: Path, base: DebianBase, mirror: DebianMirror) -> Path:
    """The base's root filesystem tree (built by debootstrap once per package set)."""

    def build(scratch: Path) -> None:
        tree = scratch / "tree"
        run(
            [
                "debootstrap",
                "--variant=minbase",
                f"--include={','.join(base.packages)}",
                SUITE,
                str(tree),
                mirror.uri,
            ],
            timeout=_DEBOOTSTRAP_TIMEOUT_S,
        )
        for stale in ("var/cache/apt/archives", "var/lib/apt/lists", "var/log"):
            for item in (tree / stale).rglob("*"):
                if item.is_file():
                    item.unlink()

    entry, _ = cached_entry(cache / "imagebase", f"base-{base.key(mirror)}", build)
    return entry / "tree"


def build_image(cache: Path, recipe: ImageRecipe, mirror: DebianMirror) -> tuple[Path, bool]:
    """The image's OCI archive; (archive, True) when it was just built."""

    def build(scratch: Path) -> None:
        with tempfile.TemporaryDirectory(dir=scratch) as tmp:
            rootfs = Path(tmp) / "rootfs"
            if recipe.base is not None:
                tree = cached_base(cache, recipe.base, mirror)
                subprocess.run(["cp", "-a", f"{tree}/.", str(rootfs)], check=True)
            else:
                rootfs.mkdir()
                _passwd(rootfs)
            for target, source in recipe.files.items():
                path = rootfs / target.lstrip("/")
                path.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(source, path)
                path.chmod(0o755)
            for target, names in recipe.capabilities.items():
                os.setxattr(rootfs / target.lstrip("/"), CAPABILITY_XATTR, file_capability(names))
            if recipe.customize is not None:
                recipe.customize(rootfs)
            write_image(rootfs, recipe.reference, recipe.config, scratch / "image.tar")

    entry, built = cached_entry(cache / "images", f"{recipe.slug}-{recipe.key(mirror)}", build)
    return entry / "image.tar", built
