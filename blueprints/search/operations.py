"""施設の検索 → 施設別空き状況 → 時間帯別空き状況: which facilities match, and how free their
rooms are by day and by time band. Reads only; never imports Flask."""

from __future__ import annotations

import hashlib
import re
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time
from functools import lru_cache

from sqlalchemy import Connection, bindparam, cast, literal_column, null, select, text, union_all
from sqlalchemy.orm import Session, selectinload

from bookings.chosen import BandRow  # a time band as plain columns (shared with 申込)
from bookings.slots import MAX_ID, SlotRef, cancelled_within
from lottery.schedule import LotterySchedule, MonthSchedule, count_entries, read_schedule
from models import errors
from models.availability_rules import (
    BookingWindow,
    DayStatus,
    SlotStatus,
    booking_window_rule,
    day_status_rule,
    group_day_status_rule,
    is_closed_day_rule,
    room_day_status_rule,
    slot_status_rule,
)
from models.db import UTCDateTime
from models.facility import ClosedDate, Facility, FacilityCategory, FeeRate, Purpose, Room, RoomType, TimeBand
from models.fee_rules import FeeQuery, NoFeeRate, slot_fee_rule
from models.lottery import SCHEDULE_COLUMNS, LotteryMonth, LotteryRoom
from models.lottery_rules import LotteryDates, lottery_phase_rule, month_start
from models.reservation import Reservation
from models.reservation_rules import ACTIVE_STATES
from models.search_rules import KANA_ROWS, kana_row_rule
from models.time_rules import jst_day, jst_moment

# 施設の検索 ----------------------------------------------------------------------------


@dataclass(frozen=True)
class SearchOptions:
    """What the filter form offers: カテゴリ, 使用目的, 施設種類, 施設名の行."""

    categories: list[FacilityCategory]
    purposes: list[Purpose]
    room_types: list[RoomType]
    kana_rows: list[str]


@dataclass(frozen=True)
class FacilityCriteria:
    """Known codes only (the form checked them against SearchOptions); None = any."""

    category: str | None = None
    purpose: str | None = None
    room_type: str | None = None
    kana: str | None = None


def load_search_options(session: Session) -> SearchOptions:
    return SearchOptions(
        categories=list(session.scalars(select(FacilityCategory).order_by(FacilityCategory.ordinal))),
        purposes=list(session.scalars(select(Purpose).order_by(Purpose.ordinal))),
        room_types=list(session.scalars(select(RoomType).order_by(RoomType.ordinal))),
        kana_rows=list(KANA_ROWS),
    )


def find_facilities(session: Session, criteria: FacilityCriteria) -> list[Facility]:
    """Facilities that match every given criterion, by reading (あいうえお順), with their
    category and rooms loaded. A purpose or room type matches a facility that has at least
    one such room."""
    query = (
        select(Facility)
        .options(selectinload(Facility.category), selectinload(Facility.rooms))
        .order_by(Facility.kana, Facility.code)
    )
    if criteria.category:
        query = query.where(Facility.category.has(FacilityCategory.code == criteria.category))
    if criteria.purpose:
        query = query.where(Facility.rooms.any(Room.purposes.any(Purpose.code == criteria.purpose)))
    if criteria.room_type:
        query = query.where(Facility.rooms.any(Room.room_type.has(RoomType.code == criteria.room_type)))
    facilities = list(session.scalars(query))
    if criteria.kana:
        facilities = [f for f in facilities if kana_row_rule(f.kana) == criteria.kana]
    return facilities


# Shared by both grids -------------------------------------------------------------------


# Closed days and taken slots of some rooms over a range: statements built once, run on the
# session's connection.
_CLOSED_DATES = select(ClosedDate.facility_id, ClosedDate.day).where(
    ClosedDate.facility_id.in_(bindparam("facilities", expanding=True)),
    ClosedDate.day.between(bindparam("first"), bindparam("last")),
)
# The active states written out in the SQL, as the partial index uq_reservations_active_slot
# (room, date, band) is defined: the database reads the taken slots from that index alone
# (with bound values SQLite cannot tell that the index covers the query, and reads the table).
_ACTIVE_STATE = Reservation.state.in_([literal_column(f"'{state.value}'") for state in sorted(ACTIVE_STATES)])
_TAKEN = select(Reservation.room_id, Reservation.use_date, Reservation.time_band_id).where(
    Reservation.room_id.in_(bindparam("rooms", expanding=True)),
    Reservation.use_date.between(bindparam("first"), bindparam("last")),
    _ACTIVE_STATE,
)


