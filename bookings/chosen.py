"""What a resident chose on 時間帯別空き状況, as both 先着申込 (blueprints/apply) and 抽選申込
(lottery/entries.py) hold it: the lines that can go on, the refused ones by problem, and the
団体区分 valid today. One home for the reads both make of it: the rooms and bands the slots
name, the order they are shown in, and the fee of each line."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any, Generic, Protocol, TypeVar, overload

from sqlalchemy import (
    BindParameter,
    CompoundSelect,
    Integer,
    bindparam,
    exists,
    literal_column,
    null,
    select,
    union_all,
)
from sqlalchemy.orm import Session, joinedload, selectinload

from models import errors
from models.account import ResidentGroupClass
from models.availability_rules import BookingWindow
from models.facility import (
    ClosedDate,
    Facility,
    FacilityCategory,
    FeeRate,
    Purpose,
    Room,
    TimeBand,
    room_purposes,
)
from models.fee_rules import FeeQuery, FeeRateLike, slot_fee_rule
from models.lottery import SCHEDULE_COLUMNS, LotteryMonth, LotteryRoom
from models.lottery_rules import LotteryDates, first_come_window_rule, lottery_phase_rule, month_start
from models.time_rules import jst_day


class ChosenLine(Protocol):
    """A chosen slot with the room and band it names (SlotLine, EntryLine)."""

    @property
    def slot(self) -> Any: ...

    @property
    def room(self) -> AnyRoom: ...

    @property
    def band(self) -> TimeBand | BandRow: ...

    @property
    def facility(self) -> Facility | FacilityRow: ...


class FeeAnswers(Protocol):
    """What 詳細申請 answered for a room, as far as the fee goes."""

    @property
    def charges_participation_fee(self) -> bool: ...


class RoomAnswersLike(FeeAnswers, Protocol):
    """What 詳細申請 answered for a room (bookings.answers.RoomAnswers)."""

    @property
    def purpose_id(self) -> int: ...

    @property
    def attendees(self) -> int: ...


L = TypeVar("L", bound=ChosenLine)


class ChosenSlots(Generic[L]):
    """The reads of a selection; the dataclass that mixes it in holds `lines`, `refused` and
    `group_classes`."""

    group_classes: list[ResidentGroupClass]
    lines: list[L]
    refused: dict[Any, list[L]]

    @property
    def rooms(self) -> list[AnyRoom]:
        return _rooms(self.lines)

    def lines_of(self, room: AnyRoom) -> list[L]:
        return [line for line in self.lines if line.room.id == room.id]

    @property
    def slots(self) -> list[Any]:
        return [line.slot for line in self.lines]

    @property
    def chosen(self) -> list[L]:
        """Every slot the resident chose, refused ones included."""
        return self.lines + [line for lines in self.refused.values() for line in lines]

    @property
    def chosen_rooms(self) -> list[AnyRoom]:
        return _rooms(self.chosen)

    def group_class(self, group_class_id: int | None) -> ResidentGroupClass:
        """The valid 団体区分 with this id; the only one when the resident holds just one."""
        if len(self.group_classes) == 1 and group_class_id is None:
            return self.group_classes[0]
        for held in self.group_classes:
            if held.group_class_id == group_class_id:
                return held
        raise errors.NotFound(group_class=group_class_id)


def _rooms(lines: list[L]) -> list[AnyRoom]:
    seen: dict[int, AnyRoom] = {}
    for line in lines:
        seen.setdefault(line.room.id, line.room)
    return list(seen.values())


def display_order(line: ChosenLine):
    """Facility, room, day, then band: the order the chosen slots are shown in."""
    return (line.facility.code, line.room.ordinal, line.room.id, line.slot.use_date, line.band.starts_at)


# -- the catalogue as plain rows (先着申込) ------------------------------------------------
#
# What 詳細申請, 申込確認 and 申込 read of the chosen rooms, in two statements of plain
# columns built once (no ORM entity: loading Room, its facility, category, bands and purposes
# as entities cost four times as much as the reads). The attributes are those of the models
# they stand for, so that templates, forms and checks read either alike.


@dataclass(frozen=True)
class CategoryRow:
    registration_kind: str


@dataclass(frozen=True)
class FacilityRow:
    id: int
    code: str
    name_ja: str
    name_en: str
    closed_weekdays: str
    category: CategoryRow
    # The days room_rows was asked about (`days`) and those of them that are 休館日 beyond the
    # weekly closing day: what closing_days would answer for those days.
    days_read: frozenset[date] = frozenset()
    closed_among: frozenset[date] = frozenset()

    @property
    def closed_weekday_set(self) -> frozenset[int]:
        return frozenset(int(x) for x in self.closed_weekdays.split(",") if x.strip())


@dataclass(frozen=True)
class BandRow:
    id: int
    starts_at: time
    ends_at: time


@dataclass(frozen=True)
class PurposeRow:
    id: int
    name_ja: str
    name_en: str


@dataclass(frozen=True)
class RoomRow:
    id: int
    facility_id: int
    name_ja: str
    name_en: str
    capacity: int
    ordinal: int
    facility: FacilityRow
    time_bands: tuple[BandRow, ...]  # by start, as Room.time_bands
    purposes: tuple[PurposeRow, ...]  # by ordinal, as Room.purposes
    # Drawn by lottery in some use month (a row in lottery_rooms): only then can one of its
    # slots have a lottery month's first-come window (first_come_windows).
    in_lottery: bool = True


AnyRoom = Room | RoomRow

_IDS: BindParameter[list[int]] = bindparam("ids", expanding=True)
# The chosen rooms in one statement of two parts. Part 0: a row per room and band (and per
# 休館日 of its facility among the days asked), with the facility, its category and whether
# the room is ever drawn by lottery. Part 1: a row per room and purpose, its id, names and
# ordinal in the columns of the band's id, the room's names and ordinal (the same types),
# the others NULL. In the rooms' order, bands by start, purposes by ordinal.
_ROOM_PART = (
    select(
        literal_column("0", Integer).label("part"),
        Room.id.label("room_id"),
        Room.facility_id,
        Room.name_ja.label("name_ja"),
        Room.name_en.label("name_en"),
        Room.capacity,
        Room.ordinal.label("ordinal"),
        Facility.code,
        Facility.name_ja.label("facility_name_ja"),
        Facility.name_en.label("facility_name_en"),
        Facility.closed_weekdays,
        FacilityCategory.registration_kind,
        TimeBand.id.label("item_id"),
        TimeBand.starts_at.label("starts_at"),
        TimeBand.ends_at,
        exists().where(LotteryRoom.room_id == Room.id).label("in_lottery"),
        ClosedDate.day.label("closed_day"),
    )
    .join(Facility, Facility.id == Room.facility_id)
    .join(FacilityCategory, FacilityCategory.id == Facility.category_id)
    .outerjoin(TimeBand, TimeBand.room_id == Room.id)
    .outerjoin(
        ClosedDate,
        (ClosedDate.facility_id == Room.facility_id) & ClosedDate.day.in_(bindparam("days", expanding=True)),
    )
    .where(Room.id.in_(_IDS))
)
_PURPOSE_PART = (
    select(
        literal_column("1", Integer),
        room_purposes.c.room_id,
        null(),
        Purpose.name_ja,
        Purpose.name_en,
        null(),
        Purpose.ordinal,
        *[null()] * 5,
        Purpose.id,
        *[null()] * 4,
    )
    .join(Purpose, Purpose.id == room_purposes.c.purpose_id)
    .where(room_purposes.c.room_id.in_(_IDS))
)
_ROOM_ROWS: CompoundSelect = union_all(_ROOM_PART, _PURPOSE_PART).order_by(
    "part", "room_id", "starts_at", "ordinal", "item_id"
)


def room_rows(session: Session, ids: Iterable[int], *, days: Iterable[date] = ()) -> dict[int, RoomRow]:
    """The rooms with what 先着申込 reads of them — bands, purposes, the facility (without
    all its closing days: those among `days`, as closing_days would read them), its
    category's registration kind and whether the room is ever drawn by lottery — as plain
    rows, in one statement; unknown ids are left out."""
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    days_read = frozenset(days)
    rooms: dict[int, tuple] = {}
    bands: dict[int, dict[int, BandRow]] = {}
    purposes: dict[int, list[PurposeRow]] = {}
    closed: dict[int, set[date]] = {}
    for row in session.connection().execute(_ROOM_ROWS, {"ids": wanted, "days": sorted(days_read)}):
        part, room_id, facility_id, name_ja, name_en, *_rest, item_id, starts_at, ends_at, _lottery, closed_day = row
        if part == 1:
            purposes.setdefault(room_id, []).append(PurposeRow(item_id, name_ja, name_en))
            continue
        if room_id not in rooms:
            rooms[room_id] = row
            bands[room_id] = {}
            closed.setdefault(facility_id, set())
        if item_id is not None and item_id not in bands[room_id]:
            bands[room_id][item_id] = BandRow(item_id, starts_at, ends_at)
        if closed_day is not None:
            closed[facility_id].add(closed_day)
    facilities: dict[int, FacilityRow] = {}
    for _part, _room, facility_id, _ja, _en, _cap, _ord, code, fac_ja, fac_en, weekdays, kind, *_ in rooms.values():
        if facility_id not in facilities:
            closed_among = frozenset(closed[facility_id])
            category = CategoryRow(kind)
            facilities[facility_id] = FacilityRow(
                facility_id, code, fac_ja, fac_en, weekdays, category, days_read, closed_among
            )
    return {
        room_id: RoomRow(
            id=room_id,
            facility_id=row[2],
            name_ja=row[3],
            name_en=row[4],
            capacity=row[5],
            ordinal=row[6],
            facility=facilities[row[2]],
            time_bands=tuple(bands[room_id].values()),
            purposes=tuple(purposes.get(room_id, ())),
            in_lottery=bool(row[15]),
        )
        for room_id, row in rooms.items()
    }


def rooms_by_id(session: Session, ids: Iterable[int], *, closed_dates: bool = True) -> dict[int, Room]:
    """The rooms with what the checks read of them (bands, purposes, the facility's category
    and, unless `closed_dates` is False, all its closing days: 先着申込 reads only those of the
    chosen days, with closing_days)."""
    # The facility and its category in the rooms' own statement; bands and purposes in one each.
    facility = joinedload(Room.facility, innerjoin=True)
    options = [
        selectinload(Room.time_bands),
        selectinload(Room.purposes),
        facility.joinedload(Facility.category, innerjoin=True),
    ]
    if closed_dates:
        options.append(facility.selectinload(Facility.closed_dates))
    rooms = session.scalars(select(Room).where(Room.id.in_(set(ids))).options(*options)).all()
    return {r.id: r for r in rooms}


_CLOSING_DAYS = select(ClosedDate.facility_id, ClosedDate.day).where(
    ClosedDate.facility_id.in_(bindparam("facilities", expanding=True)),
    ClosedDate.day.in_(bindparam("days", expanding=True)),
)


def closing_days(session: Session, facility_ids: Iterable[int], days: Iterable[date]) -> dict[int, frozenset[date]]:
    """休館日 (beyond the weekly closing day) of these facilities among `days`, by facility:
    what is_closed_day_rule needs for those days, without a year of closing days."""
    facilities, wanted = set(facility_ids), set(days)
    found: dict[int, set[date]] = {facility_id: set() for facility_id in facilities}
    if facilities and wanted:
        params = {"facilities": sorted(facilities), "days": sorted(wanted)}
        for facility_id, day in session.connection().execute(_CLOSING_DAYS, params):
            found[facility_id].add(day)
    return {facility_id: frozenset(days_closed) for facility_id, days_closed in found.items()}


# The chosen rooms' lottery months among the chosen days' months, as plain columns: what
# lottery.schedule.first_come_windows reads through LotteryMonth entities and their rooms
# (two statements, the months' publications loaded too), in one.
_LOTTERY_MONTHS = (
    select(
        LotteryRoom.room_id,
        *SCHEDULE_COLUMNS,
    )
    .join(LotteryMonth, LotteryMonth.id == LotteryRoom.lottery_month_id)
    .where(
        LotteryRoom.room_id.in_(bindparam("rooms", expanding=True)),
        LotteryMonth.use_month.in_(bindparam("months", expanding=True)),
    )
)


def first_come_windows(session: Session, slots: Iterable[Any], *, now: datetime) -> dict[Any, BookingWindow]:
    """lottery.schedule.first_come_windows for 先着申込 (the same answer): for the slots of
    lottery rooms in lottery months, the window in which first come may book them (empty
    before 一般空き申込); slots of first-come rooms are left out. One statement of plain
    columns, only of the chosen rooms and months, on the session's connection."""
    slots = list(slots)
    if not slots:
        return {}
    params = {
        "rooms": sorted({s.room_id for s in slots}),
        "months": sorted({month_start(s.use_date) for s in slots}),
    }
    today = jst_day(now)
    windows: dict[tuple[int, date], BookingWindow] = {}
    for room_id, use_month, opens, closes, result, first_come, drawn_at in session.connection().execute(
        _LOTTERY_MONTHS, params
    ):
        phase = lottery_phase_rule(LotteryDates(opens, closes, result, first_come), drawn=drawn_at is not None, now=now)
        windows[(room_id, use_month)] = first_come_window_rule(use_month, phase, today)
    found = {}
    for slot in slots:
        window = windows.get((slot.room_id, month_start(slot.use_date)))
        if window is not None:
            found[slot] = window
    return found


