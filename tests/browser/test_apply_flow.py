"""The whole search → 申込完了 flow in a real browser, by keyboard alone: with JavaScript on
(Japanese and English, axe-core on every page and error state, reflow at 320 px) and with
JavaScript off (the same steps as plain links, GET forms and a POST → redirect → GET).

axe runs in the JavaScript-on browser only (axe is itself a script). The flow's pages are
the same HTML with JavaScript off: every step of it is a plain link or a plain GET/POST
form, so the JavaScript-on run checks the markup the JavaScript-off run gets."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from models.account import Resident
from models.availability_rules import booking_window_rule, grid_start_range_rule
from models.facility import Room
from models.reservation import Reservation
from tests.browser.accessibility import (
    assert_no_horizontal_scroll,
    assert_wide_content_scrolls_in_a_region,
    axe_check,
)
from tests.browser.chromium import DESKTOP, set_viewport_width
from tests.browser.keyboard import (
    Focus,
    active_element,
    choose_option,
    choose_radio,
    matching_css,
    press_arrow,
    press_enter,
    press_space,
    tab_to,
    type_text,
)
from tests.browser.navigation import page_change, wait_until
from tests.browser.steps import log_in_by_keyboard, open_page, switch_language_by_keyboard
from tests.conftest import DAYS_AHEAD, frozen_now

FACILITY_CODE = "013"  # 駒場住区センター
JST = ZoneInfo("Asia/Tokyo")
# Every page and error state the flow passes, each checked on the way.
FLOW_PAGES = [
    "top",
    "search",
    "availability",
    "availability, nothing ticked",
    "slots",
    "login, asked on the way",
    "details",
    "details, invalid answers",
    "confirm",
    "complete",
]


@dataclass(frozen=True)
class Words:
    """What the resident reads at each step, per language (the data's names included)."""

    error_prefix: str
    facility: str
    room: str
    steps: dict
    free: str
    provisional: str


WORDS = {
    "ja": Words(
        error_prefix="エラー: ",
        facility="駒場住区センター",
        room="201【旧第1会議室】",
        steps={
            "search": "施設の検索",
            "availability": "施設別空き状況",
            "slots": "時間帯別空き状況",
            "login": "ログイン",
            "details": "詳細申請",
            "confirm": "申込確認",
            "complete": "予約申込 完了",
        },
        free="空き",
        provisional="仮予約",
    ),
    "en": Words(
        error_prefix="Error: ",
        facility="Komaba Community Centre",
        room="201 (former Meeting Room 1)",
        steps={},
        free="Free",
        provisional="Provisional",
    ),
}


class Flow:
    """One resident's way through the flow in one browser, checking each page on the way."""

    def __init__(self, driver, server, locale: str, *, javascript: bool):
        self.driver = driver
        self.server = server
        self.locale = locale
        self.words = WORDS[locale]
        self.javascript = javascript
        self.checked: list[str] = []

    # Checks -----------------------------------------------------------------------------
    def check(self, name: str, *, wide: str | None = None, error: bool = False) -> None:
        """The page as it is now: its title says whether it shows an error; axe-clean (with
        JavaScript); at 320 px the body does not scroll sideways and `wide` content scrolls
        in its own region."""
        driver = self.driver
        # The language chosen at the start holds through every step, login included.
        assert driver.find_element("css selector", "html").get_attribute("lang") == self.locale, name
        if error:
            assert driver.title.startswith(self.words.error_prefix), f"{name}: title {driver.title!r}"
            assert driver.find_elements("css selector", "#error-summary"), f"{name}: no error summary"
            if self.javascript:
                wait_until(
                    driver,
                    lambda d: active_element(d).get_attribute("id") == "error-summary",
                    f"{name}: the error summary did not get the focus",
                )
        else:
            assert not driver.title.startswith(self.words.error_prefix), (
                f"{name}: unexpected error page {driver.title!r}"
            )
            assert not driver.find_elements("css selector", "#error-summary"), (
                f"{name}: unexpected errors: {driver.find_element('css selector', '#error-summary').text}"
            )
        heading = self.words.steps.get(name.split(",")[0])
        if heading:
            assert heading in driver.find_element("css selector", "h1").text, f"{name}: h1 is not {heading!r}"
        label = f"{name} ({self.locale}{'' if self.javascript else ', JavaScript off'})"
        if self.javascript:
            axe_check(driver, label)
        set_viewport_width(driver, 320)
        assert_no_horizontal_scroll(driver, f"{label} at 320px")
        if wide:
            assert_wide_content_scrolls_in_a_region(driver, wide)
        set_viewport_width(driver, DESKTOP[0])
        self.checked.append(name)

    # Moving on --------------------------------------------------------------------------
    def activate(self, target: Focus) -> None:
        tab_to(self.driver, target, max_tabs=150)
        with page_change(self.driver):
            press_enter(self.driver)

    def submit(self, form_css: str) -> None:
        self.activate(matching_css(f"{form_css} button[type=submit]"))

    # The steps --------------------------------------------------------------------------
    def start_at_top(self) -> None:
        open_page(self.driver, self.server, "/")
        if self.locale != "ja":
            switch_language_by_keyboard(self.driver, self.locale)
        self.check("top")

    def search_by_category(self) -> None:
        self.activate(matching_css("#search-panel nav a[href^='/?tab=category']"))
        self.activate(matching_css("#search-panel a[href*='category=community']"))
        assert "/search/facilities" in self.driver.current_url
        self.check("search")

    def choose_facility(self) -> None:
        box = tab_to(self.driver, matching_css(f"input[name=facility][value='{FACILITY_CODE}']"))
        assert self.words.facility in box.accessible_name
        press_space(self.driver)
        assert box.is_selected()
        self.submit("form.facility-pick")
        assert "/availability" in self.driver.current_url
        self.check("availability", wide="table.day-grid")

    def go_on_with_no_day_ticked(self) -> None:
        self.submit("form.cell-form")
        self.check("availability, nothing ticked", error=True, wide="table.day-grid")

    def tick_a_free_day_of_the_room(self) -> str:
        room = self.words.room

        def free_day_of_room(element) -> bool:
            return (
                element.get_attribute("name") == "cell"
                and room in element.accessible_name
                and element.accessible_name.endswith(self.words.free)
                and "status-free" in element.find_element("xpath", "ancestor::td").get_attribute("class")
            )

        box = tab_to(self.driver, Focus(f"a free day of {room}", free_day_of_room), max_tabs=150)
        press_space(self.driver)
        assert box.is_selected()
        name = box.accessible_name
        self.submit("form.cell-form")
        assert "/availability/slots" in self.driver.current_url
        self.check("slots", wide="table.slot-grid")
        return name

    def tick_a_free_band(self) -> str:
        box = tab_to(self.driver, matching_css("td.status-free input[name=slot]"), max_tabs=150)
        assert self.words.room in box.accessible_name
        press_space(self.driver)
        assert box.is_selected()
        name = box.accessible_name
        self.submit("form.slot-form")
        return name

    def log_in_when_asked(self, band: str) -> None:
        assert "/login" in self.driver.current_url, f"expected to be asked to log in, at {self.driver.current_url}"
        self.check("login, asked on the way")
        log_in_by_keyboard(self.driver)
        # Back at the step the resident was on, with the band still chosen.
        assert "/apply/details" in self.driver.current_url
        self.check("details")
        time_band = re.search(r"\d{1,2}:\d{2}\W{1,3}\d{1,2}:\d{2}", band)
        assert time_band, f"no time band in the accessible name {band!r}"
        assert time_band.group(0) in self.driver.find_element("css selector", "main").text

    def send_invalid_details(self) -> None:
        # Too many people for a 30-person room, and nothing else answered.
        tab_to(self.driver, matching_css("input[name$='-attendees']"))
        type_text(self.driver, "999")
        self.submit("form.apply-details")
        self.check("details, invalid answers", error=True)
        summary = self.driver.find_element("css selector", "#error-summary").text
        assert len(self.driver.find_elements("css selector", "#error-summary li")) == 3, summary
        assert "30" in summary, summary  # the room's capacity, in the attendees message

    def fill_in_details(self) -> None:
        purpose = tab_to(self.driver, matching_css("select[name$='-purpose']"))
        first_purpose = purpose.find_elements("css selector", "option")[1].get_attribute("value")
        choose_option(self.driver, matching_css("select[name$='-purpose']"), first_purpose)
        tab_to(self.driver, matching_css("input[name$='-attendees']"))
        type_text(self.driver, "12")
        radio = self.driver.find_element("css selector", "input[type=radio][name$='-charges_fee']")
        choose_radio(self.driver, radio.get_attribute("name"), "no")
        self.submit("form.apply-details")
        assert "/apply/confirm" in self.driver.current_url
        self.check("confirm")

    def apply(self) -> str:
        self.submit("form.apply-submit")
        assert re.search(r"/apply/complete/\d+$", self.driver.current_url), self.driver.current_url
        self.check("complete")
        main = self.driver.find_element("css selector", "main").text
        number = re.search(r"\b(\d{4}-\d{6})\b", main)
        assert number, f"no 予約番号 on 申込完了:\n{main}"
        assert self.words.provisional in main
        return number.group(1)


def _reservation_count(server) -> int:
    with server.app.extensions["database"].read_session() as session:
        return session.scalar(select(func.count()).select_from(Reservation))


def _run_flow(driver, server, locale: str, *, javascript: bool) -> tuple[Flow, str, str, str]:
    flow = Flow(driver, server, locale, javascript=javascript)
    flow.start_at_top()
    flow.search_by_category()
    flow.choose_facility()
    flow.go_on_with_no_day_ticked()
    day = flow.tick_a_free_day_of_the_room()
    band = flow.tick_a_free_band()
    flow.log_in_when_asked(band)
    flow.send_invalid_details()
    flow.fill_in_details()
    number = flow.apply()
    assert flow.checked == FLOW_PAGES
    return flow, number, day, band


def _assert_stored_as_chosen(server, number: str, day: str, band: str, locale: str) -> None:
    """The 仮予約 in the database is the room, day and band the resident ticked (as their
    accessible names said), with the answers given."""
    with server.app.extensions["database"].read_session() as session:
        reservation = session.scalar(select(Reservation).where(Reservation.number == number))
        assert reservation is not None, f"{number} was not stored"
        resident = session.get(Resident, reservation.resident_id)
        room = session.get(Room, reservation.room_id)
    assert resident.registration_number == "00040675"
    assert room.name_ja == "201【旧第1会議室】"
    assert reservation.state.value == "provisional"
    assert reservation.attendees == 12 and reservation.charges_participation_fee is False
    assert f"{reservation.starts_at.hour}:{reservation.starts_at.minute:02d}" in band
    if locale == "ja":
        use_date = f"{reservation.use_date.year}年{reservation.use_date.month}月{reservation.use_date.day}日"
        assert use_date in day and use_date in band, (use_date, day, band)


@pytest.mark.parametrize("locale", ["ja", "en"])
def test_search_to_application_by_keyboard_with_javascript(browser, live_server, locale):
    before = _reservation_count(live_server)
    _flow, number, day, band = _run_flow(browser, live_server, locale, javascript=True)
    _assert_stored_as_chosen(live_server, number, day, band, locale)
    assert _reservation_count(live_server) == before + 1


def test_search_to_application_by_keyboard_without_javascript(browser_nojs, live_server):
    before = _reservation_count(live_server)
    _flow, number, day, band = _run_flow(browser_nojs, live_server, "ja", javascript=False)
    _assert_stored_as_chosen(live_server, number, day, band, "ja")
    assert _reservation_count(live_server) == before + 1


@pytest.mark.parametrize("locale", ["ja", "en"])
def test_nothing_ticked_on_the_slot_grid_is_refused_in_words(browser, live_server, locale):
    open_page(browser, live_server, "/login")
    if locale != "ja":
        switch_language_by_keyboard(browser, locale)
    log_in_by_keyboard(browser)
    open_page(browser, live_server, f"/availability?facility={FACILITY_CODE}")
    flow = Flow(browser, live_server, locale, javascript=True)
    flow.tick_a_free_day_of_the_room()
    flow.submit("form.slot-form")
    flow.check("details, no band ticked", error=True)


def _swapped_in_place(driver) -> bool:
    return driver.execute_script("return document.documentElement.dataset.testStale === '1'")


def test_the_grid_period_swaps_in_place_with_focus_url_and_back(browser, live_server):
    first_url = live_server.url(f"/availability?facility={FACILITY_CODE}")
    open_page(browser, live_server, f"/availability?facility={FACILITY_CODE}")
    first_period = browser.find_element("css selector", "#period-title").text

    Flow(browser, live_server, "ja", javascript=True).activate(matching_css(".period-nav a[href*='from=']"))
    assert _swapped_in_place(browser), "the period link loaded a whole page instead of swapping the grid"
    assert "from=" in browser.current_url and browser.current_url != first_url
    title = browser.find_element("css selector", "#period-title").text
    assert title != first_period
    focus = active_element(browser)
    assert focus.get_attribute("id") == "period-title", focus.get_attribute("outerHTML")[:120]
    axe_check(browser, "施設別空き状況 after the next-period swap")
    # Announced once (issue 11): the focused heading says it; the live region does not repeat it.
    assert browser.find_element("css selector", "#live-region").get_attribute("textContent") != title

    with page_change(browser):
        browser.back()
    wait_until(browser, lambda d: d.current_url == first_url, "Back did not return to the first period")
    wait_until(
        browser,
        lambda d: d.find_element("css selector", "#period-title").text == first_period,
        "Back restored the URL but not the grid",
    )


def test_a_wrong_start_date_swaps_in_the_error_summary_and_focuses_it(browser, live_server):
    open_page(browser, live_server, f"/availability?facility={FACILITY_CODE}")
    # A start date the grid does not accept: Tab enters the date field at its first part
    # (month or year, by the browser's locale) and the Up arrow moves it on until the date
    # falls outside the accepted range.
    accepted = grid_start_range_rule(booking_window_rule(frozen_now().astimezone(JST).date(), DAYS_AHEAD))
    field = tab_to(browser, matching_css("input[name=from]"))
    for _ in range(14):
        press_arrow(browser, "up")
        chosen = field.get_attribute("value")
        if not accepted.first <= date.fromisoformat(chosen) <= accepted.last:
            break
    else:
        pytest.fail(f"the Up arrow never left the accepted start dates ({chosen})")
    Flow(browser, live_server, "ja", javascript=True).submit("form.period-form")
    assert _swapped_in_place(browser)
    wait_until(
        browser,
        lambda d: active_element(d).get_attribute("id") == "error-summary",
        "after the swap the focus is not on the error summary",
    )
    assert browser.title.startswith("エラー: ")
    assert f"from={chosen}" in browser.current_url
    assert "開始日は" in browser.find_element("css selector", "#error-summary").text
    axe_check(browser, "施設別空き状況, wrong start date (swapped in)")
    set_viewport_width(browser, 320)
    assert_no_horizontal_scroll(browser, "施設別空き状況, wrong start date, 320px")


def test_the_facility_filter_swaps_the_results_in_place(browser, live_server):
    open_page(browser, live_server, "/search/facilities?all=1")
    choose_option(browser, matching_css("select[name=category]"), "community")
    Flow(browser, live_server, "ja", javascript=True).submit("form[action='/search/facilities']")
    assert _swapped_in_place(browser)
    assert "category=community" in browser.current_url
    assert active_element(browser).get_attribute("id") == "results-title"
    names = [box.accessible_name for box in browser.find_elements("css selector", "input[name=facility]")]
    assert "駒場住区センター" in names and all("スポーツ" not in name for name in names)
    axe_check(browser, "施設の検索 after filtering")
