"""Start the cluster's daemons as plain processes, and stop exactly the ones we started.

Each daemon gets a log file and a PID file under the state directory; `down` stops by PID
(after checking the PID still runs the binary we started, so a recycled PID is never killed).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path

from e2e.localcluster.settings import Paths

# Daemons this Python process started: kept so `stop` can reap them (no zombies) and so the
# Popen objects are not collected while their processes run.
_CHILDREN: dict[str, subprocess.Popen[bytes]] = {}


def start(
    paths: Paths,
    name: str,
    argv: Sequence[str],
    user: str | None = None,
) -> subprocess.Popen[bytes]:
    paths.logs.mkdir(parents=True, exist_ok=True)
    paths.pids.mkdir(parents=True, exist_ok=True)
    command = list(argv) if user is None else ["runuser", "-u", user, "--", *argv]
    with (paths.logs / f"{name}.log").open("ab") as log:
        process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # survives the caller; stopped only by `down`
        )
    (paths.pids / f"{name}.pid").write_text(f"{process.pid} {argv[0]}\n")
    _CHILDREN[name] = process
    return process


def _running(pid: int, executable: str) -> bool:
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return any(
        Path(part.decode(errors="replace")).name == Path(executable).name for part in cmdline[:4]
    )


def alive(paths: Paths, name: str) -> bool:
    pid_file = paths.pids / f"{name}.pid"
    if not pid_file.exists():
        return False
    pid, executable = pid_file.read_text().split(maxsplit=1)
    return _running(int(pid), executable.strip())


def started(paths: Paths) -> list[str]:
    return sorted(p.stem for p in paths.pids.glob("*.pid")) if paths.pids.exists() else []


def stop(paths: Paths, name: str, timeout: float = 15.0) -> None:
    pid_file = paths.pids / f"{name}.pid"
    if not pid_file.exists():
        return
    pid_text, executable = pid_file.read_text().split(maxsplit=1)
    pid = int(pid_text)
    if _running(pid, executable.strip()):
        # The whole session: runuser's child (postgres) and the daemon itself.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and _running(pid, executable.strip()):
            time.sleep(0.2)
        if _running(pid, executable.strip()):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGKILL)
    pid_file.unlink()
    child = _CHILDREN.pop(name, None)
    if child is not None:
        child.wait(timeout=timeout)


def tail(paths: Paths, name: str, lines: int = 20) -> str:
    log = paths.logs / f"{name}.log"
    if not log.exists():
        return ""
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