class _Availability:
    """Closed days and taken slots of some rooms over a date range, each loaded with one
    query, and the statuses the rules derive from them."""

    def __init__(
        self,
        session: Session,
        rooms: list[Room] | list[SlotRoom],
        first: date,
        last: date,
        *,
        now: datetime,
        days_ahead: int,
        schedule: LotterySchedule | None = None,
    ):
        self.now = now
        self.window = booking_window_rule(jst_day(now), days_ahead)
        connection = session.connection()
        facilities = {room.facility_id: room.facility for room in rooms}
        listed: dict[int, set[date]] = defaultdict(set)
        for facility_id, day in connection.execute(
            _CLOSED_DATES, {"facilities": sorted(facilities), "first": first, "last": last}
        ):
            listed[facility_id].add(day)
        # Per facility, once: a month of ten rooms asks about closed days 300 times.
        self._closing = {
            facility_id: (facility.closed_weekday_set, frozenset(listed[facility_id]))
            for facility_id, facility in facilities.items()
        }
        self.taken = {
            tuple(row)
            for row in connection.execute(
                _TAKEN, {"rooms": sorted(room.id for room in rooms), "first": first, "last": last}
            )
        }
        # The lottery (DESIGN "Lottery"): the months' rows, and entries so far per slot only
        # when some room is drawn in one of them.
        # `schedule`: the months of the range when the caller read them already (none, say).
        self.schedule = schedule if schedule is not None else read_schedule(session, first_day=first, last_day=last)
        drawn_rooms = {room.id for room in rooms} & {r for m in self.schedule.months.values() for r in m.room_ids}
        self.entries = count_entries(session, room_ids=drawn_rooms, first_day=first, last_day=last)

    def slot_status(self, room: Room, day: date, band: TimeBand, closed: bool) -> SlotStatus:
        taken = (room.id, day, band.id) in self.taken
        starts_at = jst_moment(day, band.starts_at)
        drawn = self.schedule.slot_status(room.id, day, starts_at=starts_at, closed=closed, taken=taken, now=self.now)
        if drawn is not None:
            return SlotStatus(drawn.value)
        return slot_status_rule(
            day=day, window=self.window, closed=closed, taken=taken, starts_at=starts_at, now=self.now
        )

    def slot_statuses(self, room: Room, day: date) -> list[tuple[TimeBand, SlotStatus]]:
        """Each band of the room on that day, with its status."""
        closed = is_closed_day_rule(day, *self._closing[room.facility_id])
        return [(band, self.slot_status(room, day, band, closed)) for band in room.time_bands]

    def lottery_months(self, rooms: list[Room]) -> list[MonthSchedule]:
        """The months in the range in which one of `rooms` is drawn, for the calendar in words."""
        ids = {room.id for room in rooms}
        return [m for _, m in sorted(self.schedule.months.items()) if m.room_ids & ids]

    def entries_of(self, room: Room, day: date, band: TimeBand | None = None) -> int:
        """Lottery entries so far (抽選申込中) for one slot, or for the whole day."""
        if band is not None:
            return self.entries.get((room.id, day, band.id), 0)
        return sum(self.entries.get((room.id, day, b.id), 0) for b in room.time_bands)


# 施設別空き状況 -------------------------------------------------------------------------


@dataclass(frozen=True)
class CellRef:
    """One chosen day cell: room × date, written `room:YYYY-MM-DD` in URLs."""

    room_id: int
    use_date: date

    @classmethod
    def parse(cls, text: str) -> CellRef:
        try:
            room, day = text.split(":")
            ref = cls(int(room), date.fromisoformat(day))
        except (ValueError, TypeError, AttributeError):
            raise errors.NotFound(cell=text) from None
        if not 1 <= ref.room_id <= MAX_ID:
            raise errors.NotFound(cell=text)
        return ref

    def __str__(self) -> str:
        return f"{self.room_id}:{self.use_date.isoformat()}"


@dataclass(frozen=True)
class DayCell:
    room: SlotRoom
    day: date
    status: DayStatus
    entries: int = 0  # lottery entries so far that day (shown while 抽選受付中)

    @property
    def ref(self) -> CellRef:
        return CellRef(self.room.id, self.day)


@dataclass(frozen=True)
class GridRoom:
    """What the grid shows of a room, read as plain columns (no ORM entity): its name
    (localized() reads name_ja / name_en), capacity and bands (id, start) by start."""

    id: int
    name_ja: str
    name_en: str
    capacity: int
    bands: tuple[tuple[int, time], ...]


@dataclass(frozen=True)
class GridPlace:
    """What the grid shows of a facility: code, name, weekly closing days and rooms by
    ordinal."""

    id: int
    code: str
    name_ja: str
    name_en: str
    closed_weekday_set: frozenset[int]
    rooms: list[GridRoom]


@dataclass(frozen=True)
class RoomDays:
    """One room's status on each day and its lottery entries so far that day (shown while
    抽選受付中), both in the order of the grid's days."""

    room: GridRoom
    statuses: list[DayStatus]
    entries: list[int]


@dataclass(frozen=True)
class FacilityDays:
    facility: GridPlace
    rooms: list[RoomDays]


@dataclass(frozen=True)
class DayGrid:
    """施設別空き状況: for each facility, its rooms × `days`."""

    days: list[date]
    facilities: list[FacilityDays]
    window: BookingWindow
    lottery_months: list[MonthSchedule] = field(default_factory=list)


@dataclass(frozen=True)
class GridFacility:
    """What a request reads of a facility before asking the cache: its availability version."""

    id: int
    code: str
    version: int


def grid_key(facility: GridFacility, days: list[date], window: BookingWindow, lottery: str) -> str:
    """What a facility's shared grid depends on: the facility and its availability version, the
    period, the booking window (today's date, the days ahead) and the lottery's
    months (lottery_signature)."""
    return (
        f"{facility.id}:{facility.version}:{days[0].isoformat()}:{len(days)}:"
        f"{window.first.isoformat()}:{window.last.isoformat()}:{lottery}"
    )


# The grid's statements are built once (each request only binds its values): building a
# select and its cache key again on every request cost more than running it.
#
# What the cache keys of a grid depend on, in one statement: the facilities' ids and
# availability versions (kind 1) and, for each lottery month in the period, its dates,
# whether it was drawn and each room it draws (kind 0). The columns of the two kinds share
# their places; what one kind does not have is a typed NULL.
_KIND = literal_column("0").label("kind")
_LOTTERY_KEY_ROWS = (
    select(
        _KIND,
        *SCHEDULE_COLUMNS,
        LotteryRoom.room_id.label("id"),
        cast(null(), Facility.code.type).label("code"),
        cast(null(), Facility.availability_version.type).label("version"),
    )
    .outerjoin(LotteryRoom, LotteryRoom.lottery_month_id == LotteryMonth.id)
    .where(LotteryMonth.use_month.between(bindparam("first"), bindparam("last")))
)


