"""The draw (DESIGN "Lottery": Draw, checkable; Notices): one transaction per use month under
the month's row lock, so that a month is drawn once and never half; every entry 当選 or 落選;
each 当選 a booking with a 予約番号, payable by the deadline counted from the announced result
date; the document that lets anyone recompute it; one notice per group. Bulk reads, the order
in Python, bulk writes: tens of thousands of entries in seconds."""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import cast

from sqlalchemy import Table, bindparam, func, insert, select, update
from sqlalchemy.orm import Session, selectinload

from lottery.calendar import ensure_coming_months, load_month, record_audit
from lottery.schedule import SlotKey, slot_text
from mail.compose import CallCentre, LotteryResultFacts, LotteryResultLine, lottery_result_mail
from mail.outbox import queue_notices
from models import errors
from models.account import GroupClass, Resident, ResidentGroupClass
from models.availability_rules import is_closed_day_rule
from models.availability_version import bump_availability
from models.counters import reserve_values
from models.db import Database
from models.deadline_rules import payment_deadline_day
from models.facility import ClosedDate, FeeRate, Room
from models.fee_rules import FeeQuery, slot_fee_rule
from models.lottery import LotteryApplication, LotteryEntry, LotteryMonth
from models.lottery_rules import (
    DrawEntry,
    HeldClass,
    LostReason,
    Verification,
    allowance_rule,
    draw_rule,
    is_registered_group_rule,
    month_end,
    month_label,
    opaque_group_id,
    publication_rule,
    verify_publication,
)
from models.numbering_rules import reservation_counter_key, reservation_number
from models.reservation import Reservation
from models.reservation_rules import ACTIVE_STATES, Action, ReservationState, next_state
from models.time_rules import jst_day, jst_moment

log = logging.getLogger("lottery")

CentreFor = Callable[[str], CallCentre]


@dataclass(frozen=True)
class DrawOutcome:
    """What a draw did; `already_drawn` when the month had been drawn before (nothing changed)."""

    use_month: date
    already_drawn: bool
    drawn_at: datetime
    entries: int = 0
    won: int = 0
    lost: int = 0
    notices: int = 0

    def describe(self) -> str:
        month = month_label(self.use_month)
        if self.already_drawn:
            return f"{month}: drawn already at {self.drawn_at.isoformat()}; nothing changed"
        return (
            f"{month}: drawn, {self.entries} entries: {self.won} won, {self.lost} lost; {self.notices} groups notified"
        )


@dataclass(frozen=True)
class _Entry:
    """An entry as the draw reads it (plain values, not ORM objects: there may be many)."""

    id: int
    public_id: str
    resident_id: int
    room_id: int
    use_date: date
    time_band_id: int
    starts_at: time
    ends_at: time
    purpose_id: int
    attendees: int
    charges_participation_fee: bool
    created_at: datetime
    version: int
    application_number: str
    group_class_id: int

    @property
    def key(self) -> SlotKey:
        return (self.room_id, self.use_date, self.time_band_id)


