"""If-Match as RFC 9110 defines it: `*` or a list of entity tags, compared strongly."""

from __future__ import annotations

import re

from fastapi.exceptions import RequestValidationError

_ENTITY_TAG = r'(?:W/)?"[\x21\x23-\x7e\x80-\xff]*"'
# `*`, or entity tags separated by commas (empty list elements are allowed, 5.6.1).
IF_MATCH_PATTERN = rf"^\s*(?:\*|,*\s*{_ENTITY_TAG}(?:\s*,(?:\s*,)*\s*{_ENTITY_TAG})*\s*,*)\s*$"
_IF_MATCH = re.compile(IF_MATCH_PATTERN)
_TAG = re.compile(r'(W/)?"([^"]*)"')
_VERSION = re.compile(r"^[1-9]\d{0,8}$")  # fits the int4 column


def if_match_versions(header: str | None) -> frozenset[int] | None:
    """The versions an If-Match header accepts; None when any version will do (absent or `*`).

    A weak tag never matches (If-Match uses the strong comparison, RFC 9110 13.1.1), nor does
    a tag this service did not make; both leave the set empty, and the change fails with 412.
    """
    if header is None:
        return None
    if _IF_MATCH.match(header) is None:
        raise RequestValidationError(
            [
                {
                    "loc": ("header", "if-match"),
                    "msg": 'expected *, or entity tags such as "3" separated by commas',
                    "type": "value_error",
                }
            ]
        )
    if header.strip() == "*":
        return None
    return frozenset(
        int(opaque) for weak, opaque in _TAG.findall(header) if not weak and _VERSION.match(opaque)
    )
