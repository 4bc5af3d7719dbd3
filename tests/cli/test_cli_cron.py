"""The cron -> systemd OnCalendar conversion: the spec's check and the backup timer's schedule."""

from __future__ import annotations

import subprocess

import pytest

from kubestead.cron import CronError, to_oncalendar

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
def test_cli_cron_converts(cron: str, calendar: str) -> None:
    assert to_oncalendar(cron) == calendar


@pytest.mark.parametrize(("cron", "calendar"), CASES)
def test_cli_cron_systemd_accepts_the_result(cron: str, calendar: str) -> None:
    completed = subprocess.run(
        ["systemd-analyze", "calendar", to_oncalendar(cron)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr


@pytest.mark.parametrize(
    ("cron", "message"),
    [
        ("0 */6 * *", "cron has five"),
        ("61 * * * *", "minute '61'"),
        ("0 25 * * *", "hour '25'"),
        ("0 0 1 * 1", "both day of month and weekday"),
        ("0 1-10/2 * * *", "a stepped range cannot be a timer"),
        ("0 0 * * */2", "steps cannot be a timer"),
        ("0 0 * * 5-1", "runs backwards"),
        ("*/0 * * * *", "step '0'"),
        ("0 0 * * MON", "weekday 'MON'"),
    ],
)
def test_cli_cron_refuses_what_a_timer_cannot_express(cron: str, message: str) -> None:
    with pytest.raises(CronError, match=message):
        to_oncalendar(cron)
