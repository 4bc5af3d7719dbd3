"""Reusable constrained types for the cluster spec.

Each type keeps the value as written (a string) so that `render` writes exactly what the user
wrote; the check parses it and refuses it with a message that says what to write instead.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Annotated

from pydantic import AfterValidator
from pydantic_core import PydanticCustomError

from kubestead.spec.issues import escape

_DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
_SEMVER_V = re.compile(r"^v(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)$")
# Kubernetes label syntax: optional DNS-subdomain prefix, a name of up to 63 characters.
_LABEL_NAME = re.compile(r"^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)$")
_LABEL_VALUE = re.compile(r"^(([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?)$")
_DNS1123_SUBDOMAIN = re.compile(
    r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"
)


def _fail(message: str) -> PydanticCustomError:
    # A custom error keeps the message as written (no "Value error," prefix from pydantic).
    return PydanticCustomError("kubestead", message)


def check_dns1123_label(value: str) -> str:
    if not _DNS1123_LABEL.match(value):
        raise _fail(
            f"`{escape(value)}` is not a DNS-1123 label — use at most 63 lower-case letters, "
            "digits and '-', starting and ending with a letter or digit"
        )
    return value


def check_ipv4(value: str) -> str:
    try:
        ipaddress.IPv4Address(value)
    except ValueError:
        raise _fail(
            f"`{escape(value)}` is not an IPv4 address — write a dotted quad such as 10.0.0.11"
        ) from None
    return value


def check_cidr(value: str) -> str:
    try:
        ipaddress.IPv4Network(value, strict=False)
    except ValueError:
        raise _fail(
            f"`{escape(value)}` is not an IPv4 CIDR — write a network such as 10.0.0.0/24"
        ) from None
    if "/" not in value:
        raise _fail(
            f"`{escape(value)}` has no prefix length — write it as a CIDR such as "
            f"{escape(value)}/24"
        )
    network = ipaddress.IPv4Network(value, strict=False)
    if str(network) != value:
        raise _fail(f"`{escape(value)}` has host bits set — did you mean {network}?")
    return value


def check_semver_v(value: str) -> str:
    if not _SEMVER_V.match(value):
        raise _fail(
            f"`{escape(value)}` is not a version of the form vMAJOR.MINOR.PATCH — write it like "
            "v1.30.3"
        )
    return value


def check_label_key(value: str) -> str:
    prefix, _, name = value.rpartition("/")
    if (prefix and (len(prefix) > 253 or not _DNS1123_SUBDOMAIN.match(prefix))) or (
        not _LABEL_NAME.match(name)
    ):
        raise _fail(
            f"`{escape(value)}` is not a Kubernetes label key — use [prefix/]name, the name at "
            "most 63 letters, digits, '-', '_' or '.'"
        )
    return value


def check_label_value(value: str) -> str:
    if not _LABEL_VALUE.match(value):
        raise _fail(
            f"`{escape(value)}` is not a Kubernetes label value — use at most 63 letters, digits, "
            "'-', '_' or '.', starting and ending with a letter or digit"
        )
    return value


# Ranges of the five cron fields: minute, hour, day of month, month, day of week.
_CRON_FIELDS = (
    ("minute", 0, 59),
    ("hour", 0, 23),
    ("day", 1, 31),
    ("month", 1, 12),
    ("weekday", 0, 7),
)
_CRON_PART = re.compile(r"^(\*|\d+(-\d+)?)(/\d+)?$")


def _cron_field_ok(text: str, low: int, high: int) -> bool:
    for part in text.split(","):
        match = _CRON_PART.match(part)
        if not match:
            return False
        base, _, step = part.partition("/")
        if step and int(step) == 0:
            return False
        if base != "*":
            start, _, end = base.partition("-")
            numbers = [int(start)] + ([int(end)] if end else [])
            if any(n < low or n > high for n in numbers) or numbers != sorted(numbers):
                return False
    return True


def check_cron(value: str) -> str:
    fields = value.split()
    if len(fields) != 5 or not all(
        _cron_field_ok(text, low, high)
        for text, (_, low, high) in zip(fields, _CRON_FIELDS, strict=True)
    ):
        raise _fail(
            f'`{escape(value)}` is not a five-field cron schedule — write it like "0 */6 * * *" '
            "(minute hour day month weekday, numbers, ranges, lists and steps)"
        )
    return value


DNS1123Label = Annotated[str, AfterValidator(check_dns1123_label)]
IPv4 = Annotated[str, AfterValidator(check_ipv4)]
CIDR = Annotated[str, AfterValidator(check_cidr)]
SemverV = Annotated[str, AfterValidator(check_semver_v)]
LabelKey = Annotated[str, AfterValidator(check_label_key)]
LabelValue = Annotated[str, AfterValidator(check_label_value)]
Cron = Annotated[str, AfterValidator(check_cron)]