def _grid_facilities(rows, codes: list[str], now: datetime) -> tuple[list[GridFacility], str]:
    """The keys statement's answer: the facilities in the order of `codes` and the lottery
    signature; NotFound names the codes no facility has."""
    keyed, lottery = _split_key_rows(rows, now)
    found = {code: GridFacility(id_, code, version) for id_, code, version in keyed}
    missing = [code for code in codes if code not in found]
    if missing:
        raise errors.NotFound(facilities=missing)
    return [found[code] for code in codes], lottery


def _key_rows(id_column):
    """The kind-1 rows' columns: `id_column` (a facility's or a room's id), the facility's code
    and availability version."""
    return select(
        literal_column("1"),
        cast(null(), LotteryMonth.use_month.type),
        *(cast(null(), UTCDateTime()) for _ in range(5)),
        id_column,
        Facility.code,
        Facility.availability_version,
    )


def _split_key_rows(rows, now: datetime) -> tuple[list[tuple[int, str, int]], str]:
    """The kind-1 rows as (id, code, version), and the lottery's signature of the kind-0 rows:
    for each month, its phase now, its dates and the rooms it draws."""
    keyed: list[tuple[int, str, int]] = []
    months: dict[date, tuple[LotteryDates, bool, list[int]]] = {}
    for kind, use_month, opens, closes, result, first_come, drawn_at, id_, code, version in rows:
        if kind == 1:
            keyed.append((id_, code, version))
        else:
            dates = LotteryDates(opens, closes, result, first_come)
            months.setdefault(use_month, (dates, drawn_at is not None, []))[2].append(id_)
    parts = []
    for use_month, (dates, drawn, room_ids) in sorted(months.items()):
        phase = lottery_phase_rule(dates, drawn=drawn, now=now)
        signed = ",".join(map(str, sorted(r for r in room_ids if r is not None))) + repr(dates)
        parts.append(f"{use_month:%Y%m}{phase.value}{hashlib.blake2s(signed.encode(), digest_size=6).hexdigest()}")
    return keyed, ",".join(parts)


@lru_cache(maxsize=16)
def _grid_keys(count: int):
    """The statement for `count` facilities, their codes bound as code0, code1, …: one
    statement per count (at most ten: the form's limit), so that no execution expands an IN list
    (SQLAlchemy's expanding parameters rewrite the SQL on every execution)."""
    return union_all(
        _LOTTERY_KEY_ROWS,
        _key_rows(Facility.id).where(Facility.code.in_([bindparam(f"code{i}") for i in range(count)])),
    )


def read_grid_keys(
    connection: Connection, codes: list[str], *, first_day: date, last_day: date, now: datetime
) -> tuple[list[GridFacility], str]:
    """The facilities in the order asked for and the lottery's signature for the period
    (what grid_key needs besides the period and the window), in one statement of columns,
    run on `connection` (no ORM work). Unknown codes raise
    NotFound(facilities=[…]). Read before any booking, so that the version is never older
    than the rows behind it.

    The signature is what lottery statuses and the lottery calendar depend on besides
    bookings and entries (which bump the version): for each month in the period, its phase,
    its dates and which rooms it draws (a staff change of dates or rooms moves every key of
    the period, as a booking moves the version)."""
    values: dict = {f"code{i}": code for i, code in enumerate(codes)}
    rows = connection.execute(
        _grid_keys(len(codes)), values | {"first": month_start(first_day), "last": month_start(last_day)}
    )
    return _grid_facilities(rows, codes, now)


# A bound parameter or an escaped percent sign in SQL of the "pyformat" style (psycopg's).
_PYFORMAT = re.compile(r"%\((\w+)\)s|%%")


def _numbered(sql: str) -> tuple[bytes, tuple[str, ...]]:
    """`sql` in the "pyformat" style as libpq takes it: each name's parameter as $1, $2 … in
    the order the names first appear, "%%" as "%". Returns the SQL and the names in order."""
    names: list[str] = []

    def number(match: re.Match) -> str:
        name = match.group(1)
        if name is None:
            return "%"
        if name not in names:
            names.append(name)
        return f"${names.index(name) + 1}"

    numbered = _PYFORMAT.sub(number, sql)
    if "%(" in _PYFORMAT.sub("", sql):  # a "%(" that is neither a parameter nor after "%%"
        raise ValueError(f"a parameter not in the pyformat style: {sql[:200]}")
    return numbered.encode("ascii"), tuple(names)


