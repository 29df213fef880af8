"""The whole 予約の取消 procedure of guide §(3) in headless Chromium, by keyboard alone, with
JavaScript on (axe-core on every page) and off, against our app and the stand-in card
company each served over HTTP:

マイメニュー → 予約内容の確認・取消 (取消 ticked on a card-paid 本予約 and a 仮予約, 次へ進む)
→ 確認 (はい) → メッセージ (はい) — dialogs with JavaScript (Esc closes, the focus comes
back), pages without — → 予約の取消 確認 (取消 without 取消事由 and 同意します:
told; then both) → 予約の取消 完了 → クレジット決済画面 → 選択 (決済) → 確認 (確定) →
注意事項 (同意します, 次へ進む) → クレジット決済 完了 at once: a full refund is a void
only, with no card page. Every page also at 320 px without sideways scrolling."""

from __future__ import annotations

import re
from datetime import datetime

import pytest
from selenium.webdriver.common.keys import Keys

from demo.card_payments import confirm_and_open_card_page, pay_on_card_page, record_return
from mail.compose import call_centre_for
from models.payment import SettlementStatus, VoidStatus
from models.reservation_rules import ReservationState
from payments.provider import provider_client
from tests.browser.accessibility import assert_no_horizontal_scroll, axe_check
from tests.browser.chromium import DESKTOP, set_viewport_width
from tests.browser.keyboard import (
    Focus,
    active_element,
    named,
    press,
    press_enter,
    press_space,
    press_tab,
    tab_to,
    type_text,
    with_id,
)
from tests.browser.navigation import page_change, wait_until
from tests.browser.steps import log_in_by_keyboard, open_page
from tests.conftest import PAYMENT_SECRET
from tests.web.card_support import URLS
from tests.web.test_payment import booking, charges_of

PAID, UNPAID = "2026-000001", "2026-000003"


@pytest.fixture
def cancel_server(serve_app, payment_provider):
    """Our site wired to the served card company, with 2026-000001 (700円, 2026/12/25)
    already paid there by card."""
    server = serve_app(
        "standard", PAYMENT_PROVIDER_URL=payment_provider.base_url, PAYMENT_PROVIDER_SECRET=PAYMENT_SECRET
    )
    app = server.app
    server.app.config["PUBLIC_BASE_URL"] = server.base_url
    database = app.extensions["database"]
    provider = provider_client(app.config)
    now = datetime.fromisoformat(app.config["FROZEN_NOW"])
    centre = lambda locale: call_centre_for(app.config, locale)  # noqa: E731
    with app.app_context():
        meguro_id = booking(app, PAID).resident_id
        page = confirm_and_open_card_page(database, provider, URLS, centre, now, resident_id=meguro_id, number=PAID)
        assert (
            record_return(database, provider, centre, now, pay_on_card_page(page, URLS.return_url))
            is SettlementStatus.COMPLETED
        )
    return server


class CancelFlow:
    def __init__(self, driver, server, *, javascript: bool):
        self.driver = driver
        self.server = server
        self.javascript = javascript
        self.checked: list[str] = []

    def check(self, name: str, heading: str, *, error: bool = False) -> None:
        driver = self.driver
        label = f"{name}{'' if self.javascript else ' (JavaScript off)'}"
        assert driver.find_element("css selector", "h1").text == heading, (
            f"{label}: h1 {driver.find_element('css selector', 'h1').text!r}"
        )
        assert driver.title.startswith("エラー: ") is error, f"{label}: title {driver.title!r}"
        if error and self.javascript:
            wait_until(
                driver,
                lambda d: active_element(d).get_attribute("id") == "error-summary",
                f"{label}: the error summary did not get the focus",
            )
        if self.javascript:
            axe_check(driver, label)
        set_viewport_width(driver, 320)
        assert_no_horizontal_scroll(driver, f"{label} at 320px")
        set_viewport_width(driver, DESKTOP[0])
        self.checked.append(name)

    def activate(self, target: Focus) -> None:
        tab_to(self.driver, target, max_tabs=150)
        with page_change(self.driver):
            press_enter(self.driver)

    def main_text(self) -> str:
        return self.driver.find_element("css selector", "main").text


def confirm_on_pages(flow: CancelFlow) -> None:
    """Without JavaScript: 次へ進む leads to 確認 and メッセージ, pages of their own."""
    driver, server = flow.driver, flow.server
    flow.activate(named("次へ進む", tag="button"))
    assert driver.current_url == server.url(f"/cancel/card-paid?number={PAID}&number={UNPAID}")
    flow.check("確認", "確認")
    assert "対象の予約はクレジットにてお支払い済です。取消を続行しますか？" in flow.main_text()
    flow.activate(named("はい", tag="a"))
    flow.check("メッセージ", "メッセージ")
    assert (
        "状態に「(※)」が付いている予約については、クレジット決済画面から還付の手続きを行ってください。"
        in flow.main_text()
    )
    flow.activate(named("はい", tag="a"))


def open_dialog(driver, dialog_id: str) -> None:
    wait_until(
        driver,
        lambda d: d.execute_script(f"return document.getElementById('{dialog_id}').open"),
        f"#{dialog_id} did not open",
    )
    wait_until(
        driver,
        lambda d: d.execute_script(f"return document.getElementById('{dialog_id}').contains(document.activeElement)"),
        f"the focus is not in #{dialog_id}",
    )


