"""Entering the lottery and withdrawing (DESIGN "Lottery": Who, Entries and caps): what the
resident chose checked for 詳細申請 and 抽選申込確認, `enter_lottery` all or nothing under a
per-group lock, `withdraw_entries` while the period is open, and the reads of マイメニュー's
抽選申込の確認・取消 and 抽選申込完了. Operations take the session and `now`."""

from __future__ import annotations

import enum
import re
import secrets
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Protocol

from sqlalchemy import func, select, tuple_
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload, selectinload

from bookings.chosen import ChosenSlots, band_of, check_room_answers, display_order, quote_fees, rooms_by_id
from bookings.slots import SlotRef, cancelled_by
from lottery.schedule import (
    LotterySchedule,
    MonthSchedule,
    SlotKey,
    SlotLike,
    count_entries,
    is_closed,
    schedule_for,
    slot_key,
    taken_slots,
)
from models import errors
from models.account import Resident, ResidentGroupClass
from models.account_rules import RegistrationKind
from models.availability_version import bump_availability
from models.counters import next_value
from models.facility import Facility, Room, TimeBand
from models.lottery import LotteryApplication, LotteryEntry, LotteryMonth
from models.lottery_rules import (
    HeldClass,
    LotteryPhase,
    check_caps_rule,
    is_registered_group_rule,
    month_end,
    month_start,
)
from models.numbering_rules import lottery_application_counter_key, lottery_application_number
from models.reservation import Reservation
from models.reservation_rules import ACTIVE_STATES, Action, ReservationState, next_state
from models.time_rules import jst_day, jst_moment

# A public id: 20 lowercase hex digits (80 random bits), the entry's name in forms and in the
# published draw.
PUBLIC_ID = re.compile(r"^[0-9a-f]{20}$")
# More than one list page ever shows (20): anything longer is forged.
MAX_SELECTION = 50
LIST_LIMIT = 20


class AnswersLike(Protocol):
    """詳細申請 for one room: the screens' RoomAnswers, or anything with these three."""

    purpose_id: int
    attendees: int
    charges_participation_fee: bool


def new_public_id() -> str:
    return secrets.token_hex(10)


# -- 詳細申請 and 抽選申込確認: what was chosen, and what can be entered ---------------------------


class EntryProblem(str, enum.Enum):
    """Why a chosen slot cannot be entered now, in the order enter_lottery checks."""

    NOT_LOTTERY = "not_lottery"  # a first-come room or month
    PERIOD_CLOSED = "period_closed"  # not in the month's application period
    NOT_ELIGIBLE = "not_eligible"  # no 社会教育関係団体 class valid on the use date
    NOT_BOOKABLE = "not_bookable"  # 休館日, or started
    TAKEN = "taken"  # an active booking holds it
    REBOOKING_BLOCKED = "rebooking_blocked"  # the group cancelled it before
    ALREADY_ENTERED = "already_entered"  # the group has an open entry for it


@dataclass(frozen=True)
class EntryLine:
    """A chosen slot with its room, band and month, and how many entries it has so far."""

    slot: SlotLike
    room: Room
    band: TimeBand
    month: MonthSchedule | None
    entries_so_far: int

    @property
    def facility(self) -> Facility:
        return self.room.facility


@dataclass(frozen=True)
class MonthStanding:
    """A group's count in one use month against the caps (DESIGN "Entries and caps")."""

    month: MonthSchedule
    entries: int
    active_bookings: int

    @property
    def entries_left(self) -> int:
        """How many more entries the group may make in the month."""
        caps = self.month.caps
        return max(min(caps.entries - self.entries, caps.total - self.entries - self.active_bookings), 0)


@dataclass
class EntrySelection(ChosenSlots[EntryLine]):
    """What the resident chose, checked as of `now`: `lines` can be entered, `refused` says why
    the others cannot; `group_classes` are the 社会教育関係団体 classes valid today; `standings`
    the group's count per month of the lines."""

    resident: Resident
    group_classes: list[ResidentGroupClass]
    lines: list[EntryLine]
    refused: dict[EntryProblem, list[EntryLine]] = field(default_factory=dict)
    standings: dict[date, MonthStanding] = field(default_factory=dict)

    @property
    def over_cap(self) -> list[MonthStanding]:
        """Months where the lines that can be entered are more than the group may still make."""
        wanted = Counter(month_start(line.slot.use_date) for line in self.lines)
        return [s for m, s in sorted(self.standings.items()) if wanted[m] > s.entries_left]


