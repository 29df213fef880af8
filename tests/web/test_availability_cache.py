"""施設別空き状況's shared statuses are cached per facility under its availability version
(in-process here; in Redis when REDIS_URL is set, as CI's second pass runs it), and every
write that changes a slot bumps the version in its own transaction: a grid asked for after
the commit that took a slot never shows it free, whatever was cached before. On SQLite, and
on PostgreSQL when DATABASE_URL is set."""

from __future__ import annotations

import re
import sys
from datetime import timedelta

import pytest
from flask import g
from markupsafe import Markup, escape
from sqlalchemy import event, select
from sqlalchemy.orm import selectinload

from blueprints.apply.operations import RoomAnswers, apply_for_slots
from blueprints.cancel.operations import cancel_reservations
from blueprints.search import operations
from blueprints.search.day_grid import CellWriter
from bookings.slots import SlotRef
from lottery.draw import draw_month
from lottery.entries import enter_lottery, withdraw_entries
from mail.compose import CallCentre
from models.account import Resident
from models.availability_rules import DayStatus, day_status_rule, is_closed_day_rule
from models.facility import Facility, Room
from models.lottery import LotteryMonth
from models.reservation import Reservation
from models.reservation_rules import ACTIVE_STATES, ReservationState
from models.time_rules import jst_day
from tests.conftest import DAYS_AHEAD, HTMX_HEADERS, AuthActions, csrf_token_from, frozen_now
from tests.pages import text, words
from tests.web.card_support import database, run_worker
from tests.web.test_search import cell_text, use_reader_mode
from web.channels import Channel
from web.formats import long_date, short_date

CODE = "013"  # 駒場住区センター
CSRF_VALUE = r'name="csrf_token"[^>]*value="[^"]+"'  # noqa: S105 (a pattern, not a secret)


def grid_url(start) -> str:
    return f"/availability?facility={CODE}&period=1m&from={start.isoformat()}"


def free_day(app, room_name: str = "201【旧第1会議室】"):
    """A day in the window on which every band of the room is free: (room, day)."""
    today = jst_day(frozen_now())
    with database(app).read_session() as s:
        room = s.scalar(select(Room).join(Facility).where(Facility.code == CODE, Room.name_ja == room_name))
        taken = set(
            s.scalars(
                select(Reservation.use_date).where(Reservation.room_id == room.id, Reservation.state.in_(ACTIVE_STATES))
            )
        )
        facility = room.facility
        closing = (facility.closed_weekday_set, frozenset(c.day for c in facility.closed_dates))
        for offset in range(3, 28):
            day = today + timedelta(days=offset)
            if day not in taken and not is_closed_day_rule(day, *closing):
                return room.id, day
    raise AssertionError("no free day")


def choosable(html: str, room_id: int, day) -> bool:
    return f'name="cell" value="{room_id}:{day.isoformat()}"' in html


def book_whole_day(app, room_id: int, day, number: str = "00040676") -> list[str]:
    """Another resident takes every band of the day, as the apply step does, committed."""
    with database(app).write() as s:
        resident = s.scalar(select(Resident).where(Resident.registration_number == number))
        room = s.get(Room, room_id)
        application = apply_for_slots(
            s,
            resident_id=resident.id,
            slots=[SlotRef(room_id, day, band.id) for band in room.time_bands],
            answers={room_id: RoomAnswers(room.purposes[0].id, 5, False)},
            group_class_id=resident.group_classes[0].group_class_id,
            now=frozen_now(),
            days_ahead=DAYS_AHEAD,
        )
        return [r.number for r in application.reservations]


def version(app, code: str = CODE) -> int:
    with database(app).read_session() as s:
        return s.scalar(select(Facility.availability_version).where(Facility.code == code))


