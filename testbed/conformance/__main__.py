"""`python -m testbed.conformance COMMAND`: build the conformance suite, or run it.

build   build (or take from the cache) e2e.test, ginkgo and the test images; print their folder
run     push the images to the running testbed's registry, run the suite, print the counts
        (--dry-run: list what the selection runs, without a cluster)
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from testbed.conformance import run as runner
from testbed.errors import TestbedError, TestbedUnavailableError


def say(message: str) -> None:
    print(f"[conformance] {message}", file=sys.stderr, flush=True)


def _build() -> tuple[Path, dict[str, Path]]:
    """The suite's folder and the images' archives, built if missing, checked against e2e.test."""
    from testbed.conformance import build, images
    from testbed.mirror import machine_mirror
    from testbed.settings import cache_root

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
    return binaries.suite, archives


def _run(args: argparse.Namespace) -> int:
    chosen = runner.selection(args.subset, args.focus)
    suite, archives = _build()
    if args.dry_run:
        # e2e.test reads the kubeconfig only when specs run: a dry run needs no cluster.
        report_dir = args.report_dir or Path(tempfile.mkdtemp(prefix="conformance-dry-run-"))
        target = runner.Target(kubeconfig=Path("/dev/null"), kubectl=Path("kubectl"))
    else:
        from testbed.cluster import ClusterTestbed
        from testbed.conformance import images
        from testbed.settings import REGISTRY_PORT

        running = ClusterTestbed().attach(say)
        registry = f"{running.bench.machine_address}:{REGISTRY_PORT}"
        say(f"pushing the test images to {registry}")
        images.push_images(registry, archives, say)
        report_dir = args.report_dir or running.bench.run_dir / "conformance"
        target = runner.Target(kubeconfig=running.kubeconfig, kubectl=running.kubectl_binary)
    say(f"running {chosen.name}: focus {chosen.focus!r}, skip {chosen.skip!r}")
    say(f"report: {report_dir}")
    result = runner.run_suite(suite, chosen, target, report_dir, args.nodes, args.dry_run)
    print(result.render())
    return 1 if result.failed else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m testbed.conformance",
        description=__doc__,
        formatter_class=argparse.RawTextHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("build", help="build the suite and its images (cached)")
    run = commands.add_parser("run", help="run the suite against the running testbed")
    run.add_argument("--subset", choices=sorted(runner.SUBSETS), default="conformance")
    run.add_argument("--focus", help="a ginkgo focus regex instead of the subset's")
    run.add_argument(
        "--report-dir",
        type=Path,
        help="JUnit and log folder (default: the bench's, which `make down` removes)",
    )
    run.add_argument("--nodes", type=int, default=runner.DEFAULT_NODES, help="parallel processes")
    run.add_argument("--dry-run", action="store_true", help="list the selection; no cluster")
    args = parser.parse_args(argv)
    try:
        if args.command == "build":
            suite, _ = _build()
            print(suite)
            return 0
        return _run(args)
    except (TestbedError, TestbedUnavailableError) as exc:
        lines = str(exc).strip().splitlines() or ["failed"]
        print(f"conformance: {lines[0]}", file=sys.stderr)
        for line in [*lines[1:], *getattr(exc, "__notes__", [])]:
            print(f"  {line}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
