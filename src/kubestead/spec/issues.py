"""One problem found in a spec, printed as one line: `file:line: severity: path: what — fix`."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Literal

Path_ = tuple[str | int, ...]
Severity = Literal["error", "warning"]

# Control characters and the Unicode line and paragraph separators: each one could end a line
# (str.splitlines splits on \x1c, \x85, \u2028, ...) or drive the terminal.
_BREAKING = frozenset({"Cc", "Zl", "Zp"})


def escape(text: str) -> str:
    """`text` on one line: every control character written as Python writes it, `\\n`, `\\x1b`."""
    if text.isprintable():
        return text
    return "".join(repr(ch)[1:-1] if unicodedata.category(ch) in _BREAKING else ch for ch in text)


# A value echoed in a message is cut to this many characters: a spec can hold a huge string (or
# an alias that expands to one), and a message must stay one readable line.
SHOWN_CHARACTERS = 60


def shown(text: str) -> str:
    """A user's value as a message echoes it: on one line, and cut short when long."""
    text = escape(text)
    return text if len(text) <= SHOWN_CHARACTERS else text[: SHOWN_CHARACTERS - 1] + "…"


def dotted(path: Path_) -> str:
    """`("spec", "hosts", 1, "address")` -> `spec.hosts[1].address`, keys escaped."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{shown(part)}" if text else shown(str(part))
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
        parts = [p for p in (escape(where), self.severity, subject) if p]
        # The message echoes user text already escaped; escaping again keeps any miss on one line.
        return ": ".join(parts) + ": " + escape(self.message)

    def at_line(self, line: int | None) -> Issue:
        return Issue(self.path, self.message, self.severity, line)
