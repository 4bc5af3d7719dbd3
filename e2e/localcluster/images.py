"""Container images for the local cluster, written as OCI archives and imported into containerd.

pause, CoreDNS and metrics-server are single static binaries, so their root filesystems hold the
binary and little else. The backend image is a Debian bookworm minbase root filesystem
(debootstrap) with Debian's python3 and the app's pinned dependencies, following app/Dockerfile:
same UID/GID, entrypoint, working directory and read-only root. See e2e/README.md for where it
differs from the Dockerfile build users run.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
import tempfile
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from e2e.localcluster import settings
from e2e.localcluster.oci import ImageConfig, write_image
from e2e.localcluster.settings import Paths

REPO = Path(__file__).resolve().parents[2]
APP = REPO / "app"
BACKEND_IMAGE = "kubestead.local/backend"
BACKEND_UID = 10001
_DEBIAN_SOURCES = Path("/etc/apt/sources.list.d/debian.sources")


@dataclass(frozen=True)
class Image:
    reference: str
    archive: Path


def _passwd(rootfs: Path, uid: int, name: str) -> None:
    etc = rootfs / "etc"
    etc.mkdir(parents=True, exist_ok=True)
    (etc / "passwd").write_text(
        f"root:x:0:0:root:/root:/sbin/nologin\n{name}:x:{uid}:{uid}::/:/sbin/nologin\n"
    )
    (etc / "group").write_text(f"root:x:0:\n{name}:x:{uid}:\n")


def _static_image(paths: Paths, binary: str, reference: str, config: ImageConfig) -> Image:
    archive = paths.images / f"{binary}-{_file_digest(paths.bin / binary)[:12]}.tar"
    if not archive.exists():
        with tempfile.TemporaryDirectory() as tmp:
            rootfs = Path(tmp)
            shutil.copy2(paths.bin / binary, rootfs / binary)
            (rootfs / "tmp").mkdir(mode=0o1777)
            (rootfs / "tmp").chmod(0o1777)
            _passwd(rootfs, 65532, "nonroot")
            write_image(rootfs, reference, config, archive)
    return Image(reference, archive)


def _file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as data:
        while chunk := data.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def debian_mirror() -> str:
    """The Debian mirror this machine's apt uses (read at run time, never written in the repo)."""
    match = re.search(r"^URIs:\s*(\S+/debian)\s*$", _DEBIAN_SOURCES.read_text(), re.MULTILINE)
    if not match:
        raise RuntimeError(
            f"no Debian mirror found in {_DEBIAN_SOURCES}; the backend image needs one"
        )
    return match.group(1)


def _app_inputs_key() -> str:
    digest = hashlib.sha256()
    for path in sorted(APP.rglob("*")):
        if path.is_file() and not {"__pycache__", "tests", "bench"} & set(path.parts):
            digest.update(str(path.relative_to(APP)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def _backend_image(paths: Paths, python: Path, report: Callable[[str], None]) -> Image:
    key = _app_inputs_key()
    tag = f"e2e-{key}"
    archive = paths.images / f"backend-{key}.tar"
    if archive.exists():
        return Image(f"{BACKEND_IMAGE}:{tag}", archive)
    base = paths.images / "debian-bookworm-python3-curl.tar"
    with tempfile.TemporaryDirectory(dir=paths.images) as tmp:
        rootfs = Path(tmp) / "rootfs"
        if base.exists():
            rootfs.mkdir()
            subprocess.run(["tar", "-C", str(rootfs), "-xpf", str(base)], check=True)
        else:
            report("debootstrap: a bookworm minbase root filesystem with python3 (about a minute)")
            subprocess.run(
                [
                    "debootstrap",
                    "--variant=minbase",
                    "--include=python3,ca-certificates,tzdata,curl",
                    "bookworm",
                    str(rootfs),
                    debian_mirror(),
                ],
                check=True,
                capture_output=True,
            )
            for cache in ("var/cache/apt/archives", "var/lib/apt/lists"):
                for item in (rootfs / cache).glob("*"):
                    if item.is_file():
                        item.unlink()
            subprocess.run(["tar", "-C", str(rootfs), "-cpf", str(base), "."], check=True)
        site = rootfs / "opt" / "backend" / "lib"
        report("installing the backend and its pinned dependencies into the image")
        subprocess.run(
            [
                str(python),
                "-m",
                "pip",
                "install",
                "--quiet",
                "--no-compile",
                "--target",
                str(site),
                "-r",
                str(APP / "requirements.txt"),
                str(APP),
            ],
            check=True,
            capture_output=True,
        )
        scripts = project_scripts()
        for name, target in scripts.items():
            module, _, function = target.partition(":")
            script = rootfs / "usr" / "local" / "bin" / name
            script.write_text(
                "#!/usr/bin/python3\nimport sys\n"
                f"from {module} import {function}\nsys.exit({function}())\n"
            )
            script.chmod(0o755)
        with (rootfs / "etc" / "passwd").open("a") as passwd:
            passwd.write(f"app:x:{BACKEND_UID}:{BACKEND_UID}::/tmp:/usr/sbin/nologin\n")
        with (rootfs / "etc" / "group").open("a") as group:
            group.write(f"app:x:{BACKEND_UID}:\n")
        config = ImageConfig(
            entrypoint=["backend"],
            cmd=["serve"],
            env=[
                "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                "PYTHONPATH=/opt/backend/lib",
                "PYTHONDONTWRITEBYTECODE=1",
                "PYTHONUNBUFFERED=1",
                "BACKEND_HOST=0.0.0.0",
                "BACKEND_DATA_DIR=/tmp/data",
                f"BACKEND_VERSION={app_version()}",
                "BACKEND_GIT_COMMIT=e2e",
            ],
            user=f"{BACKEND_UID}:{BACKEND_UID}",
            working_dir="/tmp",  # noqa: S108 - the image's only writable folder, as in app/Dockerfile
            exposed_ports=["8000/tcp"],
            labels={"org.opencontainers.image.title": "kubestead backend (e2e build)"},
        )
        write_image(rootfs, f"{BACKEND_IMAGE}:{tag}", config, archive)
    return Image(f"{BACKEND_IMAGE}:{tag}", archive)


def _app_project() -> dict[str, object]:
    with (APP / "pyproject.toml").open("rb") as handle:
        project: dict[str, object] = tomllib.load(handle)["project"]
    return project


def project_scripts() -> dict[str, str]:
    scripts = _app_project().get("scripts", {})
    return {str(k): str(v) for k, v in dict(scripts).items()}  # type: ignore[call-overload]


def app_version() -> str:
    return str(_app_project()["version"])


def build_images(paths: Paths, python: Path, report: Callable[[str], None]) -> list[Image]:
    paths.images.mkdir(parents=True, exist_ok=True)
    return [
        _static_image(
            paths,
            "pause",
            f"registry.k8s.io/pause:{settings.PAUSE_VERSION}",
            ImageConfig(entrypoint=["/pause"], user="65535:65535"),
        ),
        _static_image(
            paths,
            "coredns",
            f"registry.k8s.io/coredns/coredns:{settings.COREDNS_VERSION}",
            ImageConfig(entrypoint=["/coredns"], user="65532:65532"),
        ),
        _static_image(
            paths,
            "metrics-server",
            f"registry.k8s.io/metrics-server/metrics-server:{settings.METRICS_SERVER_VERSION}",
            ImageConfig(entrypoint=["/metrics-server"], user="65532:65532"),
        ),
        _backend_image(paths, python, report),
    ]