def _load_resident(session: Session, resident_id: int, *, lock: bool) -> Resident:
    query = (
        select(Resident)
        .where(Resident.id == resident_id)
        .options(selectinload(Resident.group_classes).selectinload(ResidentGroupClass.group_class))
    )
    if lock:
        # The per-group lock: two applications of one group wait for each other, so that the
        # caps hold (SQLite's BEGIN IMMEDIATE already holds the whole database). FOR NO KEY
        # UPDATE on PostgreSQL, not FOR UPDATE: the transaction has already inserted rows that
        # refer to the group (the form's submission token), which take FOR KEY SHARE on its
        # row, and two such transactions upgrading to FOR UPDATE deadlock each other.
        query = query.with_for_update(of=Resident, key_share=True).execution_options(populate_existing=True)
    resident = session.scalar(query)
    if resident is None:
        raise errors.NotFound(resident=resident_id)
    return resident


def _check_registration(resident: Resident, today: date) -> None:
    if resident.registration_kind != RegistrationKind.ASSEMBLY:
        raise errors.WrongRegistrationKind(resident=resident.id)
    if resident.registration_expired(today):
        raise errors.RegistrationExpired(expires_on=resident.registration_expires_on)


def lottery_group_classes(resident: Resident, today: date) -> list[ResidentGroupClass]:
    """The group's 社会教育関係団体 classes valid today; none raises GroupClassExpired when it
    held one, NotRegisteredGroup otherwise (RegistrationExpired first)."""
    _check_registration(resident, today)
    social = [gc for gc in resident.group_classes if gc.group_class.is_social_education]
    valid = [gc for gc in social if not gc.expired(today)]
    if not valid:
        if social:
            raise errors.GroupClassExpired(expires_on=max(gc.expires_on for gc in social))
        raise errors.NotRegisteredGroup(use_date=today)
    return valid


def _held(held: ResidentGroupClass) -> HeldClass:
    return HeldClass(is_social_education=held.group_class.is_social_education, expires_on=held.expires_on)


def _open_entries_of(session: Session, resident_id: int, keys: Sequence[SlotKey]) -> set[SlotKey]:
    if not keys:
        return set()
    rows = session.execute(
        select(LotteryEntry.room_id, LotteryEntry.use_date, LotteryEntry.time_band_id).where(
            LotteryEntry.resident_id == resident_id,
            LotteryEntry.state == ReservationState.LOTTERY_ENTRY,
            tuple_(LotteryEntry.room_id, LotteryEntry.use_date, LotteryEntry.time_band_id).in_(list(keys)),
        )
    ).all()
    return {(room_id, day, band_id) for room_id, day, band_id in rows}


def _standings(
    session: Session, resident_id: int, schedules: Iterable[MonthSchedule | None]
) -> dict[date, MonthStanding]:
    """The group's open entries and active bookings in each month (two grouped queries)."""
    months = {m.use_month: m for m in schedules if m is not None}
    if not months:
        return {}
    entries = dict(
        session.execute(
            select(LotteryEntry.lottery_month_id, func.count())
            .where(
                LotteryEntry.resident_id == resident_id,
                LotteryEntry.lottery_month_id.in_([m.id for m in months.values()]),
                LotteryEntry.state == ReservationState.LOTTERY_ENTRY,
            )
            .group_by(LotteryEntry.lottery_month_id)
        ).all()
    )
    booked = Counter(
        month_start(day)
        for day in session.scalars(
            select(Reservation.use_date).where(
                Reservation.resident_id == resident_id,
                Reservation.use_date.between(min(months), month_end(max(months))),
                Reservation.state.in_(ACTIVE_STATES),
            )
        )
    )
    return {m: MonthStanding(s, entries.get(s.id, 0), booked[m]) for m, s in months.items()}


