"""The conformance suite built (or taken from the cache) and run against a testbed cluster.

The one path from "a running cluster" to "a report": `python -m testbed.conformance run` and
the e2e session (e2e/tests/test_conformance.py) both take it.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from testbed.cluster import RunningCluster
from testbed.conformance import build, images, report
from testbed.conformance import run as runner
from testbed.errors import TestbedError
from testbed.mirror import machine_mirror
from testbed.settings import REGISTRY_PORT, cache_root

Say = Callable[[str], None]


@dataclass(frozen=True)
class BuiltSuite:
    """ginkgo and e2e.test (in `suite`), and the test images' archives by image reference."""

    suite: Path
    archives: dict[str, Path]


def build_suite(say: Say) -> BuiltSuite:
    """The suite and its images, built if missing, checked against what e2e.test lists."""
    started = time.monotonic()
    binaries = build.build_binaries(cache_root(), say)
    archives = images.build_images(cache_root(), binaries, machine_mirror(), say)
    listed = build.listed_images(binaries.suite / "e2e.test")
    unused = images.check_listed(listed, [*archives, *images.from_bundle()])
    say(
        f"{len(archives)} images built here, {len(images.from_bundle())} from the bundle; "
        f"{len(unused)} more that e2e.test lists are used by no [Conformance] spec"
    )
    say(f"ready in {time.monotonic() - started:.0f} s")
    return BuiltSuite(binaries.suite, archives)


def run_on(
    cluster: RunningCluster,
    built: BuiltSuite,
    chosen: runner.Selection,
    say: Say,
    nodes: int = runner.DEFAULT_NODES,
    report_dir: Path | None = None,
) -> report.SuiteReport:
    """Push the images to the testbed's registry, then run the selection against the cluster.

    The hosts pull the images through their containerd mirrors of the upstream registries, as
    an air-gapped cluster would. The report defaults to the bench's folder (`make down`
    removes it).
    """
    nodes_listed = json.loads(cluster.kubectl("get", "nodes", "-o", "json").stdout)["items"]
    schedulable = schedulable_nodes(nodes_listed)
    if len(schedulable) < chosen.schedulable_nodes:
        raise TestbedError(
            f"{chosen.name} needs {chosen.schedulable_nodes} schedulable nodes and this cluster "
            f"has {len(schedulable)} ({', '.join(schedulable) or 'none'}): `make down`, then "
            "`make conformance` brings up testbed/cluster-conformance.yaml (two workers)"
        )
    registry = f"{cluster.bench.machine_address}:{REGISTRY_PORT}"
    say(f"pushing the test images to {registry}")
    images.push_images(registry, built.archives, say)
    folder = report_dir or cluster.bench.run_dir / "conformance"
    target = runner.Target(kubeconfig=cluster.kubeconfig, kubectl=cluster.kubectl_binary)
    return timed_run(built, chosen, target, folder, say, nodes)


def schedulable_nodes(listed: list[dict[str, Any]]) -> list[str]:
    """Of `kubectl get nodes -o json`'s items, the nodes a test pod can land on: Ready, not
    cordoned, no NoSchedule or NoExecute taint."""
    found = []
    for node in listed:
        spec, status = node.get("spec", {}), node.get("status", {})
        ready = any(
            c.get("type") == "Ready" and c.get("status") == "True"
            for c in status.get("conditions", [])
        )
        taints = {t.get("effect") for t in spec.get("taints", [])}
        if ready and not spec.get("unschedulable") and not taints & {"NoSchedule", "NoExecute"}:
            found.append(node["metadata"]["name"])
    return sorted(found)


def timed_run(
    built: BuiltSuite,
    chosen: runner.Selection,
    target: runner.Target,
    report_dir: Path,
    say: Say,
    nodes: int = runner.DEFAULT_NODES,
    dry_run: bool = False,
) -> report.SuiteReport:
    """Run the selection's phases, saying what runs, where the report goes and how long it took."""
    say(f"running {chosen.name}: focus {chosen.focus!r}")
    say(f"report: {report_dir}")
    started = time.monotonic()
    result = runner.run_suite(built.suite, chosen, target, report_dir, nodes, dry_run, say)
    say(f"{chosen.name}: {len(chosen.phases)} phase(s) in {time.monotonic() - started:.0f} s")
    return result
