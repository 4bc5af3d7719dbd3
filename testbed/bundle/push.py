"""Push an OCI image archive (as bundle/oci.py writes it) to a registry on the bridge.

The distribution API's plain sequence: blobs the registry already has are skipped (HEAD), the
others are uploaded monolithically (POST an upload, PUT it with its digest), and the manifest
goes last under its tag. Only the registry the testbed runs on the bridge address is ever a
target; nothing here follows a redirect elsewhere.
"""

from __future__ import annotations

import http.client
import json
import tarfile
from pathlib import Path
from typing import IO
from urllib.parse import urlsplit

from testbed.errors import TestbedError

_TIMEOUT_S = 300


def _split(reference: str) -> tuple[str, str]:
    """registry.k8s.io/coredns/coredns:<tag> -> ("coredns/coredns", "<tag>")."""
    name, tag = reference.rsplit(":", 1)
    repository = name.split("/", 1)[1] if "." in name.split("/", 1)[0] else name
    return repository, tag


def manifest_digest(registry: str, reference: str) -> str | None:
    """The digest the registry holds for reference, or None."""
    repository, tag = _split(reference)
    connection = http.client.HTTPConnection(registry, timeout=_TIMEOUT_S)
    try:
        connection.request(
            "HEAD",
            f"/v2/{repository}/manifests/{tag}",
            headers={"Accept": "application/vnd.oci.image.manifest.v1+json"},
        )
        response = connection.getresponse()
        response.read()
        return response.getheader("Docker-Content-Digest") if response.status == 200 else None
    finally:
        connection.close()


def push(registry: str, archive: Path, reference: str) -> str:
    """Push the image in archive to registry ("host:port") as reference; return its digest."""
    repository, tag = _split(reference)
    with tarfile.open(archive) as tar:
        index = json.loads(_member(tar, "index.json").read())
        descriptor = index["manifests"][0]
        manifest_bytes = _member(tar, _blob_path(descriptor["digest"])).read()
        manifest = json.loads(manifest_bytes)
        for blob in [manifest["config"], *manifest["layers"]]:
            if not _has_blob(registry, repository, blob["digest"]):
                _upload(registry, repository, blob, _member(tar, _blob_path(blob["digest"])))
    connection = http.client.HTTPConnection(registry, timeout=_TIMEOUT_S)
    try:
        connection.request(
            "PUT",
            f"/v2/{repository}/manifests/{tag}",
            body=manifest_bytes,
            headers={"Content-Type": descriptor["mediaType"]},
        )
        response = connection.getresponse()
        body = response.read()
        if response.status != 201:
            raise TestbedError(f"push {reference}: manifest refused ({response.status}) {body!r}")
        return str(response.getheader("Docker-Content-Digest") or descriptor["digest"])
    finally:
        connection.close()


def _blob_path(digest: str) -> str:
    algorithm, _, value = digest.partition(":")
    return f"blobs/{algorithm}/{value}"


def _member(tar: tarfile.TarFile, name: str) -> IO[bytes]:
    member = tar.extractfile(name)
    if member is None:
        raise TestbedError(f"no {name} in the image archive {tar.name!r}")
    return member


def _has_blob(registry: str, repository: str, digest: str) -> bool:
    connection = http.client.HTTPConnection(registry, timeout=_TIMEOUT_S)
    try:
        connection.request("HEAD", f"/v2/{repository}/blobs/{digest}")
        response = connection.getresponse()
        response.read()
        return response.status == 200
    finally:
        connection.close()


def _upload(registry: str, repository: str, blob: dict[str, object], data: IO[bytes]) -> None:
    connection = http.client.HTTPConnection(registry, timeout=_TIMEOUT_S)
    try:
        connection.request("POST", f"/v2/{repository}/blobs/uploads/")
        response = connection.getresponse()
        response.read()
        location = response.getheader("Location")
        if response.status != 202 or not location:
            raise TestbedError(
                f"push to {registry}/{repository}: upload refused ({response.status})"
            )
        target = urlsplit(location)
        if target.netloc and target.netloc != registry:
            raise TestbedError(f"the registry sent the upload to {target.netloc}; refused")
        path = f"{target.path}?{target.query}&" if target.query else f"{target.path}?"
        connection.putrequest("PUT", f"{path}digest={blob['digest']}")
        connection.putheader("Content-Type", "application/octet-stream")
        connection.putheader("Content-Length", str(blob["size"]))
        connection.endheaders()
        while chunk := data.read(1 << 20):
            connection.send(chunk)
        response = connection.getresponse()
        body = response.read()
        if response.status != 201:
            raise TestbedError(
                f"push to {registry}/{repository}: blob {blob['digest']} refused "
                f"({response.status}) {body[:200]!r}"
            )
    finally:
        connection.close()
