"""A five-field cron schedule as the systemd OnCalendar expression the backup timer runs on.

The spec keeps cron syntax because people know it; systemd timers need OnCalendar. This one
function is both the spec's check (`spec.etcdBackup.schedule`) and what `render` writes for the
etcd_backup role (`kubestead_etcd_backup_on_calendar`), so a schedule the spec accepts is one
the timer runs. Supported per field: `*`, numbers, lists `a,b`, ranges `a-b` and steps `*/n`,
`a/n`; weekdays as numbers 0-7 (0 and 7 are Sunday), lists and ranges.
"""

from __future__ import annotations

_DAY_NAMES = ("Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_BOUNDS = {"minute": (0, 59), "hour": (0, 23), "day": (1, 31), "month": (1, 12), "weekday": (0, 7)}


class CronError(ValueError):
    """A schedule this converter cannot represent; the message says which part and why."""


def _number(value: str, field: str) -> int:
    low, high = _BOUNDS[field]
    if not value.isdigit() or not low <= int(value) <= high:
        raise CronError(f"{field} '{value}' is not a number from {low} to {high}")
    return int(value)


def _part(part: str, field: str) -> str:
    base, _, step = part.partition("/")
    if step and (not step.isdigit() or not 0 < int(step) <= _BOUNDS[field][1]):
        raise CronError(f"{field} step '{step}' must be a number from 1 to {_BOUNDS[field][1]}")
    if base == "*":
        rendered = f"{_BOUNDS[field][0]:02d}" if step else "*"
    elif "-" in base:
        first, last = (_number(v, field) for v in base.split("-", 1))
        if first > last:
            raise CronError(f"{field} range '{base}' runs backwards")
        rendered = f"{first:02d}..{last:02d}"
    else:
        rendered = f"{_number(base, field):02d}"
    if step:
        if "-" in base:
            raise CronError(f"{field} '{part}': a stepped range cannot be a timer; list the values")
        return f"{rendered}/{int(step)}"
    return rendered


def _weekdays(expr: str) -> str:
    names: list[str] = []
    for part in expr.split(","):
        if "/" in part:
            raise CronError(f"weekday '{part}': steps cannot be a timer; list the days")
        if "-" in part:
            first, last = (_number(v, "weekday") for v in part.split("-", 1))
            if first > last:
                raise CronError(f"weekday range '{part}' runs backwards")
            names.append(f"{_DAY_NAMES[first]}..{_DAY_NAMES[last]}")
        else:
            names.append(_DAY_NAMES[_number(part, "weekday")])
    return ",".join(names)


def to_oncalendar(schedule: str) -> str:
    """'0 */6 * * *' -> '*-*-* 00/6:00:00'; a CronError for what a timer cannot express."""
    fields = schedule.split()
    if len(fields) != 5:
        raise CronError(f"{len(fields)} fields, cron has five (minute hour day month weekday)")
    minute, hour, day, month, weekday = fields
    if day != "*" and weekday != "*":
        # cron ORs day of month and weekday; systemd ANDs them. Refuse rather than surprise.
        raise CronError("it sets both day of month and weekday, which a timer would AND; use one")

    def field(expr: str, name: str) -> str:
        return ",".join(_part(part, name) for part in expr.split(","))

    date = f"*-{field(month, 'month')}-{field(day, 'day')}"
    time = f"{field(hour, 'hour')}:{field(minute, 'minute')}:00"
    prefix = "" if weekday == "*" else _weekdays(weekday) + " "
    return f"{prefix}{date} {time}"
