"""The busybox test image's build checks the one property it is built for (busybox.py)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from testbed.conformance.busybox import _check_environment_passes
from testbed.errors import TestbedError


def _stand_in(tmp_path: Path, shell: str) -> Path:
    """A "busybox" whose `sh` applet is the machine's `shell` (the wrapper itself is bash: dash
    would drop the variable before `shell` could)."""
    binary = tmp_path / f"busybox-{shell}"
    wrapper = f'#!{shutil.which("bash")}\n[ "$1" = sh ] && shift\nexec {shutil.which(shell)} "$@"\n'
    binary.write_text(wrapper)
    binary.chmod(0o755)
    return binary


def test_a_shell_that_drops_unnameable_variables_fails_the_build(tmp_path: Path) -> None:
    # dash drops them, as Debian's busybox ash does.
    with pytest.raises(TestbedError, match="`sh -c env` dropped 'data-1=value-1'"):
        _check_environment_passes(_stand_in(tmp_path, "dash"))


def test_a_shell_that_passes_them_on_passes_the_build(tmp_path: Path) -> None:
    _check_environment_passes(_stand_in(tmp_path, "bash"))  # bash keeps them, as upstream ash
