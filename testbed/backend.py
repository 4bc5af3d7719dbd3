"""Install the backend's chart on the testbed's cluster as a user would: helm, restricted namespace.

The image comes from the testbed's registry under its real name (ghcr.io/kubestead/backend),
pulled through the spec's registry mirror like every other image; the database is the
machine's PostgreSQL on the bridge, named in a 0600 values file, never on a command line.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path
from typing import Any

from testbed.errors import TestbedError
from testbed.settings import POSTGRES_PORT, REPO, Bench

CHART = REPO / "charts" / "backend"
NAMESPACE = "backend"
RELEASE = "backend"
HELM = Path(os.environ.get("KUBESTEAD_HELM", REPO / ".tools" / "bin" / "helm"))


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


def cluster_values(bench: Bench, image: str) -> dict[str, Any]:
    """What this cluster needs of the chart, the database aside: the image the bundle built,
    and network policy peers for clients on the nodes and the machine's PostgreSQL."""
    repository, tag = image.rsplit(":", 1)
    return {
        "image": {"repository": repository, "tag": tag},
        # The image carries curl (testbed/README.md), so it doubles as the test image.
        "tests": {"image": {"repository": repository, "tag": tag}},
        "networkPolicy": {
            # The e2e clients run in a node's network namespace (cluster IPs exist only on the
            # hosts). To a pod on another node they come from that node's address, which the
            # chart's peers (ingress controller, monitoring) do not cover: allow the bench's.
            "allowFrom": {"extra": [{"ipBlock": {"cidr": str(bench.network)}}]},
            "egress": {
                "database": {
                    "port": POSTGRES_PORT,
                    "to": [{"ipBlock": {"cidr": f"{bench.machine_address}/32"}}],
                }
            },
        },
    }


def values_file(bench: Bench, image: str, database_url: str) -> Path:
    """Values for this cluster; the database URL goes in a 0600 file, never on a command line."""
    values = {
        **cluster_values(bench, image),
        "database": {"url": database_url},
        "autoscaling": {
            "enabled": True,
            "minReplicas": 2,
            "maxReplicas": 4,
            "targetCPUUtilizationPercentage": 50,
        },
    }
    target = bench.run_dir / "backend-values.json"
    target.write_text(json.dumps(values, indent=2))
    target.chmod(0o600)
    return target


def helm(kubeconfig: Path, *args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    if not HELM.exists():
        raise TestbedError(f"helm not found at {HELM}: run `make chart-tools`")
    return subprocess.run(
        [str(HELM), f"--kubeconfig={kubeconfig}", "--namespace", NAMESPACE, *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=timeout,
    )


def kubectl(
    binary: Path, kubeconfig: Path, *args: str, input_text: str | None = None, check: bool = True
) -> subprocess.CompletedProcess[str]:
    """kubectl (the one the bundle built) against the cluster."""
    result = subprocess.run(
        [str(binary), f"--kubeconfig={kubeconfig}", *args],
        capture_output=True,
        text=True,
        check=False,
        input=input_text,
        timeout=300,
    )
    if check and result.returncode != 0:
        raise TestbedError(f"kubectl {' '.join(args[:3])}: {result.stderr.strip()[-800:]}")
    return result


def deploy(
    bench: Bench, kubectl_binary: Path, kubeconfig: Path, image: str, database_url: str
) -> float:
    """`helm upgrade --install` the chart into a restricted namespace; return seconds to Ready."""
    started = time.monotonic()
    kubectl(kubectl_binary, kubeconfig, "apply", "-f", "-", input_text=namespace_manifest())
    values = values_file(bench, image, database_url)
    result = helm(
        kubeconfig,
        "upgrade", "--install", RELEASE, str(CHART),
        "--values", str(values),
        "--wait", "--timeout", "5m",
    )  # fmt: skip
    if result.returncode != 0:
        raise TestbedError(f"helm install of the backend failed: {result.stderr.strip()[-1500:]}")
    return time.monotonic() - started