def test_a_cached_grid_never_shows_a_slot_free_after_the_commit_that_took_it(app, client):
    room_id, day = free_day(app)
    start = jst_day(frozen_now()) + timedelta(days=1)
    for headers in ({}, HTMX_HEADERS):  # the page and the fragment share the cached statuses
        assert choosable(client.get(grid_url(start), headers=headers).get_data(as_text=True), room_id, day)
    numbers = book_whole_day(app, room_id, day)
    for headers in ({}, HTMX_HEADERS):
        assert not choosable(client.get(grid_url(start), headers=headers).get_data(as_text=True), room_id, day)
    # Cancelled by its group: free again at once.
    with database(app).write() as s:
        resident = s.scalar(select(Resident).where(Resident.registration_number == "00040676"))
        versions = dict(
            s.execute(select(Reservation.number, Reservation.version).where(Reservation.number.in_(numbers))).all()
        )
        cancel_reservations(s, resident_id=resident.id, versions=versions, reason=None, agreed=True, now=frozen_now())
    assert choosable(client.get(grid_url(start)).get_data(as_text=True), room_id, day)


def test_a_repeated_grid_reads_no_bookings_and_an_anonymous_one_no_registration(app, client):
    start = jst_day(frozen_now()) + timedelta(days=1)
    statements: list[str] = []
    engine = database(app).engine
    event.listen(engine, "before_cursor_execute", lambda _c, _cur, statement, *_a: statements.append(statement))
    first = client.get(grid_url(start)).get_data(as_text=True)
    assert any("FROM reservations" in s for s in statements)
    statements.clear()
    second = client.get(grid_url(start)).get_data(as_text=True)
    assert not any("FROM reservations" in s or "FROM closed_dates" in s for s in statements)
    assert not any("FROM residents" in s for s in statements)
    # The same page (but for the CSRF tokens, signed with the time).
    assert re.sub(CSRF_VALUE, "", second) == re.sub(CSRF_VALUE, "", first)


def test_every_write_that_changes_a_slot_bumps_its_facilitys_version(app):
    """Booking, cancellation, expiry by the worker, lottery entry, withdrawal and the draw."""
    room_id, day = free_day(app)
    before = version(app)
    numbers = book_whole_day(app, room_id, day)
    assert version(app) == before + 1
    with database(app).write() as s:
        resident = s.scalar(select(Resident).where(Resident.registration_number == "00040676"))
        versions = dict(
            s.execute(select(Reservation.number, Reservation.version).where(Reservation.number.in_(numbers[:1]))).all()
        )
        cancel_reservations(s, resident_id=resident.id, versions=versions, reason=None, agreed=True, now=frozen_now())
    assert version(app) == before + 2
    # Expiry: the worker, a month later, cancels the unpaid 仮予約 left (one transaction each).
    with database(app).read_session() as s:
        unpaid = s.scalar(
            select(Facility.code)
            .join(Room, Room.facility_id == Facility.id)
            .join(Reservation, Reservation.room_id == Room.id)
            .where(Reservation.state == ReservationState.PROVISIONAL)
            .order_by(Reservation.use_date)
            .limit(1)
        )
    unpaid_before = version(app, unpaid)
    app.config["FROZEN_NOW"] = (frozen_now() + timedelta(days=40)).isoformat()
    assert run_worker(app).exit_code == 0
    assert version(app, unpaid) > unpaid_before

    # The lottery: the demo's open month, its rooms and entries.
    with database(app).read_session() as s:
        month = s.scalar(select(LotteryMonth).where(LotteryMonth.drawn_at.is_(None)).order_by(LotteryMonth.use_month))
        lottery_room = month.rooms[0].room
        code, use_month, result_at, opens = (
            lottery_room.facility.code,
            month.use_month,
            month.result_at,
            month.applications_open_at,
        )
        lottery_room_id, band_id, purpose_id = (
            lottery_room.id,
            lottery_room.time_bands[-1].id,
            lottery_room.purposes[0].id,
        )
        closing = (
            lottery_room.facility.closed_weekday_set,
            frozenset(c.day for c in lottery_room.facility.closed_dates),
        )
    entry_day = next(
        d for d in (use_month + timedelta(days=i) for i in range(20, 28)) if not is_closed_day_rule(d, *closing)
    )
    at = opens + timedelta(hours=1)
    lottery_before = version(app, code)
    with database(app).write() as s:
        resident = s.scalar(select(Resident).where(Resident.registration_number == "00040676"))
        application = enter_lottery(
            s,
            resident_id=resident.id,
            slots=[SlotRef(lottery_room_id, entry_day, band_id)],
            answers={lottery_room_id: RoomAnswers(purpose_id, 5, False)},
            group_class_id=resident.group_classes[0].group_class_id,
            now=at,
        )
        public_id = application.entries[0].public_id
    assert version(app, code) == lottery_before + 1
    with database(app).write() as s:
        resident = s.scalar(select(Resident).where(Resident.registration_number == "00040676"))
        withdraw_entries(s, resident_id=resident.id, public_ids=[public_id], now=at)
    assert version(app, code) == lottery_before + 2
    with database(app).write() as s:
        draw_month(
            s,
            use_month=use_month,
            now=result_at,
            centre=lambda _locale: CallCentre("03-5431-5932", "平日9:00~21:00"),
            operator="test",
        )
    assert version(app, code) == lottery_before + 3


