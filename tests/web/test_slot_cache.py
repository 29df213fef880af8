"""時間帯別空き状況's body is cached under its rooms' availability versions
(blueprints/search/slot_grid.py), like 施設別空き状況's grid: a slot screen asked for after the
commit that took a slot never shows it free, the group that cancelled a slot sees it
再予約不可 over the shared body and no one else does, and the chosen slots are ticked for the
URL that chose them only. What the cached path serves is what the templates write for each
visitor (ja/en, table and reader mode, anonymous and logged in, chosen and 再予約不可 slots,
first come and lottery)."""

from __future__ import annotations

import re

from flask import render_template
from sqlalchemy import event

from blueprints.search import operations
from blueprints.search.operations import CellRef
from blueprints.search.slot_grid import slot_rows
from bookings.slots import cancelled_by
from models.account import Resident
from models.facility import Room
from tests.conftest import DAYS_AHEAD, HTMX_HEADERS, AuthActions, csrf_token_from, frozen_now
from tests.pages import text, words
from tests.web.card_support import database
from tests.web.test_availability_cache import CODE, CSRF_VALUE, book_bands, cancel_whole_day, free_day
from tests.web.test_search import cell_text, checkbox, use_reader_mode
from web.formats import long_date
from web.labels import SLOT_STATUSES
from web.steps import step_heading

WASHITSU = 3  # 駒場住区センター 和室, a lottery room (抽選受付中 on 2027-02-05)


def slots_url(room_id: int, day, *slots: str) -> str:
    return f"/availability/slots?facility={CODE}&cell={room_id}:{day.isoformat()}" + "".join(
        f"&slot={slot}" for slot in slots
    )


def bands_of(app, room_id: int) -> list[int]:
    with database(app).read_session() as s:
        return [band.id for band in s.get(Room, room_id).time_bands]


def english_client(app):
    client = app.test_client()
    token = csrf_token_from(text(client.get("/settings/display")))
    client.post("/settings/language", data={"csrf_token": token, "locale": "en", "next": "/"})
    return client


def test_a_cached_slot_screen_never_shows_a_slot_free_after_the_commit_that_took_it(app, client):
    room_id, day = free_day(app)
    first, second = bands_of(app, room_id)[:2]
    reader, english = app.test_client(), english_client(app)
    use_reader_mode(reader)
    url = slots_url(room_id, day)
    for who, headers in ((client, {}), (client, HTMX_HEADERS), (reader, {}), (english, {})):
        for _ in range(2):  # computed, then from the cache
            assert checkbox(text(who.get(url, headers=headers)), "slot", f"{room_id}:{day.isoformat()}:{first}")
    book_bands(app, room_id, day, [first], "00040676")
    for who, headers in ((client, {}), (client, HTMX_HEADERS), (reader, {}), (english, {})):
        page = text(who.get(url, headers=headers))
        assert checkbox(page, "slot", f"{room_id}:{day.isoformat()}:{first}") is None
        assert checkbox(page, "slot", f"{room_id}:{day.isoformat()}:{second}")
    assert (
        cell_text(text(client.get(url)), "駒場住区センター 201", day.strftime("%Y/%-m/%-d"), "9:00~12:00") == "×予約済"
    )


def test_a_repeated_slot_screen_reads_no_bookings(app, client):
    room_id, day = free_day(app)
    statements: list[str] = []
    event.listen(
        database(app).engine, "before_cursor_execute", lambda _c, _cur, statement, *_a: statements.append(statement)
    )
    first = client.get(slots_url(room_id, day)).get_data(as_text=True)
    assert any("FROM reservations" in s for s in statements)
    statements.clear()
    second = client.get(slots_url(room_id, day)).get_data(as_text=True)
    assert not any(table in s for s in statements for table in ("FROM reservations", "FROM closed_dates", "FROM fee"))
    assert re.sub(CSRF_VALUE, "", second) == re.sub(CSRF_VALUE, "", first)