@dataclass(frozen=True)
class _DriverStatement:
    """A statement compiled once for a dialect, to run on the driver's own cursor: its SQL,
    the order of its parameters (positional drivers) or None (named), each parameter's and
    each result column's conversion (SQLAlchemy's, as it would apply them). For psycopg,
    also the statement as libpq takes it (`libpq`: its SQL with $n and the names' order),
    run on the connection's libpq handle (psycopg.pq) instead of a cursor."""

    sql: str
    order: tuple[str, ...] | None
    binds: dict[str, Callable]
    results: tuple[Callable | None, ...]
    fixed: dict  # the parameters with a value of their own (converted)
    libpq: tuple[bytes, tuple[str, ...]] | None = None

    @classmethod
    def of(cls, statement, dialect) -> _DriverStatement:
        compiled = statement.compile(dialect=dialect)
        binds = dict(compiled._bind_processors)
        fixed = {
            name: binds[name](bind.value) if name in binds else bind.value
            for name, bind in compiled.binds.items()
            if not bind.required
        }
        return cls(
            compiled.string,
            tuple(compiled.positiontup) if compiled.positional else None,
            binds,
            tuple(column[3]._cached_result_processor(dialect, None) for column in compiled._result_columns),
            fixed,
            _numbered(compiled.string) if dialect.driver == "psycopg" else None,
        )

    def run(self, connection: Connection, values: dict) -> list[tuple]:
        """Its rows for `values`, run on the driver connection of `connection`, outside any
        transaction: one statement, seen whole at one moment (SQLite without BEGIN;
        PostgreSQL as one statement of its own, so neither BEGIN nor ROLLBACK goes to the
        server). `connection` must not have begun a transaction. Listeners of the engine's
        before_cursor_execute see it as any other statement (with no cursor on
        PostgreSQL)."""
        if connection.in_transaction():
            raise RuntimeError("_DriverStatement.run needs a connection outside any transaction")
        binds = self.binds
        values = self.fixed | {name: binds[name](value) if name in binds else value for name, value in values.items()}
        driver = connection.connection.dbapi_connection
        if self.libpq is not None:
            rows = self._run_libpq(connection, driver, values)
        else:
            rows = self._run_cursor(connection, driver, values)
        results = self.results
        if not any(results):
            return rows
        return [tuple(v if f is None or v is None else f(v) for f, v in zip(results, row)) for row in rows]

    def _run_cursor(self, connection: Connection, driver, values: dict) -> list[tuple]:
        parameters = tuple(values[name] for name in self.order) if self.order is not None else values
        cursor = driver.cursor()
        try:
            if connection.engine.dispatch.before_cursor_execute:
                connection.engine.dispatch.before_cursor_execute(connection, cursor, self.sql, parameters, None, False)
            cursor.execute(self.sql, parameters)
            return cursor.fetchall()
        finally:
            cursor.close()

    def _run_libpq(self, connection: Connection, driver, values: dict) -> list[tuple]:
        """Through psycopg's libpq handle: the parameters dumped and the rows loaded by
        psycopg's own adapters (a Transformer of the connection, as a cursor makes them),
        without a cursor's execution machinery. The statement is prepared once per server
        session (as psycopg prepares a statement it sees repeated), so the server neither
        parses nor plans it again. libpq runs one statement outside a transaction as the
        server's own: no BEGIN, whatever the connection's autocommit."""
        from psycopg import errors, pq  # only where the engine is psycopg's: SQLite never loads it
        from psycopg.adapt import PyFormat, Transformer
        from psycopg.pq import DiagnosticField

        DIAG_SQLSTATE = DiagnosticField.SQLSTATE
        sql, order = self.libpq  # type: ignore[misc]
        parameters = [values[name] for name in order]
        if connection.engine.dispatch.before_cursor_execute:
            connection.engine.dispatch.before_cursor_execute(connection, None, self.sql, parameters, None, False)
        transformer = Transformer(driver)
        dumped = transformer.dump_sequence(parameters, [PyFormat.AUTO] * len(parameters))
        pgconn = driver.pgconn
        if pgconn.status == pq.ConnStatus.BAD:
            raise errors.OperationalError("the connection to the server was lost")
        # The statements prepared in this pooled connection's server session (SQLAlchemy
        # clears `info` with the connection), by SQL and parameter types.
        prepared: set = connection.connection.info.setdefault("driver_statements", set())
        types = tuple(transformer.types)
        name = _statement_name(sql, types)
        for attempt in (1, 2):
            if name not in prepared:
                result = pgconn.prepare(name, sql, types)
                # Already there (prepared before the set was lost): the same SQL and types.
                if result.status != pq.ExecStatus.COMMAND_OK and result.error_field(DIAG_SQLSTATE) != b"42P05":
                    raise _libpq_error(driver, result)
                prepared.add(name)
            result = pgconn.exec_prepared(name, dumped, transformer.formats)
            if result.status == pq.ExecStatus.TUPLES_OK:
                transformer.set_pgresult(result)
                return transformer.load_rows(0, result.ntuples, tuple)
            error = _libpq_error(driver, result)
            if attempt == 2 or not isinstance(error, (errors.InvalidSqlStatementName, errors.FeatureNotSupported)):
                raise error
            # Gone (DEALLOCATE ALL: a psycopg ROLLBACK after it prepared statements of its own,
            # a pooler's DISCARD ALL), or planned for columns a migration has changed since
            # ("cached plan must not change result type"): prepared again, once.
            prepared.discard(name)
            if isinstance(error, errors.FeatureNotSupported):
                pgconn.exec_(b"DEALLOCATE " + name)
        raise AssertionError("unreachable")


@lru_cache(maxsize=64)
def _statement_name(sql: bytes, types: tuple[int, ...]) -> bytes:
    """The server-side name of `sql` prepared for parameters of `types`: the same in every
    session, none shared by another statement."""
    return b"meguro_" + hashlib.sha1(sql + repr(types).encode()).hexdigest()[:24].encode()


def _libpq_error(driver, result) -> Exception:
    """psycopg's error for a failed libpq result; a lost connection as a cursor reports it
    (the server's error as its cause)."""
    from psycopg import errors, pq

    error = errors.error_from_result(result, encoding=driver.info.encoding)
    if driver.pgconn.status == pq.ConnStatus.BAD and not isinstance(error, errors.OperationalError):
        lost = errors.OperationalError(str(error))
        lost.__cause__ = error
        return lost
    return error


@lru_cache(maxsize=32)
def _driver_grid_keys(dialect, count: int) -> _DriverStatement:
    return _DriverStatement.of(_grid_keys(count), dialect)


def read_grid_keys_outside_transaction(
    connection: Connection, codes: list[str], *, first_day: date, last_day: date, now: datetime
) -> tuple[list[GridFacility], str]:
    """read_grid_keys's statement and answer, run on the driver's cursor of `connection`
    before it begins any transaction (_DriverStatement.run): a repeated grid reads nothing
    else, and needs neither SQLAlchemy's execution nor a transaction for one statement. What
    the connection reads afterwards (a miss) is at least as new as these versions."""
    values: dict = {f"code{i}": code for i, code in enumerate(codes)}
    rows = _driver_grid_keys(connection.dialect, len(codes)).run(
        connection, values | {"first": month_start(first_day), "last": month_start(last_day)}
    )
    return _grid_facilities(rows, codes, now)