def cancel_whole_day(app, number: str, numbers: list[str]) -> None:
    with database(app).write() as s:
        resident = s.scalar(select(Resident).where(Resident.registration_number == number))
        versions = dict(
            s.execute(select(Reservation.number, Reservation.version).where(Reservation.number.in_(numbers))).all()
        )
        cancel_reservations(s, resident_id=resident.id, versions=versions, reason=None, agreed=True, now=frozen_now())


def test_a_day_whose_free_slots_the_group_itself_cancelled_is_rebook_blocked_for_it_only(app, client, auth):
    """Issue 11: 再予約不可 on 施設別空き状況 for the group that cancelled, over the cached
    shared grid (JS off page and htmx fragment, table and reader mode); others see 空き."""
    room_id, day = free_day(app)
    start = jst_day(frozen_now()) + timedelta(days=1)
    label = short_date(day, "ja")
    # Every free person sees the day free first (and so the shared grid is cached).
    for headers in ({}, HTMX_HEADERS):
        assert choosable(client.get(grid_url(start), headers=headers).get_data(as_text=True), room_id, day)
    # 駒場サークル books the whole day and cancels it: every band of the day is one it cancelled.
    cancel_whole_day(app, "00040676", book_whole_day(app, room_id, day, "00040676"))
    auth.login("40676")
    for headers in ({}, HTMX_HEADERS):
        page = text(client.get(grid_url(start), headers=headers))
        assert not choosable(page, room_id, day)
        assert cell_text(page, "駒場住区センター", "201", label) == "×再予約不可"
    # Another group, and anyone logged out, sees it free.
    other = app.test_client()
    AuthActions(other).login("40675")
    for headers in ({}, HTMX_HEADERS):
        page = text(other.get(grid_url(start), headers=headers))
        assert choosable(page, room_id, day)
        assert cell_text(page, "駒場住区センター", "201", label) == "○空き"
    assert choosable(app.test_client().get(grid_url(start)).get_data(as_text=True), room_id, day)
    # In reader mode too, in words.
    use_reader_mode(client)
    page = words(client.get(grid_url(start)).get_data(as_text=True))
    assert f"201【旧第1会議室】 {long_date(day, 'ja')} 再予約不可" in page


def test_a_day_with_other_free_slots_stays_choosable_for_the_group_that_cancelled_one(app, client, auth):
    """The day as 時間帯別空き状況 shows it to that group: one band 再予約不可, the others free."""
    room_id, day = free_day(app)
    start = jst_day(frozen_now()) + timedelta(days=1)
    with database(app).read_session() as s:
        first_band = s.get(Room, room_id).time_bands[0].id
    cancel_whole_day(app, "00040676", book_bands(app, room_id, day, [first_band], "00040676"))
    auth.login("40676")
    page = text(client.get(grid_url(start), headers=HTMX_HEADERS))
    assert choosable(page, room_id, day)
    assert cell_text(page, "駒場住区センター", "201", short_date(day, "ja")) == "△一部空き"
    page = text(app.test_client().get(grid_url(start), headers=HTMX_HEADERS))
    assert cell_text(page, "駒場住区センター", "201", short_date(day, "ja")) == "○空き"


def book_bands(app, room_id: int, day, bands: list[int], number: str) -> list[str]:
    with database(app).write() as s:
        resident = s.scalar(select(Resident).where(Resident.registration_number == number))
        room = s.get(Room, room_id)
        application = apply_for_slots(
            s,
            resident_id=resident.id,
            slots=[SlotRef(room_id, day, band) for band in bands],
            answers={room_id: RoomAnswers(room.purposes[0].id, 5, False)},
            group_class_id=resident.group_classes[0].group_class_id,
            now=frozen_now(),
            days_ahead=DAYS_AHEAD,
        )
        return [r.number for r in application.reservations]


