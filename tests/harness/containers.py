"""One test host as a container: systemd as PID 1 in a privileged runc container, via ctr.

Privileged because systemd needs to mount and manage cgroups, and the roles run ufw and sysctl;
`container=containerd` tells systemd it is in a container so it skips what only hardware needs.
"""

import subprocess
import time
import uuid
from collections.abc import Sequence
from pathlib import Path

from tests.harness.commands import run, succeeds
from tests.harness.containerd import Containerd
from tests.harness.errors import HarnessError

_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
BOOT_STATES = ("running", "degraded")


def start(
    containerd: Containerd, name: str, rootfs: Path, netns: Path, containerd_data: Path
) -> None:
    """Create and start the container `name` with /sbin/init in the given network namespace.

    containerd_data becomes the host's /var/lib/containerd: the containerd that the roles install
    inside needs its overlayfs snapshots on a real filesystem, not on the host's overlay root.
    """
    mounts = [
        "--mount",
        f"type=bind,src={containerd_data},dst=/var/lib/containerd,options=rbind:rw",
    ]
    if Path("/lib/modules").is_dir():
        # modprobe inside a host loads into the machine's kernel; it needs the module tree.
        mounts += ["--mount", "type=bind,src=/lib/modules,dst=/lib/modules,options=rbind:ro"]
    run(
        containerd.ctr(
            "run",
            "--detach",
            "--rootfs",
            "--privileged",
            "--env", "container=containerd",
            "--env", f"PATH={_PATH}",
            "--with-ns", f"network:{netns}",
            *mounts,
            str(rootfs),
            name,
            "/sbin/init",
        )
    )  # fmt: skip


def exec_in(
    containerd: Containerd, name: str, argv: Sequence[str], timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """Run argv inside the container (no SSH) and return its exit code and output."""
    exec_id = f"exec-{uuid.uuid4().hex[:12]}"
    return run(
        containerd.ctr("task", "exec", "--exec-id", exec_id, name, *argv),
        check=False,
        timeout=timeout,
    )


def wait_for_boot(containerd: Containerd, names: Sequence[str], timeout: float) -> None:
    """Wait until every host's systemd is running (or degraded) with sshd active."""
    pending = list(names)
    deadline = time.monotonic() + timeout
    while pending and time.monotonic() < deadline:
        for name in list(pending):
            state = exec_in(containerd, name, ["systemctl", "is-system-running"], 10).stdout
            ssh = exec_in(containerd, name, ["systemctl", "is-active", "ssh"], 10).stdout
            if state.strip() in BOOT_STATES and ssh.strip() == "active":
                pending.remove(name)
        if pending:
            time.sleep(0.5)
    if pending:
        reports = [boot_report(containerd, name) for name in pending]
        raise HarnessError(
            f"{', '.join(pending)}: systemd not running with sshd active after {timeout:.0f} s\n"
            + "\n".join(reports)
        )


def boot_report(containerd: Containerd, name: str) -> str:
    """The system state, failed units and recent errors of one host, for a failure message."""
    state = exec_in(containerd, name, ["systemctl", "is-system-running"], 10)
    failed = exec_in(containerd, name, ["systemctl", "--failed", "--no-pager", "--no-legend"], 10)
    errors = exec_in(
        containerd, name, ["journalctl", "-b", "-p", "err", "--no-pager", "-n", "30"], 10
    )
    return (
        f"--- {name}: state {state.stdout.strip() or state.stderr.strip()}\n"
        f"failed units:\n{failed.stdout}{failed.stderr}\n"
        f"journal errors:\n{errors.stdout}{errors.stderr}"
    )


def remove(containerd: Containerd, name: str) -> None:
    """Kill the container's processes and delete its task and container record."""
    if succeeds(containerd.ctr("task", "list", "--quiet")):
        tasks = run(containerd.ctr("task", "list", "--quiet")).stdout.split()
        if name in tasks:
            run(containerd.ctr("task", "kill", "--signal", "SIGKILL", name), check=False)
            run(containerd.ctr("task", "delete", "--force", name), timeout=60)
    run(containerd.ctr("container", "delete", name), timeout=60)
