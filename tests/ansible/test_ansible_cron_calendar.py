"""The cron -> systemd OnCalendar conversion behind the etcd backup timer."""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
from collections.abc import Callable
from types import ModuleType

import pytest

from tests.ansible.ansible_run import ANSIBLE_DIR

_PLUGIN = ANSIBLE_DIR / "roles" / "etcd_backup" / "filter_plugins" / "cron_calendar.py"


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("cron_calendar", _PLUGIN)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_MODULE = _load()
convert: Callable[[str], str] = _MODULE.cron_to_oncalendar

CASES = [
    ("0 */6 * * *", "*-*-* 00/6:00:00"),
    ("30 2 * * *", "*-*-* 02:30:00"),
    ("*/15 * * * *", "*-*-* *:00/15:00"),
    ("0 3 * * 1-5", "Mon..Fri *-*-* 03:00:00"),
    ("0 0 1 * *", "*-*-01 00:00:00"),
    ("5 4 * * 0", "Sun *-*-* 04:05:00"),
    ("0 1,13 * 1-6 *", "*-01..06-* 01,13:00:00"),
]


@pytest.mark.parametrize(("cron", "calendar"), CASES)
def test_ansible_cron_calendar_converts(cron: str, calendar: str) -> None:
    assert convert(cron) == calendar


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="needs systemd-analyze")
@pytest.mark.parametrize(("cron", "calendar"), CASES)
def test_ansible_cron_calendar_systemd_accepts_the_result(cron: str, calendar: str) -> None:
    completed = subprocess.run(
        ["systemd-analyze", "calendar", convert(cron)], capture_output=True, text=True, check=False
    )
    assert completed.returncode == 0, completed.stderr


@pytest.mark.parametrize(
    ("cron", "message"),
    [
        ("0 */6 * *", "cron needs five"),
        ("61 * * * *", "minute '61'"),
        ("0 25 * * *", "hour '25'"),
        ("0 0 1 * 1", "both day of month and weekday"),
        ("0 0 * * 5-1", "runs backwards"),
        ("*/0 * * * *", "step '0'"),
        ("0 0 * * MON", "weekday 'MON'"),
    ],
)
def test_ansible_cron_calendar_refuses_what_it_cannot_express(cron: str, message: str) -> None:
    with pytest.raises(_MODULE.CronError, match=message):
        convert(cron)