def draw_month(
    session: Session, *, use_month: date, now: datetime, centre: CentreFor, operator: str = "worker"
) -> DrawOutcome:
    """Draw one use month in the caller's transaction (commit it, or roll it all back). The
    month's row is locked first (SELECT … FOR UPDATE on PostgreSQL; SQLite's BEGIN IMMEDIATE
    holds the database), so a second draw waits, then finds the month drawn and changes
    nothing. Raises LotteryMonthUnknown, or DrawNotDue before the result date."""
    month = load_month(session, use_month, lock=True)
    if month.drawn_at is not None:
        return DrawOutcome(month.use_month, already_drawn=True, drawn_at=month.drawn_at)
    if now < month.result_at:
        raise errors.DrawNotDue(month=month.use_month, result_at=month.result_at)

    entries = _open_entries(session, month)
    result_day = jst_day(month.result_at)
    residents = _residents(session, {e.resident_id for e in entries})
    held = _held_classes(session, {e.resident_id for e in entries})
    active = _active_bookings(session, month)
    unavailable = _unavailable_slots(session, month, entries, now)

    group_key, caps = month.group_key, month.caps
    groups = {rid: opaque_group_id(group_key, rid) for rid in residents}
    draw_entries = []
    for e in entries:
        resident = residents[e.resident_id]
        eligible = is_registered_group_rule(
            registration_expires_on=resident.registration_expires_on,
            held=held.get((e.resident_id, e.group_class_id)),
            on_day=result_day,
            use_date=e.use_date,
        )
        draw_entries.append(DrawEntry(e.public_id, slot_text(e.key), groups[e.resident_id], eligible))
    eligible_groups = {d.group for d in draw_entries if d.eligible}
    allowances = {
        groups[rid]: allowance_rule(
            caps=caps, active_bookings=active.get(rid, 0), eligible=groups[rid] in eligible_groups
        )
        for rid in residents
    }
    unavailable_texts = {slot_text(k) for k in unavailable}
    results = draw_rule(month.seed, draw_entries, allowances, unavailable_texts)

    by_public = {e.public_id: e for e in entries}
    winners = sorted(
        (by_public[p] for p, r in results.items() if r.won), key=lambda e: (e.use_date, e.starts_at, e.room_id)
    )
    bookings = _book_winners(session, month, winners)

    _record_results(session, entries, results, bookings, now)

    rooms = _rooms(session, {e.room_id for e in entries})
    document = publication_rule(
        use_month=month.use_month,
        result_at=month.result_at,
        drawn_at=now,
        seed=month.seed,
        caps=month.caps,
        entries=draw_entries,
        allowances=allowances,
        unavailable_slots=unavailable_texts,
        results=results,
        slots={slot_text(k): _describe_slot(rooms[e.room_id], e) for k, e in {e.key: e for e in entries}.items()},
    )
    month.publication = json.dumps(document, ensure_ascii=False)
    month.drawn_at = now
    month.version += 1

    notices = _queue_results(session, month, entries, results, bookings, residents, rooms, centre, now)
    won = len(winners)
    record_audit(
        session,
        now=now,
        operator=operator,
        action="draw",
        month=month,
        details={"entries": len(entries), "won": won, "lost": len(entries) - won, "seed_sha256": month.seed_sha256},
    )
    session.flush()
    bump_availability(session, room_ids={r.room_id for r in month.rooms} | {e.room_id for e in entries})
    return DrawOutcome(month.use_month, False, now, len(entries), won, len(entries) - won, notices)


def _open_entries(session: Session, month: LotteryMonth) -> list[_Entry]:
    rows = session.execute(
        select(
            LotteryEntry.id,
            LotteryEntry.public_id,
            LotteryEntry.resident_id,
            LotteryEntry.room_id,
            LotteryEntry.use_date,
            LotteryEntry.time_band_id,
            LotteryEntry.starts_at,
            LotteryEntry.ends_at,
            LotteryEntry.purpose_id,
            LotteryEntry.attendees,
            LotteryEntry.charges_participation_fee,
            LotteryEntry.created_at,
            LotteryEntry.version,
            LotteryApplication.number.label("application_number"),
            LotteryApplication.group_class_id,
        )
        .join(LotteryApplication, LotteryApplication.id == LotteryEntry.application_id)
        .where(LotteryEntry.lottery_month_id == month.id, LotteryEntry.state == ReservationState.LOTTERY_ENTRY)
        .order_by(LotteryEntry.id)
    ).all()
    return [_Entry(**row._mapping) for row in rows]


def _chunks(values: Iterable, size: int = 900):
    values = sorted(values)
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _residents(session: Session, ids: set[int]) -> dict[int, Resident]:
    found = {}
    for chunk in _chunks(ids):
        found.update({r.id: r for r in session.scalars(select(Resident).where(Resident.id.in_(chunk)))})
    return found


def _held_classes(session: Session, resident_ids: set[int]) -> dict[tuple[int, int], HeldClass]:
    held = {}
    for chunk in _chunks(resident_ids):
        rows = session.execute(
            select(
                ResidentGroupClass.resident_id,
                ResidentGroupClass.group_class_id,
                ResidentGroupClass.expires_on,
                GroupClass.is_social_education,
            )
            .join(GroupClass, GroupClass.id == ResidentGroupClass.group_class_id)
            .where(ResidentGroupClass.resident_id.in_(chunk))
        ).all()
        held.update({(rid, gcid): HeldClass(social, expires) for rid, gcid, expires, social in rows})
    return held


