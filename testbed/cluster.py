"""The cluster bench: the offline bundle served on the bridge, four hosts, and `kubestead apply`.

Up, in order: build the bundle of testbed/cluster.yaml (cached), start the hosts with the
machine's services on their bridge (web server for the apt repositories and files, the OCI
registry with every image pushed, PostgreSQL for the backend), then run the real CLI,
`kubestead apply -f testbed/cluster.yaml`, with the real roles; fetch the admin kubeconfig
with `kubestead kubeconfig`, and (for `make up`) install the backend's chart. Nothing here
configures a host: the hosts get everything through the spec.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from kubestead.spec.models import Cluster
from kubestead.spec.validate import validate_file
from testbed import backend, database, services
from testbed.bench import BenchLifecycle, TestHosts
from testbed.bundle import oci, push
from testbed.bundle.offline import OfflineBundle, build_bundle
from testbed.cache import cache_key, prune
from testbed.capabilities import check_capabilities
from testbed.errors import TestbedError
from testbed.settings import (
    GIT_PORT,
    HTTP_PORT,
    REGISTRY_PORT,
    REPO,
    Bench,
    cache_root,
    cluster_bench,
    cluster_spec,
    upgrade_target,
    with_argocd,
)

Report = Callable[[str], None]


def say(message: str) -> None:
    print(f"[testbed] {message}", file=sys.stderr, flush=True)


@dataclass
class RunningCluster:
    """What a test or a human needs to use the cluster `up` made."""

    spec: Path
    bench: Bench
    hosts: TestHosts
    bundle: OfflineBundle
    kubeconfig: Path
    database_url: str
    timings: dict[str, float] = field(default_factory=dict)
    plays: dict[str, float] = field(default_factory=dict)  # first apply, seconds per play
    # Set by the reset drill once every host is clean: the session then hands the hosts on
    # to the next one, which applies its spec from scratch on them (testbed/fixtures.py).
    hosts_reset: bool = False
    apply_output: str = field(default="", repr=False)  # of the first apply

    @property
    def kubectl_binary(self) -> Path:
        """The kubectl the bundle built: the same one the hosts run."""
        return self.bundle.kubectl

    def kubectl(
        self, *args: str, input_text: str | None = None, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        return backend.kubectl(
            self.kubectl_binary, self.kubeconfig, *args, input_text=input_text, check=check
        )

    def kubestead(self, *args: str, timeout: float = 3600) -> subprocess.CompletedProcess[str]:
        """The real CLI against this cluster's spec, from the repository root."""
        return kubestead_cli(*args, timeout=timeout)

    def endpoint_holders(self) -> list[str]:
        """The hosts with the API endpoint's address on an interface: one when all is well.

        Read from each host's network namespace, not through the host, so that a host that is
        powered off (unplugged) or stopped is read too.
        """
        result = validate_file(self.spec)
        if result.cluster is None:
            raise TestbedError(f"{self.spec} is not valid: run `kubestead validate -f {self.spec}`")
        address = result.cluster.spec.kubernetes.control_plane_endpoint.address
        holders = []
        for host in self.hosts.hosts:
            shown = subprocess.run(
                ["ip", "-n", host.netns, "-4", "-o", "addr", "show", "to", f"{address}/32"],
                capture_output=True, text=True, check=True,
            ).stdout  # fmt: skip
            if shown.strip():
                holders.append(host.name)
        return holders


def kubestead_cli(
    *args: str, timeout: float = 3600, log: Path | None = None, report: Report | None = None
) -> subprocess.CompletedProcess[str]:
    """Run `kubestead ARGS` from the repository root, as a user would.

    With log, output is appended to it and each line is passed to report as it arrives.
    """
    argv = [sys.executable, "-m", "kubestead", *args]
    env = {**os.environ, "NO_COLOR": "1"}
    if log is None:
        return subprocess.run(
            argv, cwd=REPO, env=env, capture_output=True, text=True, check=False, timeout=timeout
        )
    lines: list[str] = []
    with (
        log.open("a") as sink,
        subprocess.Popen(
            argv, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        ) as process,
    ):
        assert process.stdout is not None  # noqa: S101 - stdout=PIPE
        for line in process.stdout:
            sink.write(line)
            sink.flush()
            lines.append(line)
            if report is not None:
                report(line.rstrip())
        code = process.wait(timeout=timeout)
    return subprocess.CompletedProcess(argv, code, "".join(lines), "")