def test_the_rendered_grid_is_shared_but_each_request_gets_its_own_chosen_cells(app, client):
    """The cached HTML holds no per-request part: the cells a URL chose come back ticked for
    it and for no one else, the first choosable cell keeps the error summary's id, and every
    language and presentation has its own rendering, each current after a booking."""
    room_id, day = free_day(app)
    start = jst_day(frozen_now()) + timedelta(days=1)
    value = f"{room_id}:{day.isoformat()}"
    chosen = text(client.get(grid_url(start) + f"&cell={value}", headers=HTMX_HEADERS))
    assert re.search(rf'name="cell" value="{value}"[^>]*\bchecked\b', chosen)
    plain = text(client.get(grid_url(start), headers=HTMX_HEADERS))
    assert choosable(plain, room_id, day) and " checked" not in plain.split('class="cell-form"')[1]
    assert plain.count('id="cell"') == 1
    english, reader = app.test_client(), app.test_client()
    english.post(
        "/settings/language",
        data={"csrf_token": csrf_token_from(text(english.get("/settings/display"))), "locale": "en", "next": "/"},
    )
    use_reader_mode(reader)
    for who in (english, reader):
        assert choosable(text(who.get(grid_url(start))), room_id, day)
    book_whole_day(app, room_id, day)
    for who in (client, english, reader):
        assert not choosable(text(who.get(grid_url(start))), room_id, day)
    assert "× Full" in words(text(english.get(grid_url(start))))


def test_what_is_rendered_once_and_reused_follows_the_language_the_start_and_the_errors(app, client):
    """The period form's fields, the breadcrumb and the fragment's title are rendered once
    and then reused: each shows the language, start and facilities of the request, and a
    wrong start still gets its own message next to the field."""
    start = jst_day(frozen_now()) + timedelta(days=3)
    later = start + timedelta(days=7)
    english = app.test_client()
    english.post(
        "/settings/language",
        data={"csrf_token": csrf_token_from(text(english.get("/settings/display"))), "locale": "en", "next": "/"},
    )
    for _round in range(2):
        japanese_page = text(client.get(grid_url(start)))
        assert '<label for="from">開始日</label>' in japanese_page
        assert f'name="from" type="date" value="{start.isoformat()}"' in japanese_page
        assert 'href="/search/facilities?all=1&amp;facility=013">施設の検索</a>' in japanese_page
        fragment = text(client.get(grid_url(start), headers=HTMX_HEADERS))
        assert fragment.startswith("<title>施設別空き状況 | 目黒区施設予約システム</title>")
        english_page = text(english.get(grid_url(start)))
        assert '<label for="from">Start date</label>' in english_page
        assert 'href="/search/facilities?all=1&amp;facility=013">Search facilities</a>' in english_page
        fragment = text(english.get(grid_url(start), headers=HTMX_HEADERS))
        assert fragment.startswith("<title>Availability by facility | Meguro City Facility Reservation System</title>")
    assert f'value="{later.isoformat()}"' in text(client.get(grid_url(later)))
    two = text(client.get(grid_url(start).replace(f"facility={CODE}", "facility=039&facility=013")))
    assert 'href="/search/facilities?all=1&amp;facility=039&amp;facility=013">施設の検索</a>' in two
    # A query the form corrects or rejects gives what the form says, never a reused rendering.
    spaced = grid_url(start).replace(CODE, f"%20{CODE}%20").replace("from=", "from=%20")
    assert text(client.get(spaced, headers=HTMX_HEADERS)) == text(client.get(grid_url(start), headers=HTMX_HEADERS))
    wrong = client.get(f"/availability?facility={CODE}&from=2026-13-01", headers=HTMX_HEADERS)
    assert wrong.status_code == 422
    assert "開始日は「2026-12-01」のように年-月-日で入力してください。" in text(wrong)
    assert 'aria-invalid="true"' in text(wrong) and 'value="2026-13-01"' in text(wrong)


