"""Lottery reads for the screens and for first-come applying: which rooms a use month draws,
the status of a lottery room's slot, how many entries each slot has so far (one grouped
query for a facility and period), the months to announce, and the first-come window of a
lottery room's month (DESIGN "Lottery", Calendar)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Protocol

from sqlalchemy import Connection, bindparam, func, select, tuple_
from sqlalchemy.orm import Session, selectinload

from models.availability_rules import BookingWindow, is_closed_day_rule
from models.facility import Facility, Room
from models.lottery import SCHEDULE_COLUMNS, LotteryEntry, LotteryMonth, LotteryRoom
from models.lottery_rules import (
    Caps,
    LotteryDates,
    LotteryPhase,
    LotterySlotStatus,
    first_come_window_rule,
    lottery_phase_rule,
    lottery_slot_status_rule,
    month_start,
)
from models.reservation import Reservation
from models.reservation_rules import ACTIVE_STATES, ReservationState
from models.time_rules import jst_day, jst_moment


class SlotLike(Protocol):
    """Room × date × time band: the screens' SlotRef, or anything with these three."""

    room_id: int
    use_date: date
    time_band_id: int


SlotKey = tuple[int, date, int]


def slot_key(slot: SlotLike) -> SlotKey:
    return (slot.room_id, slot.use_date, slot.time_band_id)


def slot_text(key: SlotKey) -> str:
    """A slot as the publication names it: room:YYYY-MM-DD:band (as SlotRef prints)."""
    room_id, day, band_id = key
    return f"{room_id}:{day.isoformat()}:{band_id}"


@dataclass(frozen=True)
class MonthSchedule:
    """A use month's calendar row as the screens read it."""

    id: int
    use_month: date
    dates: LotteryDates
    drawn_at: datetime | None
    seed_sha256: str
    caps: Caps
    room_ids: frozenset[int]

    @classmethod
    def of(cls, month: LotteryMonth, *, rooms: bool = True) -> MonthSchedule:
        """The row as screens read it; without `rooms` its rooms are not read (room_ids empty)."""
        return cls(
            id=month.id,
            use_month=month.use_month,
            dates=month.dates,
            drawn_at=month.drawn_at,
            seed_sha256=month.seed_sha256,
            caps=month.caps,
            room_ids=frozenset(r.room_id for r in month.rooms) if rooms else frozenset(),
        )

    @property
    def drawn(self) -> bool:
        return self.drawn_at is not None

    def phase(self, now: datetime) -> LotteryPhase:
        return lottery_phase_rule(self.dates, drawn=self.drawn, now=now)

    def first_come_window(self, now: datetime) -> BookingWindow:
        return first_come_window_rule(self.use_month, self.phase(now), jst_day(now))


@dataclass(frozen=True)
class LotterySchedule:
    """The calendar rows of some months with their lottery rooms: which slots are drawn."""

    months: Mapping[date, MonthSchedule]

    def month_for(self, room_id: int, use_date: date) -> MonthSchedule | None:
        """The month's row when this room is drawn by lottery that month; None for first come."""
        month = self.months.get(month_start(use_date))
        return month if month is not None and room_id in month.room_ids else None

    def is_lottery_slot(self, room_id: int, use_date: date) -> bool:
        return self.month_for(room_id, use_date) is not None

    def phase(self, room_id: int, use_date: date, now: datetime) -> LotteryPhase | None:
        month = self.month_for(room_id, use_date)
        return month.phase(now) if month else None

    def slot_status(
        self, room_id: int, use_date: date, *, starts_at: datetime, closed: bool, taken: bool, now: datetime
    ) -> LotterySlotStatus | None:
        """The status a grid shows for a lottery room's slot; None when the slot is first come
        as any other (the ordinary rules apply)."""
        month = self.month_for(room_id, use_date)
        if month is None:
            return None
        return lottery_slot_status_rule(
            month.use_month,
            month.phase(now),
            day=use_date,
            closed=closed,
            taken=taken,
            starts_at=starts_at,
            now=now,
        )

    def first_come_window(self, room_id: int, use_date: date, now: datetime) -> BookingWindow | None:
        """The first-come window for a lottery room's month; None for a first-come room."""
        month = self.month_for(room_id, use_date)
        return month.first_come_window(now) if month else None


