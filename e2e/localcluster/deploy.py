"""Install the backend's chart on the local cluster as a user would: helm, restricted namespace."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from e2e.localcluster import settings
from e2e.localcluster.settings import Paths

REPO = Path(__file__).resolve().parents[2]
CHART = REPO / "charts" / "backend"
NAMESPACE = "backend"
RELEASE = "backend"


def namespace_manifest() -> str:
    return json.dumps(
        {
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {
                "name": NAMESPACE,
                "labels": {
                    "pod-security.kubernetes.io/enforce": "restricted",
                    "pod-security.kubernetes.io/enforce-version": "v1.30",
                    "pod-security.kubernetes.io/warn": "restricted",
                },
            },
        }
    )


def values_file(paths: Paths, image: str, database_url: str) -> Path:
    """Values for this cluster; the database URL goes in a 0600 file, never on a command line."""
    repository, tag = image.rsplit(":", 1)
    values = {
        "image": {"repository": repository, "tag": tag, "pullPolicy": "Never"},
        # The backend image carries curl (see e2e/README.md), so it doubles as the test image.
        "tests": {"image": {"repository": repository, "tag": tag, "pullPolicy": "Never"}},
        "database": {"url": database_url},
        "autoscaling": {
            "enabled": True,
            "minReplicas": 2,
            "maxReplicas": 4,
            "targetCPUUtilizationPercentage": 50,
        },
        "networkPolicy": {
            "egress": {
                "database": {
                    "port": settings.POSTGRES_PORT,
                    "to": [{"ipBlock": {"cidr": f"{settings.NODE_IP}/32"}}],
                }
            }
        },
    }
    target = paths.config / "backend-values.json"
    target.write_text(json.dumps(values, indent=2))
    target.chmod(0o600)
    return target


def helm(
    paths: Paths, helm_binary: Path, *args: str, timeout: float = 600
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            str(helm_binary),
            f"--kubeconfig={paths.admin_kubeconfig}",
            "--namespace",
            NAMESPACE,
            *args,
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=timeout,
    )