@overload
def band_of(room: Room | None, slot: Any) -> TimeBand: ...


@overload
def band_of(room: RoomRow, slot: Any) -> BandRow: ...


@overload
def band_of(room: AnyRoom | None, slot: Any) -> TimeBand | BandRow: ...


def band_of(room: AnyRoom | None, slot: Any) -> TimeBand | BandRow:
    """The slot's band in its room; an unknown room or band raises NotFound."""
    if room is None:
        raise errors.NotFound(room=slot.room_id)
    band = next((b for b in room.time_bands if b.id == slot.time_band_id), None)
    if band is None:
        raise errors.NotFound(band=slot.time_band_id)
    return band


# The columns slot_fee_rule reads, as plain rows (the same names as FeeRate's attributes).
_FEE_RATES = select(
    FeeRate.room_id,
    FeeRate.time_band_id,
    FeeRate.day_type,
    FeeRate.group_class_code,
    FeeRate.charges_participation_fee,
    FeeRate.amount_yen,
).where(FeeRate.room_id.in_(_IDS))


def fee_rates(session: Session, room_ids: Iterable[int]) -> list[FeeRateLike]:
    """The fee rates of these rooms, in the database's order (slot_fee_rule takes the first
    of equally specific rows), as rows of plain columns."""
    ids = set(room_ids)
    return list(session.connection().execute(_FEE_RATES, {"ids": sorted(ids)})) if ids else []