# Built once, each call binding its months (every grid reads it): each month's row as plain
# columns, once per room it draws (once with no room when it draws none), no ORM entity.
_MONTHS = (
    select(
        LotteryMonth.id,
        *SCHEDULE_COLUMNS,
        LotteryMonth.seed_sha256,
        LotteryMonth.entry_cap,
        LotteryMonth.total_cap,
        LotteryRoom.room_id,
    )
    .outerjoin(LotteryRoom, LotteryRoom.lottery_month_id == LotteryMonth.id)
    .where(LotteryMonth.use_month.between(bindparam("first"), bindparam("last")))
    .order_by(LotteryMonth.use_month, LotteryRoom.room_id)
)


def read_schedule(session: Session | Connection, *, first_day: date, last_day: date) -> LotterySchedule:
    """The calendar rows for the use months from `first_day` to `last_day` (one statement of
    columns, on a session or a connection)."""
    rows: dict[date, tuple] = {}
    rooms: dict[date, list[int]] = {}
    for (
        id_,
        use_month,
        opens,
        closes,
        result,
        first_come,
        drawn_at,
        seed_sha256,
        entry_cap,
        total_cap,
        room_id,
    ) in session.execute(_MONTHS, {"first": month_start(first_day), "last": month_start(last_day)}):
        if use_month not in rows:
            rows[use_month] = (
                id_,
                LotteryDates(opens, closes, result, first_come),
                drawn_at,
                seed_sha256,
                entry_cap,
                total_cap,
            )
            rooms[use_month] = []
        if room_id is not None:
            rooms[use_month].append(room_id)
    return LotterySchedule(
        {
            use_month: MonthSchedule(
                id=id_,
                use_month=use_month,
                dates=dates,
                drawn_at=drawn_at,
                seed_sha256=seed_sha256,
                caps=Caps(entries=entry_cap, total=total_cap),
                room_ids=frozenset(rooms[use_month]),
            )
            for use_month, (id_, dates, drawn_at, seed_sha256, entry_cap, total_cap) in rows.items()
        }
    )


def schedule_for(session: Session, days: Iterable[date]) -> LotterySchedule:
    days = list(days)
    if not days:
        return LotterySchedule({})
    return read_schedule(session, first_day=min(days), last_day=max(days))


def count_entries(
    session: Session | Connection, *, room_ids: Iterable[int], first_day: date, last_day: date
) -> dict[SlotKey, int]:
    """Entries so far (抽選申込中) per room × date × band, for the grids' "n entries so far":
    one grouped query for the rooms and period."""
    room_ids = sorted(set(room_ids))
    if not room_ids:
        return {}
    rows = session.execute(
        select(LotteryEntry.room_id, LotteryEntry.use_date, LotteryEntry.time_band_id, func.count())
        .where(
            LotteryEntry.room_id.in_(room_ids),
            LotteryEntry.use_date.between(first_day, last_day),
            LotteryEntry.state == ReservationState.LOTTERY_ENTRY,
        )
        .group_by(LotteryEntry.room_id, LotteryEntry.use_date, LotteryEntry.time_band_id)
    ).all()
    return {(room_id, day, band_id): n for room_id, day, band_id, n in rows}


def first_come_windows(session: Session, slots: Sequence[SlotLike], *, now: datetime) -> dict[SlotLike, BookingWindow]:
    """For the slots of lottery rooms in lottery months: the window in which first come may
    book them (empty before 一般空き申込). Slots of first-come rooms are not in the answer:
    the rolling window (FIRST_COME_DAYS_AHEAD) applies to them."""
    schedule = schedule_for(session, (s.use_date for s in slots))
    windows = {}
    for slot in slots:
        window = schedule.first_come_window(slot.room_id, slot.use_date, now)
        if window is not None:
            windows[slot] = window
    return windows


