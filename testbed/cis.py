"""The CIS Kubernetes Benchmark (kube-bench) on the hosts of a running testbed cluster.

kube-bench runs on each host as the benchmark means it to: as root, seeing the host's
processes and files. Its binary and benchmark definitions are put into the host's root for
the run and taken out after. Control planes are checked against the control plane, etcd and
worker sections, workers against the worker section; the policies section, which asks the
API, runs once, from the first control plane with its admin kubeconfig.
"""

from __future__ import annotations

import json
import shutil
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import yaml

from testbed.bench import TestHosts
from testbed.errors import TestbedError

BENCHMARK = "cis-1.9"  # the CIS Kubernetes Benchmark for Kubernetes 1.30 (kube-bench's cfg/)
STATUSES = ("PASS", "FAIL", "WARN", "INFO")
CONTROL_PLANE_TARGETS = ("master", "controlplane", "etcd", "node")
WORKER_TARGETS = ("node",)
POLICY_TARGETS = ("policies",)
IN_HOST = "/opt/kubestead-kube-bench"
_TIMEOUT_S = 600
# The FAILs kubestead does not fix, each with the reason (docs/cis.md shows them).
EXPLAINED = Path(__file__).resolve().parents[1] / "e2e" / "cis-explained.yml"


@dataclass(frozen=True)
class KubeBench:
    """A kube-bench build: its binary, the benchmark definitions it reads, and the commands its
    checks call that a host may lack (jq)."""

    binary: Path
    config_dir: Path
    helpers_dir: Path

    @classmethod
    def installed_in(cls, tools: Path) -> KubeBench:
        """The one `make cis-tools` puts in tools (bin/kube-bench, share/kube-bench/)."""
        share = tools / "share" / "kube-bench"
        found = cls(tools / "bin" / "kube-bench", share / "cfg", share / "bin")
        present = (
            found.binary.is_file(),
            (found.config_dir / BENCHMARK).is_dir(),
            (found.helpers_dir / "jq").is_file(),
        )
        if not all(present):
            raise TestbedError(
                f"kube-bench with {BENCHMARK} and jq is not in {tools}: run `make cis-tools`"
            )
        return found


@dataclass(frozen=True)
class Check:
    id: str
    status: str
    text: str
    actual: str


@dataclass(frozen=True)
class HostResult:
    """One host's checks, under the role it was checked as."""

    host: str
    role: str  # "control-plane", "worker", or "cluster" for the policies section
    checks: tuple[Check, ...]

    def counts(self) -> Counter[str]:
        return Counter(check.status for check in self.checks)

    def failing(self) -> list[Check]:
        return [check for check in self.checks if check.status == "FAIL"]


def parse(host: str, role: str, report: str) -> HostResult:
    """kube-bench's --json report: Controls -> tests (sections) -> results (checks)."""
    try:
        document = json.loads(report)
    except json.JSONDecodeError as error:
        raise TestbedError(
            f"{host}: kube-bench printed no JSON report: {report[:300]!r}"
        ) from error
    checks = [
        Check(
            id=result["test_number"],
            status=result["status"],
            text=result["test_desc"],
            actual=str(result.get("actual_value", ""))[:200],
        )
        for control in document.get("Controls", [])
        for section in control.get("tests") or []
        for result in section.get("results") or []
    ]
    unknown = {check.status for check in checks} - set(STATUSES)
    if unknown or not checks:
        raise TestbedError(f"{host}: unexpected kube-bench report (statuses {sorted(unknown)})")
    return HostResult(host, role, tuple(checks))


def argv(targets: Iterable[str], kubeconfig: str | None = None) -> list[str]:
    """kube-bench in its own mount namespace where /bin/sh is bash.

    The benchmark's audit scripts use bash syntax (`[[ ]]`) and kube-bench runs them with
    /bin/sh, which is dash on Debian and Ubuntu; kube-bench's own image has a shell that reads
    them. The bind mount lives only in that namespace: the host's /bin/sh is not touched.
    """
    run = [
        f"{IN_HOST}/kube-bench",
        "run",
        "--benchmark",
        BENCHMARK,
        "--targets",
        ",".join(targets),
        "--config-dir",
        f"{IN_HOST}/cfg",
        "--json",
    ]
    env = [f"PATH={IN_HOST}/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]
    env += [f"KUBECONFIG={kubeconfig}"] if kubeconfig else []
    script = 'mount --bind /bin/bash /bin/sh && exec env "$@"'
    return [
        "unshare",
        "--mount",
        "--propagation",
        "private",
        "--",
        "sh",
        "-c",
        script,
        "sh",
        *env,
        *run,
    ]


def install(kube_bench: KubeBench, root: Path) -> Path:
    """Copy kube-bench and its definitions under root (a host's root filesystem)."""
    target = root / IN_HOST.lstrip("/")
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    shutil.copy2(kube_bench.binary, target / "kube-bench")
    shutil.copytree(kube_bench.config_dir, target / "cfg")
    shutil.copytree(kube_bench.helpers_dir, target / "bin")
    return target


def benchmark_cluster(
    hosts: TestHosts, kube_bench: KubeBench, roles: Mapping[str, str]
) -> list[HostResult]:
    """Every host of roles (name -> "control-plane" or "worker"), then the policies once."""
    results = []
    for host, role in roles.items():
        targets = CONTROL_PLANE_TARGETS if role == "control-plane" else WORKER_TARGETS
        results.append(_run(hosts, kube_bench, host, role, targets))
    first = next(host for host, role in roles.items() if role == "control-plane")
    results.append(
        _run(hosts, kube_bench, first, "cluster", POLICY_TARGETS, "/etc/kubernetes/admin.conf")
    )
    return results


def _run(
    hosts: TestHosts,
    kube_bench: KubeBench,
    host: str,
    role: str,
    targets: Iterable[str],
    kubeconfig: str | None = None,
) -> HostResult:
    installed = install(kube_bench, hosts.root_of(host))
    try:
        result = hosts.host(host).exec(argv(targets, kubeconfig), timeout=_TIMEOUT_S)
    finally:
        shutil.rmtree(installed, ignore_errors=True)
    if result.returncode != 0:
        raise TestbedError(f"{host}: kube-bench exited {result.returncode}: {result.stderr[-500:]}")
    return parse(host, role, result.stdout)


def table(results: Iterable[HostResult]) -> str:
    """PASS/FAIL/WARN/INFO per host and role, one line each."""
    lines = [f"{'host':<10} {'checked as':<14} " + " ".join(f"{s:>5}" for s in STATUSES)]
    for result in results:
        counts = result.counts()
        cells = " ".join(f"{counts.get(status, 0):>5}" for status in STATUSES)
        lines.append(f"{result.host:<10} {result.role:<14} {cells}")
    return "\n".join(lines)


def explained_failures(path: Path = EXPLAINED) -> dict[str, dict[str, str]]:
    """Check id -> {role it fails on: why}, from the list docs/cis.md explains."""
    document = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    found: dict[str, dict[str, str]] = {}
    for entry in document:
        for role in entry["roles"]:
            found.setdefault(str(entry["id"]), {})[role] = " ".join(entry["reason"].split())
    return found
