"""cron_to_oncalendar: a five-field cron schedule as a systemd OnCalendar expression.

The spec keeps cron syntax because people know it; systemd timers need OnCalendar.
Supported per field: '*', numbers, lists 'a,b', ranges 'a-b' and steps '*/n', 'a/n', 'a-b/n'.
"""

from __future__ import annotations

from typing import Any, ClassVar

_DAY_NAMES = ("Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_BOUNDS = {"minute": (0, 59), "hour": (0, 23), "day": (1, 31), "month": (1, 12), "weekday": (0, 7)}


class CronError(ValueError):
    """A cron expression this converter cannot represent."""


def _check(value: str, field: str) -> int:
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
        first, last = (_check(v, field) for v in base.split("-", 1))
        if first > last:
            raise CronError(f"{field} range '{base}' runs backwards")
        rendered = f"{first:02d}..{last:02d}" if field != "weekday" else f"{first}..{last}"
    else:
        rendered = f"{_check(base, field):02d}"
    if step:
        if "-" in base:
            raise CronError(f"{field} '{part}': stepped ranges are not supported; list the values")
        return f"{rendered}/{int(step)}"
    return rendered


def _weekdays(expr: str) -> str:
    names: list[str] = []
    for part in expr.split(","):
        if "/" in part:
            raise CronError(f"weekday '{part}': steps are not supported; list the days")
        if "-" in part:
            first, last = (_check(v, "weekday") for v in part.split("-", 1))
            if first > last:
                raise CronError(f"weekday range '{part}' runs backwards")
            names.append(f"{_DAY_NAMES[first]}..{_DAY_NAMES[last]}")
        else:
            names.append(_DAY_NAMES[_check(part, "weekday")])
    return ",".join(names)


def cron_to_oncalendar(schedule: str) -> str:
    """Convert e.g. '0 */6 * * *' to '*-*-* 00/6:00:00'."""
    fields = schedule.split()
    if len(fields) != 5:
        raise CronError(
            f"'{schedule}' has {len(fields)} fields; cron needs five (min hour day month weekday)"
        )
    minute, hour, day, month, weekday = fields
    if day != "*" and weekday != "*":
        # cron ORs day-of-month and weekday; systemd ANDs them. Refuse rather than surprise.
        raise CronError(f"'{schedule}' sets both day of month and weekday; use one of them")

    def field(expr: str, name: str) -> str:
        return ",".join(_part(p, name) for p in expr.split(","))

    date = f"*-{field(month, 'month')}-{field(day, 'day')}"
    time = f"{field(hour, 'hour')}:{field(minute, 'minute')}:00"
    prefix = "" if weekday == "*" else _weekdays(weekday) + " "
    return f"{prefix}{date} {time}"


class FilterModule:
    """Ansible entry point."""

    filter_names: ClassVar[tuple[str, ...]] = ("cron_to_oncalendar",)

    def filters(self) -> dict[str, Any]:
        return {"cron_to_oncalendar": cron_to_oncalendar}