def slot_statuses(session: Session, slots: Sequence[SlotLike], *, now: datetime) -> dict[SlotLike, LotterySlotStatus]:
    """The status of each chosen slot that is a lottery room's slot in a lottery month (others
    are left out): 申込期間外, 抽選受付中, 抽選結果待ち, 先着受付前, then 空き / 予約済, with 休館日
    and started slots first. Unknown rooms or bands are left out too."""
    schedule = schedule_for(session, (s.use_date for s in slots))
    drawn = [s for s in slots if schedule.is_lottery_slot(s.room_id, s.use_date)]
    if not drawn:
        return {}
    rooms = {
        r.id: r
        for r in session.scalars(
            select(Room)
            .where(Room.id.in_({s.room_id for s in drawn}))
            .options(selectinload(Room.time_bands), selectinload(Room.facility).selectinload(Facility.closed_dates))
        )
    }
    taken = taken_slots(session, [slot_key(s) for s in drawn])
    statuses = {}
    for slot in drawn:
        room = rooms.get(slot.room_id)
        band = next((b for b in room.time_bands if b.id == slot.time_band_id), None) if room else None
        month = schedule.month_for(slot.room_id, slot.use_date)
        if room is None or band is None or month is None:
            continue
        statuses[slot] = lottery_slot_status_rule(
            month.use_month,
            month.phase(now),
            day=slot.use_date,
            closed=is_closed(room.facility, slot.use_date),
            taken=slot_key(slot) in taken,
            starts_at=jst_moment(slot.use_date, band.starts_at),
            now=now,
        )
    return statuses


def is_closed(facility: Facility, day: date) -> bool:
    return is_closed_day_rule(day, facility.closed_weekday_set, frozenset(c.day for c in facility.closed_dates))


def taken_slots(session: Session, keys: Sequence[SlotKey]) -> set[SlotKey]:
    """The slots among `keys` an active booking holds."""
    if not keys:
        return set()
    rows = session.execute(
        select(Reservation.room_id, Reservation.use_date, Reservation.time_band_id).where(
            tuple_(Reservation.room_id, Reservation.use_date, Reservation.time_band_id).in_(list(keys)),
            Reservation.state.in_(ACTIVE_STATES),
        )
    ).all()
    return {(room_id, day, band_id) for room_id, day, band_id in rows}


def announced_months(
    session: Session, *, now: datetime, past_days: int = 31, with_rooms: bool = True
) -> list[MonthSchedule]:
    """The months to announce (top page お知らせ, the lottery pages): every month whose first
    come has not opened yet or opened in the last `past_days`, earliest first. Without
    `with_rooms` (a calendar in words, the top page) the rooms are not read: room_ids empty."""
    rows = session.scalars(
        select(LotteryMonth)
        .where(LotteryMonth.first_come_opens_at > now - timedelta(days=past_days))
        .order_by(LotteryMonth.use_month)
        .options(*([selectinload(LotteryMonth.rooms)] if with_rooms else []))
    ).all()
    return [MonthSchedule.of(row, rooms=with_rooms) for row in rows]


def open_lottery_rooms(session: Session, *, now: datetime) -> dict[int, list[MonthSchedule]]:
    """Rooms that can be entered now (抽選に申込可能な施設), each with its open months."""
    rows = session.scalars(
        select(LotteryMonth)
        .where(
            LotteryMonth.applications_open_at <= now,
            LotteryMonth.applications_close_at > now,
            LotteryMonth.drawn_at.is_(None),
        )
        .order_by(LotteryMonth.use_month)
        .options(selectinload(LotteryMonth.rooms))
    ).all()
    rooms: dict[int, list[MonthSchedule]] = {}
    for row in rows:
        month = MonthSchedule.of(row)
        for room_id in sorted(month.room_ids):
            rooms.setdefault(room_id, []).append(month)
    return rooms


def month_schedule(session: Session, use_month: date) -> MonthSchedule | None:
    row = session.scalar(
        select(LotteryMonth)
        .where(LotteryMonth.use_month == month_start(use_month))
        .options(selectinload(LotteryMonth.rooms))
    )
    return MonthSchedule.of(row) if row else None