def _active_bookings(session: Session, month: LotteryMonth) -> dict[int, int]:
    """Every group's active bookings in the month (one grouped query)."""
    rows = session.execute(
        select(Reservation.resident_id, func.count())
        .where(
            Reservation.use_date.between(month.use_month, month_end(month.use_month)),
            Reservation.state.in_(ACTIVE_STATES),
        )
        .group_by(Reservation.resident_id)
    ).all()
    return dict(rows)


def _unavailable_slots(session: Session, month: LotteryMonth, entries: list[_Entry], now: datetime) -> set[SlotKey]:
    """Slots no entry can win: held by an active booking, a 休館日 (added since), or started."""
    room_ids = sorted({e.room_id for e in entries})
    if not room_ids:
        return set()
    first, last = month.use_month, month_end(month.use_month)
    taken = {
        tuple(row)
        for row in session.execute(
            select(Reservation.room_id, Reservation.use_date, Reservation.time_band_id).where(
                Reservation.room_id.in_(room_ids),
                Reservation.use_date.between(first, last),
                Reservation.state.in_(ACTIVE_STATES),
            )
        )
    }
    rooms = _rooms(session, room_ids)
    closed_dates: dict[int, set[date]] = defaultdict(set)
    for facility_id, day in session.execute(
        select(ClosedDate.facility_id, ClosedDate.day).where(
            ClosedDate.facility_id.in_({r.facility_id for r in rooms.values()}), ClosedDate.day.between(first, last)
        )
    ):
        closed_dates[facility_id].add(day)
    unavailable = set()
    for e in entries:
        facility = rooms[e.room_id].facility
        closed = is_closed_day_rule(e.use_date, facility.closed_weekday_set, frozenset(closed_dates[facility.id]))
        if e.key in taken or closed or jst_moment(e.use_date, e.starts_at) <= now:
            unavailable.add(e.key)
    return unavailable


def _rooms(session: Session, room_ids: Iterable[int]) -> dict[int, Room]:
    return {
        r.id: r
        for r in session.scalars(select(Room).where(Room.id.in_(set(room_ids))).options(selectinload(Room.facility)))
    }


def _book_winners(session: Session, month: LotteryMonth, winners: list[_Entry]) -> dict[int, tuple[int, str, int]]:
    """A 当選 booking per winning entry, numbered in the order residents read them: entry id →
    (reservation id, 予約番号, 施設使用料)."""
    if not winners:
        return {}
    result_day = jst_day(month.result_at)
    numbers = reserve_values(session, reservation_counter_key(result_day), len(winners))
    rates: dict[tuple[int, int], list[FeeRate]] = defaultdict(list)
    for rate in session.scalars(select(FeeRate).where(FeeRate.room_id.in_({e.room_id for e in winners}))):
        rates[(rate.room_id, rate.time_band_id)].append(rate)
    codes = dict(session.execute(select(GroupClass.id, GroupClass.code)).all())
    booking_numbers = [reservation_number(result_day, sequence) for sequence in numbers]
    fees = [
        slot_fee_rule(
            rates[(entry.room_id, entry.time_band_id)],
            FeeQuery(
                room_id=entry.room_id,
                time_band_id=entry.time_band_id,
                use_date=entry.use_date,
                group_class_code=codes[entry.group_class_id],
                charges_participation_fee=entry.charges_participation_fee,
            ),
        )
        for entry in winners
    ]
    values = [
        dict(
            number=number,
            application_id=None,
            resident_id=entry.resident_id,
            room_id=entry.room_id,
            time_band_id=entry.time_band_id,
            use_date=entry.use_date,
            starts_at=entry.starts_at,
            ends_at=entry.ends_at,
            state=next_state(ReservationState.LOTTERY_ENTRY, Action.DRAW_WIN),
            purpose_id=entry.purpose_id,
            attendees=entry.attendees,
            charges_participation_fee=entry.charges_participation_fee,
            group_class_id=entry.group_class_id,
            facility_fee_yen=fee,
            equipment_fee_yen=0,
            applied_at=entry.created_at,
            # Rule 4 counts from the announced result date, even when the draw runs late.
            lottery_result_at=month.result_at,
            version=1,
        )
        for entry, number, fee in zip(winners, booking_numbers, fees, strict=True)
    ]
    # A plain executemany, then the ids by 予約番号 (RETURNING in order would insert row by row
    # on SQLite).
    session.execute(insert(cast(Table, Reservation.__table__)), values)
    by_number: dict[str, int] = {}
    for chunk in _chunks(booking_numbers):
        for number, reservation_id in session.execute(
            select(Reservation.number, Reservation.id).where(Reservation.number.in_(chunk))
        ):
            by_number[number] = reservation_id
    return {
        entry.id: (by_number[number], number, fee)
        for entry, number, fee in zip(winners, booking_numbers, fees, strict=True)
    }