def test_each_day_of_the_grid_is_its_slots_status_taken_together(app):
    """The grid's pass (closed, outside the window and later days worked out without a band's
    start) says of every room and day what 時間帯別空き状況's slots say taken together: every
    facility of the demo, from yesterday to past the window's end (lottery months included)."""
    book_whole_day(app, *free_day(app))  # a day with nothing free
    now = frozen_now()
    days = [jst_day(now) + timedelta(days=i) for i in range(-1, DAYS_AHEAD + 10)]
    with database(app).read_session() as s:
        codes = list(s.scalars(select(Facility.code).order_by(Facility.code)))
        grid = operations.build_day_grid(s, facility_codes=codes, days=days, now=now, days_ahead=DAYS_AHEAD)
        rooms = {
            room.id: room
            for room in s.scalars(select(Room).options(selectinload(Room.time_bands), selectinload(Room.facility)))
        }
        slots = operations._Availability(s, list(rooms.values()), days[0], days[-1], now=now, days_ahead=DAYS_AHEAD)
        seen = set()
        for facility in grid.facilities:
            for room_days in facility.rooms:
                for day, status in zip(days, room_days.statuses, strict=True):
                    statuses = [st for _band, st in slots.slot_statuses(rooms[room_days.room.id], day)]
                    expected = day_status_rule(statuses) if statuses else DayStatus.CLOSED
                    assert status is expected, (room_days.room.id, day)
                    seen.add(status)
    assert {DayStatus.FREE, DayStatus.PARTLY_FREE, DayStatus.FULL, DayStatus.CLOSED, DayStatus.OUT_OF_WINDOW} <= seen


def test_refresh_availability_shows_what_was_changed_by_hand(app, client):
    """A room renamed (or a closing day added) by hand in the database bumps no version, so
    the cached grid keeps the old name until `flask refresh-availability` is run for it."""
    start = jst_day(frozen_now()) + timedelta(days=1)
    assert "201【旧第1会議室】" in text(client.get(grid_url(start), headers=HTMX_HEADERS))
    with database(app).write() as s:
        room = s.scalar(select(Room).join(Facility).where(Facility.code == CODE, Room.name_ja == "201【旧第1会議室】"))
        room.name_ja = "201【改称した会議室】"
    assert "201【旧第1会議室】" in text(client.get(grid_url(start), headers=HTMX_HEADERS))

    runner = app.test_cli_runner()
    refused = runner.invoke(args=["refresh-availability", CODE, "999"])
    assert refused.exit_code != 0 and "999" in refused.output
    assert "201【旧第1会議室】" in text(client.get(grid_url(start), headers=HTMX_HEADERS))

    done = runner.invoke(args=["refresh-availability", CODE])
    assert done.exit_code == 0, done.output
    assert "1 facilities" in done.output
    page = text(client.get(grid_url(start), headers=HTMX_HEADERS))
    assert "201【改称した会議室】" in page and "201【旧第1会議室】" not in page


def test_the_tables_written_in_python_are_the_templates_markup(app):
    """CellWriter.table writes search/_day_table.html's markup (the template is no longer
    rendered for a table): the same HTML for every demo facility, in both languages, with
    names that need escaping."""
    now = frozen_now()
    days = [jst_day(now) + timedelta(days=i) for i in range(1, 15)]
    with database(app).read_session() as s:
        codes = list(s.scalars(select(Facility.code).order_by(Facility.code)))
        grid = operations.build_day_grid(s, facility_codes=codes, days=days, now=now, days_ahead=DAYS_AHEAD)
    compared = 0
    for locale in ("ja", "en"):
        with app.test_request_context("/"):
            g.locale = locale
            g.channel = Channel()
            writer = CellWriter(days, reader=False)
            for facility_days in grid.facilities:
                facility = facility_days.facility
                rows = [
                    (room_days.room, Markup(escape(room_days.room.name_ja + " <&>")), Markup("<td>x</td>"))
                    for room_days in facility_days.rooms
                ]
                expected = app.jinja_env.get_template("search/_day_table.html").render(
                    facility=facility, heads=writer.heads, rows=rows
                )
                assert writer.table(facility, rows) == expected
                compared += 1
    assert compared == 2 * len(codes)