def test_the_group_that_cancelled_a_slot_sees_it_rebook_blocked_over_the_shared_body(app, client, auth):
    room_id, day = free_day(app)
    first, second = bands_of(app, room_id)[:2]
    value = f"{room_id}:{day.isoformat()}:{first}"
    cancel_whole_day(app, "00040676", book_bands(app, room_id, day, [first], "00040676"))
    url = slots_url(room_id, day, value)
    # Someone else first: the shared body is cached with the slot free.
    assert checkbox(text(app.test_client().get(url)), "slot", value)
    auth.login("40676")
    for headers in ({}, HTMX_HEADERS):
        page = text(client.get(url, headers=headers))
        assert checkbox(page, "slot", value) is None  # chosen in the URL, but not for this group
        assert cell_text(page, "駒場住区センター 201", day.strftime("%Y/%-m/%-d"), "9:00~12:00") == "×再予約不可"
        assert checkbox(page, "slot", f"{room_id}:{day.isoformat()}:{second}")
    other = app.test_client()
    AuthActions(other).login("40675")
    assert "checked" in checkbox(text(other.get(url)), "slot", value)
    use_reader_mode(client)
    assert f"{long_date(day, 'ja')} 9:00~12:00 再予約不可" in words(text(client.get(url)))


def test_chosen_slots_are_ticked_for_the_url_that_chose_them_only(app, client):
    room_id, day = free_day(app)
    first, second = bands_of(app, room_id)[:2]
    value = f"{room_id}:{day.isoformat()}:{second}"
    chosen = text(client.get(slots_url(room_id, day, value, '1:2026-12-01:1"><b>x')))
    assert "checked" in checkbox(chosen, "slot", value)
    plain = text(client.get(slots_url(room_id, day)))
    assert "checked" not in checkbox(plain, "slot", value)
    assert plain.count('id="slot"') == 1 and f'value="{room_id}:{day.isoformat()}:{first}" id="slot"' in plain


def expected_body(app, url: str, *, presentation: str, locale: str, resident: str | None, back_url: str) -> str:
    """search/_slots.html as the templates and SlotWriter write it for this visitor (the
    chosen slots ticked, the group's 再予約不可 written as such), straight from the grid (no
    cache, no per-request pass over cached HTML)."""
    cookie = f"pref_locale={locale}; pref_presentation={presentation}"
    query = url.split("?", 1)[1]
    cells = [CellRef.parse(v.split("=", 1)[1].replace("%3A", ":")) for v in query.split("&") if v.startswith("cell=")]
    chosen = {v.split("=", 1)[1] for v in query.split("&") if v.startswith("slot=")}
    with app.test_request_context(url, headers={"Cookie": cookie}):
        app.preprocess_request()
        with database(app).read_session() as s:
            grid = operations.build_slot_grid(s, cells=cells, now=frozen_now(), days_ahead=DAYS_AHEAD)
            blocked: set = set()
            if resident:
                resident_id = s.query(Resident.id).filter(Resident.registration_number == resident).scalar()
                refs = [slot.ref for room in grid.rooms for day in room.days for slot in day.slots]
                blocked = cancelled_by(s, resident_id, refs)
            return render_template(
                "search/_slots.html",
                title=step_heading("slots"),
                errors=[],
                is_fragment=False,
                grid=grid,
                slot_rows=slot_rows(grid, reader=presentation == "reader", chosen=chosen, blocked=blocked),
                back_url=back_url,
                details_url="/apply/details",
                lottery_url="/lottery/details",
                lottery_calendar=[(m, m.phase(frozen_now())) for m in grid.lottery_months],
                statuses=SLOT_STATUSES,
            )


def test_the_cached_body_is_what_the_templates_write_for_each_visitor(app):
    room_id, day = free_day(app)
    first, second = bands_of(app, room_id)[:2]
    cancel_whole_day(app, "00040676", book_bands(app, room_id, day, [first], "00040676"))
    urls = [
        slots_url(room_id, day, f"{room_id}:{day.isoformat()}:{first}", f"{room_id}:{day.isoformat()}:{second}"),
        slots_url(room_id, day),
        f"/availability/slots?cell={WASHITSU}:2027-02-05&cell=1:2027-02-05&slot={WASHITSU}:2027-02-05:11",
    ]
    for resident in (None, "00040676"):
        for locale in ("ja", "en"):
            for presentation in ("normal", "reader"):
                client = app.test_client()
                if resident:
                    AuthActions(client).login(resident.lstrip("0"))
                client.set_cookie("pref_locale", locale)
                client.set_cookie("pref_presentation", presentation)
                for url in urls:
                    for _ in range(2):  # computed, then from the cache
                        page = client.get(url).get_data(as_text=True)
                        back = re.search(r'<a class="button secondary" href="([^"]+)">', page).group(1)
                        back = back.replace("&amp;", "&")
                        body = expected_body(
                            app, url, presentation=presentation, locale=locale, resident=resident, back_url=back
                        )
                        assert body in page, (resident, locale, presentation, url)
                        if presentation == "normal":
                            fragment = client.get(url, headers=HTMX_HEADERS).get_data(as_text=True)
                            assert fragment.endswith(body)