def build_day_grid(
    session: Session | Connection,
    *,
    facility_codes: list[str],
    days: list[date],
    now: datetime,
    days_ahead: int,
    schedule: LotterySchedule | None = None,
) -> DayGrid:
    """The day status of every room of the chosen facilities on each of `days` (consecutive),
    computed (the screen caches what it renders of it, keyed by grid_key): facilities with
    rooms and bands (one query of columns), the lottery's months and entries so far, closed
    days and bookings, and one pass over those rows."""
    first, last = days[0], days[-1]
    closed_rows: Iterable[tuple]
    taken_rows: Iterable[tuple]
    if isinstance(session, Connection) and not session.in_transaction():
        # A connection outside any transaction (an anonymous miss, after the keys): the rows
        # by the facilities' codes, in one statement on the driver's cursor (_DriverStatement).
        values: dict = {f"code{i}": code for i, code in enumerate(facility_codes)}
        bounds = {"first": first, "last": last}
        rows = _driver_grid_rows(session.dialect, len(facility_codes)).run(session, values | bounds)
        kinds: tuple[list, list, list] = ([], [], [])
        for kind, f_id, code, f_ja, f_en, weekdays, room_id, r_ja, r_en, capacity, _o, band_id, starts, day in rows:
            if kind == 0:
                kinds[0].append((f_id, code, f_ja, f_en, weekdays, room_id, r_ja, r_en, capacity, band_id, starts))
            elif kind == 1:
                kinds[1].append((f_id, day))
            else:
                kinds[2].append((room_id, day, band_id))
        facilities = _grid_places(kinds[0], facility_codes)
        closed_rows, taken_rows = kinds[1], kinds[2]
    else:
        facilities = _grid_places(session.execute(_GRID_PLACES, {"codes": facility_codes}), facility_codes)
        bounds = {"first": first, "last": last}
        closed_rows = session.execute(_CLOSED_DATES, {"facilities": [f.id for f in facilities], **bounds})
        room_ids = [room.id for facility in facilities for room in facility.rooms]
        taken_rows = session.execute(_TAKEN, {"rooms": room_ids, **bounds}) if room_ids else []
    window = booking_window_rule(jst_day(now), days_ahead)
    if schedule is None:
        schedule = read_schedule(session, first_day=days[0], last_day=days[-1])
    ids = {room.id for facility in facilities for room in facility.rooms}
    drawn_rooms = ids & {r for m in schedule.months.values() for r in m.room_ids}
    entries = count_entries(session, room_ids=drawn_rooms, first_day=days[0], last_day=days[-1])
    entries_by_day: dict[tuple[int, date], int] = defaultdict(int)
    for (room_id, day, _band_id), n in entries.items():
        entries_by_day[room_id, day] += n
    statuses = _day_statuses(closed_rows, taken_rows, facilities, days, now=now, window=window, schedule=schedule)
    no_entries = [0] * len(days)
    return DayGrid(
        days=days,
        facilities=[
            FacilityDays(
                facility,
                [
                    RoomDays(
                        room,
                        statuses[room.id],
                        [entries_by_day.get((room.id, day), 0) for day in days]
                        if room.id in drawn_rooms
                        else no_entries,
                    )
                    for room in facility.rooms
                ],
            )
            for facility in facilities
        ],
        window=window,
        lottery_months=[m for _, m in sorted(schedule.months.items()) if m.room_ids & ids],
    )


_GRID_PLACES = (
    select(
        Facility.id,
        Facility.code,
        Facility.name_ja,
        Facility.name_en,
        Facility.closed_weekdays,
        Room.id,
        Room.name_ja,
        Room.name_en,
        Room.capacity,
        TimeBand.id,
        TimeBand.starts_at,
    )
    .select_from(Facility)
    .outerjoin(Room, Room.facility_id == Facility.id)
    .outerjoin(TimeBand, TimeBand.room_id == Room.id)
    .where(Facility.code.in_(bindparam("codes", expanding=True)))
    .order_by(Facility.id, Room.ordinal, Room.id, TimeBand.starts_at)
)


# The same three reads by the facilities' codes (code0, code1, …: one statement per count),
# for a connection outside any transaction (_DriverStatement).
def _by_codes(count: int):
    return Facility.code.in_([bindparam(f"code{i}") for i in range(count)])


