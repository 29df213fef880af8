"""備品（付帯品）予約 in a real browser, by keyboard alone (guide ch. 5 §(2)): from 予約内容の
確認・取消 through 備品（付帯品）予約, 確認 and 予約 to 完了 and back to the list. With
JavaScript on (Japanese and English, axe-core on every page and state, reflow at 320 px),
合計 follows each quantity in place while the focus stays where the resident moved it;
with JavaScript off the same steps go through 再計算 and plain GET and POST forms."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from models.equipment import ReservationEquipment
from models.reservation import Reservation
from tests.browser.accessibility import assert_no_horizontal_scroll, assert_wide_content_scrolls_in_a_region, axe_check
from tests.browser.chromium import DESKTOP, set_viewport_width
from tests.browser.keyboard import active_element, matching_css, press_enter, press_tab, tab_to, type_text, with_id
from tests.browser.navigation import page_change, wait_until
from tests.browser.steps import log_in_by_keyboard, open_page, switch_language_by_keyboard

FIRST = "2026-000001"  # 仮予約, 区民センター社会教育館 702, 700円, 2026/12/25 9:00~12:00
PROJECTOR, DVD, CD_PLAYER = "item_1", "item_2", "item_3"  # the demo catalogue's first items

WORDS = {
    "ja": {
        "error": "エラー: ",
        "edit": "備品（付帯品）予約",
        "confirm": "備品（付帯品）予約確認",
        "done": "備品（付帯品）予約の完了",
        "yen": lambda n: f"{n:,}円",
        "dvd_short": "DVDモニターセット",
    },
    "en": {
        "error": "Error: ",
        "edit": None,
        "confirm": None,
        "done": None,
        "yen": lambda n: f"¥{n:,}",
        "dvd_short": "DVD monitor set",
    },
}


class EquipmentFlow:
    """One resident changing a booking's equipment in one browser, checking each page."""

    def __init__(self, driver, server, locale: str, *, javascript: bool):
        self.driver = driver
        self.server = server
        self.locale = locale
        self.words = WORDS[locale]
        self.javascript = javascript
        self.checked: list[str] = []

    def check(self, name: str, *, error: bool = False, wide: str | None = None) -> None:
        driver = self.driver
        assert driver.find_element("css selector", "html").get_attribute("lang") == self.locale, name
        if error:
            assert driver.title.startswith(self.words["error"]), f"{name}: title {driver.title!r}"
            assert driver.find_elements("css selector", "#error-summary"), f"{name}: no error summary"
        else:
            assert not driver.title.startswith(self.words["error"]), f"{name}: unexpected error {driver.title!r}"
            assert not driver.find_elements("css selector", "#error-summary"), name
        heading = self.words.get(name.split(",")[0])
        if heading:
            assert driver.find_element("css selector", "h1").text == heading, name
        label = f"{name} ({self.locale}{'' if self.javascript else ', JavaScript off'})"
        if self.javascript:
            axe_check(driver, label)
        set_viewport_width(driver, 320)
        assert_no_horizontal_scroll(driver, f"{label} at 320px")
        if wide:
            assert_wide_content_scrolls_in_a_region(driver, wide)
        set_viewport_width(driver, DESKTOP[0])
        self.checked.append(name)

    def activate(self, selector: str) -> None:
        tab_to(self.driver, matching_css(selector), max_tabs=150)
        with page_change(self.driver):
            press_enter(self.driver)

    def totals(self) -> str:
        return self.driver.find_element("css selector", "#equipment-totals").text

    # Steps -----------------------------------------------------------------------------------
    def log_in_and_open_the_list(self) -> None:
        open_page(self.driver, self.server, "/login")
        if self.locale != "ja":
            switch_language_by_keyboard(self.driver, self.locale)
        log_in_by_keyboard(self.driver)
        open_page(self.driver, self.server, "/mymenu/reservations")
        self.check("list", wide="table")

    def open_the_equipment_page(self) -> None:
        self.activate(f"a[href='/equipment/{FIRST}']")
        assert self.driver.current_url.endswith(f"/equipment/{FIRST}")
        self.check("edit", wide="table.equipment-table")
        assert self.words["yen"](0) in self.totals()

    def type_quantity(self, field: str, value: str) -> None:
        tab_to(self.driver, with_id(field), max_tabs=150)
        type_text(self.driver, value)

    def leave_the_field(
        self, expected_focus: str, expect_total: int | None = None, expect_error: str | None = None
    ) -> None:
        """Tab away: the change asks for the totals, which swap in place; the focus stays
        on the field Tab moved to."""
        with page_change(self.driver):
            press_tab(self.driver)
        if expect_total is not None:
            wait_until(
                self.driver,
                lambda d: self.words["yen"](expect_total) in self.totals(),
                f"合計 did not become {expect_total}",
            )
        if expect_error is not None:
            wait_until(self.driver, lambda d: expect_error in self.totals(), f"no error naming {expect_error}")
        focus = active_element(self.driver)
        assert focus.get_attribute("id") == expected_focus, (
            f"the focus moved to {focus.get_attribute('outerHTML')[:120]}"
        )

    def go_on_to_confirm(self) -> None:
        self.activate(f"button[formaction='/equipment/{FIRST}/confirm']")

    def reserve(self) -> None:
        self.activate("form.equipment-submit button[type=submit]")
        assert self.driver.current_url.endswith(f"/equipment/{FIRST}/done"), self.driver.current_url
        self.check("done")

    def back_to_the_list(self) -> str:
        self.activate("main .actions a.button[href='/mymenu/reservations']")
        assert self.driver.current_url.endswith("/mymenu/reservations")
        row = next(r for r in self.driver.find_elements("css selector", "main tbody tr") if FIRST in r.text)
        return row.text


