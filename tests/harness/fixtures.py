"""The `test_hosts` pytest fixture: three real Debian 12 hosts with systemd and sshd.

Use it from a conftest.py. A plain `from tests.harness.fixtures import test_hosts` does NOT work
under the repo's pytest config: with --import-mode=importlib and no tests/__init__.py, pytest
imports conftest files as `harness.conftest`, `ansible.conftest`, ... and never puts the repo
root on sys.path, so `tests` is not importable. Put the root there first (tests/harness/conftest.py
does exactly this; `pythonpath = ["."]` in the root pytest config would make it unnecessary):

    import sys
    from pathlib import Path

    _REPO_ROOT = str(Path(__file__).resolve().parents[2])
    if _REPO_ROOT not in sys.path:
        sys.path.insert(0, _REPO_ROOT)

    from tests.harness.fixtures import test_hosts  # noqa: E402

    __all__ = ["test_hosts"]

It yields a `TestHosts` (tests/harness/lifecycle.py) with: `hosts` (list of `TestHost`:
`.name`, `.address`, `.exec(argv, timeout=300) -> CompletedProcess[str]`, run inside the host
without SSH, never raising on exit codes), `ssh_user` ("root"), `ssh_private_key` (Path),
`ssh_known_hosts` (Path, every host key under the host's name and address), `apt_source`
(`deb [trusted=yes] http://172.29.213.1:8213/ ./`), `private_cidr` ("172.29.213.0/24"),
`bridge_address` ("172.29.213.1"), and, beyond the brief, `ssh_argv(host, *command)` and
`timings` (seconds per bring-up phase).

Differences from the brief, on purpose:
- The apt source is also preinstalled on every host as
  /etc/apt/sources.list.d/kubestead-harness.list (a fresh VM comes with working apt sources);
  the hosts' package lists are empty until something runs `apt-get update`.
- Hosts have a default route to the bridge (Ansible's `ansible_default_ipv4` needs one) but the
  machine forwards nothing and accepts from the bridge only the repository port and ICMP to
  its own address: the hosts still reach nothing beyond the bridge.
- `ssh_private_key` and `ssh_known_hosts` are `pathlib.Path`, not str.
- SSH reaches the hosts from the bridge address (.1): a host firewall must allow port 22 from
  it (it is inside `private_cidr`).
- Each host's /var/lib/containerd is a bind mount of a plain folder on the machine, so a
  containerd installed inside can use its overlayfs snapshotter (the host root is an overlay).
- "/" inside a host is an overlay whose device reads as a path (Ansible's mount facts skip
  devices that are not paths); its free space is the machine's disk.
- One session per machine at a time: a second pytest (or `make hosts-up`) waits for the lock,
  up to KUBESTEAD_HARNESS_LOCK_WAIT seconds (1800). Hosts started by `make hosts-up` are never
  torn down by a test session; it fails and asks for `make hosts-down`.

The fixture is safe to import into several conftest.py files: all of them share one bring-up
per pytest process, and the last user tears it down. Without root or the tools it skips, except
under CI=true, where it fails with one line (CI must never pass by skipping the real runs).
"""

import os
from collections.abc import Iterator

import pytest

from tests.harness.errors import HarnessError, HarnessUnavailableError
from tests.harness.lifecycle import HarnessLifecycle, TestHost, TestHosts

__all__ = ["TestHost", "TestHosts", "test_hosts"]


class _SharedHosts:
    """One bring-up per process, however many conftest files register the fixture."""

    def __init__(self) -> None:
        self.lifecycle: HarnessLifecycle | None = None
        self.hosts: TestHosts | None = None
        self.users = 0

    def acquire(self) -> TestHosts:
        if self.hosts is None:
            lifecycle = HarnessLifecycle()
            try:
                self.hosts = lifecycle.up(owner="pytest")
            except BaseException:
                lifecycle.release()
                raise
            self.lifecycle = lifecycle
        self.users += 1
        return self.hosts

    def release(self) -> None:
        self.users -= 1
        if self.users == 0 and self.lifecycle is not None:
            try:
                self.lifecycle.down()
            finally:
                self.lifecycle.release()
                self.lifecycle = None
                self.hosts = None


_SHARED = _SharedHosts()


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"true", "1", "yes"}


def _report_timings(config: pytest.Config, timings: dict[str, float]) -> None:
    """Print the bring-up phases in the terminal, past pytest's output capture."""
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    capture = config.pluginmanager.get_plugin("capturemanager")
    if reporter is None or capture is None:
        return
    phases = ", ".join(f"{phase} {seconds:.1f}" for phase, seconds in timings.items())
    with capture.global_and_fixture_disabled():
        reporter.write_line(f"\ntest hosts up in seconds: {phases}")


@pytest.fixture(scope="session")
def test_hosts(request: pytest.FixtureRequest) -> Iterator[TestHosts]:
    """Three running hosts on a private bridge, torn down at the end of the session."""
    problem: str | None = None
    try:
        hosts = _SHARED.acquire()
    except HarnessUnavailableError as exc:
        if not _in_ci():
            pytest.skip(f"test hosts unavailable: {exc}")
        problem = f"test hosts unavailable under CI=true: {exc}"
    except HarnessError as exc:
        problem = "\n".join([f"test hosts: {exc}", *getattr(exc, "__notes__", [])])
    if problem is not None:
        # Outside the except block, so the report shows the one line and no exception chain.
        pytest.fail(problem, pytrace=False)
    if _SHARED.users == 1:
        _report_timings(request.config, hosts.timings)
    try:
        yield hosts
    finally:
        _SHARED.release()