@lru_cache(maxsize=32)
def _driver_grid_rows(dialect, count: int) -> _DriverStatement:
    """The facilities with rooms and bands (kind 0), the closed days (kind 1) and the taken
    slots (kind 2) of `count` facilities, as _GRID_PLACES, _CLOSED_DATES and _TAKEN read
    them, in one statement (one round trip): columns kind, facility id, code, names, closing
    weekdays, room id, names, capacity, ordinal, band id, start, day; what a kind does not
    have is a typed NULL."""

    def none(column):
        return cast(null(), column.type)

    places = (
        select(
            literal_column("0").label("kind"),
            Facility.id,
            Facility.code,
            Facility.name_ja,
            Facility.name_en,
            Facility.closed_weekdays,
            Room.id.label("room_id"),
            Room.name_ja.label("room_ja"),
            Room.name_en.label("room_en"),
            Room.capacity,
            Room.ordinal,
            TimeBand.id.label("band_id"),
            TimeBand.starts_at,
            none(ClosedDate.day).label("day"),
        )
        .select_from(Facility)
        .outerjoin(Room, Room.facility_id == Facility.id)
        .outerjoin(TimeBand, TimeBand.room_id == Room.id)
        .where(_by_codes(count))
    )
    nothing = [none(c) for c in (Facility.code, Facility.name_ja, Facility.name_en, Facility.closed_weekdays)]
    no_room = [none(c) for c in (Room.name_ja, Room.name_en, Room.capacity, Room.ordinal)]
    closed = (
        select(
            literal_column("1"),
            ClosedDate.facility_id,
            *nothing,
            none(Room.id),
            *no_room,
            none(TimeBand.id),
            none(TimeBand.starts_at),
            ClosedDate.day,
        )
        .join(Facility, Facility.id == ClosedDate.facility_id)
        .where(_by_codes(count), ClosedDate.day.between(bindparam("first"), bindparam("last")))
    )
    # The rooms as a subquery, so that the database reads the bookings room by room from the
    # index (a join lets SQLite, which keeps no statistics here, scan every booking).
    rooms = select(Room.id).join(Facility, Facility.id == Room.facility_id).where(_by_codes(count))
    taken = select(
        literal_column("2"),
        none(Facility.id),
        *nothing,
        Reservation.room_id,
        *no_room,
        Reservation.time_band_id,
        none(TimeBand.starts_at),
        Reservation.use_date,
    ).where(
        Reservation.room_id.in_(rooms),
        Reservation.use_date.between(bindparam("first"), bindparam("last")),
        _ACTIVE_STATE,
    )
    # The facilities' rows as _GRID_PLACES orders them: facility, room ordinal, room, start.
    statement = union_all(places, closed, taken).order_by(text("1, 2, 11, 7, 13"))
    return _DriverStatement.of(statement, dialect)


def _grid_places(rows: Iterable[tuple], codes: list[str]) -> list[GridPlace]:
    """The facilities in the order asked for with their rooms (by ordinal) and bands (by
    start), from the rows of _GRID_PLACES (one query of plain columns); unknown codes raise
    NotFound(facilities=[…])."""
    places: dict[str, GridPlace] = {}
    rooms: dict[int, tuple[GridPlace, list]] = {}
    for row in rows:
        f_id, code, f_ja, f_en, weekdays, room_id, r_ja, r_en, capacity, band_id, starts = row
        place = places.get(code)
        if place is None:
            weekday_set = frozenset(int(x) for x in (weekdays or "").split(",") if x.strip())
            place = places[code] = GridPlace(f_id, code, f_ja, f_en, weekday_set, [])
        if room_id is None:
            continue
        if room_id not in rooms:
            rooms[room_id] = (place, [r_ja, r_en, capacity, []])
        if band_id is not None:
            rooms[room_id][1][3].append((band_id, starts))
    for room_id, (place, (r_ja, r_en, capacity, bands)) in rooms.items():
        place.rooms.append(GridRoom(room_id, r_ja, r_en, capacity, tuple(bands)))
    missing = [code for code in codes if code not in places]
    if missing:
        raise errors.NotFound(facilities=missing)
    return [places[code] for code in codes]


def _day_statuses(
    closed_rows: Iterable[tuple],
    taken_rows: Iterable[tuple],
    facilities: list[GridPlace],
    days: list[date],
    *,
    now: datetime,
    window: BookingWindow,
    schedule: LotterySchedule,
) -> dict[int, list[DayStatus]]:
    """Each room's status on each day, from one query for closed days and one for the
    bookings, in one pass over their rows (room_day_status_rule, whose cases that need no
    band's start — closed, outside the window, a later day than today — are worked out here
    once per day and per room's set of bands); a lottery room's day in a lottery month band
    by band through the month's rules (DESIGN "Lottery")."""
    listed: dict[int, set[date]] = defaultdict(set)
    for facility_id, day in closed_rows:
        listed[facility_id].add(day)
    taken: dict[tuple[int, date], set[int]] = defaultdict(set)
    for room_id, day, band_id in taken_rows:
        taken[room_id, day].add(band_id)
    today = jst_day(now)
    # What a day is, whichever room: in the booking window, later than today.
    in_window = [day in window for day in days]
    later = [day > today for day in days]
    drawn = {room_id for month in schedule.months.values() for room_id in month.room_ids}
    no_band: set[int] = set()
    closed_status, out_status = DayStatus.CLOSED, DayStatus.OUT_OF_WINDOW
    free, partly, full = DayStatus.FREE, DayStatus.PARTLY_FREE, DayStatus.FULL
    result = {}
    for facility in facilities:
        weekdays, closed_dates = facility.closed_weekday_set, frozenset(listed[facility.id])
        closed = [is_closed_day_rule(day, weekdays, closed_dates) for day in days]
        for room in facility.rooms:
            room_id, bands = room.id, room.bands
            band_ids, count = frozenset(band_id for band_id, _starts in bands), len(bands)
            lottery = room_id in drawn  # drawn by lottery in some month of the period
            row = []
            for i, day in enumerate(days):
                held = taken.get((room_id, day), no_band)
                if lottery and schedule.is_lottery_slot(room_id, day):
                    row.append(_lottery_day_status(schedule, room_id, day, bands, held, closed[i], window, now))
                elif not count or closed[i]:
                    row.append(closed_status)
                elif not in_window[i]:
                    row.append(out_status)
                elif later[i]:
                    n = len(band_ids & held) if held else 0
                    row.append(free if n == 0 else full if n == count else partly)
                else:
                    row.append(
                        room_day_status_rule(day, bands, held, closed=False, window=window, today=today, now=now)
                    )
            result[room_id] = row
    return result


