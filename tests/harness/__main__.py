"""`python -m tests.harness up|down`: the test hosts for humans (make hosts-up, hosts-down)."""

import argparse
import sys

from tests.harness.errors import HarnessError, HarnessUnavailableError
from tests.harness.lifecycle import HarnessLifecycle, TestHosts


def _describe(hosts: TestHosts) -> str:
    lines = [f"{len(hosts.hosts)} test hosts on {hosts.private_cidr}; apt: {hosts.apt_source}"]
    lines += [
        f"  {host.name:<10} {host.address:<15} ssh: {' '.join(hosts.ssh_argv(host))}"
        for host in hosts.hosts
    ]
    timings = ", ".join(f"{name} {seconds:.1f}" for name, seconds in hosts.timings.items())
    lines.append(f"timings (s): {timings}")
    lines.append("stop them with: make hosts-down")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Parse the command, run it, and turn harness errors into one line on stderr."""
    parser = argparse.ArgumentParser(prog="python -m tests.harness", description=__doc__)
    parser.add_argument("command", choices=["up", "down"], help="start or remove the test hosts")
    args = parser.parse_args(argv)
    lifecycle = HarnessLifecycle()
    try:
        if args.command == "up":
            print(_describe(lifecycle.up(owner="hosts-up")))
        else:
            lifecycle.teardown()
            print("test hosts removed", file=sys.stderr)
    except (HarnessError, HarnessUnavailableError) as exc:
        print(f"harness: {exc}", file=sys.stderr)
        return 1
    finally:
        lifecycle.release()
    return 0


if __name__ == "__main__":
    sys.exit(main())
