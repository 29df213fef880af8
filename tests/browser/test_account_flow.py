"""パスワードを忘れた場合 and パスワードの変更 by keyboard alone, with JavaScript on and off
(DESIGN "Accounts and sign-in"): the reset mail arrives over a real SMTP server and its link
opens in the browser; the kiosk's forms remember nothing (autocomplete off)."""

from __future__ import annotations

import pytest

from tests.browser.keyboard import choose_radio, matching_css, press_enter, tab_to, type_text, with_id
from tests.browser.navigation import new_page, page_change
from tests.browser.steps import log_in_by_keyboard, open_page
from tests.conftest import DEMO_PASSWORD
from tests.web.account_support import delivered, link_in
from tests.web.card_support import SmtpServer

NEW = "plum-harbour-sketch-9"


@pytest.fixture
def smtp():
    server = SmtpServer().start()
    yield server
    server.stop()


def submit(driver, form_action: str) -> None:
    tab_to(driver, matching_css(f"form[action$='{form_action}'] button[type=submit]"))
    with page_change(driver):
        press_enter(driver)


def fill(driver, field_id: str, text: str) -> None:
    tab_to(driver, with_id(field_id))
    type_text(driver, text)


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "nojs"])
def test_forgotten_password_to_a_new_one_by_keyboard(request, serve_app, smtp, javascript):
    driver = request.getfixturevalue("browser" if javascript else "browser_nojs")
    server = serve_app("standard")
    server.app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=smtp.port, PUBLIC_BASE_URL=server.url(""))
    open_page(driver, server, "/login")
    tab_to(driver, matching_css("a[href='/password/forgot']"))
    with new_page(driver):
        press_enter(driver)
    choose_radio(driver, "registration_kind", "assembly")
    fill(driver, "registration_number", "40675")
    fill(driver, "email", "meguro-dantai@example.jp")
    submit(driver, "/password/forgot")
    assert "入力した内容が登録と一致する場合" in driver.page_source
    [mail] = [m for m in delivered(server.app, smtp) if "再設定" in m["Subject"]]
    open_page(driver, server, link_in(mail))
    # A weak password first: refused in words, focus on the summary's page.
    fill(driver, "new_password", "password1")
    fill(driver, "new_password_confirm", "password1")
    submit(driver, "/password/reset")
    assert "推測されやすい" in driver.page_source
    fill(driver, "new_password", NEW)
    fill(driver, "new_password_confirm", NEW)
    submit(driver, "/password/reset")
    assert driver.current_url.endswith("/mymenu/profile")
    assert "新しいパスワードを設定しました" in driver.page_source


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "nojs"])
def test_changing_the_password_by_keyboard(request, serve_app, javascript):
    driver = request.getfixturevalue("browser" if javascript else "browser_nojs")
    server = serve_app("standard")
    open_page(driver, server, "/login")
    log_in_by_keyboard(driver)
    open_page(driver, server, "/mymenu/")
    tab_to(driver, matching_css("a[href='/mymenu/profile']"))
    with new_page(driver):
        press_enter(driver)
    tab_to(driver, matching_css("a[href='/mymenu/profile/password']"))
    with new_page(driver):
        press_enter(driver)
    fill(driver, "current_password", DEMO_PASSWORD)
    fill(driver, "new_password", NEW)
    fill(driver, "new_password_confirm", NEW)
    submit(driver, "/mymenu/profile/password")
    assert driver.current_url.endswith("/mymenu/profile")
    assert "パスワードを変更しました" in driver.page_source


def test_the_kiosk_s_account_forms_remember_nothing(browser, serve_app):
    kiosk = serve_app("kiosk")
    for path in ("/password/forgot", "/login"):
        open_page(browser, kiosk, path)
        forms = browser.find_elements("css selector", "form")
        assert forms and all(f.get_attribute("autocomplete") == "off" for f in forms), path
        fields = browser.find_elements("css selector", "input[autocomplete]")
        assert all(f.get_attribute("autocomplete") == "off" for f in fields), path
