"""The backend's image, made without a Docker engine as close to app/Dockerfile as this allows.

Same UID/GID (10001), entrypoint `backend`, command `serve`, working directory `/tmp`, port 8000,
environment, read-only root in the chart. Different (testbed/README.md lists why): Debian's
python3 (3.11) in a bookworm minbase instead of the python slim image, packages installed with
`pip --target` instead of a virtualenv, curl added so the same image serves `helm test`.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
import tomllib
from pathlib import Path

from testbed.bundle.images import DebianBase, ImageRecipe
from testbed.bundle.oci import ImageConfig
from testbed.errors import TestbedError

REPO = Path(__file__).resolve().parents[2]
APP = REPO / "app"
REPOSITORY = "ghcr.io/kubestead/backend"
UID = 10001
SITE = "/opt/backend/lib"


def _app_project() -> dict[str, object]:
    with (APP / "pyproject.toml").open("rb") as handle:
        project: dict[str, object] = tomllib.load(handle)["project"]
    return project


def app_version() -> str:
    return str(_app_project()["version"])


def inputs_key() -> str:
    """A hash of the app's sources and pins (tests and benchmarks left out)."""
    digest = hashlib.sha256()
    for path in sorted(APP.rglob("*")):
        if path.is_file() and not {"__pycache__", "tests", "bench"} & set(path.parts):
            digest.update(str(path.relative_to(APP)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def _install(rootfs: Path) -> None:
    site = rootfs / SITE.lstrip("/")
    result = subprocess.run(
        [
            sys.executable,
            "-m", "pip", "install", "--quiet", "--no-compile", "--disable-pip-version-check",
            "--target", str(site),
            "-r", str(APP / "requirements.txt"),
            str(APP),
        ],
        capture_output=True,
        text=True,
        check=False,
    )  # fmt: skip
    if result.returncode != 0:
        raise TestbedError(f"pip install of the backend failed:\n{result.stderr[-1500:]}")
    scripts = dict(_app_project().get("scripts", {}))  # type: ignore[call-overload]
    for name, target in scripts.items():
        module, _, function = str(target).partition(":")
        script = rootfs / "usr/local/bin" / str(name)
        script.write_text(
            "#!/usr/bin/python3\nimport sys\n"
            f"from {module} import {function}\nsys.exit({function}())\n"
        )
        script.chmod(0o755)
    with (rootfs / "etc/passwd").open("a") as passwd:
        passwd.write(f"app:x:{UID}:{UID}::/tmp:/usr/sbin/nologin\n")
    with (rootfs / "etc/group").open("a") as group:
        group.write(f"app:x:{UID}:\n")


def recipe() -> ImageRecipe:
    key = inputs_key()
    return ImageRecipe(
        reference=f"{REPOSITORY}:testbed-{key}",
        base=DebianBase(packages=("python3", "ca-certificates", "tzdata", "curl")),
        config=ImageConfig(
            entrypoint=("backend",),
            cmd=("serve",),
            env=(
                "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                f"PYTHONPATH={SITE}",
                "PYTHONDONTWRITEBYTECODE=1",
                "PYTHONUNBUFFERED=1",
                "BACKEND_HOST=0.0.0.0",
                "BACKEND_DATA_DIR=/tmp/data",
                f"BACKEND_VERSION={app_version()}",
                "BACKEND_GIT_COMMIT=testbed",
            ),
            user=f"{UID}:{UID}",
            working_dir="/tmp",  # noqa: S108 - the image's only writable folder, as in app/Dockerfile
            exposed_ports=("8000/tcp",),
            labels={"org.opencontainers.image.title": "kubestead backend (testbed build)"},
        ),
        customize=_install,
        customize_inputs=key,
    )
