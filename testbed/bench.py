"""Bring a bench's hosts up and tear them down, including what a crashed run left behind.

Order up: capabilities, lock, leftovers, run folder, containerd, bridge and firewall, the
machine's services on the bridge (repositories, registry), per host (overlay root, identity,
keys, netns, container), wait for systemd, known_hosts. Down is the same cleanup that runs
before every bring-up, so it is safe to repeat and needs nothing but the bench's names.
"""

from __future__ import annotations

import fcntl
import json
import os
import secrets
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from testbed import network, nodes, sysctls
from testbed.capabilities import check_capabilities
from testbed.commands import run
from testbed.containerd import Containerd
from testbed.errors import TestbedError
from testbed.processes import is_alive_with, stop_recorded
from testbed.settings import SSH_USER, Bench, lock_wait_seconds
from testbed.ssh import make_client_key, make_host_keys, write_known_hosts

BOOT_TIMEOUT_S = 120
MARKER = ".kubestead-testbed"


@dataclass
class TestHost:
    """One host: its name (also hostname), its address on the bridge, and a way in without SSH."""

    __test__ = False  # a class named Test* is not a test class

    name: str
    address: str
    containerd: Containerd = field(repr=False)
    netns: str = ""
    # The default route of a powered-off host, given back when it is powered on.
    routes_while_off: list[str] = field(default_factory=list, init=False, repr=False)

    def exec(self, argv: Sequence[str], timeout: float = 300) -> subprocess.CompletedProcess[str]:
        """Run argv inside the host (through containerd, no SSH).

        Never raises on an exit code; raises TestbedError only when timeout runs out.
        """
        return nodes.exec_in(self.containerd, self.name, argv, timeout)

    def power_off(self) -> None:
        nodes.power_off(self.containerd, self.name)
        if self.netns:
            self.routes_while_off = network.unplug(self.netns, self.address)

    def power_on(self) -> None:
        if self.netns:
            network.plug(self.netns, self.routes_while_off)
        nodes.power_on(self.containerd, self.name)


@dataclass
class TestHosts:
    """Everything a test needs to reach a bench's hosts, as built by `BenchLifecycle.up`."""

    __test__ = False

    bench: Bench
    hosts: list[TestHost]
    ssh_user: str
    ssh_private_key: Path
    ssh_known_hosts: Path
    timings: dict[str, float]

    @property
    def private_cidr(self) -> str:
        return str(self.bench.network)

    @property
    def bridge_address(self) -> str:
        return self.bench.machine_address

    @property
    def apt_source(self) -> str:
        """The one-line apt source of the Debian repository the machine serves the bench."""
        return f"deb [trusted=yes] {self.bench.http_url('debian/')} ./"

    def host(self, name: str) -> TestHost:
        return next(host for host in self.hosts if host.name == name)

    def root_of(self, name: str) -> Path:
        """The host's root filesystem as this machine sees it (files put there appear inside)."""
        return self.bench.host_dir(name) / "rootfs"

    def ssh_argv(self, host: TestHost, *command: str) -> list[str]:
        """argv to run command on host over SSH with the bench's key and known_hosts."""
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


# Starts the machine's services for the bench (repositories, registry) once the bridge exists.
ServiceStarter = Callable[[Bench], None]


