"""The OCI archive writer behind the testbed's images: layout, digests, determinism, caps."""

from __future__ import annotations

import hashlib
import io
import json
import os
import tarfile
from pathlib import Path

import pytest

from testbed.bundle.images import file_capability
from testbed.bundle.oci import CAPABILITY_XATTR, ImageConfig, write_image


def _rootfs(root: Path) -> Path:
    (root / "bin").mkdir(parents=True)
    (root / "bin" / "hello").write_text("#!/bin/sh\necho hello\n")
    (root / "bin" / "hello").chmod(0o755)
    (root / "etc").mkdir()
    (root / "etc" / "motd").write_text("hi\n")
    (root / "bin" / "sh-link").symlink_to("hello")
    return root


def _blob(tar: tarfile.TarFile, digest: str) -> bytes:
    member = tar.extractfile(f"blobs/sha256/{digest.removeprefix('sha256:')}")
    assert member is not None
    return member.read()


def test_archive_is_an_oci_layout_with_consistent_digests(tmp_path: Path) -> None:
    rootfs = _rootfs(tmp_path / "rootfs")
    config = ImageConfig(entrypoint=["/bin/hello"], user="10001:10001", exposed_ports=["8000/tcp"])
    digest = write_image(rootfs, "example.local/hello:1.0", config, tmp_path / "image.tar")
    with tarfile.open(tmp_path / "image.tar") as tar:
        assert json.loads(_blob_named(tar, "oci-layout")) == {"imageLayoutVersion": "1.0.0"}
        index = json.loads(_blob_named(tar, "index.json"))
        (entry,) = index["manifests"]
        assert entry["digest"] == digest
        assert entry["annotations"]["io.containerd.image.name"] == "example.local/hello:1.0"
        assert entry["annotations"]["org.opencontainers.image.ref.name"] == "1.0"
        manifest_bytes = _blob(tar, digest)
        assert hashlib.sha256(manifest_bytes).hexdigest() == digest.removeprefix("sha256:")
        manifest = json.loads(manifest_bytes)
        config_bytes = _blob(tar, manifest["config"]["digest"])
        assert len(config_bytes) == manifest["config"]["size"]
        image_config = json.loads(config_bytes)
        assert image_config["config"]["Entrypoint"] == ["/bin/hello"]
        assert image_config["config"]["User"] == "10001:10001"
        (layer,) = manifest["layers"]
        layer_bytes = _blob(tar, layer["digest"])
        assert hashlib.sha256(layer_bytes).hexdigest() == layer["digest"].removeprefix("sha256:")
        assert image_config["rootfs"]["diff_ids"] == [layer["digest"]]
    with tarfile.open(fileobj=io.BytesIO(layer_bytes)) as layer_tar:
        names = layer_tar.getnames()
        members = {m.name: m for m in layer_tar.getmembers()}
    # A folder's entries sorted by name, parents before children: a reproducible digest.
    assert names == ["bin", "etc", "bin/hello", "bin/sh-link", "etc/motd"]
    assert members["bin/hello"].mode & 0o777 == 0o755
    assert members["bin/sh-link"].issym() and members["bin/sh-link"].linkname == "hello"
    assert all(m.mtime == 0 for m in members.values())


def _blob_named(tar: tarfile.TarFile, name: str) -> bytes:
    member = tar.extractfile(name)
    assert member is not None
    return member.read()


def test_same_rootfs_gives_the_same_digest(tmp_path: Path) -> None:
    rootfs = _rootfs(tmp_path / "rootfs")
    first = write_image(rootfs, "example.local/a:1", ImageConfig(), tmp_path / "a.tar")
    second = write_image(rootfs, "example.local/a:1", ImageConfig(), tmp_path / "b.tar")
    assert first == second
    (rootfs / "etc" / "motd").write_text("changed\n")
    assert write_image(rootfs, "example.local/a:1", ImageConfig(), tmp_path / "c.tar") != first


def test_a_reference_without_a_tag_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="needs a tag"):
        write_image(_rootfs(tmp_path / "r"), "example.local/a", ImageConfig(), tmp_path / "x.tar")


def test_a_file_capability_reaches_the_layer_as_a_pax_record(tmp_path: Path) -> None:
    rootfs = _rootfs(tmp_path / "rootfs")
    capability = file_capability(("cap_net_bind_service",))
    # What `setcap cap_net_bind_service=+ep` writes: revision 2, effective, bit 10 permitted.
    assert capability == bytes.fromhex("0100000200040000000000000000000000000000")
    try:
        os.setxattr(rootfs / "bin" / "hello", CAPABILITY_XATTR, capability)
    except OSError as error:
        pytest.skip(f"this filesystem keeps no security.capability ({error.strerror})")
    archive = tmp_path / "image.tar"
    write_image(rootfs, "example.local/caps:1", ImageConfig(), archive)
    with tarfile.open(archive) as outer:
        index = json.loads(_blob_named(outer, "index.json"))
        manifest = json.loads(_blob(outer, index["manifests"][0]["digest"]))
        layer = _blob(outer, manifest["layers"][0]["digest"])
    with tarfile.open(fileobj=io.BytesIO(layer)) as inner:
        hello = inner.getmember("bin/hello")
        motd = inner.getmember("etc/motd")
    record = hello.pax_headers[f"SCHILY.xattr.{CAPABILITY_XATTR}"]
    assert record.encode("utf-8", "surrogateescape") == capability
    assert f"SCHILY.xattr.{CAPABILITY_XATTR}" not in motd.pax_headers