def _problems(
    session: Session,
    resident: Resident,
    slots: Sequence[SlotLike],
    rooms: Mapping[int, Room],
    schedule: LotterySchedule,
    held: ResidentGroupClass | None,
    now: datetime,
) -> dict[SlotLike, EntryProblem]:
    """Why each slot that cannot be entered cannot (the first reason, in the order of
    EntryProblem); `held` None checks eligibility against any valid lottery class."""
    today = jst_day(now)
    keys = [slot_key(s) for s in slots]
    taken = taken_slots(session, keys)
    # 再予約不可 (DESIGN rule 5): the slots the group cancelled (or let expire) before.
    blocked = {
        (ref.room_id, ref.use_date, ref.time_band_id)
        for ref in cancelled_by(session, resident.id, [SlotRef(*key) for key in keys])
    }
    entered = _open_entries_of(session, resident.id, keys)
    candidates = [held] if held else resident.valid_group_classes(today)
    problems = {}
    for slot in slots:
        room, band, key = rooms[slot.room_id], band_of(rooms.get(slot.room_id), slot), slot_key(slot)
        month = schedule.month_for(slot.room_id, slot.use_date)
        eligible = any(
            is_registered_group_rule(
                registration_expires_on=resident.registration_expires_on,
                held=_held(c),
                on_day=today,
                use_date=slot.use_date,
            )
            for c in candidates
        )
        if month is None:
            problems[slot] = EntryProblem.NOT_LOTTERY
        elif month.phase(now) is not LotteryPhase.OPEN:
            problems[slot] = EntryProblem.PERIOD_CLOSED
        elif not eligible:
            problems[slot] = EntryProblem.NOT_ELIGIBLE
        elif is_closed(room.facility, slot.use_date) or jst_moment(slot.use_date, band.starts_at) <= now:
            problems[slot] = EntryProblem.NOT_BOOKABLE
        elif key in taken:
            problems[slot] = EntryProblem.TAKEN
        elif key in blocked:
            problems[slot] = EntryProblem.REBOOKING_BLOCKED
        elif key in entered:
            problems[slot] = EntryProblem.ALREADY_ENTERED
    return problems


def prepare_entries(session: Session, slots: Sequence[SlotLike], *, resident_id: int, now: datetime) -> EntrySelection:
    """Load the chosen slots for 詳細申請 and 抽選申込確認 and sort out those that cannot be
    entered. Refuses the whole selection (raises) when it is empty or too long, names an
    unknown room or band, or when the group may not enter at all (registration kind or
    expiry, no valid 社会教育関係団体 class)."""
    slots = sorted(set(slots), key=slot_key)
    if not slots:
        raise errors.EmptySelection()
    if len(slots) > MAX_SELECTION:
        raise errors.NotFound()
    resident = _load_resident(session, resident_id, lock=False)
    today = jst_day(now)
    group_classes = lottery_group_classes(resident, today)
    rooms = rooms_by_id(session, {s.room_id for s in slots})
    for slot in slots:
        band_of(rooms.get(slot.room_id), slot)
    for room in rooms.values():
        if room.facility.category.registration_kind != resident.registration_kind:
            raise errors.WrongRegistrationKind(room=room.id)
    schedule = schedule_for(session, (s.use_date for s in slots))
    problems = _problems(session, resident, slots, rooms, schedule, None, now)
    counts = count_entries(
        session,
        room_ids=rooms,
        first_day=min(s.use_date for s in slots),
        last_day=max(s.use_date for s in slots),
    )
    selection = EntrySelection(resident=resident, group_classes=group_classes, lines=[])
    for slot in slots:
        line = EntryLine(
            slot=slot,
            room=rooms[slot.room_id],
            band=band_of(rooms.get(slot.room_id), slot),
            month=schedule.month_for(slot.room_id, slot.use_date),
            entries_so_far=counts.get(slot_key(slot), 0),
        )
        if slot in problems:
            selection.refused.setdefault(problems[slot], []).append(line)
        else:
            selection.lines.append(line)
    selection.lines.sort(key=display_order)
    for lines in selection.refused.values():
        lines.sort(key=display_order)
    selection.standings = _standings(session, resident.id, {line.month for line in selection.lines})
    return selection


# 施設使用料 of each line if it is won (the 基本額 without answers), as 抽選申込確認 shows it.
quote_entry_fees = quote_fees


# -- 抽選申込: enter_lottery ------------------------------------------------------------------------


_REFUSALS = {
    EntryProblem.NOT_BOOKABLE: errors.SlotNotBookable,
    EntryProblem.TAKEN: errors.SlotTaken,
    EntryProblem.REBOOKING_BLOCKED: errors.RebookingBlocked,
    EntryProblem.ALREADY_ENTERED: errors.AlreadyEntered,
}