def stored_equipment(server) -> dict[int, int]:
    with server.app.extensions["database"].read_session() as session:
        reservation = session.scalar(select(Reservation).where(Reservation.number == FIRST))
        return {
            line.item_id: line.quantity
            for line in session.scalars(
                select(ReservationEquipment).where(ReservationEquipment.reservation_id == reservation.id)
            )
        }


@pytest.mark.parametrize("locale", ["ja", "en"])
def test_equipment_by_keyboard_with_javascript(browser, live_server, locale):
    flow = EquipmentFlow(browser, live_server, locale, javascript=True)
    flow.log_in_and_open_the_list()
    flow.open_the_equipment_page()

    # 合計 follows the projector in place; the focus stays on the next field.
    flow.type_quantity(PROJECTOR, "1")
    flow.leave_the_field(DVD, expect_total=500)
    assert "/ 9" in browser.find_element("css selector", f"#stock-{PROJECTOR[5:]}").text
    assert flow.words["yen"](500) in browser.find_element("css selector", f"#subtotal-{PROJECTOR[5:]}").text
    wait_until(
        browser,
        lambda d: flow.words["yen"](500) in d.find_element("css selector", "#live-region").get_attribute("textContent"),
        "the new total was not announced",
    )

    # Two of the only DVD set: said in place, the focus still where Tab moved it.
    type_text(browser, "2")
    flow.leave_the_field(CD_PLAYER, expect_error=flow.words["dvd_short"])
    assert browser.title.startswith(flow.words["error"])
    assert browser.find_element("css selector", "#equipment-totals #error-summary").get_attribute("role") == "alert"
    axe_check(browser, f"edit, too many DVD sets, in place ({locale})")
    flow.checked.append("edit, too many")

    # Corrected: the error goes, the total follows.
    tab_to(browser, with_id(DVD), backwards=True)
    type_text(browser, "0")
    flow.leave_the_field(CD_PLAYER, expect_total=500)
    assert not browser.find_elements("css selector", "#error-summary")

    flow.go_on_to_confirm()
    assert f"/equipment/{FIRST}/confirm?" in browser.current_url
    flow.check("confirm", wide="table.equipment-table")
    chosen = browser.find_elements("css selector", "table.equipment-table tbody tr")
    assert len(chosen) == 1 and flow.words["yen"](500) in chosen[0].text

    flow.reserve()
    assert stored_equipment(live_server) == {int(PROJECTOR[5:]): 1}
    row = flow.back_to_the_list()
    assert flow.words["yen"](1200) in row
    assert flow.checked == ["list", "edit", "edit, too many", "confirm", "done"]


def test_equipment_by_keyboard_without_javascript(browser_nojs, live_server):
    browser = browser_nojs
    flow = EquipmentFlow(browser, live_server, "ja", javascript=False)
    flow.log_in_and_open_the_list()
    flow.open_the_equipment_page()

    # 再計算: the same page again with the new totals and the quantity kept.
    flow.type_quantity(PROJECTOR, "2")
    flow.activate("form.equipment-form button.secondary[type=submit]")
    assert f"{PROJECTOR}=2" in browser.current_url
    assert "1,000円" in flow.totals()
    assert browser.find_element("css selector", f"#{PROJECTOR}").get_attribute("value") == "2"
    flow.check("edit, recalculated", wide="table.equipment-table")

    # A bad quantity: the page again with the error summary, nothing stored.
    flow.type_quantity(DVD, "-1")
    flow.go_on_to_confirm()
    flow.check("edit, a bad quantity", error=True)
    assert (
        "DVDモニターセットの予約数は、0以上の数字で入力してください。"
        in browser.find_element("css selector", "#error-summary").text
    )
    assert re.search(r"/equipment/2026-000001/confirm\?", browser.current_url)
    assert stored_equipment(live_server) == {}

    flow.type_quantity(DVD, "0")
    flow.go_on_to_confirm()
    flow.check("confirm")
    flow.reserve()
    assert "クレジット決済にてお支払いが可能です。" in browser.find_element("css selector", "main").text
    assert stored_equipment(live_server) == {int(PROJECTOR[5:]): 2}
    assert "1,700円" in flow.back_to_the_list()
