"""Without root the smoke tests skip, except under CI=true, where they fail with one line."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

SMOKE_TEST = Path(__file__).with_name("test_testbed_hosts.py")
REPO_ROOT = Path(__file__).resolve().parents[2]

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        os.geteuid() != 0 or shutil.which("setpriv") is None,
        reason="needs root to run pytest as an unprivileged user (setpriv)",
    ),
]


AS_NOBODY = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"]


@pytest.fixture(scope="module", autouse=True)
def _nobody_can_read_the_checkout() -> None:
    # A checkout inside a folder only root may enter (`mktemp -d` makes one) keeps `nobody` out
    # of the venv: then this test cannot run pytest as another user at all, whatever the code.
    probe = subprocess.run(
        [*AS_NOBODY, sys.executable, "-c", "import pytest"],
        capture_output=True,
        text=True,
        cwd="/",
        timeout=60,
        check=False,
    )
    if probe.returncode != 0:
        pytest.skip(f"user nobody cannot read this checkout's venv: {probe.stderr.strip()[-200:]}")


def _pytest_as_nobody(ci: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CI": ci, "PYTHONDONTWRITEBYTECODE": "1", "HOME": "/nonexistent"}
    pytest_argv = [sys.executable, "-m", "pytest", str(SMOKE_TEST), "-p", "no:cacheprovider", "-q"]
    return subprocess.run(
        [*AS_NOBODY, *pytest_argv],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO_ROOT,
        timeout=120,
        check=False,
    )


def test_without_root_the_smoke_tests_skip_outside_ci() -> None:
    result = _pytest_as_nobody(ci="")
    assert result.returncode == 0, result.stdout + result.stderr
    assert " skipped" in result.stdout
    assert "passed" not in result.stdout
    assert "testbed unavailable: test hosts need root" in result.stdout


def test_without_root_the_smoke_tests_fail_under_ci() -> None:
    result = _pytest_as_nobody(ci="true")
    assert result.returncode == 1, result.stdout + result.stderr
    assert " error" in result.stdout
    assert "passed" not in result.stdout
    assert "skipped" not in result.stdout
    reason = "testbed unavailable under CI=true: test hosts need root"
    failure_lines = [line for line in result.stdout.splitlines() if reason in line]
    assert failure_lines, result.stdout
    assert "Traceback" not in result.stdout