def enter_lottery(
    session: Session,
    *,
    resident_id: int,
    slots: Sequence[SlotLike],
    answers: Mapping[int, AnswersLike],
    group_class_id: int,
    now: datetime,
) -> LotteryApplication:
    """抽選申込: one application (抽選申込番号) with one entry per slot, all or nothing. Raises
    the first rule that refuses (DESIGN "Lottery": Who, Entries and caps), naming the slots it
    refuses; the group's applications are serialised so that the caps hold under concurrency."""
    slots = sorted(set(slots), key=slot_key)
    if not slots:
        raise errors.EmptySelection()
    if len(slots) > MAX_SELECTION:
        raise errors.NotFound()
    today = jst_day(now)
    resident = _load_resident(session, resident_id, lock=True)
    _check_registration(resident, today)
    held = next((gc for gc in resident.group_classes if gc.group_class_id == group_class_id), None)
    if held is None:
        raise errors.NotFound(group_class=group_class_id)
    if not held.group_class.is_social_education:
        raise errors.NotRegisteredGroup(use_date=slots[0].use_date)
    if held.expired(today):
        raise errors.GroupClassExpired(expires_on=held.expires_on)

    rooms = rooms_by_id(session, {s.room_id for s in slots})
    for slot in slots:
        band_of(rooms.get(slot.room_id), slot)
    for room_id in sorted(rooms):
        room = rooms[room_id]
        check_room_answers(room, answers.get(room_id), resident.registration_kind)

    # The months' rows, shared-locked on PostgreSQL so that a draw (FOR UPDATE) waits for
    # this application and this application sees a draw that finished first.
    months = {
        m.use_month: m
        for m in session.scalars(
            select(LotteryMonth)
            .where(LotteryMonth.use_month.in_({month_start(s.use_date) for s in slots}))
            .options(selectinload(LotteryMonth.rooms))
            .with_for_update(read=True, of=LotteryMonth)
            .execution_options(populate_existing=True)
        )
    }
    schedule = LotterySchedule({m: MonthSchedule.of(row) for m, row in months.items()})
    problems = _problems(session, resident, slots, rooms, schedule, held, now)
    _raise_first(problems, schedule, held)

    standings = _standings(session, resident.id, {schedule.month_for(s.room_id, s.use_date) for s in slots})
    adding = Counter(month_start(s.use_date) for s in slots)
    for use_month, standing in sorted(standings.items()):
        check_caps_rule(
            month=use_month,
            caps=standing.month.caps,
            entries=standing.entries,
            active_bookings=standing.active_bookings,
            adding=adding[use_month],
        )

    try:
        # A savepoint, so that if the unique index refuses (an entry slipped past the lock)
        # the error can still name the slots.
        with session.begin_nested():
            number = lottery_application_number(today, next_value(session, lottery_application_counter_key(today)))
            application = LotteryApplication(
                number=number, resident_id=resident.id, group_class_id=group_class_id, created_at=now
            )
            session.add(application)
            for slot in sorted(
                slots, key=lambda s: (s.use_date, band_of(rooms.get(s.room_id), s).starts_at, s.room_id)
            ):
                band, answer = band_of(rooms.get(slot.room_id), slot), answers[slot.room_id]
                application.entries.append(
                    LotteryEntry(
                        public_id=new_public_id(),
                        lottery_month_id=months[month_start(slot.use_date)].id,
                        resident_id=resident.id,
                        room_id=slot.room_id,
                        time_band_id=band.id,
                        use_date=slot.use_date,
                        starts_at=band.starts_at,
                        ends_at=band.ends_at,
                        purpose_id=answer.purpose_id,
                        attendees=answer.attendees,
                        charges_participation_fee=answer.charges_participation_fee,
                        state=ReservationState.LOTTERY_ENTRY,
                        created_at=now,
                        version=1,
                    )
                )
            session.flush()
    except IntegrityError:
        entered = _open_entries_of(session, resident.id, [slot_key(s) for s in slots])
        raise errors.AlreadyEntered(slots=[s for s in slots if slot_key(s) in entered] or slots) from None
    bump_availability(session, room_ids={s.room_id for s in slots})
    return application


def _raise_first(problems: Mapping[SlotLike, EntryProblem], schedule: LotterySchedule, held) -> None:
    """The refusal of the first problem (in EntryProblem's order), naming every slot it hits."""
    for problem in EntryProblem:
        hit = [slot for slot, p in problems.items() if p is problem]
        if not hit:
            continue
        if problem is EntryProblem.NOT_LOTTERY:
            raise errors.NotLotterySlot(slots=hit)
        month = schedule.month_for(hit[0].room_id, hit[0].use_date)
        if problem is EntryProblem.PERIOD_CLOSED and month is not None:
            raise errors.LotteryPeriodClosed(
                slots=hit,
                opens_at=month.dates.applications_open_at,
                closes_at=month.dates.applications_close_at,
            )
        if problem is EntryProblem.NOT_ELIGIBLE:
            raise errors.NotRegisteredGroup(use_date=hit[0].use_date, expires_on=held.expires_on)
        raise _REFUSALS[problem](slots=hit)