def confirm_in_dialogs(flow: CancelFlow) -> None:
    """With JavaScript: the same two confirmations as modal dialogs; Esc closes the first and
    the focus returns to 次へ進む."""
    driver = flow.driver
    next_button = tab_to(driver, named("次へ進む", tag="button"), max_tabs=150)
    press_enter(driver)
    open_dialog(driver, "cancel-dialog-card-paid")
    dialog = driver.find_element("css selector", "#cancel-dialog-card-paid")
    assert "対象の予約はクレジットにてお支払い済です。取消を続行しますか？" in dialog.text
    # A destructive step starts on いいえ (issue 11).
    assert active_element(driver).accessible_name == "いいえ"
    axe_check(driver, "確認 (dialog)")
    press(driver, Keys.ESCAPE)
    wait_until(
        driver,
        lambda d: not d.execute_script("return document.getElementById('cancel-dialog-card-paid').open"),
        "Esc did not close it",
    )
    assert active_element(driver) == next_button, "the focus did not return to 次へ進む"
    assert driver.current_url.endswith("/mymenu/reservations")

    press_enter(driver)
    open_dialog(driver, "cancel-dialog-card-paid")
    press_tab(driver, backwards=True)
    assert active_element(driver).accessible_name == "はい"
    press_enter(driver)  # はい
    open_dialog(driver, "cancel-dialog-refund-note")
    assert (
        "状態に「(※)」が付いている予約については、クレジット決済画面から還付の手続きを行ってください。"
        in driver.find_element("css selector", "#cancel-dialog-refund-note").text
    )
    axe_check(driver, "メッセージ (dialog)")
    with page_change(driver):
        press_enter(driver)  # はい
    flow.checked += ["確認", "メッセージ"]


def _cancel_and_refund(driver, server, *, javascript: bool) -> None:
    flow = CancelFlow(driver, server, javascript=javascript)
    app = server.app
    open_page(driver, server, "/login")
    log_in_by_keyboard(driver)
    assert driver.current_url == server.url("/mymenu/")

    flow.activate(named("予約内容の確認・取消", tag="a"))
    flow.check("予約内容の確認・取消", "予約内容の確認・取消")
    for number in (PAID, UNPAID):
        box = tab_to(driver, with_id(f"cancel-{number}"), max_tabs=150)
        assert box.accessible_name == f"取消 予約番号 {number}"
        press_space(driver)
        assert box.is_selected()
    if javascript:
        confirm_in_dialogs(flow)
    else:
        confirm_on_pages(flow)
    assert driver.current_url == server.url(f"/cancel/confirm?number={PAID}&number={UNPAID}")
    flow.check("予約の取消 確認", "予約の取消 確認")
    main = flow.main_text()
    assert "本予約 支払あり、再予約不可(※)" in main and "2026/12/4(金)までに取り消すと全額還付されます。" in main

    # 取消 with neither 取消事由 nor 同意します: told, nothing cancelled.
    flow.activate(named("取消", tag="button"))
    flow.check("予約の取消 確認, incomplete", "予約の取消 確認", error=True)
    summary = driver.find_element("css selector", "#error-summary").text
    assert (
        "本予約を取消する場合、取消事由を入力してください。" in summary
        and "「同意します」を選択してください。" in summary
    )
    assert booking(app, PAID).state is ReservationState.CONFIRMED

    tab_to(driver, with_id("reason"), max_tabs=150)
    type_text(driver, "行事が中止になったため")
    tab_to(driver, with_id("agree"))
    press_space(driver)
    assert active_element(driver).is_selected()
    flow.activate(named("取消", tag="button"))
    assert driver.current_url == server.url(f"/cancel/done?number={PAID}&number={UNPAID}")
    flow.check("予約の取消 完了", "予約の取消 完了")
    main = flow.main_text()
    assert "以下の予約を取消しました。" in main and "行事が中止になったため" in main
    assert "※クレジットの還付は予約のお支払日から180日以内に手続きする必要があります。" in main
    assert "期限: 2027年5月24日(月)" in main
    for number in (PAID, UNPAID):
        r = booking(app, number)
        assert (r.state, r.cancel_reason, r.refund_percent, r.cancellation_fee_yen) == (
            ReservationState.CANCELLED,
            "行事が中止になったため",
            100 if number == PAID else 75,
            0,
        )

    # The refund: クレジット決済画面 → 決済 → 確定 → 同意します, 次へ進む → 完了, no card page.
    flow.activate(named("クレジット決済画面", tag="a"))
    flow.check("クレジット決済 選択", "クレジット決済 選択")
    flow.activate(named(f"決済 予約番号 {PAID}", tag="a"))
    flow.check("クレジット決済 確認", "クレジット決済 確認")
    assert "クレジット取消予定額" in flow.main_text() and "決済予定額" not in flow.main_text().replace(
        "クレジット取消予定額", ""
    )
    flow.activate(named("確定", tag="button"))
    flow.check("クレジット決済 注意事項", "クレジット決済 注意事項")
    assert "外部サイトに移動します" not in flow.main_text()
    tab_to(driver, with_id("agree"))
    press_space(driver)
    flow.activate(named("次へ進む", tag="button"))
    assert re.search(r"/payment/settlements/\d+$", driver.current_url), driver.current_url
    flow.check("クレジット決済 完了", "クレジット決済 完了")
    [charge] = charges_of(app, PAID)
    assert charge.receipt_number in flow.main_text()
    assert charge.void_status is VoidStatus.PENDING  # the worker sends the void next
    assert flow.checked[-1] == "クレジット決済 完了" and len(flow.checked) == 10


def test_cancelling_and_refunding_by_keyboard_with_javascript(browser, cancel_server):
    _cancel_and_refund(browser, cancel_server, javascript=True)


def test_cancelling_and_refunding_by_keyboard_without_javascript(browser_nojs, cancel_server):
    _cancel_and_refund(browser_nojs, cancel_server, javascript=False)
