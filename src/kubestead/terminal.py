"""The one terminal wrapper: data to stdout, messages to stderr, colour only on a terminal.

rich is imported on first use so that `kubestead --help` stays fast. Console objects are
created per call: they then pick up whatever sys.stdout/sys.stderr are at that moment, which
is what a CLI test runner swaps in.
"""

from __future__ import annotations

import json
import os
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console, RenderableType


def colour_allowed(stream: Any) -> bool:
    return not os.environ.get("NO_COLOR") and _is_tty(stream)


def _is_tty(stream: Any) -> bool:
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


class Terminal:
    def console(self, *, stderr: bool = True) -> Console:
        from rich.console import Console

        stream = sys.stderr if stderr else sys.stdout
        colour = colour_allowed(stream)
        return Console(
            file=stream,
            no_color=not colour,
            color_system="auto" if colour else None,
            highlight=False,
            emoji=False,
            soft_wrap=True,  # exact lines: never fold a message at the terminal width
            # Piped output has no width to respect: never truncate a table column.
            width=None if _is_tty(stream) else 400,
        )

    # Data: exactly these bytes on stdout.
    def data(self, text: str) -> None:
        sys.stdout.write(text)
        sys.stdout.flush()

    def json(self, value: Any) -> None:
        self.data(json.dumps(value, indent=2, sort_keys=True) + "\n")

    def table(self, renderable: RenderableType) -> None:
        self.console(stderr=False).print(renderable)

    # Messages: stderr, one line each, user text never parsed as rich markup.
    def _say(self, text: str, style: str | None) -> None:
        self.console().print(text, style=style, markup=False)

    def info(self, text: str) -> None:
        self._say(text, None)

    def success(self, text: str) -> None:
        self._say(text, "green")

    def warning(self, text: str) -> None:
        self._say(text, "yellow")

    def error(self, text: str) -> None:
        self._say(text, "bold red")
