"""Applying for slots (先着申込): checks every rule, then creates 仮予約 under the write lock."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select, tuple_
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from models import errors
from models.account import Resident
from models.availability_rules import SlotStatus, booking_window_rule, is_closed_day_rule, slot_status_rule
from models.counters import next_value
from models.facility import FeeRate, Room, TimeBand
from models.fee_rules import FeeQuery, slot_fee_rule
from models.numbering_rules import reservation_counter_key, reservation_number
from models.reservation import Application, Reservation
from models.reservation_rules import ACTIVE_STATES, ReservationState
from models.time_rules import jst_day, jst_moment


@dataclass(frozen=True, order=True)
class SlotRef:
    """One chosen slot: room × date × time band, written `room:YYYY-MM-DD:band` in URLs."""

    room_id: int
    use_date: date
    time_band_id: int

    @classmethod
    def parse(cls, text: str) -> "SlotRef":
        try:
            room, day, band = text.split(":")
            return cls(int(room), date.fromisoformat(day), int(band))
        except (ValueError, TypeError):
            raise errors.NotFound(slot=text) from None

    def __str__(self) -> str:
        return f"{self.room_id}:{self.use_date.isoformat()}:{self.time_band_id}"


@dataclass(frozen=True)
class RoomAnswers:
    """詳細申請 for one room: 利用目的, 利用人数, 参加費等の有無."""

    purpose_id: int
    attendees: int
    charges_participation_fee: bool


def check_applicant(resident: Resident, group_class_id: int, today: date):
    """The resident may apply with this 団体区分 today, or the matching error is raised."""
    if resident.registration_expired(today):
        raise errors.RegistrationExpired(expires_on=resident.registration_expires_on)
    held = next((gc for gc in resident.group_classes if gc.group_class_id == group_class_id), None)
    if held is None:
        raise errors.NotFound(group_class=group_class_id)
    if held.expired(today):
        raise errors.GroupClassExpired(expires_on=held.expires_on)
    return held


def slot_statuses(
    session: Session, slots: list[SlotRef], *, resident_id: int | None, now: datetime, days_ahead: int
) -> dict[SlotRef, SlotStatus]:
    """The status of each chosen slot as of `now` (unknown rooms or bands raise NotFound)."""
    rooms = _rooms_by_id(session, {s.room_id for s in slots})
    window = booking_window_rule(jst_day(now), days_ahead)
    taken = _taken(session, slots)
    result = {}
    for slot in slots:
        room = rooms.get(slot.room_id)
        band = _band(room, slot)
        facility = room.facility
        closed = is_closed_day_rule(slot.use_date, facility.closed_weekday_set, frozenset(c.day for c in facility.closed_dates))
        result[slot] = slot_status_rule(
            day=slot.use_date,
            window=window,
            closed=closed,
            taken=slot in taken,
            starts_at=jst_moment(slot.use_date, band.starts_at),
            now=now,
        )
    return result


def apply_for_slots(
    session: Session,
    *,
    resident_id: int,
    slots: list[SlotRef],
    answers: dict[int, RoomAnswers],
    group_class_id: int,
    now: datetime,
    days_ahead: int,
) -> Application:
    """Create one 仮予約 per slot, all or nothing. Raises the first rule that refuses."""
    if not slots:
        raise errors.EmptySelection()
    slots = sorted(set(slots))
    resident = session.get(Resident, resident_id)
    if resident is None:
        raise errors.NotFound(resident=resident_id)
    held_class = check_applicant(resident, group_class_id, jst_day(now))

    # Serialise applications for the same rooms (PostgreSQL; SQLite holds the DB lock).
    room_ids = sorted({s.room_id for s in slots})
    session.execute(select(Room.id).where(Room.id.in_(room_ids)).order_by(Room.id).with_for_update()).all()
    rooms = _rooms_by_id(session, set(room_ids))

    for room_id in room_ids:
        room = rooms.get(room_id)
        if room is None:
            raise errors.NotFound(room=room_id)
        if room.facility.category.registration_kind != resident.registration_kind:
            raise errors.WrongRegistrationKind(room=room_id)
        answer = answers.get(room_id)
        if answer is None:
            raise errors.EmptySelection(room=room_id)
        if answer.purpose_id not in {p.id for p in room.purposes}:
            raise errors.PurposeNotAllowed(room=room_id)
        if not 1 <= answer.attendees <= room.capacity:
            raise errors.AttendeesOutOfRange(room=room_id, capacity=room.capacity)

    statuses = slot_statuses(session, slots, resident_id=resident_id, now=now, days_ahead=days_ahead)
    unbookable = [s for s, st in statuses.items() if st in (SlotStatus.CLOSED, SlotStatus.OUT_OF_WINDOW)]
    if unbookable:
        raise errors.SlotNotBookable(slots=unbookable)
    blocked = _cancelled_by(session, resident_id, slots)
    if blocked:
        raise errors.RebookingBlocked(slots=sorted(blocked))
    taken = [s for s, st in statuses.items() if st is SlotStatus.TAKEN]
    if taken:
        raise errors.SlotTaken(slots=taken)

    rates = session.scalars(select(FeeRate).where(FeeRate.room_id.in_(room_ids))).all()
    application = Application(resident_id=resident_id, created_at=now)
    session.add(application)
    applied_on = jst_day(now)
    for slot in slots:
        room = rooms[slot.room_id]
        band = _band(room, slot)
        answer = answers[slot.room_id]
        fee = slot_fee_rule(
            rates,
            FeeQuery(
                room_id=room.id,
                time_band_id=band.id,
                use_date=slot.use_date,
                group_class_code=held_class.group_class.code,
                charges_participation_fee=answer.charges_participation_fee,
            ),
        )
        number = reservation_number(applied_on, next_value(session, reservation_counter_key(applied_on)))
        application.reservations.append(
            Reservation(
                number=number,
                resident_id=resident_id,
                room_id=room.id,
                time_band_id=band.id,
                use_date=slot.use_date,
                starts_at=band.starts_at,
                ends_at=band.ends_at,
                state=ReservationState.PROVISIONAL,
                purpose_id=answer.purpose_id,
                attendees=answer.attendees,
                charges_participation_fee=answer.charges_participation_fee,
                group_class_id=group_class_id,
                facility_fee_yen=fee,
                applied_at=now,
            )
        )
    try:
        session.flush()
    except IntegrityError:
        # The unique index is the backstop if a concurrent writer slipped past the lock.
        raise errors.SlotTaken(slots=slots) from None
    return application


def _rooms_by_id(session: Session, ids: set[int]) -> dict[int, Room]:
    rooms = session.scalars(
        select(Room)
        .where(Room.id.in_(ids))
        .options(selectinload(Room.time_bands), selectinload(Room.purposes), selectinload(Room.facility))
    ).all()
    return {r.id: r for r in rooms}


def _band(room: Room | None, slot: SlotRef) -> TimeBand:
    if room is None:
        raise errors.NotFound(room=slot.room_id)
    band = next((b for b in room.time_bands if b.id == slot.time_band_id), None)
    if band is None:
        raise errors.NotFound(band=slot.time_band_id)
    return band


def _taken(session: Session, slots: list[SlotRef]) -> set[SlotRef]:
    keys = [(s.room_id, s.use_date, s.time_band_id) for s in slots]
    rows = session.execute(
        select(Reservation.room_id, Reservation.use_date, Reservation.time_band_id).where(
            tuple_(Reservation.room_id, Reservation.use_date, Reservation.time_band_id).in_(keys),
            Reservation.state.in_(ACTIVE_STATES),
        )
    ).all()
    return {SlotRef(*row) for row in rows}


def _cancelled_by(session: Session, resident_id: int, slots: list[SlotRef]) -> set[SlotRef]:
    """再予約不可 (DESIGN rule 5): slots this group cancelled (or let expire) before."""
    keys = [(s.room_id, s.use_date, s.time_band_id) for s in slots]
    rows = session.execute(
        select(Reservation.room_id, Reservation.use_date, Reservation.time_band_id).where(
            tuple_(Reservation.room_id, Reservation.use_date, Reservation.time_band_id).in_(keys),
            Reservation.resident_id == resident_id,
            Reservation.state == ReservationState.CANCELLED,
        )
    ).all()
    return {SlotRef(*row) for row in rows}