def _record_results(session: Session, entries: list[_Entry], results, bookings, now: datetime) -> None:
    """Every entry's result: the winners one by one (each links its booking), the losers a
    few statements per reason."""
    table = cast(Table, LotteryEntry.__table__)
    won = next_state(ReservationState.LOTTERY_ENTRY, Action.DRAW_WIN)
    lost = next_state(ReservationState.LOTTERY_ENTRY, Action.DRAW_LOSE)
    winners = [e for e in entries if e.id in bookings]
    if winners:
        session.execute(
            update(table)
            .where(table.c.id == bindparam("entry_id"))
            .values(state=won, reservation_id=bindparam("booking_id"), drawn_at=now, version=table.c.version + 1),
            [{"entry_id": e.id, "booking_id": bookings[e.id][0]} for e in winners],
        )
    losers: dict[LostReason, list[int]] = defaultdict(list)
    for e in entries:
        if e.id not in bookings:
            losers[results[e.public_id].reason].append(e.id)
    for reason, ids in losers.items():
        for chunk in _chunks(ids):
            session.execute(
                update(table)
                .where(table.c.id.in_(chunk))
                .values(state=lost, lost_reason=reason, drawn_at=now, version=table.c.version + 1)
            )


def _describe_slot(room: Room, entry: _Entry) -> dict[str, str]:
    return {
        "facility": room.facility.name_ja,
        "facility_en": room.facility.name_en,
        "room": room.name_ja,
        "room_en": room.name_en,
        "date": entry.use_date.isoformat(),
        "starts": entry.starts_at.strftime("%H:%M"),
        "ends": entry.ends_at.strftime("%H:%M"),
    }


def _queue_results(
    session: Session,
    month: LotteryMonth,
    entries: list[_Entry],
    results,
    bookings: dict[int, tuple[int, str, int]],
    residents: dict[int, Resident],
    rooms: dict[int, Room],
    centre: CentreFor,
    now: datetime,
) -> int:
    """One notice (メッセージ and mail) per group listing all its results, in its language."""
    by_group: dict[int, list[_Entry]] = defaultdict(list)
    for e in entries:
        by_group[e.resident_id].append(e)
    notices = []
    places = {
        (room.id, locale): f"{room.facility.name_en} {room.name_en}"
        if locale == "en"
        else f"{room.facility.name_ja} {room.name_ja}"
        for room in rooms.values()
        for locale in ("ja", "en")
    }
    for resident_id, group_entries in sorted(by_group.items()):
        resident = residents[resident_id]
        locale = resident.preferred_locale
        lines = []
        for e in sorted(group_entries, key=lambda e: (e.use_date, e.starts_at, e.room_id)):
            place = places.get((e.room_id, locale)) or places[(e.room_id, "ja")]
            result = results[e.public_id]
            booking = bookings.get(e.id)
            lines.append(
                LotteryResultLine(
                    won=result.won,
                    application_number=e.application_number,
                    use_date=e.use_date,
                    starts_at=e.starts_at,
                    ends_at=e.ends_at,
                    place=place,
                    reservation_number=booking[1] if booking else None,
                    fee_yen=booking[2] if booking else None,
                    deadline=payment_deadline_day(month.result_at, e.use_date) if booking else None,
                    reason=None if result.won or result.reason is LostReason.DRAW else result.reason.value,
                )
            )
        facts = LotteryResultFacts(
            resident_name=resident.name,
            use_month=month.use_month,
            result_date=jst_day(month.result_at),
            first_come_date=jst_day(month.first_come_opens_at),
            lines=tuple(lines),
        )
        mail = lottery_result_mail(facts, centre(locale), locale)
        notices.append((resident, f"lottery:{month_label(month.use_month)}:{resident_id}", mail))
    return queue_notices(session, notices, now=now)