def _lottery_day_status(schedule, room_id, day, bands, held, closed, window, now) -> DayStatus:
    statuses = []
    for band_id, starts in bands:
        starts_at = jst_moment(day, starts)
        drawn = schedule.slot_status(room_id, day, starts_at=starts_at, closed=closed, taken=band_id in held, now=now)
        if drawn is not None:
            statuses.append(SlotStatus(drawn.value))
        else:
            statuses.append(
                slot_status_rule(
                    day=day, window=window, closed=closed, taken=band_id in held, starts_at=starts_at, now=now
                )
            )
    return day_status_rule(statuses) if statuses else DayStatus.CLOSED


def group_day_statuses(
    session: Session,
    *,
    resident_id: int,
    shared: dict[int, list[DayStatus]],
    days: list[date],
    now: datetime,
    days_ahead: int,
) -> dict[tuple[int, date], tuple[DayStatus | None, int]]:
    """再予約不可 for one group (DESIGN rule 5, issue 11) over the shared statuses of
    `shared`'s rooms: the room-days whose status differs for this group, with the status it
    sees (None: 再予約不可, every band it could choose is one it cancelled) and the day's
    lottery entries so far. One query of the
    group's cancelled slots in the rooms and period; only when one falls on a day that can be
    chosen, that day's slots band by band, as 時間帯別空き状況 shows them."""
    cancelled = cancelled_within(session, resident_id, list(shared), days[0], days[-1])
    index = {day: i for i, day in enumerate(days)}
    blocked: dict[tuple[int, date], set[int]] = defaultdict(set)
    for ref in cancelled:
        i = index.get(ref.use_date)
        if i is not None and shared[ref.room_id][i].selectable:
            blocked[ref.room_id, ref.use_date].add(ref.time_band_id)
    if not blocked:
        return {}
    rooms = {
        room.id: room
        for room in session.scalars(
            select(Room)
            .where(Room.id.in_({room_id for room_id, _day in blocked}))
            .options(selectinload(Room.time_bands), selectinload(Room.facility))
        )
    }
    first, last = min(day for _r, day in blocked), max(day for _r, day in blocked)
    availability = _Availability(session, list(rooms.values()), first, last, now=now, days_ahead=days_ahead)
    changed: dict[tuple[int, date], tuple[DayStatus | None, int]] = {}
    for (room_id, day), bands in blocked.items():
        slots = availability.slot_statuses(rooms[room_id], day)
        status = group_day_status_rule([s for _b, s in slots], [band.id in bands for band, _s in slots])
        if status is not shared[room_id][index[day]]:
            changed[room_id, day] = (status, availability.entries_of(rooms[room_id], day))
    return changed


# 時間帯別空き状況 -----------------------------------------------------------------------


@dataclass(frozen=True)
class SlotPlace:
    """What 時間帯別空き状況 shows of a facility, read as plain columns (localized() reads
    name_ja / name_en)."""

    id: int
    code: str
    name_ja: str
    name_en: str
    kana: str
    closed_weekday_set: frozenset[int]


@dataclass(frozen=True)
class SlotRoom:
    """What 時間帯別空き状況 shows of a room, read as plain columns: its facility, name,
    capacity and time bands by start."""

    id: int
    facility_id: int
    facility: SlotPlace
    name_ja: str
    name_en: str
    capacity: int
    ordinal: int
    time_bands: tuple[BandRow, ...]


@dataclass(frozen=True)
class SlotCell:
    band: BandRow
    status: SlotStatus
    ref: SlotRef
    base_fee_yen: int | None  # 基本額; None when the fee table has no base row
    entries: int = 0  # lottery entries so far (shown while 抽選受付中)


@dataclass(frozen=True)
class DaySlots:
    day: date
    status: DayStatus
    slots: list[SlotCell]


@dataclass(frozen=True)
class RoomSlots:
    """One room's chosen days × its time bands."""

    room: SlotRoom
    days: list[DaySlots]

    @property
    def facility(self) -> SlotPlace:
        return self.room.facility


@dataclass(frozen=True)
class SlotGrid:
    rooms: list[RoomSlots]
    lottery_months: list[MonthSchedule] = field(default_factory=list)

    @property
    def first_free(self) -> SlotCell | None:
        """The first slot that can be chosen, for first come or for the lottery."""
        for room in self.rooms:
            for day in room.days:
                for slot in day.slots:
                    if slot.status.selectable or slot.status.enterable:
                        return slot
        return None

    @property
    def has_free(self) -> bool:
        return any(s.status.selectable for room in self.rooms for day in room.days for s in day.slots)

    @property
    def has_lottery(self) -> bool:
        return any(s.status.enterable for room in self.rooms for day in room.days for s in day.slots)


# What the cache key of a slot screen depends on, in one statement built once: for each
# lottery month in the chosen days' range, its dates, whether it was drawn and each room it
# draws (kind 0), and each chosen room's facility code and availability version (kind 1).
_SLOT_KEYS = union_all(
    _LOTTERY_KEY_ROWS,
    _key_rows(Room.id)
    .join(Facility, Facility.id == Room.facility_id)
    .where(Room.id.in_(bindparam("rooms", expanding=True))),
)


def read_slot_keys(
    session: Session, room_ids: list[int], *, first_day: date, last_day: date, now: datetime
) -> tuple[dict[int, tuple[str, int]], str]:
    """時間帯別空き状況's cache key parts: each known room's facility code and availability
    version, and the lottery's signature for the months from `first_day` to `last_day` (each
    month's phase, dates and rooms, as read_grid_keys signs them), in one statement of
    columns on the session's connection. Read before any booking, so that the versions are
    never older than the rows behind them. Unknown rooms are left out."""
    rows = session.connection().execute(
        _SLOT_KEYS, {"rooms": room_ids, "first": month_start(first_day), "last": month_start(last_day)}
    )
    keyed, lottery = _split_key_rows(rows, now)
    return {id_: (code, version) for id_, code, version in keyed}, lottery


