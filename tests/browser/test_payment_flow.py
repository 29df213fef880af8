"""The whole クレジット決済 flow of guide §(1) in headless Chromium, by keyboard alone (Tab,
Shift+Tab, Enter, Space, arrow keys; typing into the focused field), against our app and
the stand-in card company each served over HTTP, with a real SMTP server:

マイメニュー → クレジット決済 → 選択 (決済) → 確認 (確定) → 注意事項 (同意します, 次へ進む)
→ the card company's page (card number, expiry selects, security code, お支払い) → our
完了 with a 16-digit 収納番号, which the 完了通知 mail read from the SMTP server repeats.

With JavaScript on (Japanese and English; axe-core on every page, the card company's
included, and on the error states on the way) and with JavaScript off. Also the email gate
of 00040676 (no address yet) and the reader-mode refusal with its way forward."""

from __future__ import annotations

import re

import pytest
from selenium.webdriver.common.keys import Keys

from models.payment import ChargeStatus
from models.reservation_rules import ReservationState
from tests.browser.accessibility import assert_no_horizontal_scroll, axe_check
from tests.browser.chromium import DESKTOP, set_viewport_width
from tests.browser.keyboard import (
    Focus,
    active_element,
    choose_option,
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
from tests.browser.steps import (
    log_in_by_keyboard,
    open_page,
    switch_language_by_keyboard,
    toggle_reader_mode_by_keyboard,
)
from tests.conftest import PAYMENT_SECRET
from tests.web.card_support import SmtpServer, run_worker, set_faults
from tests.web.test_payment import FIRST, GOOD_CARD, booking, charges_of

# What the resident reads and presses, per language (the catalogues' words).
WORDS = {
    "ja": dict(
        error="エラー: ",
        card_payment="クレジット決済",
        pay_link=f"決済 予約番号 {FIRST}",
        confirm="確定",
        next="次へ進む",
        pay="お支払い",
        steps={
            "menu": "マイメニュー",
            "select": "クレジット決済 選択",
            "confirm": "クレジット決済 確認",
            "terms": "クレジット決済 注意事項",
            "card": "クレジットカード決済",
            "complete": "クレジット決済 完了",
        },
        receipt="収納番号",
        mail_receipt="収納番号：{}",
    ),
    "en": dict(
        error="Error: ",
        card_payment="Card payment",
        pay_link=f"Pay booking number {FIRST}",
        confirm="Confirm",
        next="Next",
        pay="Pay",
        steps={
            "menu": "My menu",
            "select": "Card payment: choose a booking",
            "confirm": "Card payment: check",
            "terms": "Card payment: notes",
            "card": "Card payment",
            "complete": "Card payment: complete",
        },
        receipt="Receipt number",
        mail_receipt="Receipt number: {}",
    ),
}
FLOW_PAGES = ["menu", "select", "confirm", "terms", "terms, not agreed", "card", "complete"]


@pytest.fixture
def smtp():
    server = SmtpServer().start()
    yield server
    server.stop()


@pytest.fixture
def paying_server(serve_app, payment_provider, smtp):
    """Our site wired to the served card company (which sends the browser back and its
    notifications to this server) and to the SMTP server."""
    server = serve_app(
        "standard",
        PAYMENT_PROVIDER_URL=payment_provider.base_url,
        PAYMENT_PROVIDER_SECRET=PAYMENT_SECRET,
        SMTP_HOST="127.0.0.1",
        SMTP_PORT=smtp.port,
    )
    server.app.config["PUBLIC_BASE_URL"] = server.base_url  # before the first request
    set_faults(payment_provider, reset=True)
    yield server
    assert not payment_provider.server_errors, (
        f"the card company answered with a server error: {payment_provider.server_errors}"
    )


class PaymentFlow:
    """One resident paying in one browser, checking every page on the way."""

    def __init__(self, driver, server, provider, locale: str, *, javascript: bool):
        self.driver = driver
        self.server = server
        self.provider = provider
        self.locale = locale
        self.words = WORDS[locale]
        self.javascript = javascript
        self.checked: list[str] = []

    def check(self, name: str, *, error: bool = False) -> None:
        """The page as it is now: its language, its h1, whether its title says it shows an
        error (and, with JavaScript, the error summary has the focus); axe-clean (with
        JavaScript); at 320 px the body does not scroll sideways."""
        driver = self.driver
        label = f"{name} ({self.locale}{'' if self.javascript else ', JavaScript off'})"
        assert driver.find_element("css selector", "html").get_attribute("lang") == self.locale, label
        heading = self.words["steps"][name.split(",")[0]]
        assert driver.find_element("css selector", "h1").text == heading, f"{label}: h1 is not {heading!r}"
        assert driver.title.startswith(self.words["error"]) is error, f"{label}: title {driver.title!r}"
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
        tab_to(self.driver, target, max_tabs=120)
        with page_change(self.driver):
            press_enter(self.driver)

    def log_in(self) -> None:
        open_page(self.driver, self.server, "/login")
        if self.locale != "ja":
            switch_language_by_keyboard(self.driver, self.locale)
        log_in_by_keyboard(self.driver)
        assert self.driver.current_url == self.server.url("/mymenu/"), self.driver.current_url
        self.check("menu")

    def choose(self) -> None:
        self.activate(named(self.words["card_payment"], tag="a"))
        self.check("select")
        self.activate(named(self.words["pay_link"], tag="a"))
        assert self.driver.current_url == self.server.url(f"/payment/{FIRST}")
        self.check("confirm")

    def confirm(self) -> None:
        self.activate(named(self.words["confirm"], tag="button"))
        assert re.search(r"/payment/settlements/\d+/terms$", self.driver.current_url), self.driver.current_url
        self.check("terms")

    def agree_and_go_on(self) -> None:
        # 次へ進む without 同意します first: told, on the same page.
        self.activate(named(self.words["next"], tag="button"))
        self.check("terms, not agreed", error=True)
        box = tab_to(self.driver, with_id("agree"))
        press_space(self.driver)
        assert box.is_selected()
        self.activate(named(self.words["next"], tag="button"))
        assert self.driver.current_url.startswith(self.provider.url("/pay/cs_")), self.driver.current_url
        self.check("card")

    def pay_by_card(self) -> str:
        """On the card company's page: the number typed, the expiry chosen with the arrow
        keys, the security code typed, お支払い. Returns the 収納番号 our 完了 shows."""
        driver = self.driver
        amount = driver.find_element("css selector", ".payment-summary .amount").text
        assert amount in ("700円", "¥700"), amount
        tab_to(driver, with_id("card_number"))
        type_text(driver, GOOD_CARD)
        choose_option(driver, with_id("expiry_month"), "12")
        year = driver.find_elements("css selector", "#expiry_year option")[4].get_attribute("value")
        choose_option(driver, with_id("expiry_year"), year)
        tab_to(driver, with_id("security_code"))
        type_text(driver, "123")
        self.activate(named(self.words["pay"], tag="button"))
        assert re.search(r"/payment/settlements/\d+$", driver.current_url), driver.current_url
        self.check("complete")
        main = driver.find_element("css selector", "main").text
        assert self.words["receipt"] in main
        receipt = driver.find_element("css selector", "dd.receipt-number").text
        assert re.fullmatch(r"\d{16}", receipt), receipt
        return receipt


def _pay(request, fixture: str, paying_server, payment_provider, smtp, locale: str) -> None:
    driver = request.getfixturevalue(fixture)
    flow = PaymentFlow(driver, paying_server, payment_provider, locale, javascript=fixture == "browser")
    flow.log_in()
    flow.choose()
    flow.confirm()
    flow.agree_and_go_on()
    receipt = flow.pay_by_card()
    assert flow.checked == FLOW_PAGES

    app = paying_server.app
    [charge] = charges_of(app, FIRST)
    assert (charge.receipt_number, charge.status, charge.amount_yen) == (receipt, ChargeStatus.CAPTURED, 700)
    assert booking(app, FIRST).state is ReservationState.CONFIRMED
    # The worker's mail job sends the 完了通知 over SMTP: the same 収納番号 as the screen.
    result = run_worker(app)
    assert result.exit_code == 0, result.output
    [message] = smtp.messages
    assert message["To"] == "meguro-dantai@example.jp"
    # (in the language of the resident's last login)
    assert WORDS[locale]["mail_receipt"].format(receipt) in message.get_content()


@pytest.mark.parametrize("locale", ["ja", "en"])
def test_paying_by_keyboard_with_javascript(request, paying_server, payment_provider, smtp, locale):
    _pay(request, "browser", paying_server, payment_provider, smtp, locale)


def test_paying_by_keyboard_without_javascript(request, paying_server, payment_provider, smtp):
    _pay(request, "browser_nojs", paying_server, payment_provider, smtp, "ja")


def test_the_email_gate_by_keyboard_then_back_to_select(browser, paying_server):
    open_page(browser, paying_server, "/login")
    log_in_by_keyboard(browser, number="40676")
    tab_to(browser, named("クレジット決済", tag="a"))
    with page_change(browser):
        press_enter(browser)
    assert browser.current_url == paying_server.url("/mymenu/email?next=/payment/")
    assert browser.find_element("css selector", "h1").text == "メールアドレスの変更"
    assert (
        "クレジット決済を行うには、メールアドレスの登録が必須となります。"
        in browser.find_element("css selector", "main").text
    )
    axe_check(browser, "メールアドレスの変更 (for クレジット決済)")

    # Two addresses that differ: told, with the focus on the summary.
    tab_to(browser, with_id("email"))
    type_text(browser, "komaba@example.jp")
    tab_to(browser, with_id("email_confirm"))
    type_text(browser, "komaba@example.co.jp")
    press(browser, Keys.ENTER)  # implicit submission from the field
    wait_until(browser, lambda d: d.title.startswith("エラー: "), "the mismatch was not reported")
    wait_until(browser, lambda d: active_element(d).get_attribute("id") == "error-summary", "the summary has no focus")
    assert "確認用のメールアドレスが一致しません。" in browser.find_element("css selector", "#error-summary").text
    axe_check(browser, "メールアドレスの変更, addresses differ")

    tab_to(browser, with_id("email_confirm"))
    type_text(browser, "komaba@example.jp")
    tab_to(browser, named("次へ進む", tag="button"))
    with page_change(browser):
        press_enter(browser)
    assert browser.current_url == paying_server.url("/payment/")
    assert browser.find_element("css selector", "h1").text == "クレジット決済 選択"
    axe_check(browser, "クレジット決済 選択 after the email gate")


def test_reader_mode_refuses_payment_and_switching_to_standard_continues_by_keyboard(browser, paying_server):
    open_page(browser, paying_server, "/login")
    log_in_by_keyboard(browser)
    toggle_reader_mode_by_keyboard(browser)
    assert "presentation-reader" in browser.find_element("css selector", "html").get_attribute("class")
    tab_to(browser, named("クレジット決済", tag="a"))
    with page_change(browser):
        press_enter(browser)

    main = browser.find_element("css selector", "main").text
    assert browser.find_element("css selector", "h1").text == "クレジット決済は行えません"
    assert "※読み上げ用ブラウザモードからはクレジット決済は行えません。" in main
    assert browser.current_url == paying_server.url("/payment/")
    axe_check(browser, "the reader-mode refusal")
    # Shift+Tab from the link below the form back to the button, as a keyboard user might.
    tab_to(browser, named("マイメニューへ戻る", tag="a"))
    press_tab(browser, backwards=True)
    assert active_element(browser).accessible_name == "標準の表示に切り替えて続ける"
    with page_change(browser):
        press_enter(browser)

    assert browser.current_url == paying_server.url("/payment/")
    assert "presentation-reader" not in (browser.find_element("css selector", "html").get_attribute("class") or "")
    assert browser.find_element("css selector", "h1").text == "クレジット決済 選択"
    axe_check(browser, "クレジット決済 選択 after switching to the standard display")
