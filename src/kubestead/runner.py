"""Run one playbook through ansible-runner against a rendered inventory.

`PlaybookRunner.arguments()` is the single place that decides what ansible-runner gets; it is
a pure function (tested). `run()` creates the private data directory in a temporary folder,
writes the inventory there, streams events to a callback and removes everything afterwards,
so no run leaves credentials-adjacent files (inventories, fetched kubeconfigs) behind.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kubestead.errors import KubesteadError
from kubestead.progress import Failure, HostCounts, Tracker

EventHandler = Callable[[dict[str, Any]], bool]


@dataclass(frozen=True)
class PlaybookRequest:
    playbook: Path
    inventory: dict[str, str]  # relative path -> content, as `render` produces it
    limit: str | None = None
    check: bool = False
    extravars: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class RunSummary:
    playbook: str
    status: str  # ansible-runner's: successful | failed | timeout | canceled
    rc: int
    hosts: dict[str, HostCounts]
    failures: list[Failure]
    reports: dict[str, Any]  # the playbook's `set_stats` data (per_host: false)

    @property
    def ok(self) -> bool:
        return self.status == "successful" and self.rc == 0 and not self.failures

    @property
    def changed(self) -> int:
        return sum(c.changed for c in self.hosts.values())

    def host_reports(self, key: str) -> list[dict[str, Any]]:
        """The dicts that hosts appended to the list `key` with `set_stats` (aggregate)."""
        value = self.reports.get(key)
        return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def search_path() -> str:
    """PATH for ansible-playbook: as is when it finds it, else with this venv's bin first.

    A venv's console script runs without the venv being activated, so ansible-playbook
    installed beside kubestead is not always on PATH. (ansible-runner's `binary` argument
    is no help: it switches to raw mode and drops the playbook argument.)
    """
    path = os.environ.get("PATH", os.defpath)
    if shutil.which("ansible-playbook", path=path):
        return path
    venv_bin = str(Path(sys.executable).parent)
    if shutil.which("ansible-playbook", path=venv_bin):
        return venv_bin + os.pathsep + path
    raise KubesteadError(
        "ansible-playbook: not found — install ansible-core into this environment "
        "(`make venv` does)"
    )


class PlaybookRunner:
    def __init__(self, ansible_dir: Path) -> None:
        self.ansible_dir = ansible_dir

    def config_file(self) -> Path:
        return self.ansible_dir / "ansible.cfg"

    def check_playbook(self, playbook: Path) -> None:
        if not playbook.is_file():
            raise KubesteadError(
                f"{playbook}: playbook not found — run kubestead from the repository root or "
                "pass --ansible-dir (or set KUBESTEAD_ANSIBLE_DIR) to the folder with "
                "ansible.cfg and playbooks/"
            )

    def arguments(
        self, request: PlaybookRequest, private_data_dir: Path, event_handler: EventHandler
    ) -> dict[str, Any]:
        envvars = {"PATH": search_path()}
        config = self.config_file()
        if config.is_file():
            envvars["ANSIBLE_CONFIG"] = str(config.resolve())
        arguments: dict[str, Any] = {
            "private_data_dir": str(private_data_dir),
            "playbook": str(request.playbook.resolve()),
            "inventory": str(private_data_dir / "inventory"),
            "envvars": envvars,
            "extravars": dict(request.extravars),
            "event_handler": event_handler,
            "quiet": True,
            # Keep extravars and environment out of env/ files on disk.
            "suppress_env_files": True,
        }
        if request.limit:
            arguments["limit"] = request.limit
        if request.check:
            arguments["cmdline"] = "--check"
        return arguments

    def run(self, request: PlaybookRequest, event_handler: EventHandler) -> RunSummary:
        self.check_playbook(request.playbook)
        import ansible_runner  # type: ignore[import-untyped]  # ships no type information

        tracker = Tracker()

        def handle(event: dict[str, Any]) -> bool:
            tracker.update(event)
            return event_handler(event)

        with tempfile.TemporaryDirectory(prefix="kubestead-run-") as temp:
            private = Path(temp)
            for relative, content in request.inventory.items():
                target = private / "inventory" / relative
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(content, encoding="utf-8")
            try:
                result = ansible_runner.run(**self.arguments(request, private, handle))
            except ansible_runner.exceptions.AnsibleRunnerException as error:
                raise KubesteadError(
                    f"{request.playbook.name}: ansible-runner could not start it ({error}) — "
                    "check the playbook path and the ansible installation"
                ) from None
            status, rc = str(result.status), int(result.rc if result.rc is not None else 1)
        hosts = tracker.recap or tracker.hosts
        return RunSummary(
            playbook=request.playbook.name,
            status=status,
            rc=rc,
            hosts=hosts,
            failures=list(tracker.failures),
            reports=tracker.reports,
        )
