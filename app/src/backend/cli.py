"""`backend serve` and `backend migrate`: the container's two commands."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

EXIT_CONFIG = 2  # as argparse uses for bad arguments: fix the invocation, do not retry
EXIT_FAILURE = 1


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="backend",
        description="kubestead's sample notes service. Configured by BACKEND_* variables.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands.add_parser("serve", help="serve the HTTP API (one process; SIGTERM drains)")
    commands.add_parser("migrate", help="upgrade the database schema to the latest revision")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    # Imported here so that `backend --help` answers before the web stack loads.
    from backend.logs import configure_logging
    from backend.settings import ConfigError, load_settings

    try:
        settings = load_settings()
    except ConfigError as exc:
        print(f"backend: invalid configuration: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    configure_logging(settings.log_level)
    if args.command == "migrate":
        from backend.commands.migrate import run_migrate

        return run_migrate(settings)
    from backend.commands.serve import run_serve

    return run_serve(settings)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