def test_an_anonymous_grid_reads_on_one_connection_and_a_repeated_one_in_one_statement(app, client):
    """An anonymous visitor's grid checks one connection out, miss or hit: the keys first,
    outside any transaction, then (a miss) the rows on the same connection. A repeated grid
    sends the keys' statement alone (no BEGIN); the grid shown is the same."""
    start = jst_day(frozen_now()) + timedelta(days=1)
    engine = database(app).engine
    checkouts: list[int] = []
    statements: list[str] = []
    event.listen(engine, "checkout", lambda *_a: checkouts.append(1))
    event.listen(engine, "before_cursor_execute", lambda _c, _cur, statement, *_a: statements.append(statement))
    first = client.get(grid_url(start), headers=HTMX_HEADERS).get_data(as_text=True)
    assert len(checkouts) == 1
    assert any("FROM reservations" in s for s in statements)
    checkouts.clear()
    statements.clear()
    second = client.get(grid_url(start), headers=HTMX_HEADERS).get_data(as_text=True)
    assert len(checkouts) == 1
    assert len(statements) == 1 and "availability_version" in statements[0]
    assert second == first


def test_what_an_anonymous_grid_sends_is_kept_within_its_bound_and_follows_the_version(app, client):
    """The finished fragment of an anonymous request is sent again as it is while the
    facility's version holds (one statement: the keys), and not after a booking; the memo
    keeps at most its bytes, least recently used out first."""
    from blueprints.search.day_grid import FinishedGrids

    room_id, day = free_day(app)
    start = jst_day(frozen_now()) + timedelta(days=1)
    first = client.get(grid_url(start), headers=HTMX_HEADERS).get_data()
    assert choosable(first.decode(), room_id, day)
    assert client.get(grid_url(start), headers=HTMX_HEADERS).get_data() == first
    book_whole_day(app, room_id, day)
    assert not choosable(client.get(grid_url(start), headers=HTMX_HEADERS).get_data(as_text=True), room_id, day)

    grids = FinishedGrids(max_bytes=3 * sys.getsizeof(b"x" * 1000))
    for n in range(4):
        grids.set(("k", n), b"x" * 1000)
    assert grids.get(("k", 0)) is None and grids.get(("k", 3)) == b"x" * 1000
    grids.set(("big",), b"x" * 10_000)  # larger than the whole bound: not kept
    assert grids.get(("big",)) is None


def test_the_keys_read_outside_a_transaction_answer_as_the_sessions_read(app):
    """The anonymous keys' statement run on the driver (libpq's handle on PostgreSQL, the
    cursor on SQLite) gives the same facilities, versions and lottery signature as the same
    statement through SQLAlchemy: over periods with lottery months (their dates as UTC
    datetimes) and without."""
    engine = database(app).engine
    now = frozen_now()
    today = jst_day(now)
    with database(app).write() as s:
        codes = list(s.scalars(select(Facility.code).order_by(Facility.code)))
        lottery_months = list(s.scalars(select(LotteryMonth.use_month)))
    assert lottery_months, "the demo data has lottery months"
    signed = 0
    for first, days in [(today + timedelta(days=1), 7), (today, 90), (min(lottery_months), 120)]:
        last = first + timedelta(days=days - 1)
        for chosen in ([codes[0]], codes[:3], codes):
            with engine.connect() as connection:
                outside = operations.read_grid_keys_outside_transaction(
                    connection, chosen, first_day=first, last_day=last, now=now
                )
            with engine.connect() as connection:
                inside = operations.read_grid_keys(connection, chosen, first_day=first, last_day=last, now=now)
            assert outside == inside
            assert [facility.code for facility in outside[0]] == chosen
            signed += bool(outside[1])
    assert signed, "some period had a lottery month"


def _todays_keys(connection):
    """The anonymous key read of CODE for today, on `connection` (the driver path)."""
    now = frozen_now()
    return operations.read_grid_keys_outside_transaction(
        connection, [CODE], first_day=jst_day(now), last_day=jst_day(now), now=now
    )


def _prepared_statements(connection) -> int:
    """How many statements the driver path has prepared in this connection's server session
    (its names start with meguro_); the read's transaction ended."""
    from sqlalchemy import text as sql_text

    count = connection.execute(
        sql_text("SELECT count(*) FROM pg_prepared_statements WHERE name LIKE 'meguro_%'")
    ).scalar_one()
    connection.commit()
    return count


