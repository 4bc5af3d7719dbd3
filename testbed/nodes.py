"""One test host as a container: systemd as PID 1 in a privileged runc container, via ctr.

Privileged, as kind's nodes are: systemd manages cgroups, the kubelet and containerd run inside,
and the roles run ufw and sysctl. Before systemd starts, an entrypoint prepares what a VM would
have and a container does not (../shared/notes/offline-testbed.md has how each was found):

1. its own cgroup namespace (`unshare --cgroup`): ctr gives none, and without one the kubelet
   creates `kubepods.slice` at the machine's cgroup root while systemd roots itself elsewhere;
2. a fresh tmpfs on /sys/fs/cgroup with each hierarchy mounted the way the machine mounts it
   (co-mounting `cpu,cpuacct` is refused by the kernel where the machine mounts them apart),
   plus cgroup2 where the machine has it; the machine's own /sys/fs/cgroup is never bound in;
3. `/` made rshared, so the kubelet's and the CNI's mounts propagate to the pods that ask.
"""

from __future__ import annotations

import subprocess
import time
import uuid
from collections.abc import Sequence
from pathlib import Path

from testbed.commands import run, succeeds
from testbed.containerd import Containerd
from testbed.errors import TestbedError

_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
BOOT_STATES = ("running", "degraded")
ENTRYPOINT = "/usr/local/sbin/testbed-init"


def entrypoint_script() -> str:
    """The shell script every host starts with (part of the root filesystem's cache key)."""
    return """#!/bin/sh
# testbed/nodes.py: prepare cgroups and mount propagation as a VM has them, then boot systemd.
set -eu
if [ "${TESTBED_IN_CGROUPNS:-}" != 1 ]; then
  export TESTBED_IN_CGROUPNS=1
  exec unshare --cgroup "$0" "$@"
fi
umount -R /sys/fs/cgroup 2>/dev/null || true
mount -t tmpfs -o nosuid,nodev,noexec,mode=755 tmpfs /sys/fs/cgroup
for hierarchy in ${TESTBED_CGROUP_V1:-}; do
  dir=${hierarchy#name=}
  mkdir -p "/sys/fs/cgroup/$dir"
  mount -t cgroup -o "nosuid,nodev,noexec,$hierarchy" cgroup "/sys/fs/cgroup/$dir"
done
if [ -n "${TESTBED_CGROUP_V2:-}" ]; then
  if [ "$TESTBED_CGROUP_V2" = / ]; then
    umount /sys/fs/cgroup
    mount -t cgroup2 -o nosuid,nodev,noexec cgroup2 /sys/fs/cgroup
  else
    mkdir -p "/sys/fs/cgroup/$TESTBED_CGROUP_V2"
    mount -t cgroup2 -o nosuid,nodev,noexec cgroup2 "/sys/fs/cgroup/$TESTBED_CGROUP_V2"
  fi
fi
mount --make-rshared /
unset TESTBED_IN_CGROUPNS TESTBED_CGROUP_V1 TESTBED_CGROUP_V2
exec /lib/systemd/systemd "$@"
"""


def machine_cgroups(mountinfo: Path = Path("/proc/self/mountinfo")) -> tuple[str, str]:
    """(the v1 hierarchies as mount options, where cgroup2 sits under /sys/fs/cgroup or "")."""
    v1: list[str] = []
    v2 = ""
    for line in mountinfo.read_text().splitlines():
        before, _, after = line.partition(" - ")
        mountpoint = before.split()[4]
        fstype, _source, super_options = after.split()[:3]
        if not mountpoint.startswith("/sys/fs/cgroup"):
            continue
        if fstype == "cgroup2":
            v2 = mountpoint.removeprefix("/sys/fs/cgroup").lstrip("/") or "/"
        elif fstype == "cgroup":
            controllers = [o for o in super_options.split(",") if o not in {"rw", "ro"}]
            v1.append(",".join(controllers))
    return " ".join(v1), v2


def start(
    containerd: Containerd, name: str, rootfs: Path, netns: Path, containerd_data: Path
) -> None:
    """Create and start the container `name` in the given network namespace.

    containerd_data becomes the host's /var/lib/containerd: the containerd that the roles install
    inside needs its overlayfs snapshots on a real filesystem, not on the host's overlay root.
    """
    v1, v2 = machine_cgroups()
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
            # ctr sets no_new_privs by default; sudo (the roles' become) needs setuid to work.
            "--allow-new-privs",
            "--env", "container=containerd",
            "--env", f"PATH={_PATH}",
            "--env", f"TESTBED_CGROUP_V1={v1}",
            "--env", f"TESTBED_CGROUP_V2={v2}",
            "--with-ns", f"network:{netns}",
            *mounts,
            str(rootfs),
            name,
            ENTRYPOINT,
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
        raise TestbedError(
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


def is_running(containerd: Containerd, name: str) -> bool:
    listing = run(containerd.ctr("task", "list"), check=False).stdout.splitlines()
    return any(line.split()[:1] == [name] and "RUNNING" in line for line in listing[1:])


def power_off(containerd: Containerd, name: str) -> None:
    """Kill every process of the host at once, as a power cut would; its disk stays."""
    run(containerd.ctr("task", "kill", "--all", "--signal", "SIGKILL", name), check=False)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if not is_running(containerd, name):
            break
        time.sleep(0.2)
    run(containerd.ctr("task", "delete", "--force", name), timeout=60, check=False)


def power_on(containerd: Containerd, name: str) -> None:
    """Boot a powered-off host again from the disk it had."""
    run(containerd.ctr("task", "start", "--detach", name), timeout=60)


def remove(containerd: Containerd, name: str) -> None:
    """Kill the container's processes and delete its task and container record."""
    if succeeds(containerd.ctr("task", "list", "--quiet")):
        tasks = run(containerd.ctr("task", "list", "--quiet")).stdout.split()
        if name in tasks:
            run(containerd.ctr("task", "kill", "--all", "--signal", "SIGKILL", name), check=False)
            run(containerd.ctr("task", "delete", "--force", name), timeout=60)
    run(containerd.ctr("container", "delete", name), timeout=60)
