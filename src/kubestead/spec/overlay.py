"""The inventory overlay (`spec.inventoryOverlay`): Ansible variables cluster.yaml does not model.

A YAML mapping of role variables (each role's `defaults/main.yml` is its interface) and
connection settings, in a file beside the spec. `render` adds it to the inventory for the
cluster's hosts. The contract variables (`kubestead_*`) stay the spec's: an overlay that sets
one is refused, so the CLI remains the one validator of what the spec decides.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from kubestead.spec.issues import Issue
from kubestead.spec.issues import shown as shown_value
from kubestead.spec.loader import LoadError, loads

PATH = ("spec", "inventoryOverlay")
MAX_BYTES = 64 * 1024
_VARIABLE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def overlay_file(spec: Path, named: str) -> Path:
    """Where an overlay the spec names lives (relative paths: from the spec's folder)."""
    return spec.parent / Path(named).expanduser()


def load_overlay(path: Path, shown: str) -> tuple[dict[str, Any], list[Issue]]:
    """The overlay's variables, or the issues that stop it (one line each).

    shown: the file as the spec names it, for messages.
    """
    name = shown_value(shown)

    def problem(message: str) -> tuple[dict[str, Any], list[Issue]]:
        return {}, [Issue(PATH, f"{name}: {message}")]

    try:
        if path.stat().st_size > MAX_BYTES:
            return problem(f"larger than {MAX_BYTES // 1024} KiB — an overlay holds a few settings")
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return problem("no such file — create it, or remove inventoryOverlay")
    except IsADirectoryError:
        return problem("is a folder — point inventoryOverlay at a YAML file")
    except (OSError, UnicodeDecodeError) as error:
        reason = getattr(error, "strerror", None) or "not UTF-8 text"
        return problem(f"cannot be read ({reason}) — fix its permissions or encoding")
    try:
        document = loads(text)
    except LoadError as error:
        where = f"line {error.issue.line}: " if error.issue.line else ""
        return problem(f"{where}{error.issue.message}")
    issues = []
    for key in document.data:
        line = document.lines.get((key,))
        variable = shown_value(str(key))
        if not isinstance(key, str) or not _VARIABLE.match(key):
            message = f"`{variable}` is not an Ansible variable name — use letters, digits and '_'"
        elif key.startswith("kubestead_"):
            message = (
                f"`{variable}` is a variable of the spec's contract — set it through "
                "cluster.yaml, not the overlay"
            )
        else:
            continue
        issues.append(Issue(PATH, f"{name}:{line}: {message}"))
    return (dict(document.data) if not issues else {}), issues
