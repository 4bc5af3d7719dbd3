"""One problem found in a spec, printed as one line: `file:line: severity: path: what — fix`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Path_ = tuple[str | int, ...]
Severity = Literal["error", "warning"]


def dotted(path: Path_) -> str:
    """`("spec", "hosts", 1, "address")` -> `spec.hosts[1].address`."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


@dataclass(frozen=True)
class Issue:
    path: Path_
    message: str
    severity: Severity = "error"
    line: int | None = None

    def render(self, filename: str = "") -> str:
        where = filename
        if filename and self.line is not None:
            where = f"{filename}:{self.line}"
        subject = dotted(self.path)
        parts = [p for p in (where, self.severity, subject) if p]
        return ": ".join(parts) + ": " + self.message

    def at_line(self, line: int | None) -> Issue:
        return Issue(self.path, self.message, self.severity, line)
