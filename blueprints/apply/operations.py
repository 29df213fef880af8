"""Applying for slots (先着申込): what the resident chose and what it costs, then the 仮予約
created under the write lock."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time

from sqlalchemy import select, tuple_
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from bookings.answers import RoomAnswers
from bookings.chosen import (
    AnyRoom,
    BandRow,
    ChosenSlots,
    FacilityRow,
    RoomRow,
    band_of,
    check_room_answers,
    closing_days,
    display_order,
    fee_rates,
    first_come_windows,
    room_rows,
    slot_fee,
)
from bookings.chosen import quote_fees as quote_fees
from bookings.slots import MAX_ID, SlotRef, slot_holdings
from models import errors
from models.account import Resident, ResidentGroupClass
from models.availability_rules import SlotStatus, booking_window_rule, is_closed_day_rule, slot_status_rule
from models.availability_version import bump_availability
from models.counters import reserve_values
from models.db import violated_constraint
from models.facility import Room
from models.numbering_rules import reservation_counter_key, reservation_number
from models.reservation import Application, Reservation
from models.reservation_rules import ACTIVE_STATES, ReservationState
from models.signed_in import SignedInHeldClass, SignedInResident
from models.time_rules import jst_day, jst_moment

# The one constraint whose refusal means "another group took the slot" (models.reservation).
ACTIVE_SLOT_CONSTRAINT = "uq_reservations_active_slot"


class SlotProblem(str, enum.Enum):
    """Why a chosen slot cannot be applied for now, in the order apply_for_slots checks."""

    NOT_BOOKABLE = "not_bookable"  # 休館日, 申込期間外, or already started
    REBOOKING_BLOCKED = "rebooking_blocked"  # 再予約不可
    TAKEN = "taken"  # another group holds it
    ALREADY_BOOKED = "already_booked"  # this group holds it already (applied in another tab, or Back)


@dataclass(frozen=True)
class SlotLine:
    """A chosen slot with the room and band it names, for display."""

    slot: SlotRef
    room: RoomRow
    band: BandRow

    @property
    def facility(self) -> FacilityRow:
        return self.room.facility


@dataclass
class Selection(ChosenSlots[SlotLine]):
    """What the resident chose, checked against today's availability: `lines` can be applied
    for, `refused` says why the others cannot."""

    resident: Resident | SignedInResident
    group_classes: list[ResidentGroupClass] | list[SignedInHeldClass]  # the 団体区分 valid today
    lines: list[SlotLine]
    refused: dict[SlotProblem, list[SlotLine]] = field(default_factory=dict)
    # Each chosen slot's status as read (at the `now` given to prepare_selection).
    statuses: dict[SlotRef, SlotStatus] = field(default_factory=dict)

    @property
    def chosen(self) -> list[SlotLine]:
        """Every slot the resident chose, refused ones included, in display order."""
        return sorted(super().chosen, key=display_order)


def _applicant(
    session: Session, resident_id: int, registration: SignedInResident | None, *, options=()
) -> Resident | SignedInResident:
    """The applicant with its 団体区分: the request's signed-in registration when given (it
    is `resident_id`'s), otherwise read from `session` (with these loader `options`);
    NotFound when there is none."""
    if registration is not None and registration.id == resident_id:
        return registration
    resident = session.get(Resident, resident_id, options=list(options))
    if resident is None:
        raise errors.NotFound(resident=resident_id)
    return resident


def check_applicant(resident: Resident | SignedInResident, group_class_id: int, today: date):
    """The resident may apply with this 団体区分 today, or the matching error is raised."""
    if resident.registration_expired(today):
        raise errors.RegistrationExpired(expires_on=resident.registration_expires_on)
    held = next((gc for gc in resident.group_classes if gc.group_class_id == group_class_id), None)
    if held is None:
        raise errors.NotFound(group_class=group_class_id)
    if held.expired(today):
        raise errors.GroupClassExpired(expires_on=held.expires_on)
    return held


def valid_group_classes(
    resident: Resident | SignedInResident, today: date
) -> list[ResidentGroupClass] | list[SignedInHeldClass]:
    """The 団体区分 the resident may apply with today; none valid raises GroupClassExpired."""
    if resident.registration_expired(today):
        raise errors.RegistrationExpired(expires_on=resident.registration_expires_on)
    valid = resident.valid_group_classes(today)
    if not valid:
        if not resident.group_classes:
            raise errors.NotFound(group_class=None)
        raise errors.GroupClassExpired(expires_on=max(gc.expires_on for gc in resident.group_classes))
    return valid


def slot_statuses(
    session: Session,
    slots: list[SlotRef],
    *,
    resident_id: int | None,
    now: datetime,
    days_ahead: int,
    rooms: Mapping[int, AnyRoom] | None = None,
    taken: set[SlotRef] | None = None,
) -> dict[SlotRef, SlotStatus]:
    """The status of each chosen slot as of `now` (unknown rooms or bands raise NotFound).
    `rooms` (from room_rows) and `taken` (the slots held by anyone) when the caller has
    read them already."""
    if rooms is None:
        rooms = room_rows(session, {s.room_id for s in slots}, days={s.use_date for s in slots})
    window = booking_window_rule(jst_day(now), days_ahead)
    # A lottery room's month is first come only from 一般空き申込 on (DESIGN "Lottery"); a room
    # never drawn by lottery (RoomRow.in_lottery, read with the room) has no such month.
    lottery_windows = first_come_windows(
        session, [s for s in slots if getattr(rooms.get(s.room_id), "in_lottery", True)], now=now
    )
    if taken is None:
        taken = taken_slots(session, slots)
    bands = {slot: band_of(rooms.get(slot.room_id), slot) for slot in slots}
    closing = _closing_as_read(rooms, slots)
    if closing is None:
        closing = closing_days(session, {rooms[s.room_id].facility_id for s in slots}, {s.use_date for s in slots})
    result = {}
    for slot in slots:
        facility = rooms[slot.room_id].facility
        result[slot] = slot_status_rule(
            day=slot.use_date,
            window=lottery_windows.get(slot, window),
            closed=is_closed_day_rule(slot.use_date, facility.closed_weekday_set, closing[facility.id]),
            taken=slot in taken,
            starts_at=jst_moment(slot.use_date, bands[slot].starts_at),
            now=now,
        )
    return result


def _closing_as_read(rooms: Mapping[int, AnyRoom], slots: list[SlotRef]) -> dict[int, frozenset[date]] | None:
    """The facilities' 休館日 among the slots' days as room_rows read them with the rooms, or
    None when it was not asked about every one of those days (closing_days reads them then)."""
    closing: dict[int, frozenset[date]] = {}
    for slot in slots:
        facility = rooms[slot.room_id].facility
        if slot.use_date not in getattr(facility, "days_read", ()):
            return None
        closing[facility.id] = getattr(facility, "closed_among", frozenset())
    return closing


# The applicant with its 団体区分, read when the request's signed-in registration is not
# given (the options built once).
_RESIDENT_CLASSES = [selectinload(Resident.group_classes).selectinload(ResidentGroupClass.group_class)]


def prepare_selection(
    session: Session,
    slots: list[SlotRef],
    *,
    resident_id: int,
    now: datetime,
    days_ahead: int,
    registration: SignedInResident | None = None,
) -> Selection:
    """Load the chosen slots for 詳細申請 and 申込確認 and sort out those that cannot be
    applied for. Refuses the whole selection (raises) when it is empty, names an unknown
    room or band, or when the resident may not apply here (registration kind, 団体区分).
    `registration`: the resident's registration with its 団体区分 as the request's login
    read it (models/signed_in.py), not read again."""
    slots = sorted(set(slots))
    if not slots:
        raise errors.EmptySelection()
    resident = _applicant(session, resident_id, registration, options=_RESIDENT_CLASSES)
    rooms = room_rows(session, {s.room_id for s in slots}, days={s.use_date for s in slots})
    lines = []
    for slot in slots:
        room = rooms.get(slot.room_id)
        if room is None:
            raise errors.NotFound(room=slot.room_id)
        lines.append(SlotLine(slot, room, band_of(room, slot)))  # an unknown band: NotFound
    for room in rooms.values():
        if room.facility.category.registration_kind != resident.registration_kind:
            raise errors.WrongRegistrationKind(room=room.id)
    group_classes = valid_group_classes(resident, jst_day(now))

    holdings = slot_holdings(session, resident_id, slots)
    holders, blocked = holdings.holders, holdings.cancelled
    statuses = slot_statuses(
        session, slots, resident_id=resident_id, now=now, days_ahead=days_ahead, rooms=rooms, taken=set(holders)
    )
    selection = Selection(resident=resident, group_classes=group_classes, lines=[], statuses=statuses)
    for line in sorted(lines, key=display_order):
        status = statuses[line.slot]
        if status in (SlotStatus.CLOSED, SlotStatus.OUT_OF_WINDOW):
            selection.refused.setdefault(SlotProblem.NOT_BOOKABLE, []).append(line)
        elif line.slot in blocked:
            selection.refused.setdefault(SlotProblem.REBOOKING_BLOCKED, []).append(line)
        elif status is SlotStatus.TAKEN:
            problem = SlotProblem.ALREADY_BOOKED if holders.get(line.slot) == resident_id else SlotProblem.TAKEN
            selection.refused.setdefault(problem, []).append(line)
        else:
            selection.lines.append(line)
    return selection


@dataclass(frozen=True)
class PlannedBooking:
    """One 仮予約 as 申込 will write it: the slot, its band's hours, the answers and the fee."""

    slot: SlotRef
    starts_at: time
    ends_at: time
    answer: RoomAnswers
    facility_fee_yen: int


