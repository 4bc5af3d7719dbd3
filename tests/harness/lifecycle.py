"""Bring the three test hosts up and tear them down, including what a crashed run left behind.

Order up: capabilities, leftovers, cached rootfs and repository, containerd, bridge and
firewall, per host (overlay root, identity, netns, container), wait for systemd, known_hosts,
repository server. Down is the same cleanup that runs before every bring-up, so it is safe to
repeat and needs nothing but the names the harness uses.
"""

import fcntl
import json
import os
import secrets
import shutil
import subprocess
import sys
import time
from collections.abc import Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from tests.harness import containers, network
from tests.harness.aptrepo import RepoServer, cached_repo, host_packages
from tests.harness.capabilities import check_capabilities
from tests.harness.commands import run
from tests.harness.containerd import Containerd
from tests.harness.errors import HarnessError
from tests.harness.mirror import machine_mirror
from tests.harness.processes import is_alive_with
from tests.harness.rootfs import cached_rootfs, rootfs_key
from tests.harness.settings import HarnessSettings
from tests.harness.ssh import make_client_key, make_host_keys, write_known_hosts

BOOT_TIMEOUT_S = 90
SSH_USER = "root"
# Machine-wide, not per run folder: the bridge, netns and chain names are machine-wide too.
SESSION_LOCK = Path("/run/lock/kubestead-test-hosts.lock")
# What a run folder holds (older harness versions also left session.lock there).
_RUN_DIR_ENTRIES = {
    ".kubestead-harness",
    "aptrepo.log",
    "aptrepo.pid",
    "containerd",
    "hosts",
    "session.lock",
    "ssh",
    "state.json",
}


@dataclass
class TestHost:
    """One host: its name (also hostname), its address on the bridge, and a way in without SSH."""

    __test__ = False  # a class named Test* is not a test class

    name: str
    address: str
    containerd: Containerd = field(repr=False)

    def exec(self, argv: Sequence[str], timeout: float = 300) -> subprocess.CompletedProcess[str]:
        """Run argv inside the host (through containerd, no SSH).

        Never raises on an exit code; raises HarnessError only when timeout runs out.
        """
        return containers.exec_in(self.containerd, self.name, argv, timeout)


@dataclass
class TestHosts:
    """Everything a test needs to reach the hosts, as built by `HarnessLifecycle.up`."""

    __test__ = False

    hosts: list[TestHost]
    ssh_user: str
    ssh_private_key: Path
    ssh_known_hosts: Path
    apt_source: str
    private_cidr: str
    bridge_address: str
    timings: dict[str, float]

    def ssh_argv(self, host: TestHost, *command: str) -> list[str]:
        """argv to run command on host over SSH with the session key and known_hosts."""
        return [
            "ssh",
            "-i", str(self.ssh_private_key),
            "-o", f"UserKnownHostsFile={self.ssh_known_hosts}",
            "-o", "StrictHostKeyChecking=yes",
            "-o", "IdentitiesOnly=yes",
            "-o", "BatchMode=yes",
            "-o", "ConnectTimeout=5",
            f"{self.ssh_user}@{host.address}",
            *command,
        ]  # fmt: skip


