"""One slot, room × date × time band, as search offers it and apply books it."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from sqlalchemy import bindparam, select, tuple_
from sqlalchemy.orm import Session

from models import errors
from models.reservation import Reservation
from models.reservation_rules import ACTIVE_STATES, ReservationState

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


def _cancelled_by(resident_id: int):
    return (Reservation.resident_id == resident_id) & (Reservation.state == ReservationState.CANCELLED)


def cancelled_by(session: Session, resident_id: int, slots: Iterable[SlotRef]) -> set[SlotRef]:
    """再予約不可 (DESIGN rule 5): the slots among `slots` this group cancelled (or let
    expire) before. apply refuses them; the grids show them as 再予約不可 (issue 11)."""
    keys = [(s.room_id, s.use_date, s.time_band_id) for s in slots]
    if not keys:
        return set()
    rows = session.execute(
        select(Reservation.room_id, Reservation.use_date, Reservation.time_band_id).where(
            tuple_(Reservation.room_id, Reservation.use_date, Reservation.time_band_id).in_(keys),
            _cancelled_by(resident_id),
        )
    ).all()
    return {SlotRef(*row) for row in rows}


# Built once (each request binds its values): building the select and its cache key on
# every request cost more than running it (施設別空き状況 asks on every logged-in view).
_CANCELLED_WITHIN = select(Reservation.room_id, Reservation.use_date, Reservation.time_band_id).where(
    Reservation.room_id.in_(bindparam("rooms", expanding=True)),
    Reservation.use_date.between(bindparam("first"), bindparam("last")),
    Reservation.resident_id == bindparam("resident"),
    Reservation.state == ReservationState.CANCELLED,
)


def cancelled_within(session: Session, resident_id: int, room_ids: list[int], first: date, last: date) -> set[SlotRef]:
    """The same as cancelled_by for every slot of some rooms over a period (施設別空き状況's
    再予約不可 for the group looking at it): one statement of columns, on the session's
    connection (no ORM work)."""
    if not room_ids:
        return set()
    rows = session.connection().execute(
        _CANCELLED_WITHIN, {"rooms": room_ids, "first": first, "last": last, "resident": resident_id}
    )
    return {SlotRef(*row) for row in rows}


@dataclass(frozen=True)
class SlotHoldings:
    """Who holds each of some slots (an active booking), and which of them a group cancelled
    before (再予約不可, as cancelled_by reads it)."""

    holders: dict[SlotRef, int]
    cancelled: set[SlotRef]


# Built once, like _CANCELLED_WITHIN; run on the session's connection (no ORM work).
_HOLDINGS = select(
    Reservation.room_id,
    Reservation.use_date,
    Reservation.time_band_id,
    Reservation.resident_id,
    Reservation.state,
).where(
    tuple_(Reservation.room_id, Reservation.use_date, Reservation.time_band_id).in_(bindparam("keys", expanding=True)),
    Reservation.state.in_(sorted(ACTIVE_STATES))
    | ((Reservation.resident_id == bindparam("resident")) & (Reservation.state == ReservationState.CANCELLED)),
)


def slot_holdings(session: Session, resident_id: int, slots: Iterable[SlotRef]) -> SlotHoldings:
    """The holders of `slots` and those of them this group cancelled before, in one read
    (申込確認 and 申込 ask both at once)."""
    keys = [(s.room_id, s.use_date, s.time_band_id) for s in slots]
    holdings = SlotHoldings({}, set())
    if not keys:
        return holdings
    rows = session.connection().execute(_HOLDINGS, {"keys": keys, "resident": resident_id})
    for room, day, band, holder, state in rows:
        slot = SlotRef(room, day, band)
        if state is ReservationState.CANCELLED:
            holdings.cancelled.add(slot)
        else:
            holdings.holders[slot] = holder
    return holdings