@dataclass(frozen=True)
class ApplicationPlan:
    """What 申込 writes, worked out from the catalogue (the applicant, rooms, bands, closing
    days, windows, fees) before the write transaction; plain values, so that it can be read
    in one session and written in another. What other applications change — who holds a
    slot, 再予約不可 — is checked by book_application under the write lock."""

    resident_id: int
    group_class_id: int
    room_ids: list[int]
    facility_ids: list[int]
    bookings: list[PlannedBooking]  # in the order their 予約番号 are issued: by date and time

    @property
    def slots(self) -> list[SlotRef]:
        return sorted(b.slot for b in self.bookings)


def plan_application(
    session: Session,
    *,
    resident_id: int,
    slots: list[SlotRef],
    answers: Mapping[int, RoomAnswers],
    group_class_id: int,
    now: datetime,
    days_ahead: int,
    rooms: Mapping[int, AnyRoom] | None = None,
    statuses: Mapping[SlotRef, SlotStatus] | None = None,
    registration: SignedInResident | None = None,
) -> ApplicationPlan:
    """The checks of 申込 that read only the catalogue and the applicant, in apply_for_slots'
    order (applicant, rooms and answers, bands, closed or outside the window), and the fee
    of each slot. `rooms` (room_rows), the slots' `statuses` at this `now`
    (prepare_selection) and the applicant's `registration` (as the request's login read it)
    when the caller has read them already."""
    if not slots:
        raise errors.EmptySelection()
    slots = sorted(set(slots))
    resident = _applicant(session, resident_id, registration)
    held_class = check_applicant(resident, group_class_id, jst_day(now))
    room_ids = sorted({s.room_id for s in slots})
    if rooms is None or not set(room_ids) <= set(rooms):
        rooms = room_rows(session, room_ids, days={s.use_date for s in slots})
    for room_id in room_ids:
        room = rooms.get(room_id)
        if room is None:
            raise errors.NotFound(room=room_id)
        check_room_answers(room, answers.get(room_id), resident.registration_kind)
    if statuses is None or not set(slots) <= set(statuses):
        statuses = slot_statuses(
            session, slots, resident_id=resident_id, now=now, days_ahead=days_ahead, rooms=rooms, taken=set()
        )
    unbookable = [s for s in slots if statuses[s] in (SlotStatus.CLOSED, SlotStatus.OUT_OF_WINDOW)]
    if unbookable:
        raise errors.SlotNotBookable(slots=unbookable)
    rates = fee_rates(session, room_ids)
    bookings = []
    for slot in slots:
        band = band_of(rooms[slot.room_id], slot)
        answer = answers[slot.room_id]
        fee = slot_fee(rates, slot, held_class.group_class.code, answer.charges_participation_fee)
        bookings.append(PlannedBooking(slot, band.starts_at, band.ends_at, answer, fee))
    # Numbers follow the order residents read them in: by date and time.
    bookings.sort(key=lambda b: (b.slot.use_date, b.starts_at, b.slot.room_id))
    return ApplicationPlan(
        resident_id=resident_id,
        group_class_id=group_class_id,
        room_ids=room_ids,
        facility_ids=sorted({rooms[room_id].facility_id for room_id in room_ids}),
        bookings=bookings,
    )


