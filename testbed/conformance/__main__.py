"""`python -m testbed.conformance COMMAND`: build the conformance suite, or run it.

build   build (or take from the cache) e2e.test, ginkgo and the test images; print their folder
run     push the images to the running testbed's registry, run the suite, print the counts
        (--dry-run: list what the selection runs, without a cluster)
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from testbed.conformance import run as runner
from testbed.errors import TestbedError, TestbedUnavailableError


def say(message: str) -> None:
    print(f"[conformance] {message}", file=sys.stderr, flush=True)


def _run(args: argparse.Namespace) -> int:
    from testbed.conformance import on_cluster

    timeout_s = None if args.timeout is None else args.timeout * 60
    chosen = runner.selection(args.subset, args.focus, args.phase or (), timeout_s)
    built = on_cluster.build_suite(say)
    if args.dry_run:
        # e2e.test reads the kubeconfig only when specs run: a dry run needs no cluster.
        report_dir = args.report_dir or Path(tempfile.mkdtemp(prefix="conformance-dry-run-"))
        target = runner.Target(kubeconfig=Path("/dev/null"), kubectl=Path("kubectl"))
        result = on_cluster.timed_run(built, chosen, target, report_dir, say, args.nodes, True)
    else:
        from testbed.cluster import ClusterTestbed

        running = ClusterTestbed().attach(say)
        result = on_cluster.run_on(running, built, chosen, say, args.nodes, args.report_dir)
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
    run.add_argument(
        "--phase",
        action="append",
        help="run only this phase (parallel, serial; repeatable): a long run in parts",
    )
    run.add_argument(
        "--timeout",
        type=int,
        metavar="MINUTES",
        help="the whole run's limit (default: the subset's)",
    )
    run.add_argument("--nodes", type=int, default=runner.DEFAULT_NODES, help="parallel processes")
    run.add_argument("--dry-run", action="store_true", help="list the selection; no cluster")
    args = parser.parse_args(argv)
    try:
        if args.command == "build":
            from testbed.conformance import on_cluster

            print(on_cluster.build_suite(say).suite)
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