@dataclass
class PlayTimings:
    """Seconds per play of one `kubestead apply`, from the `play: NAME` lines it prints."""

    seconds: dict[str, float] = field(default_factory=dict)
    output: str = ""
    _current: str = ""
    _since: float = 0.0

    def see(self, line: str) -> None:
        if line.startswith("play: "):
            self.finish()
            self._current, self._since = line.removeprefix("play: "), time.monotonic()

    def finish(self) -> None:
        if self._current:
            key = self._current
            self.seconds[key] = self.seconds.get(key, 0.0) + time.monotonic() - self._since
            self._current = ""


class ClusterTestbed:
    """Up and down for the cluster bench of a spec (testbed/cluster.yaml unless told)."""

    def __init__(self, spec: Path | None = None) -> None:
        self.spec = spec or cluster_spec()
        self.bench = cluster_bench(self.spec)
        self.lifecycle = BenchLifecycle(self.bench)

    @property
    def kubeconfig(self) -> Path:
        return self.bench.run_dir / "kubeconfig"

    def cluster(self) -> Cluster:
        result = validate_file(self.spec)
        if result.cluster is None or not result.ok:
            raise TestbedError(f"{self.spec} is not valid: run `kubestead validate -f {self.spec}`")
        return result.cluster

    def build(self, report: Report = say) -> OfflineBundle:
        return build_bundle(
            self.cluster(), cache_root(), report, upgrade_target(), with_argocd=with_argocd()
        )

    def up(self, owner: str, *, with_backend: bool, report: Report = say) -> RunningCluster:
        """Bundle, hosts, `kubestead apply`, kubeconfig, and the backend when asked."""
        started = time.monotonic()
        check_capabilities()  # before any build: a machine that cannot host it says so first
        bundle = self.build(report)
        timings = {"bundle_s": time.monotonic() - started}
        database_url: list[str] = []

        def start_services(bench: Bench) -> None:
            report(f"serving the offline bundle on {bench.machine_address}")
            _serve(bench, bundle, self.lifecycle.services_dir, report)
            database_url.append(database.start(bench, self.lifecycle.services_dir))
            if bundle.argocd_install is not None:
                services.start_git(
                    bench.git_root, self.lifecycle.services_dir, bench.machine_address, GIT_PORT
                )

        report(
            f"starting {len(self.bench.hosts)} hosts on {self.bench.bridge} ({self.bench.network})"
        )
        hosts = self.lifecycle.up(owner, bundle.rootfs, start_services)
        timings.update(hosts.timings)
        try:
            running = self._install(hosts, bundle, database_url[0], timings, report)
            if with_backend:
                report("installing the backend's chart (migrations run as a pre-install hook)")
                timings["backend_s"] = backend.deploy(
                    self.bench,
                    running.kubectl_binary,
                    self.kubeconfig,
                    bundle.backend_image,
                    running.database_url,
                )
            timings["total_s"] = time.monotonic() - started
            return running
        except BaseException as exc:
            exc.add_note(
                f"logs: {self.bench.run_dir} (apply.log, services/); `make down` cleans up"
            )
            raise

    def take_over(self, owner: str, report: Report = say) -> RunningCluster:
        """A cluster from scratch on the hosts the last session reset and handed on.

        The second half of the reset drill (e2e/tests/test_day2.py): this spec's bundle is
        served in place of the last one's, and `kubestead apply` installs Kubernetes on hosts
        that ran another cluster until that session's `kubestead reset`.
        """
        started = time.monotonic()
        check_capabilities()
        bundle = self.build(report)
        timings = {"bundle_s": time.monotonic() - started}
        hosts = self.lifecycle.take_over(owner)
        try:
            mark = time.monotonic()
            report(f"serving this spec's offline bundle on {self.bench.machine_address}")
            self.lifecycle.stop_services("web", "registry")
            shutil.rmtree(self.bench.run_dir / "site", ignore_errors=True)
            _serve(self.bench, bundle, self.lifecycle.services_dir, report)
            timings["services_s"] = time.monotonic() - mark
            running = self._install(hosts, bundle, self._database_url(), timings, report)
            timings["total_s"] = time.monotonic() - started
            plan = [line for line in running.apply_output.splitlines() if "plan: " in line]
            if "plan: cluster.yml: install Kubernetes" not in running.apply_output:
                raise TestbedError(f"the hosts handed on were not clean: apply's plan was {plan}")
            return running
        except BaseException as exc:
            exc.add_note(f"logs: {self.bench.run_dir} (apply.log, services/)")
            try:
                self.lifecycle.down()  # nothing half-made is left for the next session
            except Exception as cleanup:
                exc.add_note(f"cleanup after the failure also failed: {cleanup}")
            raise

    def _install(
        self,
        hosts: TestHosts,
        bundle: OfflineBundle,
        database_url: str,
        timings: dict[str, float],
        report: Report,
    ) -> RunningCluster:
        """`kubestead apply` on the running hosts, and the admin kubeconfig fetched."""
        running = RunningCluster(
            spec=self.spec,
            bench=self.bench,
            hosts=hosts,
            bundle=bundle,
            kubeconfig=self.kubeconfig,
            database_url=database_url,
            timings=timings,
        )
        mark = time.monotonic()
        plays = self.apply(report)
        timings["apply_s"] = time.monotonic() - mark
        running.plays, running.apply_output = plays.seconds, plays.output
        self.fetch_kubeconfig()
        return running

    def _database_url(self) -> str:
        return (self.bench.run_dir / "postgres" / "database_url").read_text().strip()

    def attach(self, report: Report = say) -> RunningCluster:
        """The cluster `make up` left running, for a test session that reuses it."""
        if self.lifecycle.owner() is None or not self.kubeconfig.exists():
            raise TestbedError("no cluster from `make up` is running to reuse; run `make up`")
        return RunningCluster(
            spec=self.spec,
            bench=self.bench,
            hosts=self.lifecycle.handle(),
            bundle=self.build(report),
            kubeconfig=self.kubeconfig,
            database_url=self._database_url(),
        )

    def apply(self, report: Report = say) -> PlayTimings:
        """`kubestead apply -f <spec>`; seconds per play. A failure raises with the last lines."""
        log = self.bench.run_dir / "apply.log"
        report(f"kubestead apply -f {self.spec.relative_to(REPO)} (output: {log})")
        plays = PlayTimings()

        def follow(line: str) -> None:
            plays.see(line)
            report(line)

        result = kubestead_cli(
            "apply", "-f", str(self.spec.relative_to(REPO)), log=log, report=follow
        )
        plays.finish()
        if result.returncode != 0:
            tail = "\n".join(result.stdout.strip().splitlines()[-15:])
            raise TestbedError(f"kubestead apply failed (exit {result.returncode}):\n{tail}")
        plays.output = result.stdout
        return plays

    def fetch_kubeconfig(self) -> None:
        result = kubestead_cli(
            "kubeconfig", "-f", str(self.spec.relative_to(REPO)), "-o", str(self.kubeconfig)
        )
        if result.returncode != 0:
            raise TestbedError(f"kubestead kubeconfig failed: {result.stderr.strip()[-800:]}")

    def down(self) -> None:
        self.lifecycle.teardown()