# The slot screen's statements, built once (each request binds its rooms).
_SLOT_ROOMS = (
    select(
        Room.id,
        Room.name_ja,
        Room.name_en,
        Room.capacity,
        Room.ordinal,
        Facility.id,
        Facility.code,
        Facility.name_ja,
        Facility.name_en,
        Facility.kana,
        Facility.closed_weekdays,
        TimeBand.id,
        TimeBand.starts_at,
        TimeBand.ends_at,
    )
    .join(Facility, Facility.id == Room.facility_id)
    .outerjoin(TimeBand, TimeBand.room_id == Room.id)
    .where(Room.id.in_(bindparam("rooms", expanding=True)))
    .order_by(Room.id, TimeBand.starts_at, TimeBand.id)
)
_SLOT_FEES = select(
    FeeRate.room_id,
    FeeRate.time_band_id,
    FeeRate.day_type,
    FeeRate.group_class_code,
    FeeRate.charges_participation_fee,
    FeeRate.amount_yen,
).where(FeeRate.room_id.in_(bindparam("rooms", expanding=True)))


def _load_slot_rooms(session: Session, room_ids: set[int]) -> dict[int, SlotRoom]:
    """The rooms with their facilities and bands, in one statement of columns."""
    places: dict[int, SlotPlace] = {}
    rows: dict[int, tuple] = {}
    bands: dict[int, list[BandRow]] = defaultdict(list)
    for (
        room_id,
        name_ja,
        name_en,
        capacity,
        ordinal,
        facility_id,
        code,
        facility_ja,
        facility_en,
        kana,
        closed_weekdays,
        band_id,
        starts_at,
        ends_at,
    ) in session.connection().execute(_SLOT_ROOMS, {"rooms": sorted(room_ids)}):
        if facility_id not in places:
            weekdays = frozenset(int(x) for x in closed_weekdays.split(",") if x.strip())
            places[facility_id] = SlotPlace(facility_id, code, facility_ja, facility_en, kana, weekdays)
        rows.setdefault(room_id, (facility_id, name_ja, name_en, capacity, ordinal))
        if band_id is not None:
            bands[room_id].append(BandRow(band_id, starts_at, ends_at))
    return {
        room_id: SlotRoom(
            room_id, facility_id, places[facility_id], name_ja, name_en, capacity, ordinal, tuple(bands[room_id])
        )
        for room_id, (facility_id, name_ja, name_en, capacity, ordinal) in rows.items()
    }


def build_slot_grid(
    session: Session,
    *,
    cells: list[CellRef],
    now: datetime,
    days_ahead: int,
    schedule: LotterySchedule | None = None,
) -> SlotGrid:
    """The time bands of each chosen (room, date), with their status and 基本額.

    Raises NotFound(cells=[…]) for rooms that do not exist, and SlotNotBookable(cells=[DayCell…])
    for days on which nothing can be chosen at all (休館日, 申込期間外, 抽選結果待ち, 先着受付前): a day that has
    filled up since the grid was shown is not an error, its bands say 予約済. `schedule`: the
    lottery months of the chosen days' range when the caller knows them already."""
    if not cells:
        raise errors.EmptySelection()
    cells = sorted(set(cells), key=lambda c: (c.room_id, c.use_date))
    rooms = _load_slot_rooms(session, {c.room_id for c in cells})
    unknown = [str(c) for c in cells if c.room_id not in rooms]
    if unknown:
        raise errors.NotFound(cells=unknown)
    first, last = cells[0].use_date, cells[0].use_date
    for cell in cells:
        first, last = min(first, cell.use_date), max(last, cell.use_date)
    # One range over all chosen dates: a few extra rows beat a query per cell.
    availability = _Availability(
        session, list(rooms.values()), first, last, now=now, days_ahead=days_ahead, schedule=schedule
    )
    rates = list(session.connection().execute(_SLOT_FEES, {"rooms": sorted(rooms)}))

    unbookable = []
    by_room: dict[int, list[DaySlots]] = defaultdict(list)
    for cell in cells:
        room = rooms[cell.room_id]
        slots = []
        for band, status in availability.slot_statuses(room, cell.use_date):
            # Only a free slot has a price worth showing (and only dates near today have a
            # holiday calendar: 9999-12-31 has no next day to check).
            fee = _base_fee(rates, room, band, cell.use_date) if status.selectable or status.enterable else None
            slots.append(
                SlotCell(
                    band=band,
                    status=status,
                    ref=SlotRef(room.id, cell.use_date, band.id),
                    base_fee_yen=fee,
                    entries=availability.entries_of(room, cell.use_date, band),
                )
            )
        status = day_status_rule([s.status for s in slots])
        if not status.selectable and status is not DayStatus.FULL:
            unbookable.append(DayCell(room, cell.use_date, status))
        by_room[room.id].append(DaySlots(cell.use_date, status, slots))
    if unbookable:
        raise errors.SlotNotBookable(cells=unbookable)
    ordered = sorted(rooms.values(), key=lambda r: (r.facility.kana, r.facility.code, r.ordinal, r.id))
    return SlotGrid(
        [RoomSlots(room, by_room[room.id]) for room in ordered],
        lottery_months=availability.lottery_months(ordered),
    )


def _base_fee(rates: list, room: SlotRoom, band: BandRow, day: date) -> int | None:
    """基本額: the rate for any 団体区分 without a participation fee (guide L49: the amount
    may differ with admission fees and the like)."""
    try:
        return slot_fee_rule(
            rates,
            FeeQuery(
                room_id=room.id,
                time_band_id=band.id,
                use_date=day,
                group_class_code="",
                charges_participation_fee=False,
            ),
        )
    except NoFeeRate:
        return None