class BenchLifecycle:
    """Up and down for one bench; one session at a time per bench (a lock file says who)."""

    def __init__(self, bench: Bench) -> None:
        self.bench = bench
        self.run_dir = bench.run_dir
        self.containerd = Containerd(self.run_dir, namespace=f"testbed-{bench.name}")
        self._lock: IO[str] | None = None

    @property
    def state_file(self) -> Path:
        """Written once the hosts are up: who brought them up (a pytest session or a human)."""
        return self.run_dir / "state.json"

    @property
    def services_dir(self) -> Path:
        """PID and log files of the machine's services for this bench."""
        return self.run_dir / "services"

    def owner(self) -> str | None:
        """Who brought the bench up ("pytest", "make up", ...), or None when it is down."""
        with suppress(FileNotFoundError, ValueError, KeyError, TypeError):
            return str(json.loads(self.state_file.read_text())["owner"])
        return None

    def up(self, owner: str, rootfs: Path, services: ServiceStarter) -> TestHosts:
        """Bring up the hosts for owner and return how to reach them; lock held until release."""
        timings: dict[str, float] = {}
        started = time.monotonic()
        check_capabilities()
        self.acquire()
        timings["lock_wait_s"] = time.monotonic() - started
        self._refuse_foreign_owner(owner)
        try:
            return self._bring_up(owner, rootfs, services, timings, started)
        except BaseException as exc:
            # Leave nothing half-made behind, but report the failure that started it all.
            try:
                self.down()
            except Exception as cleanup:
                exc.add_note(f"cleanup after the failure also failed: {cleanup}")
            raise

    def hand_on(self) -> None:
        """Leave the bench up for the next test session and give up the lock.

        For a session whose last drill reset every host (e2e/tests/test_day2.py): the next
        session builds its cluster from scratch on these hosts (`take_over`). A bench handed on
        but never taken over is a crashed session's leftover: `up` and `make down` remove it.
        """
        names = [host.name for host in self.bench.hosts]
        state = {"owner": "pytest", "pid": os.getpid(), "handed_on": names}
        self.state_file.write_text(json.dumps(state) + "\n")
        self.release()

    def handed_on(self) -> list[str] | None:
        """The hosts the last session left up for the next one (`hand_on`), if it did."""
        with suppress(FileNotFoundError, ValueError, TypeError, AttributeError):
            names = json.loads(self.state_file.read_text()).get("handed_on")
            return [str(name) for name in names] if isinstance(names, list) else None
        return None

    def take_over(self, owner: str) -> TestHosts:
        """The hosts a session handed on, now owner's; lock held until release."""
        self.acquire()
        names = [host.name for host in self.bench.hosts]
        handed = self.handed_on()
        if handed != names:
            self.release()
            raise TestbedError(
                f"the {self.bench.name} bench was not handed on with the hosts {names} "
                f"(handed on: {handed})"
            )
        self.state_file.write_text(json.dumps({"owner": owner, "pid": os.getpid()}) + "\n")
        return self.handle()

    def stop_services(self, *names: str) -> None:
        """Stop the named services of the bench (web, registry ...), leaving the hosts up."""
        for name in names:
            stop_recorded(self.services_dir / f"{name}.pid", str(self.run_dir))

    def teardown(self) -> None:
        """Take the lock, remove the hosts and everything with them, release the lock."""
        self.acquire()
        try:
            self.down()
        finally:
            self.release()

    def _bring_up(
        self,
        owner: str,
        rootfs: Path,
        services: ServiceStarter,
        timings: dict[str, float],
        started: float,
    ) -> TestHosts:
        self.down()
        mark = time.monotonic()
        self.run_dir.mkdir(parents=True)
        # down() deletes the run folder whole: only one that carries this mark.
        (self.run_dir / MARKER).write_text("made by testbed/; removed by `make down`\n")
        self.services_dir.mkdir()
        # Before anything in the hosts can change them: down() puts back what it found.
        sysctls.save(self.run_dir / "sysctls.json")
        self.containerd.start()
        network.create_bridge(self.bench)
        services(self.bench)
        timings["services_s"] = time.monotonic() - mark

        mark = time.monotonic()
        private_key = make_client_key(self.bench.ssh_dir)
        public_key = Path(f"{private_key}.pub").read_text()
        host_keys = {}
        for index, host in enumerate(self.bench.hosts, start=1):
            keys = self._start_host(rootfs, index, public_key)
            host_keys[host.name] = (host.address, keys)
        known_hosts = self.bench.ssh_dir / "known_hosts"
        write_known_hosts(known_hosts, host_keys)
        nodes.wait_for_boot(self.containerd, [h.name for h in self.bench.hosts], BOOT_TIMEOUT_S)
        network.assert_no_nat_for(self.bench)
        timings["hosts_boot_s"] = time.monotonic() - mark
        timings["total_s"] = time.monotonic() - started

        self.state_file.write_text(json.dumps({"owner": owner, "pid": os.getpid()}) + "\n")
        return self.handle(timings)

    def handle(self, timings: dict[str, float] | None = None) -> TestHosts:
        """How to reach the bench's hosts (as `up` returned it), for a bench that is up."""
        return TestHosts(
            bench=self.bench,
            hosts=[
                TestHost(
                    name=host.name,
                    address=host.address,
                    containerd=self.containerd,
                    netns=self.bench.netns(host),
                )
                for host in self.bench.hosts
            ],
            ssh_user=SSH_USER,
            ssh_private_key=self.bench.ssh_dir / "id_ed25519",
            ssh_known_hosts=self.bench.ssh_dir / "known_hosts",
            timings=timings or {},
        )

    def down(self) -> None:
        """Remove everything with the bench's names; safe to run any number of times."""
        self._refuse_foreign_run_dir()
        self._remove_containers()
        for pid_file in sorted(self.services_dir.glob("*.pid")):
            stop_recorded(pid_file, str(self.run_dir))
        for mountpoint in self._mounts_under_run_dir():
            run(["umount", mountpoint], check=False, timeout=60)
        for mountpoint in self._mounts_under_run_dir():
            # Still busy (a process holding a file): detach it rather than leave it behind.
            run(["umount", "--lazy", mountpoint], check=False, timeout=60)
        network.remove_all(self.bench)
        restored = sysctls.restore(self.run_dir / "sysctls.json")
        if restored:
            print(f"testbed: put back {', '.join(restored)}", file=sys.stderr)
        shutil.rmtree(self.run_dir, ignore_errors=True)
        if self.run_dir.exists():
            raise TestbedError(f"could not remove {self.run_dir}: is a host mount still busy?")

    def acquire(self) -> None:
        """Take the bench's lock; another session holding it is waited for, not failed."""
        if self._lock is not None:
            return
        self.bench.lock_file.parent.mkdir(parents=True, exist_ok=True)
        lock = self.bench.lock_file.open("a+")
        wait = lock_wait_seconds()
        deadline = time.monotonic() + wait
        told = False
        while True:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if not told:
                    told = True
                    print(
                        f"testbed: another session holds the {self.bench.name} bench "
                        f"({self.bench.lock_file}); waiting up to {wait:.0f} s",
                        file=sys.stderr,
                    )
                if time.monotonic() > deadline:
                    lock.seek(0)
                    holder = lock.read().strip() or "unknown"
                    lock.close()
                    raise TestbedError(
                        f"another session (pid {holder}) held the {self.bench.name} bench for "
                        f"over {wait:.0f} s; wait for it, or raise KUBESTEAD_TESTBED_LOCK_WAIT"
                    ) from None
                time.sleep(1)
        lock.seek(0)
        lock.truncate()
        lock.write(f"{os.getpid()}\n")
        lock.flush()
        self._lock = lock

    def release(self) -> None:
        """Give up the lock (after down, or when `make up` hands the bench to a human)."""
        if self._lock is not None:
            fcntl.flock(self._lock, fcntl.LOCK_UN)
            self._lock.close()
            self._lock = None

    def _refuse_foreign_run_dir(self) -> None:
        # down() deletes the run folder whole: never one that holds something not ours.
        ours = (self.run_dir / MARKER).exists()
        if self.run_dir.is_dir() and not ours and any(self.run_dir.iterdir()):
            raise TestbedError(
                f"{self.run_dir} holds files the testbed did not make; move them away"
            )

    def _refuse_foreign_owner(self, owner: str) -> None:
        # A bench a human brought up (`make up`) may be in use: never tear it down implicitly.
        current = self.owner()
        if current is not None and current != owner:
            with suppress(FileNotFoundError, ValueError, KeyError):
                pid = int(json.loads(self.state_file.read_text())["pid"])
                if current == "pytest" and not is_alive_with(pid, "pytest"):
                    return  # a crashed test session: its leftovers are fair game
            self.release()
            raise TestbedError(
                f"the {self.bench.name} bench is up (started by {current}); "
                f"run `make {'down' if self.bench.name == 'cluster' else 'hosts-down'}` first"
            )

    def _remove_containers(self) -> None:
        if not (self.containerd.home / "root").is_dir():
            return
        # Even after a crash: a restarted containerd finds the shims of the old containers.
        self.containerd.start()
        for name in self.containerd.containers():
            nodes.remove(self.containerd, name)
        self.containerd.stop()

    def _start_host(self, rootfs: Path, index: int, public_key: str) -> list[str]:
        """Root, identity, network and container of host n; returns its SSH host keys."""
        host = self.bench.hosts[index - 1]
        host_root = self._mount_host_root(rootfs, host.name)
        host_keys = make_host_keys(host_root)
        self._write_identity(host_root, host.name)
        self._authorize(host_root, public_key)
        netns = network.attach_host(self.bench, index)
        containerd_data = host_root.parent / "var-lib-containerd"
        containerd_data.mkdir()
        nodes.start(self.containerd, host.name, host_root, netns, containerd_data)
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
        host_dir = self.bench.host_dir(name)
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

    def _write_identity(self, root: Path, name: str) -> None:
        (root / "etc/hostname").write_text(f"{name}\n")
        # Unique per host, as on real VMs: preflight checks it and journald keys its files on it.
        (root / "etc/machine-id").write_text(secrets.token_hex(16) + "\n")
        lines = ["127.0.0.1 localhost", "::1 localhost ip6-localhost ip6-loopback"]
        lines += [f"{host.address} {host.name}" for host in self.bench.hosts]
        (root / "etc/hosts").write_text("\n".join(lines) + "\n")
        # A VM has a resolver; the machine answers none (its firewall rejects port 53 at once),
        # so lookups of outside names fail fast instead of timing out.
        (root / "etc/resolv.conf").write_text(f"nameserver {self.bench.machine_address}\n")

    @staticmethod
    def _authorize(root: Path, public_key: str) -> None:
        home = root / "home" / SSH_USER
        authorized = home / ".ssh/authorized_keys"
        authorized.write_text(public_key)
        authorized.chmod(0o600)
        owner = home.stat()
        os.chown(authorized, owner.st_uid, owner.st_gid)
