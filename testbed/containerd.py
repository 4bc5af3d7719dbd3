"""A private containerd: own config, root, state and socket under the run folder.

The machine has no systemd as PID 1 and may run other containerd instances; ours never shares a
socket or a state folder with them, and is stopped by the PID it was started with.
"""

import time
from contextlib import suppress
from pathlib import Path

from testbed.commands import run, succeeds
from testbed.errors import TestbedError
from testbed.processes import is_alive_with, recorded_pid, start_detached, stop_recorded

_START_TIMEOUT_S = 30
# The runc shim keeps its state per namespace on the machine's /run, whichever daemon runs it:
# each bench's daemon has a namespace of its own.
RUNC_STATE = Path("/run/containerd/runc")


class Containerd:
    """Start, address and stop the bench's own containerd daemon."""

    def __init__(self, run_dir: Path, namespace: str) -> None:
        self.namespace = namespace
        self.home = run_dir / "containerd"
        self.socket = self.home / "containerd.sock"
        self.config = self.home / "config.toml"
        self.pid_file = self.home / "containerd.pid"
        self.log_file = self.home / "containerd.log"

    def ctr(self, *args: str) -> list[str]:
        """argv for ctr against this daemon and the testbed namespace."""
        return ["ctr", "--address", str(self.socket), "--namespace", self.namespace, *args]

    def is_running(self) -> bool:
        """True when the recorded PID is alive and is this daemon (not a recycled PID)."""
        pid = recorded_pid(self.pid_file)
        return pid is not None and is_alive_with(pid, str(self.config))

    def start(self) -> None:
        """Start the daemon unless it already runs; return once it answers on its socket."""
        if self.is_running():
            return
        self.home.mkdir(parents=True, exist_ok=True)
        self.config.write_text(self._config_text())
        self.socket.unlink(missing_ok=True)
        process = start_detached(
            ["containerd", "--config", str(self.config)], self.log_file, self.pid_file
        )
        deadline = time.monotonic() + _START_TIMEOUT_S
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise TestbedError(
                    f"containerd exited {process.returncode} at start; see {self.log_file}"
                )
            if self.socket.exists() and succeeds(self.ctr("version"), timeout=5):
                return
            time.sleep(0.2)
        raise TestbedError(
            f"containerd did not answer within {_START_TIMEOUT_S} s; see {self.log_file}"
        )

    def stop(self) -> None:
        """Stop the daemon by its recorded PID (its shims and containers must be gone first)."""
        stop_recorded(self.pid_file, str(self.config))
        # The runc shim leaves an empty state folder per namespace on the machine's /run.
        with suppress(OSError):
            (RUNC_STATE / self.namespace).rmdir()

    def containers(self) -> list[str]:
        """Ids of every container in the testbed namespace."""
        listing = run(self.ctr("containers", "list", "--quiet")).stdout
        return [line.strip() for line in listing.splitlines() if line.strip()]

    def _config_text(self) -> str:
        # The CRI plugin would start its own networking and image GC; the testbed only needs runc.
        return (
            "version = 2\n"
            f'root = "{self.home / "root"}"\n'
            f'state = "{self.home / "state"}"\n'
            'disabled_plugins = ["io.containerd.grpc.v1.cri"]\n'
            "[grpc]\n"
            f'  address = "{self.socket}"\n'
            "[ttrpc]\n"
            f'  address = "{self.socket}.ttrpc"\n'
        )