# -- 抽選申込完了 ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class AppliedLottery:
    """An application as 抽選申込完了 shows it: its number, its entries and their months."""

    application: LotteryApplication
    months: dict[int, MonthSchedule]  # by lottery month id

    @property
    def entries(self) -> list[LotteryEntry]:
        return self.application.entries

    def month_of(self, entry: LotteryEntry) -> MonthSchedule:
        return self.months[entry.lottery_month_id]

    @property
    def result_dates(self) -> list[datetime]:
        return sorted({m.dates.result_at for m in self.months.values()})


def load_lottery_application(session: Session, application_id: int, *, resident_id: int) -> AppliedLottery:
    """One of the group's applications; another group's, or an unknown id, is NotFound."""
    if not 1 <= application_id <= 2**31 - 1:
        raise errors.NotFound(application=application_id)
    application = session.scalar(
        select(LotteryApplication)
        .where(LotteryApplication.id == application_id)
        .options(
            selectinload(LotteryApplication.entries).selectinload(LotteryEntry.room).selectinload(Room.facility),
            selectinload(LotteryApplication.entries).selectinload(LotteryEntry.purpose),
            selectinload(LotteryApplication.entries).selectinload(LotteryEntry.month).selectinload(LotteryMonth.rooms),
            joinedload(LotteryApplication.group_class),
        )
    )
    if application is None or application.resident_id != resident_id:
        raise errors.NotFound(application=application_id)
    months = {e.lottery_month_id: MonthSchedule.of(e.month) for e in application.entries}
    return AppliedLottery(application, months)


# -- 抽選申込の確認・取消 ----------------------------------------------------------------------------


@dataclass(frozen=True)
class EntryConditions:
    """表示条件: a 利用日 period (either side may be open) and one state, or None for 全て."""

    date_from: date | None = None
    date_to: date | None = None
    state: ReservationState | None = None


@dataclass(frozen=True)
class EntryRow:
    """One entry as the list shows it, with what can be done with it now."""

    entry: LotteryEntry
    month: MonthSchedule
    phase: LotteryPhase

    @property
    def withdrawable(self) -> bool:
        return self.entry.state is ReservationState.LOTTERY_ENTRY and self.phase is LotteryPhase.OPEN

    @property
    def withdrawal_closed(self) -> bool:
        """Still 抽選申込中 but past its period: the list says why it cannot be withdrawn."""
        return self.entry.state is ReservationState.LOTTERY_ENTRY and self.phase is not LotteryPhase.OPEN

    @property
    def closes_at(self) -> datetime:
        return self.month.dates.applications_close_at

    @property
    def result_at(self) -> datetime:
        return self.month.dates.result_at


@dataclass(frozen=True)
class EntryList:
    rows: list[EntryRow]
    count: int  # rows shown
    truncated: bool  # more matched than `limit`: the guide's 上位20件 message
    limit: int


ENTRY_STATES = (
    ReservationState.LOTTERY_ENTRY,
    ReservationState.WON,
    ReservationState.LOST,
    ReservationState.WITHDRAWN,
)


def _entries_query(resident_id: int):
    return (
        select(LotteryEntry)
        .where(LotteryEntry.resident_id == resident_id)
        .options(
            joinedload(LotteryEntry.room).joinedload(Room.facility),
            joinedload(LotteryEntry.application),
            joinedload(LotteryEntry.reservation),
            joinedload(LotteryEntry.month).selectinload(LotteryMonth.rooms),
        )
    )


def _row(entry: LotteryEntry, now: datetime) -> EntryRow:
    month = MonthSchedule.of(entry.month)
    return EntryRow(entry, month, month.phase(now))