def _serve(bench: Bench, bundle: OfflineBundle, services_dir: Path, report: Report) -> None:
    services.start_web(
        bench.run_dir / "site",
        {
            "debian": bundle.debian_repo,
            "kubernetes": bundle.kubernetes_repo,
            "files": bundle.files,
        },
        services_dir,
        bench.machine_address,
        HTTP_PORT,
    )
    images = {**bundle.images, **bundle.workload_images, **bundle.addon_images}
    # One storage per set of images: the registry holds exactly this bundle's (the e2e tests
    # compare its catalog with `kubestead bundle`), and a warm start pushes nothing.
    digests = {reference: oci.archive_digest(archive) for reference, archive in images.items()}
    storage = cache_root() / f"registry-{cache_key(digests)}"
    # Kept beside it: the other sessions' storages (`make e2e`'s two specs, the upgrade drill,
    # the GitOps proof), so that running one does not make the others push everything again.
    prune(cache_root(), "registry", keep=storage, count=3)
    services.start_registry(
        bundle.registry, storage, bench.run_dir, services_dir, bench.machine_address, REGISTRY_PORT
    )
    registry = f"{bench.machine_address}:{REGISTRY_PORT}"
    for reference, archive in images.items():
        if push.manifest_digest(registry, reference) != digests[reference]:
            report(f"pushing {reference}")
            push.push(registry, archive, reference)
