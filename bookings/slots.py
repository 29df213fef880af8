"""One slot, room × date × time band, as search offers it and apply books it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from models import errors

# Ids in URLs are integers the database can hold; anything larger is forged.
MAX_ID = 2**31 - 1


@dataclass(frozen=True, order=True)
class SlotRef:
    """One chosen slot: room × date × time band, written `room:YYYY-MM-DD:band` in URLs."""

    room_id: int
    use_date: date
    time_band_id: int

    @classmethod
    def parse(cls, text: str) -> SlotRef:
        try:
            room, day, band = text.split(":")
            ref = cls(int(room), date.fromisoformat(day), int(band))
        except (ValueError, TypeError, AttributeError):
            raise errors.NotFound(slot=text) from None
        if not (1 <= ref.room_id <= MAX_ID and 1 <= ref.time_band_id <= MAX_ID):
            raise errors.NotFound(slot=text)
        return ref

    def __str__(self) -> str:
        return f"{self.room_id}:{self.use_date.isoformat()}:{self.time_band_id}"
