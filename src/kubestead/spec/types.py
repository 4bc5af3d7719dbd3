"""Reusable constrained types for the cluster spec.

Each type keeps the value as written (a string) so that `render` writes exactly what the user
wrote; the check parses it and refuses it with a message that says what to write instead.
"""

from __future__ import annotations

import contextlib
import ipaddress
import re
from typing import Annotated

from pydantic import AfterValidator
from pydantic_core import PydanticCustomError

from kubestead import versions
from kubestead.cron import CronError, to_oncalendar
from kubestead.spec.issues import escape, shown

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
            f"`{shown(value)}` is not a DNS-1123 label — use at most 63 lower-case letters, "
            "digits and '-', starting and ending with a letter or digit"
        )
    return value


def check_ipv4(value: str) -> str:
    try:
        ipaddress.IPv4Address(value)
    except ValueError:
        raise _fail(
            f"`{shown(value)}` is not an IPv4 address — write a dotted quad such as 10.0.0.11"
        ) from None
    return value


def check_cidr(value: str) -> str:
    try:
        ipaddress.IPv4Network(value, strict=False)
    except ValueError:
        raise _fail(
            f"`{shown(value)}` is not an IPv4 CIDR — write a network such as 10.0.0.0/24"
        ) from None
    if "/" not in value:
        raise _fail(
            f"`{shown(value)}` has no prefix length — write it as a CIDR such as {shown(value)}/24"
        )
    network = ipaddress.IPv4Network(value, strict=False)
    if str(network) != value:
        raise _fail(f"`{shown(value)}` has host bits set — did you mean {network}?")
    return value


def check_semver_v(value: str) -> str:
    if not _SEMVER_V.match(value):
        raise _fail(
            f"`{shown(value)}` is not a version of the form vMAJOR.MINOR.PATCH — write it like "
            f"{versions.TESTED_KUBERNETES_VERSION}"
        )
    return value


def check_label_key(value: str) -> str:
    prefix, _, name = value.rpartition("/")
    if (prefix and (len(prefix) > 253 or not _DNS1123_SUBDOMAIN.match(prefix))) or (
        not _LABEL_NAME.match(name)
    ):
        raise _fail(
            f"`{shown(value)}` is not a Kubernetes label key — use [prefix/]name, the name at "
            "most 63 letters, digits, '-', '_' or '.'"
        )
    return value


def check_label_value(value: str) -> str:
    if not _LABEL_VALUE.match(value):
        raise _fail(
            f"`{shown(value)}` is not a Kubernetes label value — use at most 63 letters, digits, "
            "'-', '_' or '.', starting and ending with a letter or digit"
        )
    return value


def check_cron(value: str) -> str:
    # The converter the backup timer uses decides: a schedule accepted here is one it runs.
    try:
        to_oncalendar(value)
    except CronError as error:
        raise _fail(
            f"`{shown(value)}` is not a schedule the backup timer can run: {escape(str(error))} "
            '— write five cron fields like "0 */6 * * *" (numbers, lists, ranges, steps)'
        ) from None
    return value


def check_subject_alt_name(value: str) -> str:
    # What an x509 certificate can name and kubeadm writes as a SAN: an IP address or a DNS
    # name (a leading `*.` for a wildcard).
    with contextlib.suppress(ValueError):
        ipaddress.ip_address(value)
        return value
    name = value.removeprefix("*.")
    if len(value) > 253 or not _DNS1123_SUBDOMAIN.match(name):
        raise _fail(
            f"`{shown(value)}` is neither an IP address nor a DNS name — write an address such "
            "as 203.0.113.10 or a lower-case name such as api.example.com"
        )
    return value


_MIRROR_URL = re.compile(r"^https?://[^\s/?#]+(/[^\s?#]*)?$")


def check_mirror_url(value: str) -> str:
    if value and (not _MIRROR_URL.match(value) or value.endswith("/")):
        raise _fail(
            f"`{shown(value)}` is not a mirror's base URL — write http(s)://host[:port][/path] "
            "without a trailing slash, such as http://10.0.0.5:8080/files"
        )
    return value


DNS1123Label = Annotated[str, AfterValidator(check_dns1123_label)]
IPv4 = Annotated[str, AfterValidator(check_ipv4)]
CIDR = Annotated[str, AfterValidator(check_cidr)]
SemverV = Annotated[str, AfterValidator(check_semver_v)]
LabelKey = Annotated[str, AfterValidator(check_label_key)]
LabelValue = Annotated[str, AfterValidator(check_label_value)]
Cron = Annotated[str, AfterValidator(check_cron)]
MirrorURL = Annotated[str, AfterValidator(check_mirror_url)]
SubjectAltName = Annotated[str, AfterValidator(check_subject_alt_name)]