# -- the worker and the commands --------------------------------------------------------


@dataclass
class DrawPass:
    """One pass of the worker's lottery job: months drawn, months whose draw failed (rolled
    back, tried again at the next pass), calendar rows made for the coming months."""

    drawn: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    months_made: list[str] = field(default_factory=list)


def due_months(session: Session, *, now: datetime) -> list[date]:
    """Months not drawn whose result date has come, earliest first."""
    return list(
        session.scalars(
            select(LotteryMonth.use_month)
            .where(LotteryMonth.drawn_at.is_(None), LotteryMonth.result_at <= now)
            .order_by(LotteryMonth.use_month)
        )
    )


def draw_due_months(database: Database, *, now: datetime, centre: CentreFor, operator: str = "worker") -> DrawPass:
    """The worker's lottery job: the rows of the coming months are made (ensure_coming_months),
    then every month whose result date has come is drawn, each in its own transaction; one
    failing is logged and rolled back, the others are still drawn."""
    outcome = DrawPass()
    with database.write() as session:
        outcome.months_made = [month_label(m.use_month) for m in ensure_coming_months(session, now=now)]
    with database.read_session() as session:
        months = due_months(session, now=now)
    for use_month in months:
        try:
            with database.write() as session:
                result = draw_month(session, use_month=use_month, now=now, centre=centre, operator=operator)
        except Exception:
            log.exception("the draw of %s failed; nothing of it was written", month_label(use_month))
            outcome.failed.append(month_label(use_month))
            continue
        if not result.already_drawn:
            log.info("lottery %s", result.describe())
            outcome.drawn.append(month_label(use_month))
    return outcome


def own_group_id(session: Session, use_month: date, resident_id: int) -> str:
    """The group's opaque id in the month's publication, so that the site can show a group
    which entries are its own (DESIGN "Draw, checkable")."""
    return opaque_group_id(load_month(session, use_month).group_key, resident_id)


def publication_of(session: Session, use_month: date) -> dict | None:
    """The published document of a drawn month; None before the draw."""
    month = load_month(session, use_month)
    return json.loads(month.publication) if month.publication else None


@dataclass(frozen=True)
class MonthVerification:
    """`flask lottery verify`: the published document recomputed, and compared with what the
    database holds (every entry's state and reason)."""

    published: Verification
    database_problems: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return self.published.ok and not self.database_problems

    @property
    def problems(self) -> tuple[str, ...]:
        return self.published.problems + self.database_problems


def verify_month(session: Session, use_month: date) -> MonthVerification:
    """Recompute a drawn month from its publication alone, then check that the database's
    entries say the same (an entry not drawn or changed afterwards is a problem)."""
    document = publication_of(session, use_month)
    if document is None:
        raise errors.DrawNotDue(month=use_month, result_at=load_month(session, use_month).result_at)
    published = verify_publication(document)
    listed = {e["public_id"]: (e["result"], e["reason"]) for e in document["entries"]}
    month = load_month(session, use_month)
    rows = session.execute(
        select(LotteryEntry.public_id, LotteryEntry.state, LotteryEntry.lost_reason, LotteryEntry.reservation_id).where(
            LotteryEntry.lottery_month_id == month.id, LotteryEntry.state != ReservationState.WITHDRAWN
        )
    ).all()
    problems = []
    for public_id, state, reason, reservation_id in rows:
        stored = _stored_result(state, reason, reservation_id)
        if listed.get(public_id) != stored:
            problems.append(f"entry {public_id}: published {listed.get(public_id)}, database {stored}")
    missing = set(listed) - {row[0] for row in rows}
    problems += [f"entry {p}: published but not in the database" for p in sorted(missing)]
    return MonthVerification(published, tuple(problems))


def _stored_result(state: ReservationState, reason: LostReason | None, reservation_id: int | None) -> tuple:
    if state is ReservationState.WON and reservation_id is not None:
        return ("won", None)
    if state is ReservationState.LOST:
        return ("lost", reason.value if reason else None)
    return (state.value, None)
