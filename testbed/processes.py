"""Background processes the testbed starts (containerd, its services), kept by PID.

A PID is only signalled while its command line still carries a marker of ours, so a recycled PID
of some other process is never touched.
"""

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path

# The Popen objects of the daemons this process started: kept so they are waited for (no
# zombies) and are not garbage-collected while running (a ResourceWarning, an error in tests).
_CHILDREN: dict[int, subprocess.Popen[bytes]] = {}


def start_detached(argv: Sequence[str], log_file: Path, pid_file: Path) -> subprocess.Popen[bytes]:
    """Start argv in its own session with output to log_file, and record its PID."""
    with log_file.open("ab") as log:
        process = subprocess.Popen(
            list(argv),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            # Its own session: a Ctrl-C in the test terminal must not kill it mid-teardown.
            start_new_session=True,
        )
    pid_file.write_text(f"{process.pid}\n")
    _CHILDREN[process.pid] = process
    return process


def recorded_pid(pid_file: Path) -> int | None:
    """The PID in pid_file, or None."""
    try:
        return int(pid_file.read_text().strip())
    except (FileNotFoundError, ValueError):
        return None


def is_alive_with(pid: int, marker: str) -> bool:
    """True when pid runs a command line containing marker (a zombie's is empty: not alive)."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except (FileNotFoundError, ProcessLookupError):
        return False
    return marker.encode() in cmdline


def stop_recorded(pid_file: Path, marker: str, timeout: float = 15) -> None:
    """TERM the recorded process's group if it is still ours, KILL it if it lingers.

    The group, because start_detached gives each process a session of its own: a daemon
    started through runuser stops with its wrapper.
    """
    pid = recorded_pid(pid_file)
    if pid is not None and is_alive_with(pid, marker):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            _reap(pid)
            if not is_alive_with(pid, marker):
                break
            time.sleep(0.1)
        else:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGKILL)
            time.sleep(0.2)
        _reap(pid)
    pid_file.unlink(missing_ok=True)


def _reap(pid: int) -> None:
    child = _CHILDREN.get(pid)
    if child is not None:
        if child.poll() is not None:
            del _CHILDREN[pid]
        return
    # Started by an earlier process (hosts-up): not ours to wait for, but try anyway.
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)
