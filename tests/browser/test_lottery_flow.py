"""抽選申込 and 取下げ in a real browser, by keyboard alone, with JavaScript on (axe-core on
every page, reflow at 320 px, Japanese and English) and off: 時間帯別空き状況 of a lottery
day → 詳細申請 → 抽選申込確認 → 抽選申込完了 → 抽選申込の確認・取消 → 取下げ確認 → 取下げ完了.
The served app's clock is the tests' frozen one: the demo's 2027-02 is open for entries."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from models.lottery import LotteryEntry
from models.reservation_rules import ReservationState
from tests.browser.keyboard import choose_option, choose_radio, matching_css, press_space, tab_to, type_text
from tests.browser.steps import log_in_by_keyboard, open_page, switch_language_by_keyboard
from tests.browser.test_apply_flow import Flow

WASHITSU = 3  # 駒場住区センター 和室, a lottery room
DAY = "2027-02-05"

HEADINGS = {
    "ja": {
        "details": "詳細申請",
        "confirm": "抽選申込確認",
        "complete": "抽選申込完了",
        "list": "抽選申込の確認・取消",
        "withdraw": "取下げ確認",
        "withdrawn": "取下げ完了",
    },
    "en": {
        "details": "Application details",
        "confirm": "Confirm lottery application",
        "complete": "Lottery application complete",
        "list": "Lottery entries",
        "withdraw": "Confirm withdrawal",
        "withdrawn": "Withdrawal complete",
    },
}


def _entries(server, state) -> list[LotteryEntry]:
    with server.app.extensions["database"].read_session() as session:
        return list(session.scalars(select(LotteryEntry).where(LotteryEntry.state == state).order_by(LotteryEntry.id)))


def _heading(driver) -> str:
    return driver.find_element("css selector", "h1").text


def _run(driver, server, locale: str, *, javascript: bool) -> None:
    flow = Flow(driver, server, locale, javascript=javascript)
    words = HEADINGS[locale]
    open_page(driver, server, "/login")
    if locale != "ja":
        switch_language_by_keyboard(driver, locale)
    log_in_by_keyboard(driver)
    open_page(driver, server, f"/availability/slots?cell={WASHITSU}:{DAY}&facility=013")
    flow.check("lottery slots", wide=".slot-grid")
    box = tab_to(driver, matching_css("td.status-lottery_open input[name=slot]"), max_tabs=150)
    press_space(driver)
    assert box.is_selected()
    flow.submit("form.slot-form")
    assert "/lottery/details" in driver.current_url, driver.current_url
    assert words["details"] in _heading(driver)
    flow.check("lottery details")

    purpose = tab_to(driver, matching_css("select[name$='-purpose']"))
    first_purpose = purpose.find_elements("css selector", "option")[1].get_attribute("value")
    choose_option(driver, matching_css("select[name$='-purpose']"), first_purpose)
    tab_to(driver, matching_css("input[name$='-attendees']"))
    type_text(driver, "6")
    radio = driver.find_element("css selector", "input[type=radio][name$='-charges_fee']")
    choose_radio(driver, radio.get_attribute("name"), "no")
    flow.submit("form.apply-details")
    assert "/lottery/confirm" in driver.current_url
    assert words["confirm"] in _heading(driver)
    flow.check("lottery confirm")

    before = len(_entries(server, ReservationState.LOTTERY_ENTRY))
    flow.submit("form.apply-submit")
    assert re.search(r"/lottery/complete/\d+$", driver.current_url), driver.current_url
    assert words["complete"] in _heading(driver)
    flow.check("lottery complete")
    assert re.search(r"\b2026-\d{6}\b", driver.find_element("css selector", "main").text)
    entered = _entries(server, ReservationState.LOTTERY_ENTRY)
    assert len(entered) == before + 1 and entered[-1].room_id == WASHITSU and entered[-1].attendees == 6

    open_page(driver, server, "/mymenu/lottery")
    assert words["list"] in _heading(driver)
    flow.check("lottery list", wide=".table-scroll")
    tab_to(driver, matching_css(f"input[name=entry][value='{entered[-1].public_id}']"), max_tabs=150)
    press_space(driver)
    flow.submit("form.withdraw-select-form")
    assert "/mymenu/lottery/withdraw" in driver.current_url
    assert words["withdraw"] in _heading(driver)
    flow.check("lottery withdraw")
    flow.activate(matching_css("form[action$='/mymenu/lottery/withdraw'] button[type=submit]"))
    assert "/mymenu/lottery/withdrawn" in driver.current_url
    assert words["withdrawn"] in _heading(driver)
    flow.check("lottery withdrawn")
    withdrawn = [e.public_id for e in _entries(server, ReservationState.WITHDRAWN)]
    assert entered[-1].public_id in withdrawn


@pytest.mark.parametrize("locale", ["ja", "en"])
def test_apply_and_withdraw_by_keyboard_with_javascript(browser, live_server, locale):
    _run(browser, live_server, locale, javascript=True)


def test_apply_and_withdraw_by_keyboard_without_javascript(browser_nojs, live_server):
    _run(browser_nojs, live_server, "ja", javascript=False)
