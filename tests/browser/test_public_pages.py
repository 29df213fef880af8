"""The public pages in a real browser: axe-clean in Japanese and English (switched with the
header's language button, by keyboard), no sideways scrolling at 320 px, and the login
error state."""

from __future__ import annotations

import pytest

from tests.browser.accessibility import assert_no_horizontal_scroll, axe_check
from tests.browser.chromium import set_viewport_width
from tests.browser.keyboard import matching_css, named, press_arrow, press_enter, press_space, tab_to
from tests.browser.navigation import new_page, wait_until
from tests.browser.steps import (
    LOGIN_BUTTON,
    go_to_login_by_keyboard,
    log_in_by_keyboard,
    open_page,
    switch_language_by_keyboard,
)

# Path → (the h1 in Japanese, in English). The English headings come from the catalogue.
PUBLIC_PAGES = {
    "/": "目黒区施設予約システム へようこそ",
    "/login": "ログイン",
    "/settings/display": "色・文字サイズ変更",
    "/faq": "FAQ / よくあるご質問",
    "/guide": "ご利用の手引き",
    "/notices": "お知らせ一覧",
    "/notices/first": None,  # the newest notice, found on /notices
    "/no-such-page": "ページが見つかりません",
}


def _open(driver, live_server, path):
    if path == "/notices/first":
        open_page(driver, live_server, "/notices")
        path = driver.find_element("css selector", "main .notice-list a").get_attribute("pathname")
    open_page(driver, live_server, path)


@pytest.mark.parametrize("locale", ["ja", "en"])
@pytest.mark.parametrize("path", list(PUBLIC_PAGES))
def test_public_page_is_axe_clean_and_reflows_at_320px(browser, live_server, path, locale):
    _open(browser, live_server, path)
    heading = PUBLIC_PAGES[path]
    if heading:
        assert browser.find_element("css selector", "h1").text == heading
    if locale == "en":
        shown = browser.current_url
        switch_language_by_keyboard(browser, "en")
        assert browser.current_url == shown, "the language switch should return to the same page"
    axe_check(browser, f"{path} ({locale}, 1280px)")
    set_viewport_width(browser, 320)
    assert_no_horizontal_scroll(browser, f"{path} ({locale}, 320px)")
    axe_check(browser, f"{path} ({locale}, 320px)")


def test_the_404_page_says_so_in_the_title(browser, live_server):
    open_page(browser, live_server, "/no-such-page")
    assert browser.title.startswith("エラー: ")
    assert "ページが見つかりません" in browser.find_element("css selector", "h1").text


@pytest.mark.parametrize("locale", ["ja", "en"])
def test_login_error_state_is_focused_linked_and_axe_clean(browser, live_server, locale):
    open_page(browser, live_server, "/login")
    if locale == "en":
        switch_language_by_keyboard(browser, "en")
    # Send the empty form: every field is missing.
    tab_to(browser, LOGIN_BUTTON)
    with new_page(browser):
        press_enter(browser)
    assert browser.title.startswith("エラー: " if locale == "ja" else "Error: ")
    # app.js focuses the error summary on load so a screen reader reads it first.
    wait_until(
        browser,
        lambda d: d.switch_to.active_element.get_attribute("id") == "error-summary",
        "the error summary did not get the focus",
    )
    links = browser.find_elements("css selector", "#error-summary a")
    assert len(links) == 3, [link.text for link in links]
    axe_check(browser, f"login, empty form ({locale})")
    set_viewport_width(browser, 320)
    assert_no_horizontal_scroll(browser, f"login error ({locale}, 320px)")

    # The summary's link takes the keyboard to the field.
    set_viewport_width(browser, 1280)
    tab_to(browser, matching_css("#error-summary a[href='#registration_number']"))
    press_enter(browser)
    wait_until(
        browser,
        lambda d: d.switch_to.active_element.get_attribute("id") == "registration_number",
        "the error link did not move the focus to its field",
    )


def test_wrong_password_keeps_the_resident_logged_out_with_a_clear_message(browser, live_server):
    open_page(browser, live_server, "/login")
    log_in_by_keyboard(browser, password="not-the-password")
    assert browser.title.startswith("エラー: ")
    summary = browser.find_element("css selector", "#error-summary").text
    assert "入力内容に誤りがあります" in summary
    assert browser.find_elements("css selector", "form[action$='/login']")
    assert browser.find_element("css selector", "#password").get_attribute("value") == ""
    axe_check(browser, "login, wrong password")


def test_display_settings_change_by_keyboard_and_stay_axe_clean(browser, live_server):
    open_page(browser, live_server, "/settings/display")
    # Tab enters a radio group at its checked button; the arrow keys move the choice.
    tab_to(browser, matching_css("input[name='text_size']:checked"))
    press_arrow(browser, "down")
    assert browser.switch_to.active_element.get_attribute("value") == "large"
    tab_to(browser, named("変更する", tag="button"))
    with new_page(browser):
        press_space(browser)
    assert "表示の設定を変更しました。" in browser.find_element("css selector", "main").text
    assert "text-large" in browser.find_element("css selector", "html").get_attribute("class")
    axe_check(browser, "display settings saved")
    tab_to(browser, named("前の画面に戻る", tag="a"))
    with new_page(browser):
        press_enter(browser)
    assert browser.current_url == live_server.url("/")


def test_keyboard_only_login_and_logout(browser, live_server):
    open_page(browser, live_server, "/")
    go_to_login_by_keyboard(browser)
    assert browser.find_element("css selector", "h1").text == "ログイン"
    log_in_by_keyboard(browser, number="00040675")
    # Back where the resident started, with the header showing who is logged in.
    assert browser.current_url == live_server.url("/")
    header = browser.find_element("css selector", ".site-header").text
    assert "目黒団体" in header and "有効期限" in header
    assert "マイメニュー" in browser.find_element("css selector", "main").text
    axe_check(browser, "top page, logged in")

    # Shift+Tab back from the language button to ログアウト, and Space presses it.
    tab_to(browser, matching_css("form[action$='/settings/language'] button"))
    tab_to(browser, named("ログアウト", tag="button"), backwards=True)
    with new_page(browser):
        press_space(browser)
    assert "ログアウトしました" in browser.find_element("css selector", "h1").text
    assert browser.find_elements("css selector", ".header-nav a[href^='/login']")


def test_keyboard_login_as_a_sports_group(browser, live_server):
    open_page(browser, live_server, "/login")
    log_in_by_keyboard(browser, number="50001", kind="sports")
    assert "目黒スポーツクラブ" in browser.find_element("css selector", ".site-header").text