class HarnessLifecycle:
    """Up and down for the hosts; one session at a time per machine (a lock file says who)."""

    def __init__(self, settings: HarnessSettings | None = None) -> None:
        self.settings = settings or HarnessSettings.from_environment()
        self.run_dir = self.settings.run_dir
        self.containerd = Containerd(self.run_dir)
        self.repo_server = RepoServer(self.run_dir)
        self._lock: IO[str] | None = None

    @property
    def _run_dir_marker(self) -> Path:
        return self.run_dir / ".kubestead-harness"

    @property
    def state_file(self) -> Path:
        """Written once the hosts are up: who brought them up (session or `hosts-up`)."""
        return self.run_dir / "state.json"

    def up(self, owner: str) -> TestHosts:
        """Bring up the hosts for owner ("pytest" or "hosts-up") and return how to reach them."""
        timings: dict[str, float] = {}
        started = time.monotonic()
        check_capabilities()
        self._acquire_session_lock()
        timings["lock_wait_s"] = time.monotonic() - started
        self._refuse_manual_hosts(owner)
        try:
            return self._bring_up(owner, timings, started)
        except BaseException as exc:
            # Leave nothing half-made behind, but report the failure that started it all.
            try:
                self.down()
            except Exception as cleanup:
                exc.add_note(f"cleanup after the failure also failed: {cleanup}")
            raise

    def teardown(self) -> None:
        """Take the session lock, remove the hosts and everything with them, release the lock."""
        self._acquire_session_lock()
        try:
            self.down()
        finally:
            self.release()

    def _bring_up(self, owner: str, timings: dict[str, float], started: float) -> TestHosts:
        self.down()
        mirror = machine_mirror()
        packages = host_packages()
        cache_dir = self.settings.cache_dir

        mark = time.monotonic()
        rootfs, rootfs_built = cached_rootfs(cache_dir, mirror)
        timings["rootfs_build_s" if rootfs_built else "rootfs_cached_s"] = time.monotonic() - mark

        mark = time.monotonic()
        repo, repo_built = cached_repo(cache_dir, rootfs, rootfs_key(mirror), mirror, packages)
        timings["repo_build_s" if repo_built else "repo_cached_s"] = time.monotonic() - mark

        mark = time.monotonic()
        self.run_dir.mkdir(parents=True)
        # down() deletes the run folder whole: only one that carries this mark.
        self._run_dir_marker.write_text("made by tests/harness; removed by `make hosts-down`\n")
        self.containerd.start()
        network.create_bridge(self.settings)
        private_key = make_client_key(self.run_dir / "ssh")
        names = self.settings.host_names()
        addresses = {name: str(self.settings.host_address(i)) for i, name in enumerate(names, 1)}
        host_keys = {
            name: (addresses[name], self._start_host(rootfs, name, index, addresses, private_key))
            for index, name in enumerate(names, start=1)
        }
        known_hosts = self.run_dir / "ssh" / "known_hosts"
        write_known_hosts(known_hosts, host_keys)
        self.repo_server.start(repo, str(self.settings.bridge_address), self.settings.repo_port)
        containers.wait_for_boot(self.containerd, names, BOOT_TIMEOUT_S)
        network.assert_no_nat_for(self.settings.network)
        timings["hosts_boot_s"] = time.monotonic() - mark
        timings["total_s"] = time.monotonic() - started

        self.state_file.write_text(json.dumps({"owner": owner, "pid": os.getpid()}) + "\n")
        return TestHosts(
            hosts=[
                TestHost(name=name, address=addresses[name], containerd=self.containerd)
                for name in names
            ],
            ssh_user=SSH_USER,
            ssh_private_key=private_key,
            ssh_known_hosts=known_hosts,
            apt_source=self.settings.apt_source,
            private_cidr=str(self.settings.network),
            bridge_address=str(self.settings.bridge_address),
            timings=timings,
        )

    def down(self) -> None:
        """Remove everything with the harness's names; safe to run any number of times."""
        self._refuse_foreign_run_dir()
        self.repo_server.stop()
        self._remove_containers()
        for mountpoint in self._mounts_under_run_dir():
            run(["umount", mountpoint], check=False, timeout=60)
        for mountpoint in self._mounts_under_run_dir():
            # Still busy (a process holding a file): detach it rather than leave it behind.
            run(["umount", "--lazy", mountpoint], check=False, timeout=60)
        network.remove_all()
        shutil.rmtree(self.run_dir, ignore_errors=True)
        if self.run_dir.exists():
            raise HarnessError(f"could not remove {self.run_dir}: is a host mount still busy?")

    def release(self) -> None:
        """Give up the session lock (after down, or when `hosts-up` hands the hosts to a human)."""
        if self._lock is not None:
            fcntl.flock(self._lock, fcntl.LOCK_UN)
            self._lock.close()
            self._lock = None

    def _acquire_session_lock(self) -> None:
        # Sessions queue rather than fail: on a shared machine `make test-ansible` and
        # `make test-harness` may well start at the same time.
        SESSION_LOCK.parent.mkdir(parents=True, exist_ok=True)
        lock = SESSION_LOCK.open("a+")
        deadline = time.monotonic() + self.settings.lock_wait_s
        told = False
        while True:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                if self._live_session_pid() is None:
                    break
                # A session from an older harness (another lock file) still runs: wait for it.
                fcntl.flock(lock, fcntl.LOCK_UN)
                raise BlockingIOError
            except BlockingIOError:
                if not told:
                    told = True
                    print(
                        f"harness: another session holds the test hosts ({SESSION_LOCK}); "
                        f"waiting up to {self.settings.lock_wait_s:.0f} s",
                        file=sys.stderr,
                    )
                if time.monotonic() > deadline:
                    lock.seek(0)
                    holder = lock.read().strip() or "unknown"
                    lock.close()
                    raise HarnessError(
                        f"another session (pid {holder}) held the test hosts ({SESSION_LOCK}) "
                        f"for over {self.settings.lock_wait_s:.0f} s; wait for it, or raise "
                        "KUBESTEAD_HARNESS_LOCK_WAIT"
                    ) from None
                time.sleep(1)
        lock.seek(0)
        lock.truncate()
        lock.write(f"{os.getpid()}\n")
        lock.flush()
        self._lock = lock

    def _refuse_foreign_run_dir(self) -> None:
        # down() deletes the run folder whole: never one that holds something not ours.
        if not self.run_dir.is_dir() or self._run_dir_marker.exists():
            return
        foreign = sorted({item.name for item in self.run_dir.iterdir()} - _RUN_DIR_ENTRIES)
        if foreign:
            raise HarnessError(
                f"KUBESTEAD_HARNESS_RUN_DIR={self.run_dir} holds files the harness did not make "
                f"({', '.join(foreign[:3])}); point it at a new or empty folder"
            )

    def _live_session_pid(self) -> int | None:
        """The PID of another live process whose pytest session owns the hosts, if any."""
        with suppress(FileNotFoundError, KeyError, ValueError, TypeError):
            state = json.loads(self.state_file.read_text())
            pid = int(state["pid"])
            if state["owner"] == "pytest" and pid != os.getpid() and is_alive_with(pid, "pytest"):
                return pid
        return None

    def _refuse_manual_hosts(self, owner: str) -> None:
        # Hosts from `make hosts-up` may be in use by a human: never tear them down implicitly.
        with suppress(FileNotFoundError, ValueError):
            state = json.loads(self.state_file.read_text())
            if state.get("owner") == "hosts-up" and owner != "hosts-up":
                self.release()
                raise HarnessError(
                    "test hosts from `make hosts-up` are running; run `make hosts-down` first"
                )

    def _remove_containers(self) -> None:
        if not (self.containerd.home / "root").is_dir():
            return
        # Even after a crash: a restarted containerd finds the shims of the old containers.
        self.containerd.start()
        for name in self.containerd.containers():
            containers.remove(self.containerd, name)
        self.containerd.stop()

    def _start_host(
        self, rootfs: Path, name: str, index: int, addresses: dict[str, str], private_key: Path
    ) -> list[str]:
        """Root, identity, network and container of one host; returns its SSH host keys."""
        host_root = self._mount_host_root(rootfs, name)
        host_keys = make_host_keys(host_root)
        self._write_identity(host_root, name, addresses)
        self._authorize(host_root, Path(f"{private_key}.pub").read_text())
        netns = network.attach_host(self.settings, name, index)
        containerd_data = host_root.parent / "var-lib-containerd"
        containerd_data.mkdir()
        containers.start(self.containerd, name, host_root, netns, containerd_data)
        return host_keys

    def _mounts_under_run_dir(self) -> list[str]:
        prefix = str(self.run_dir.resolve()) + "/"
        mountpoints = []
        for line in Path("/proc/self/mountinfo").read_text().splitlines():
            mountpoint = line.split()[4].replace("\\040", " ")
            if mountpoint.startswith(prefix):
                mountpoints.append(mountpoint)
        # Deepest first, so nested mounts come off before their parents.
        return sorted(mountpoints, key=len, reverse=True)

    def _mount_host_root(self, lower: Path, name: str) -> Path:
        host_dir = self.run_dir / "hosts" / name
        upper, work, merged = host_dir / "upper", host_dir / "work", host_dir / "rootfs"
        for folder in (upper, work, merged):
            folder.mkdir(parents=True)
        layers = f"lowerdir={lower},upperdir={upper},workdir={work}"
        # The source is what the host sees as the device of "/": Ansible's mount facts drop
        # devices that are not paths (a plain "overlay"), and the roles check free space on "/".
        mounted = run(
            ["mount", "-t", "overlay", str(upper), "-o", layers, str(merged)], check=False
        )
        if mounted.returncode != 0:
            # The run folder cannot be an overlay's upper layer (it is on overlayfs itself, as
            # inside a CI container): a full copy per host is slower but the same host.
            run(["cp", "-a", "--reflink=auto", f"{lower}/.", str(merged)], timeout=600)
        return merged

    @staticmethod
    def _write_identity(root: Path, name: str, addresses: dict[str, str]) -> None:
        (root / "etc/hostname").write_text(f"{name}\n")
        # Unique per host, as on real VMs: preflight checks it and journald keys its files on it.
        (root / "etc/machine-id").write_text(secrets.token_hex(16) + "\n")
        hosts = ["127.0.0.1 localhost", "::1 localhost ip6-localhost ip6-loopback"]
        hosts += [f"{address} {host}" for host, address in sorted(addresses.items())]
        (root / "etc/hosts").write_text("\n".join(hosts) + "\n")

    def _authorize(self, root: Path, public_key: str) -> None:
        authorized = root / "root/.ssh/authorized_keys"
        authorized.parent.mkdir(mode=0o700, exist_ok=True)
        authorized.write_text(public_key)
        authorized.chmod(0o600)
        (root / "etc/apt/sources.list.d/kubestead-harness.list").write_text(
            f"# The harness's local repository on the bridge (tests/harness/aptrepo.py).\n"
            f"{self.settings.apt_source}\n"
        )