def slot_fee(rates, slot: Any, group_class_code: str, charges_participation_fee: bool) -> int:
    """施設使用料 of one slot (room × date × band) for this 団体区分."""
    return slot_fee_rule(
        rates,
        FeeQuery(
            room_id=slot.room_id,
            time_band_id=slot.time_band_id,
            use_date=slot.use_date,
            group_class_code=group_class_code,
            charges_participation_fee=charges_participation_fee,
        ),
    )


def quote_fees(
    session: Session,
    selection: ChosenSlots[Any],
    *,
    group_class_id: int | None,
    answers: Mapping[int, FeeAnswers] | None = None,
) -> dict[Any, int]:
    """施設使用料 of each line that can go on. Without answers it is the 基本額 (no
    participation fee charged)."""
    held = selection.group_class(group_class_id)
    rates = fee_rates(session, {line.room.id for line in selection.lines})
    fees = {}
    for line in selection.lines:
        answer = (answers or {}).get(line.room.id)
        fees[line.slot] = slot_fee(
            rates, line.slot, held.group_class.code, bool(answer and answer.charges_participation_fee)
        )
    return fees


def check_room_answers(room: AnyRoom, answer: RoomAnswersLike | None, registration_kind: Any) -> None:
    """The room takes this resident's kind of registration and the answers fit it (利用目的 of
    the room, 利用人数 within its capacity), or the matching error is raised."""
    if room.facility.category.registration_kind != registration_kind:
        raise errors.WrongRegistrationKind(room=room.id)
    if answer is None:
        raise errors.EmptySelection(room=room.id)
    if answer.purpose_id not in {p.id for p in room.purposes}:
        raise errors.PurposeNotAllowed(room=room.id)
    if not 1 <= answer.attendees <= room.capacity:
        raise errors.AttendeesOutOfRange(room=room.id, capacity=room.capacity)
