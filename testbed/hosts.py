"""The hosts bench: three bare Debian 12 hosts for the Ansible and CLI tests of `make test`.

They get the cluster spec's Debian repository (the OS packages `kubestead bundle` lists for
testbed/cluster.yaml) on their own bridge, and nothing else: the tests bring their own specs.
"""

from __future__ import annotations

from testbed import services
from testbed.bench import BenchLifecycle, TestHosts
from testbed.bundle.offline import build_host_packages
from testbed.capabilities import check_capabilities
from testbed.errors import TestbedError
from testbed.settings import CLUSTER_SPEC, HTTP_PORT, Bench, cache_root, hosts_bench


def lifecycle() -> BenchLifecycle:
    return BenchLifecycle(hosts_bench())


def up(owner: str) -> tuple[BenchLifecycle, TestHosts]:
    """Start the three hosts for owner; the lifecycle keeps the lock until released."""
    from kubestead.spec.validate import validate_file

    check_capabilities()  # before any build: a machine that cannot host them says so first
    result = validate_file(CLUSTER_SPEC)
    if result.cluster is None:
        raise TestbedError(f"{CLUSTER_SPEC} is not valid: run `kubestead validate` on it")
    rootfs, repo = build_host_packages(result.cluster, cache_root())
    bench_lifecycle = lifecycle()

    def serve(bench: Bench) -> None:
        services.start_web(
            bench.run_dir / "site",
            {"debian": repo},
            bench_lifecycle.services_dir,
            bench.machine_address,
            HTTP_PORT,
        )

    return bench_lifecycle, bench_lifecycle.up(owner, rootfs, serve)
