"""`python -m testbed COMMAND`: the testbed for humans (make up, make down, make hosts-up, ...).

binaries    build (or take from the cache) the Kubernetes binaries; print their folder
build       build (or take from the cache) the offline bundle of testbed/cluster.yaml
up          build, start the hosts, `kubestead apply`, install the backend
down        remove the cluster bench and everything with it (idempotent)
hosts-up    start the three bare hosts of the Ansible tests and print how to reach them
hosts-down  remove them
"""

from __future__ import annotations

import argparse
import sys

from testbed.errors import TestbedError, TestbedUnavailableError
from testbed.settings import REPO

COMMANDS = ("binaries", "build", "up", "down", "hosts-up", "hosts-down")


def _up(with_backend: bool) -> None:
    from testbed.cluster import ClusterTestbed

    testbed = ClusterTestbed()
    try:
        running = testbed.up("make up", with_backend=with_backend)
    finally:
        # The cluster stays up for the human; the lock goes, so `make down` can take it.
        testbed.lifecycle.release()
    timings = ", ".join(f"{name} {seconds:.0f}" for name, seconds in running.timings.items())
    print(f"[testbed] up; seconds: {timings}", file=sys.stderr)
    print(f"export KUBECONFIG={running.kubeconfig}")
    print(f"cluster spec: {running.spec.relative_to(REPO)}")


def _hosts_up() -> None:
    from testbed import hosts

    lifecycle, running = hosts.up("make hosts-up")
    lifecycle.release()
    print(f"{len(running.hosts)} test hosts on {running.private_cidr}; apt: {running.apt_source}")
    for host in running.hosts:
        print(f"  {host.name:<10} {host.address:<15} ssh: {' '.join(running.ssh_argv(host))}")
    print("stop them with: make hosts-down")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m testbed", description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("command", choices=COMMANDS)
    parser.add_argument(
        "--no-backend", action="store_true", help="up: leave the backend's chart out"
    )
    args = parser.parse_args(argv)
    try:
        if args.command == "binaries":
            from testbed.bundle.offline import kubernetes_binaries
            from testbed.cluster import ClusterTestbed
            from testbed.settings import cache_root

            version = ClusterTestbed().cluster().spec.kubernetes.version
            print(kubernetes_binaries(version, cache_root()))
        elif args.command == "build":
            from testbed.cluster import ClusterTestbed

            ClusterTestbed().build()
        elif args.command == "up":
            _up(with_backend=not args.no_backend)
        elif args.command == "down":
            from testbed.cluster import ClusterTestbed

            ClusterTestbed().down()
            print("[testbed] cluster bench removed", file=sys.stderr)
        elif args.command == "hosts-up":
            _hosts_up()
        else:
            from testbed import hosts

            hosts.lifecycle().teardown()
            print("[testbed] test hosts removed", file=sys.stderr)
    except (TestbedError, TestbedUnavailableError) as exc:
        lines = str(exc).strip().splitlines() or ["failed"]
        print(f"testbed: {lines[0]}", file=sys.stderr)
        for line in [*lines[1:], *getattr(exc, "__notes__", [])]:
            print(f"  {line}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
