"""Run ansible-playbook from ansible/ the way the Makefile does, and read its recap."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
ANSIBLE_DIR = REPO_ROOT / "ansible"
PLAYBOOKS = sorted((ANSIBLE_DIR / "playbooks").glob("*.yml"))
ROLES = sorted(p for p in (ANSIBLE_DIR / "roles").iterdir() if p.is_dir())
TEST_INVENTORY = Path(__file__).resolve().parent / "inventory" / "hosts.yml"
SAMPLE_INVENTORY = ANSIBLE_DIR / "inventory" / "sample" / "hosts.yml"

_RECAP = re.compile(
    r"^(?P<host>\S+)\s+: ok=(?P<ok>\d+)\s+changed=(?P<changed>\d+)"
    r"\s+unreachable=(?P<unreachable>\d+)\s+failed=(?P<failed>\d+)"
)


def tool(name: str) -> str:
    """A console script of the running venv (ansible-playbook, ansible-lint, ...)."""
    return str(Path(sys.executable).parent / name)


@dataclass
class PlaybookRun:
    returncode: int
    output: str
    seconds: float

    def recap(self) -> dict[str, dict[str, int]]:
        """host -> {ok, changed, unreachable, failed} from the PLAY RECAP lines."""
        result: dict[str, dict[str, int]] = {}
        for line in self.output.splitlines():
            match = _RECAP.match(line)
            if match:
                fields = match.groupdict()
                host = fields.pop("host")
                result[host] = {key: int(value) for key, value in fields.items()}
        return result


def run_playbook(
    playbook: str,
    inventory: Path,
    *args: str,
    env: dict[str, str] | None = None,
    timeout: float = 1800,
) -> PlaybookRun:
    """Run a playbook (a name in ansible/playbooks, or an absolute path) with ansible/ansible.cfg.

    Never raises on failure: the caller asserts on the return code and shows the output.
    """
    environment = {
        **os.environ,
        "ANSIBLE_CONFIG": str(ANSIBLE_DIR / "ansible.cfg"),
        "ANSIBLE_FORCE_COLOR": "0",
        "ANSIBLE_NOCOLOR": "1",
        **(env or {}),
    }
    started = time.monotonic()
    completed = subprocess.run(
        [
            tool("ansible-playbook"),
            "-i",
            str(inventory),
            str(ANSIBLE_DIR / "playbooks" / playbook),
            *args,
        ],
        cwd=ANSIBLE_DIR,
        env=environment,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    return PlaybookRun(
        completed.returncode, completed.stdout + completed.stderr, time.monotonic() - started
    )
