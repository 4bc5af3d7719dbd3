"""Write OCI image archives from a root filesystem, without a Docker engine.

The archive is an OCI image layout (``oci-layout``, ``index.json``, ``blobs/sha256/*``) in a
tar, which ``ctr -n k8s.io images import`` loads. One uncompressed layer: the images live only
on this machine, so compressing them would cost time and buy nothing. Entries are written in
sorted order with fixed timestamps, so the same rootfs always gives the same digest.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import stat
import tarfile
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from testbed.errors import TestbedError

LAYER_MEDIA_TYPE = "application/vnd.oci.image.layer.v1.tar"
CONFIG_MEDIA_TYPE = "application/vnd.oci.image.config.v1+json"
MANIFEST_MEDIA_TYPE = "application/vnd.oci.image.manifest.v1+json"
_CHUNK = 1 << 20


@dataclass(frozen=True)
class ImageConfig:
    """The runtime part of an image config: what the container runs and as whom."""

    entrypoint: Sequence[str] = ()
    cmd: Sequence[str] = ()
    env: Sequence[str] = ("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",)
    user: str = ""
    working_dir: str = ""
    exposed_ports: Sequence[str] = ()
    labels: Mapping[str, str] = field(default_factory=dict)

    def as_json(self) -> dict[str, object]:
        config: dict[str, object] = {"Env": list(self.env)}
        if self.entrypoint:
            config["Entrypoint"] = list(self.entrypoint)
        if self.cmd:
            config["Cmd"] = list(self.cmd)
        if self.user:
            config["User"] = self.user
        if self.working_dir:
            config["WorkingDir"] = self.working_dir
        if self.exposed_ports:
            config["ExposedPorts"] = {port: {} for port in self.exposed_ports}
        if self.labels:
            config["Labels"] = dict(self.labels)
        return config


def _walk(root: Path) -> Iterator[Path]:
    """Every path under root: each folder's entries sorted by name, parents before children."""
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        here = Path(dirpath)
        for name in sorted([*dirnames, *filenames]):
            yield here / name


# File capabilities live in this extended attribute; tar carries it as a PAX record that
# containerd applies when it unpacks a layer (CoreDNS binds :53 as non-root through one).
CAPABILITY_XATTR = "security.capability"


def _layer_tar(rootfs: Path, out: _HashingWriter) -> None:
    # Stream mode ("w|") only ever calls write(), which is all the hashing writer offers.
    with tarfile.open(fileobj=out, mode="w|", format=tarfile.PAX_FORMAT) as tar:  # type: ignore[call-overload]
        for path in _walk(rootfs):
            info = tar.gettarinfo(str(path), arcname=str(path.relative_to(rootfs)))
            info.mtime = 0
            info.uname = info.gname = ""
            if info.isreg():
                try:
                    capability = os.getxattr(path, CAPABILITY_XATTR, follow_symlinks=False)
                except OSError:
                    capability = None
                if capability is not None:
                    info.pax_headers = {
                        f"SCHILY.xattr.{CAPABILITY_XATTR}": capability.decode(
                            "utf-8", "surrogateescape"
                        )
                    }
            if info.isreg():
                with path.open("rb") as data:
                    tar.addfile(info, data)
            else:
                # Device nodes are the runtime's business; a rootfs from debootstrap has a few.
                mode = path.lstat().st_mode
                if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) or stat.S_ISSOCK(mode):
                    continue
                tar.addfile(info)


class _HashingWriter:
    """A write-only file that hashes and counts what passes through it on the way to a file."""

    def __init__(self, target: IO[bytes]) -> None:
        self._target = target
        self.sha256 = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes) -> int:
        self.sha256.update(data)
        self.size += len(data)
        return self._target.write(data)


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = 0o644
    tar.addfile(info, io.BytesIO(data))


def _descriptor(media_type: str, data_digest: str, size: int) -> dict[str, object]:
    return {"mediaType": media_type, "digest": f"sha256:{data_digest}", "size": size}


def write_image(rootfs: Path, reference: str, config: ImageConfig, archive: Path) -> str:
    """Write ``archive`` holding ``rootfs`` as image ``reference``; return the manifest digest."""
    if ":" not in reference.rsplit("/", 1)[-1]:
        raise ValueError(f"image reference {reference!r} needs a tag (name:tag)")
    tag = reference.rsplit(":", 1)[1]
    archive.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryFile(dir=archive.parent) as layer_file:
        hashing = _HashingWriter(layer_file)
        _layer_tar(rootfs, hashing)
        layer_digest, layer_size = hashing.sha256.hexdigest(), hashing.size
        image_config = json.dumps(
            {
                "architecture": "amd64",
                "os": "linux",
                "config": config.as_json(),
                "rootfs": {"type": "layers", "diff_ids": [f"sha256:{layer_digest}"]},
            },
            sort_keys=True,
        ).encode()
        config_digest = hashlib.sha256(image_config).hexdigest()
        manifest = json.dumps(
            {
                "schemaVersion": 2,
                "mediaType": MANIFEST_MEDIA_TYPE,
                "config": _descriptor(CONFIG_MEDIA_TYPE, config_digest, len(image_config)),
                "layers": [_descriptor(LAYER_MEDIA_TYPE, layer_digest, layer_size)],
            },
            sort_keys=True,
        ).encode()
        manifest_digest = hashlib.sha256(manifest).hexdigest()
        index = json.dumps(
            {
                "schemaVersion": 2,
                "manifests": [
                    {
                        **_descriptor(MANIFEST_MEDIA_TYPE, manifest_digest, len(manifest)),
                        "annotations": {
                            "io.containerd.image.name": reference,
                            "org.opencontainers.image.ref.name": tag,
                        },
                    }
                ],
            },
            sort_keys=True,
        ).encode()
        partial = archive.with_suffix(".partial")
        with tarfile.open(partial, mode="w", format=tarfile.PAX_FORMAT) as tar:
            _add_bytes(tar, "oci-layout", b'{"imageLayoutVersion":"1.0.0"}')
            _add_bytes(tar, "index.json", index)
            _add_bytes(tar, f"blobs/sha256/{config_digest}", image_config)
            _add_bytes(tar, f"blobs/sha256/{manifest_digest}", manifest)
            layer_file.seek(0)
            info = tarfile.TarInfo(f"blobs/sha256/{layer_digest}")
            info.size = layer_size
            info.mode = 0o644
            tar.addfile(info, layer_file)
        partial.replace(archive)
    return f"sha256:{manifest_digest}"


def archive_digest(archive: Path) -> str:
    """The manifest digest of an archive write_image wrote (from its index.json)."""
    with tarfile.open(archive) as tar:
        member = tar.extractfile("index.json")
        if member is None:
            raise TestbedError(f"{archive}: no index.json")
        return str(json.loads(member.read())["manifests"][0]["digest"])