def book_application(session: Session, plan: ApplicationPlan, *, now: datetime) -> Application:
    """Create the planned 仮予約, all or nothing, inside the caller's write transaction:
    applications for the same rooms serialised (their rows locked on PostgreSQL; SQLite's
    write lock serialises every write), 再予約不可 and taken slots refused, the 予約番号
    issued, the rows written and the facilities' availability version bumped — nothing
    else is read here. The unique index on active slots is the backstop."""
    slots = plan.slots
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(Room.id).where(Room.id.in_(plan.room_ids)).order_by(Room.id).with_for_update()).all()
    holdings = slot_holdings(session, plan.resident_id, slots)
    if holdings.cancelled:
        raise errors.RebookingBlocked(slots=sorted(holdings.cancelled))
    if holdings.holders:
        raise errors.SlotTaken(slots=sorted(holdings.holders))
    applied_on = jst_day(now)
    try:
        # A savepoint, so that if the unique index refuses (a concurrent writer slipped past
        # the lock) we can still ask which slots were taken.
        with session.begin_nested():
            values = reserve_values(session, reservation_counter_key(applied_on), len(plan.bookings))
            application = Application(
                resident_id=plan.resident_id,
                created_at=now,
                reservations=[
                    Reservation(
                        number=reservation_number(applied_on, value),
                        resident_id=plan.resident_id,
                        room_id=b.slot.room_id,
                        time_band_id=b.slot.time_band_id,
                        use_date=b.slot.use_date,
                        starts_at=b.starts_at,
                        ends_at=b.ends_at,
                        state=ReservationState.PROVISIONAL,
                        purpose_id=b.answer.purpose_id,
                        attendees=b.answer.attendees,
                        charges_participation_fee=b.answer.charges_participation_fee,
                        group_class_id=plan.group_class_id,
                        facility_fee_yen=b.facility_fee_yen,
                        applied_at=now,
                    )
                    for b, value in zip(plan.bookings, values, strict=True)
                ],
            )
            session.add(application)
            session.flush()
    except IntegrityError as exc:
        # Only the active-slot index means taken; any other refusal (a counter or an id
        # sequence out of step) is a fault of ours, not the resident's: it goes up to be
        # logged and shown as a fault with its reference number.
        if violated_constraint(exc) != ACTIVE_SLOT_CONSTRAINT:
            raise
        raise errors.SlotTaken(slots=sorted(taken_slots(session, slots)) or slots) from None
    bump_availability(session, facility_ids=plan.facility_ids)
    return application