def list_entries(
    session: Session, *, resident_id: int, conditions: EntryConditions, now: datetime, limit: int = LIST_LIMIT
) -> EntryList:
    """The group's entries matching `conditions`, by 利用日 and start, at most `limit` (the
    guide's 上位20件), each with whether it can still be withdrawn."""
    if conditions.state is not None and conditions.state not in ENTRY_STATES:
        raise errors.NotFound(state=conditions.state)
    query = (
        _entries_query(resident_id)
        .where(LotteryEntry.state.in_([conditions.state] if conditions.state else ENTRY_STATES))
        .order_by(LotteryEntry.use_date, LotteryEntry.starts_at, LotteryEntry.id)
        .limit(limit + 1)
    )
    if conditions.date_from:
        query = query.where(LotteryEntry.use_date >= conditions.date_from)
    if conditions.date_to:
        query = query.where(LotteryEntry.use_date <= conditions.date_to)
    found = session.scalars(query).unique().all()
    rows = [_row(entry, now) for entry in found[:limit]]
    return EntryList(rows=rows, count=len(rows), truncated=len(found) > limit, limit=limit)


def parse_public_ids(values: Iterable[str]) -> list[str]:
    """The selected entries' public ids, each once, in the order given; anything not shaped
    like one is not found (we say no more about forged input)."""
    ids = list(dict.fromkeys((v or "").strip() for v in values if (v or "").strip()))
    if not ids:
        raise errors.EmptySelection()
    if len(ids) > MAX_SELECTION or not all(PUBLIC_ID.match(i) for i in ids):
        raise errors.NotFound()
    return ids


def _load_entries(session: Session, resident_id: int, public_ids: Sequence[str], *, lock: bool) -> list[LotteryEntry]:
    query = _entries_query(resident_id).where(LotteryEntry.public_id.in_(public_ids)).order_by(LotteryEntry.id)
    if lock:
        query = query.with_for_update(of=LotteryEntry).execution_options(populate_existing=True)
    found = {e.public_id: e for e in session.scalars(query).unique()}
    missing = [i for i in public_ids if i not in found]
    if missing:
        # Another group's entry and one that does not exist read the same.
        raise errors.NotFound(entry=missing[0])
    return [found[i] for i in public_ids]


def _check_withdrawable(rows: Sequence[EntryRow]) -> None:
    withdrawn = [r.entry.public_id for r in rows if r.entry.state is ReservationState.WITHDRAWN]
    if withdrawn:
        raise errors.EntryAlreadyWithdrawn(entries=withdrawn)
    closed = [r for r in rows if not r.withdrawable]
    if closed:
        raise errors.WithdrawalClosed(entries=[r.entry.public_id for r in closed], closes_at=closed[0].closes_at)


def select_for_withdrawal(
    session: Session, *, resident_id: int, public_ids: Iterable[str], now: datetime
) -> list[EntryRow]:
    """The entries 取下げ's confirmation step shows; every one must be withdrawable now."""
    rows = [_row(e, now) for e in _load_entries(session, resident_id, parse_public_ids(public_ids), lock=False)]
    _check_withdrawable(rows)
    return rows


def withdraw_entries(session: Session, *, resident_id: int, public_ids: Iterable[str], now: datetime) -> list[EntryRow]:
    """取下げ: every selected entry becomes 取下げ, or none does, while its month's application
    period is open. A second request for the same entry (another tab, a replayed form) is told
    it is withdrawn already: the rows are locked, so the second waits for the first."""
    ids = parse_public_ids(public_ids)
    # The months first, shared (the order the draw takes them in: month, then entries), so that
    # a draw running at this moment is either waited for or waits.
    month_ids = session.scalars(
        select(LotteryEntry.lottery_month_id)
        .where(LotteryEntry.resident_id == resident_id, LotteryEntry.public_id.in_(ids))
        .distinct()
    ).all()
    session.execute(
        select(LotteryMonth.id)
        .where(LotteryMonth.id.in_(month_ids))
        .order_by(LotteryMonth.id)
        .with_for_update(read=True)
    ).all()
    entries = _load_entries(session, resident_id, ids, lock=True)
    rows = [_row(e, now) for e in entries]
    _check_withdrawable(rows)
    for entry in entries:
        entry.state = next_state(entry.state, Action.WITHDRAW)
        entry.withdrawn_at = now
        entry.version += 1
    session.flush()
    bump_availability(session, room_ids={entry.room_id for entry in entries})
    return rows


def count_group_entries(session: Session, *, resident_id: int) -> dict[ReservationState, int]:
    """How many entries the group has in each state (states without any are left out)."""
    rows = session.execute(
        select(LotteryEntry.state, func.count())
        .where(LotteryEntry.resident_id == resident_id)
        .group_by(LotteryEntry.state)
    ).all()
    return dict(rows)
