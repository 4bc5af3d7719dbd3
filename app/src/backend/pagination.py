"""Opaque keyset cursors over (created_at, id): stable under inserts, no OFFSET scans."""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime


class InvalidCursor(ValueError):
    """The cursor was not made by this service."""


@dataclass(frozen=True)
class Cursor:
    """The position after the last note of a page."""

    created_at: datetime
    id: uuid.UUID

    def encode(self) -> str:
        raw = json.dumps(
            {"t": self.created_at.isoformat(), "i": self.id.hex}, separators=(",", ":")
        )
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, token: str) -> Cursor:
        try:
            padded = token + "=" * (-len(token) % 4)
            data = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
            created_at = datetime.fromisoformat(data["t"])
            note_id = uuid.UUID(hex=data["i"])
            if created_at.tzinfo is None:
                raise ValueError("naive timestamp")
            # Compare in UTC; an offset at the edge of the datetime range overflows here.
            created_at = created_at.astimezone(UTC)
        except (ValueError, TypeError, KeyError, AttributeError, OverflowError, binascii.Error):
            raise InvalidCursor("is not a cursor returned by this API") from None
        return cls(created_at, note_id)