def apply_for_slots(
    session: Session,
    *,
    resident_id: int,
    slots: list[SlotRef],
    answers: Mapping[int, RoomAnswers],
    group_class_id: int,
    now: datetime,
    days_ahead: int,
) -> Application:
    """Create one 仮予約 per slot, all or nothing, in this session's transaction (the plan
    and the booking in one). Raises the first rule that refuses."""
    plan = plan_application(
        session,
        resident_id=resident_id,
        slots=slots,
        answers=answers,
        group_class_id=group_class_id,
        now=now,
        days_ahead=days_ahead,
    )
    return book_application(session, plan, now=now)


def load_application(session: Session, application_id: int, *, resident_id: int) -> Application:
    """One of the resident's applications with everything 申込完了 shows; another
    resident's, or an unknown id, is NotFound."""
    if not 1 <= application_id <= MAX_ID:
        raise errors.NotFound(application=application_id)
    application = session.scalar(
        select(Application)
        .where(Application.id == application_id)
        .options(
            selectinload(Application.reservations).selectinload(Reservation.room).selectinload(Room.facility),
            selectinload(Application.reservations).selectinload(Reservation.purpose),
            selectinload(Application.reservations).selectinload(Reservation.counter_payments),
            selectinload(Application.reservations).selectinload(Reservation.card_charges),
        )
    )
    if application is None or application.resident_id != resident_id:
        raise errors.NotFound(application=application_id)
    return application


def taken_slots(session: Session, slots: list[SlotRef]) -> set[SlotRef]:
    """The slots among `slots` that some group holds (an active booking)."""
    keys = [(s.room_id, s.use_date, s.time_band_id) for s in slots]
    rows = session.execute(
        select(Reservation.room_id, Reservation.use_date, Reservation.time_band_id).where(
            tuple_(Reservation.room_id, Reservation.use_date, Reservation.time_band_id).in_(keys),
            Reservation.state.in_(ACTIVE_STATES),
        )
    ).all()
    return {SlotRef(*row) for row in rows}
