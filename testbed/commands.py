"""Run a command on the machine and turn a failure into one `TestbedError` line plus its output."""

import subprocess
from collections.abc import Sequence
from pathlib import Path

from testbed.errors import TestbedError

# Enough of a failing command's output to see why, without flooding the test report.
_OUTPUT_TAIL_CHARS = 2000


def run(
    argv: Sequence[str],
    *,
    check: bool = True,
    timeout: float = 120,
    input_text: str | None = None,
    cwd: Path | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run argv with captured text output; raise TestbedError when it fails and check is set."""
    try:
        result = subprocess.run(
            list(argv),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            # Never the terminal's stdin (ctr would forward it into the host): an empty one.
            input=input_text if input_text is not None else "",
            cwd=cwd,
        )
    except subprocess.TimeoutExpired as exc:
        raise TestbedError(f"{argv[0]}: timed out after {timeout:.0f} s: {' '.join(argv)}") from exc
    except FileNotFoundError as exc:
        raise TestbedError(f"{argv[0]}: not found on PATH") from exc
    if check and result.returncode != 0:
        raise TestbedError(
            f"{' '.join(argv)} exited {result.returncode}:\n"
            f"{(result.stdout + result.stderr)[-_OUTPUT_TAIL_CHARS:]}"
        )
    return result


def succeeds(argv: Sequence[str], *, timeout: float = 30) -> bool:
    """True when argv exits 0: for probing state that may or may not exist."""
    return run(argv, check=False, timeout=timeout).returncode == 0
