"""Follow ansible-runner events: current play and task, per-host counts, failures.

`Tracker` is pure bookkeeping (tested with real events); `ProgressView` draws it live on a
terminal, or prints one line per play and per failure when stderr is not a terminal.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console, RenderableType
    from rich.live import Live


@dataclass
class HostCounts:
    ok: int = 0
    changed: int = 0
    failed: int = 0
    skipped: int = 0
    unreachable: int = 0


@dataclass(frozen=True)
class Failure:
    host: str
    task: str
    message: str
    unreachable: bool = False

    def render(self) -> str:
        what = "unreachable" if self.unreachable else f"failed at task `{self.task}`"
        return f"{self.host}: {what}: {self.message}"


# The command modules' generic failure: the command's own words are in stderr or stdout.
_GENERIC = "non-zero return code"


def _message(result: dict[str, Any]) -> str:
    if str(result.get("msg", "")).strip() == _GENERIC:
        for key in ("stderr", "stdout"):
            lines = [line.strip() for line in str(result.get(key) or "").splitlines()]
            lines = [line for line in lines if line]
            if lines:
                # The last two: tools such as kubeadm end with a hint after the error itself.
                tail = " ".join(lines[-2:])
                return f"{_GENERIC} {result.get('rc', '')}: {tail}".replace("  ", " ")
    for key in ("msg", "stderr", "reason"):
        value = result.get(key)
        if value:
            # Some messages put the detail on the next lines ("Validation of arguments failed:").
            lines = [line.strip() for line in str(value).strip().splitlines() if line.strip()]
            text = " ".join(lines[:3])
            return text if len(text) <= 400 else text[:397] + "..."
    return "no message (run with -v in ansible for details)"


@dataclass
class Tracker:
    play: str = ""
    task: str = ""
    hosts: dict[str, HostCounts] = field(default_factory=dict)
    failures: list[Failure] = field(default_factory=list)
    # The final per-host figures of ansible's PLAY RECAP, when the run reached it.
    recap: dict[str, HostCounts] = field(default_factory=dict)
    # What the playbook reported with `set_stats` (ansible-runner's artifact data): the one
    # channel a play uses to hand data to the CLI, so no task name is part of the contract.
    reports: dict[str, Any] = field(default_factory=dict)

    def _host(self, name: str) -> HostCounts:
        return self.hosts.setdefault(name, HostCounts())

    def update(self, event: dict[str, Any]) -> None:
        kind = event.get("event", "")
        data = event.get("event_data", {}) or {}
        host = str(data.get("host", ""))
        if kind == "playbook_on_play_start":
            self.play = str(data.get("play", ""))
            self.task = ""
        elif kind == "playbook_on_task_start":
            self.task = str(data.get("task", ""))
        elif kind == "runner_on_ok":
            counts = self._host(host)
            result = data.get("res", {}) or {}
            # As in ansible's recap, a changed task counts as ok too.
            counts.ok += 1
            if result.get("changed"):
                counts.changed += 1
        elif kind == "runner_on_failed":
            if data.get("ignore_errors"):
                self._host(host).ok += 1
                return
            self._host(host).failed += 1
            self.failures.append(
                Failure(host, str(data.get("task", "")), _message(data.get("res", {}) or {}))
            )
        elif kind == "runner_on_unreachable":
            self._host(host).unreachable += 1
            self.failures.append(
                Failure(
                    host,
                    str(data.get("task", "")),
                    _message(data.get("res", {}) or {}),
                    unreachable=True,
                )
            )
        elif kind == "runner_on_skipped":
            self._host(host).skipped += 1
        elif kind == "playbook_on_stats":
            self._recap(data)
            artifact = data.get("artifact_data")
            self.reports = dict(artifact) if isinstance(artifact, dict) else {}

    def _recap(self, data: dict[str, Any]) -> None:
        names: set[str] = set()
        for key in ("ok", "changed", "failures", "dark", "skipped"):
            names.update((data.get(key) or {}).keys())
        for name in sorted(names):

            def count(key: str, host: str = name) -> int:
                return int((data.get(key) or {}).get(host, 0))

            self.recap[name] = HostCounts(
                ok=count("ok"),
                changed=count("changed"),
                failed=count("failures"),
                skipped=count("skipped"),
                unreachable=count("dark"),
            )


class ProgressView:
    """Draws a Tracker while events arrive."""

    def __init__(self, console: Console, title: str) -> None:
        self.console = console
        self.title = title
        self.tracker = Tracker()
        self._live: Live | None = None
        self._last_play = ""

    def __enter__(self) -> ProgressView:
        if self.console.is_terminal:
            from rich.live import Live

            self._live = Live(self._renderable(), console=self.console, transient=True)
            self._live.__enter__()
        else:
            self.console.print(f"{self.title}", markup=False)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._live is not None:
            self._live.__exit__(None, None, None)

    def handle(self, event: dict[str, Any]) -> bool:
        failures_before = len(self.tracker.failures)
        self.tracker.update(event)
        if self._live is not None:
            self._live.update(self._renderable())
        elif self.tracker.play != self._last_play:
            self._last_play = self.tracker.play
            self.console.print(f"play: {self._last_play}", markup=False)
        for failure in self.tracker.failures[failures_before:]:
            self.console.print(failure.render(), style="red", markup=False)
        return True  # keep the event in ansible-runner's artifacts too

    def _renderable(self) -> RenderableType:
        from rich.console import Group
        from rich.table import Table
        from rich.text import Text

        table = Table(box=None, show_edge=False, pad_edge=False)
        for column in ("host", "ok", "changed", "failed", "unreachable"):
            table.add_column(column, justify="left" if column == "host" else "right")
        for name, counts in sorted(self.tracker.hosts.items()):
            table.add_row(
                name,
                str(counts.ok),
                Text(str(counts.changed), style="yellow" if counts.changed else ""),
                Text(str(counts.failed), style="red" if counts.failed else ""),
                Text(str(counts.unreachable), style="red" if counts.unreachable else ""),
            )
        heading = Text(f"{self.title} · play: {self.tracker.play or '…'}", style="bold")
        task = Text(f"task: {self.tracker.task or '…'}")
        return Group(heading, task, table)
