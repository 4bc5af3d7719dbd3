"""python -m e2e.localcluster up|down|status|build"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

from e2e.localcluster import build, cluster, preflight
from e2e.localcluster.settings import Paths

_CLEANUP = " — `make down` removes whatever was made"


def _helm() -> Path:
    helm = Path(os.environ.get("KUBESTEAD_HELM", Path(".tools/bin/helm").resolve()))
    if not helm.exists():
        raise preflight.PreflightError(
            f"helm not found at {helm} — run `make chart-tools` or set KUBESTEAD_HELM"
        )
    return helm


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m e2e.localcluster", description=__doc__)
    parser.add_argument("command", choices=["up", "down", "build", "status"])
    args = parser.parse_args(argv)
    paths = Paths.default()
    try:
        if args.command == "build":
            for name, seconds in build.build_all(paths, cluster._say).items():
                print(f"{name:16} {'cached' if seconds == 0 else f'{seconds:.0f}s'}")
        elif args.command == "up":
            preflight.check(paths)  # root, tools, leftovers first: they matter more than helm
            helm = _helm()
            timings = cluster.up(paths, Path(sys.executable), cluster._say)
            timings["chart"] = cluster.deploy_backend(paths, helm, cluster._say)
            service_ip = cluster.kubectl(
                paths,
                "-n",
                "backend",
                "get",
                "service",
                "backend",
                "-o",
                "jsonpath={.spec.clusterIP}",
            ).stdout.strip()
            print(f"export KUBECONFIG={paths.admin_kubeconfig}")
            print(
                f"# the backend: curl http://{service_ip}/api/v1/notes   (its Service's cluster IP)"
            )
            print("# tear it all down: make down")
            for step, seconds in timings.items():
                print(f"# {step:10} {seconds:6.1f}s", file=sys.stderr)
        elif args.command == "down":
            cluster.down(paths)
        else:
            from e2e.localcluster import processes

            for name in processes.started(paths):
                print(f"{name:24} {'running' if processes.alive(paths, name) else 'DEAD'}")
    except preflight.PreflightError as error:
        print(f"local-cluster: {error}", file=sys.stderr)
        return 1
    except subprocess.CalledProcessError as error:
        detail = (error.stderr or b"").decode(errors="replace").strip().splitlines()[-1:]
        print(
            f"local-cluster: {error.cmd[0]} failed: {' '.join(detail)}{_CLEANUP}", file=sys.stderr
        )
        return 1
    except (RuntimeError, OSError) as error:  # ClusterError, BuildError and the steps' own
        print(f"local-cluster: {error}{_CLEANUP if args.command == 'up' else ''}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