def test_a_failing_key_read_raises_the_servers_error_and_leaves_the_pool_usable(app):
    """On PostgreSQL's driver path (libpq's handle) a statement the server refuses raises the
    driver's error for it, not an answer, and the pooled connection serves the next read."""
    from sqlalchemy import Integer, bindparam, literal_column

    from blueprints.search.operations import _DriverStatement

    engine = database(app).engine
    if engine.dialect.name == "sqlite":
        pytest.skip("SQLite divides by zero without an error")
    failing = _DriverStatement.of(
        select(literal_column("1 / 0").label("x")).where(bindparam("one", type_=Integer) == 1), engine.dialect
    )
    with engine.connect() as connection, pytest.raises(engine.dialect.loaded_dbapi.Error, match="division by zero"):
        failing.run(connection, {"one": 1})
    with engine.connect() as connection:
        facilities, _ = _todays_keys(connection)
    assert [facility.code for facility in facilities] == [CODE]


def test_the_key_read_is_prepared_once_per_server_session_and_again_after_a_discard(app):
    """On PostgreSQL the driver path prepares its statement once per pooled connection (the
    server neither parses nor plans it again) and prepares it again when the session's
    statements were discarded (DISCARD ALL, as a pooler may send), answering the same."""
    engine = database(app).engine
    if engine.dialect.name == "sqlite":
        pytest.skip("PostgreSQL's prepared statements")
    keys, prepared = _todays_keys, _prepared_statements
    with engine.connect() as connection:
        first = keys(connection)
        assert prepared(connection) >= 1
        before = prepared(connection)
        assert keys(connection) == first
        assert prepared(connection) == before  # not prepared again
        connection.connection.dbapi_connection.pgconn.exec_(b"DISCARD ALL")  # outside any transaction
        assert prepared(connection) == 0
        assert keys(connection) == first
        assert prepared(connection) >= 1
        connection.invalidate()  # psycopg's own prepared statements went too: not back to the pool


def test_the_key_read_survives_psycopgs_rollback_and_an_anonymous_miss_keeps_it(database_url, tmp_path):
    """psycopg deallocates every prepared statement of the session after a ROLLBACK once it
    has prepared statements of its own (it does for any statement run more than five
    times): the key read is then prepared again on its next use, answering the same. A run
    of anonymous misses over a lottery month (the cache off: rows read in a transaction on
    the key read's connection, which the miss ends with COMMIT) leaves it prepared."""
    from app import create_app
    from tests.conftest import make_config

    app = create_app("standard", make_config(database_url, tmp_path, AVAILABILITY_CACHE_ENTRIES=0))
    try:
        engine = database(app).engine
        if engine.dialect.name == "sqlite":
            pytest.skip("PostgreSQL's prepared statements")
        keys, ours = _todays_keys, _prepared_statements
        with engine.connect() as connection:
            first = keys(connection)
            for _ in range(7):  # psycopg prepares this one itself from the sixth time on
                connection.execute(select(Facility.id).where(Facility.code == CODE)).all()
            connection.rollback()  # … and now deallocates everything
            assert ours(connection) == 0
            assert keys(connection) == first
            assert ours(connection) == 1
            for _ in range(7):  # psycopg's own prepared again, kept past a COMMIT: a ROLLBACK
                connection.execute(select(Facility.id).where(Facility.code == CODE)).all()
            connection.commit()  # on this pooled connection would now deallocate ours too

        client = app.test_client()
        with database(app).write() as s:
            # A period with a lottery month: its miss reads the rows in a transaction.
            start = min(s.scalars(select(LotteryMonth.use_month)))
        first_page = client.get(grid_url(start), headers=HTMX_HEADERS).get_data(as_text=True)
        with engine.connect() as connection:
            prepared = ours(connection)
        pages = {client.get(grid_url(start), headers=HTMX_HEADERS).get_data(as_text=True) for _ in range(8)}
        assert pages == {first_page}
        with engine.connect() as connection:
            assert ours(connection) == prepared >= 1
    finally:
        database(app).dispose()
