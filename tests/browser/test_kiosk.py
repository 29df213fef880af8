"""The kiosk profile in a real browser (issue 5, shared-terminal safety), at the real timings
(warning after 90 s, reset at 120 s) on clocks the test moves: the page's Date.now (shifted
by a script injected before the page's own) and the server's idle clock. So the tests take
seconds and do not depend on how fast the machine is.

The warning is a labelled modal dialog that takes the focus and gives it back; 延長 and Esc
keep the session (on the server too); no answer ends it and replaces the page with the top
page; after a reset or a logout Back shows none of the previous resident's pages or values
(no back/forward cache, no restored form values); typing keeps the session alive on the
server; without JavaScript the server still ends it. Kiosk pages are axe-clean, reflow at
320 px and have targets of at least 44 px."""

from __future__ import annotations

import re
import time
from urllib.parse import quote

import pytest
from flask.sessions import SecureCookieSessionInterface
from selenium.webdriver.common.keys import Keys

from blueprints.kiosk.routes import LAST_SEEN
from tests.browser.accessibility import assert_no_horizontal_scroll, axe_check
from tests.browser.chromium import set_viewport_width
from tests.browser.keyboard import matching_css, named, press, press_enter, press_tab, tab_to
from tests.browser.navigation import new_page, page_change, wait_until
from tests.browser.steps import log_in_by_keyboard, open_page
from tests.browser.target_size import assert_targets_at_least, small_targets

RESIDENT = "目黒団体"
DIALOG = "#kiosk-idle"

# Every document starts with the real time; the test moves it on with advance().
PAGE_CLOCK = """
(() => {
  const realNow = Date.now.bind(Date);
  window.__kioskTestShift = 0;
  Date.now = () => realNow() + window.__kioskTestShift;
})();
"""


class Clocks:
    """The page's clock and the server's idle clock, moved together (the world a resident
    sees: both sides agree how long nobody has touched the terminal)."""

    def __init__(self, driver, monkeypatch):
        self.driver = driver
        self.server_shift = 0.0
        monkeypatch.setattr("blueprints.kiosk.routes.seconds_now", lambda: time.time() + self.server_shift)

    def advance(self, seconds: float, *, page: bool = True, server: bool = True) -> None:
        if server:
            self.server_shift += seconds
        if page:
            self.driver.execute_script("window.__kioskTestShift += arguments[0] * 1000", seconds)


@pytest.fixture
def clocks(browser, monkeypatch):
    identifier = browser.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": PAGE_CLOCK})["identifier"]
    try:
        yield Clocks(browser, monkeypatch)
    finally:
        browser.execute_cdp_cmd("Page.removeScriptToEvaluateOnNewDocument", {"identifier": identifier})


def serve_kiosk(serve_app, **settings):
    # Signed-cookie sessions, so that the test can read what the server recorded.
    return serve_app("kiosk", REDIS_URL=None, **settings)


def dialog_open(driver) -> bool:
    return driver.execute_script(f"return document.querySelector('{DIALOG}').open")


def wait_for_dialog(driver) -> None:
    wait_until(driver, dialog_open, "the idle warning never opened")


def logged_in(driver) -> bool:
    return RESIDENT in driver.find_element("css selector", "header").text


def loaded(driver) -> bool:
    return driver.execute_script("return document.readyState") == "complete"


def mark_document(driver) -> None:
    """A mark that only this very document carries: a page shown again from the
    back/forward cache still has it, a page loaded afresh has not."""
    driver.execute_script("window.__kioskTestMark = location.href")


def assert_fresh_and_anonymous(driver, where: str) -> None:
    assert driver.execute_script("return window.__kioskTestMark") is None, f"{where}: shown from the back/forward cache"
    assert RESIDENT not in driver.page_source, f"{where}: shows the previous resident's data"
    changed = driver.execute_script(
        """return [...document.querySelectorAll("input:not([type=hidden]), textarea, select")]
             .filter(el => (el.type === "checkbox" || el.type === "radio") ? el.checked !== el.defaultChecked
                                                                             : el.value !== el.defaultValue)
             .map(el => el.id || el.name);"""
    )
    assert not changed, f"{where}: fields keep what the previous person entered: {changed}"


def server_last_seen(driver, server) -> float:
    """When the server last saw this browser's session, as the server recorded it."""
    cookie = driver.get_cookie(server.app.config.get("SESSION_COOKIE_NAME", "session"))
    assert cookie, "no session cookie"
    return SecureCookieSessionInterface().get_signing_serializer(server.app).loads(cookie["value"])[LAST_SEEN]


def log_in_from_top(driver, server) -> None:
    open_page(driver, server, "/")
    mark_document(driver)
    open_page(driver, server, "/login")  # the header's link from the top page would return there
    mark_document(driver)
    log_in_by_keyboard(driver)
    assert logged_in(driver) and driver.current_url.endswith("/mymenu/")
    mark_document(driver)


def follow_link(driver, name: str) -> None:
    tab_to(driver, named(name, tag="a"))
    with page_change(driver):
        press_enter(driver)
    mark_document(driver)


def test_the_warning_is_a_labelled_modal_dialog_and_extend_keeps_the_session(browser, serve_app, clocks):
    kiosk = serve_kiosk(serve_app)
    log_in_from_top(browser, kiosk)
    link = tab_to(browser, named("ご利用の手引き", tag="a"))
    clocks.advance(89)
    time.sleep(0.5)
    assert not dialog_open(browser), "the warning opened before 90 s"

    clocks.advance(2)
    wait_for_dialog(browser)
    dialog = browser.find_element("css selector", DIALOG)
    assert dialog.aria_role == "dialog" and dialog.accessible_name == "まもなく最初の画面に戻ります"
    assert browser.execute_script(f"return document.querySelector('{DIALOG}').matches(':modal')")
    assert "このまま30秒たつと、入力中の内容とログインを消去" in dialog.text
    assert re.search(r"残り時間: (29|28|27) 秒", dialog.text), dialog.text
    focused = browser.switch_to.active_element
    assert focused.accessible_name == "延長" and browser.execute_script(
        "return arguments[0].contains(arguments[1])", dialog, focused
    )
    axe_check(browser, "kiosk idle warning")
    # The rest of the page is inert: Tab stays in the dialog.
    press_tab(browser)
    assert browser.switch_to.active_element.accessible_name == "ご利用を終了する"
    press_tab(browser, backwards=True)

    seen = server_last_seen(browser, kiosk)
    press_enter(browser)  # 延長
    wait_until(browser, lambda d: not dialog_open(d), "延長 did not close the warning")
    assert browser.switch_to.active_element == link, "the focus did not return to where it was"
    wait_until(browser, lambda d: server_last_seen(d, kiosk) > seen, "延長 did not reach the server")

    clocks.advance(91)
    wait_for_dialog(browser)
    seen = server_last_seen(browser, kiosk)
    press(browser, Keys.ESCAPE)
    wait_until(browser, lambda d: not dialog_open(d), "Esc did not close the warning")
    wait_until(browser, lambda d: d.switch_to.active_element == link, "the focus did not return after Esc")
    wait_until(browser, lambda d: server_last_seen(d, kiosk) > seen, "Esc did not extend the session on the server")

    # 182 s after the last page request, but extended twice: still logged in on the server.
    with page_change(browser):
        press_enter(browser)  # the focused link
    assert logged_in(browser)


def test_no_answer_ends_the_session_and_back_shows_nothing_of_it(browser, serve_app, clocks):
    kiosk = serve_kiosk(serve_app)
    log_in_from_top(browser, kiosk)
    follow_link(browser, "予約内容の確認・取消")
    assert RESIDENT in browser.page_source
    entries = browser.execute_script("return history.length")

    clocks.advance(91)
    wait_for_dialog(browser)
    clocks.advance(30)
    wait_until(
        browser, lambda d: d.current_url == kiosk.url("/") and loaded(d), "the page never went back to the top page"
    )
    assert browser.execute_script("return history.length") == entries, (
        "the top page was added, not put in the last page's place"
    )
    assert not logged_in(browser)
    assert_fresh_and_anonymous(browser, "the top page after the reset")

    # Back through everything the resident saw: /mymenu/, the login page, the top page.
    for step in range(3):
        browser.back()
        wait_until(browser, loaded, "Back did not finish")
        assert_fresh_and_anonymous(browser, f"Back ×{step + 1} ({browser.current_url})")


def test_ending_the_session_from_the_warning_by_keyboard(browser, serve_app, clocks):
    kiosk = serve_kiosk(serve_app)
    log_in_from_top(browser, kiosk)
    clocks.advance(91)
    wait_for_dialog(browser)
    press_tab(browser)
    assert browser.switch_to.active_element.accessible_name == "ご利用を終了する"
    press_enter(browser)
    wait_until(
        browser,
        lambda d: d.current_url == kiosk.url("/") and loaded(d) and not logged_in(d),
        "ご利用を終了する did not end the session",
    )
    open_page(browser, kiosk, "/mymenu/")
    assert "/login" in browser.current_url


def see_bookings_then_log_out(driver, server):
    """Log in, open 予約内容の確認・取消, log out, all by keyboard; then press Back four
    times, yielding where each Back landed."""
    log_in_from_top(driver, server)
    follow_link(driver, "予約内容の確認・取消")
    assert "2026-000001" in driver.page_source
    tab_to(driver, matching_css("form[action$='/logout'] button"))
    with new_page(driver):
        press_enter(driver)
    assert "ログアウトしました" in driver.find_element("css selector", "h1").text
    for step in range(4):
        driver.back()
        wait_until(driver, loaded, "Back did not finish")
        yield f"Back ×{step + 1} after logout ({driver.current_url})"


def test_after_a_logout_back_shows_nothing_of_the_session(browser, serve_app):
    for where in see_bookings_then_log_out(browser, serve_kiosk(serve_app)):
        assert_fresh_and_anonymous(browser, where)


def test_after_a_logout_on_the_standard_profile_back_shows_nothing_of_the_session(browser, live_server):
    """A shared PC (a library, a family computer): every page served to a logged-in
    resident is no-store, so after ログアウト Back reloads it from the server, which now
    sends the login page. (The anonymous top page before the login may come back from the
    back/forward cache: it never held the resident's data.)"""
    for where in see_bookings_then_log_out(browser, live_server):
        assert RESIDENT not in browser.page_source, f"{where}: shows the previous resident's data"
        assert "2026-000001" not in browser.page_source, f"{where}: shows the previous resident's bookings"
        if "/mymenu" in browser.current_url:
            assert browser.find_element("css selector", "h1").text == "ログイン", where


def test_a_typed_value_is_not_restored_on_back_at_a_kiosk(browser, serve_app):
    kiosk = serve_kiosk(serve_app)
    open_page(browser, kiosk, "/login")
    mark_document(browser)
    tab_to(browser, matching_css("#registration_number"))
    press(browser, "40675")
    open_page(browser, kiosk, "/guide")
    browser.back()
    wait_until(browser, loaded, "Back did not finish")
    assert browser.current_url == kiosk.url("/login")
    assert_fresh_and_anonymous(browser, "kiosk login page after Back")


def test_the_back_check_catches_a_page_kept_with_its_values_on_the_standard_profile(browser, live_server):
    """The check above can fail: a resident's phone (standard profile) keeps the login page,
    and what was typed into it, for Back."""
    open_page(browser, live_server, "/login")
    mark_document(browser)
    tab_to(browser, matching_css("#registration_number"))
    press(browser, "40675")
    open_page(browser, live_server, "/guide")
    browser.back()
    wait_until(browser, loaded, "Back did not finish")
    with pytest.raises(AssertionError):
        assert_fresh_and_anonymous(browser, "standard login page")


def test_typing_keeps_the_session_alive_on_the_server_too(browser, serve_app, clocks):
    kiosk = serve_kiosk(serve_app)
    log_in_from_top(browser, kiosk)
    tab_to(browser, named("予約内容の確認・取消", tag="a"))
    first = server_last_seen(browser, kiosk)
    for _ in range(6):  # three minutes of typing without a page request
        clocks.advance(30)
        press(browser, Keys.SHIFT)  # a key press that moves nothing
        wait_until(browser, lambda d: server_last_seen(d, kiosk) > first, "no keep-alive reached the server")
        first = server_last_seen(browser, kiosk)
        assert not dialog_open(browser), "the warning opened although someone was typing"
    with page_change(browser):
        press_enter(browser)
    assert logged_in(browser), "the session ended on the server although someone was typing"


def test_without_javascript_the_server_ends_an_idle_session(browser_nojs, serve_app, monkeypatch):
    kiosk = serve_kiosk(serve_app)
    open_page(browser_nojs, kiosk, "/login")
    log_in_by_keyboard(browser_nojs)
    assert logged_in(browser_nojs)
    assert not browser_nojs.find_element("css selector", DIALOG).is_displayed()
    open_page(browser_nojs, kiosk, "/mymenu/reservations")
    assert logged_in(browser_nojs)
    # Two minutes and a second later on the server's idle clock (the browser does nothing).
    monkeypatch.setattr("blueprints.kiosk.routes.seconds_now", lambda: time.time() + 121)
    open_page(browser_nojs, kiosk, "/mymenu/reservations")
    assert "/login" in browser_nojs.current_url and not logged_in(browser_nojs)
    assert RESIDENT not in browser_nojs.page_source


KIOSK_PAGES = [
    "/",
    "/login",
    "/mymenu/",
    "/mymenu/reservations",
    "/availability?facility=013",
    "/settings/display",
    "/payment/",
]


@pytest.mark.parametrize("reader", [False, True], ids=["kiosk", "kiosk reader"])
def test_kiosk_pages_are_axe_clean_reflow_and_have_44px_targets(browser, serve_app, reader):
    kiosk = serve_kiosk(serve_app)
    open_page(browser, kiosk, "/login")
    log_in_by_keyboard(browser)
    if reader:
        tab_to(browser, matching_css("form[action$='/settings/reader'] button"))
        with new_page(browser):
            press_enter(browser)
    for path in KIOSK_PAGES:
        set_viewport_width(browser, 1280)
        open_page(browser, kiosk, path)
        assert "profile-kiosk" in browser.find_element("css selector", "html").get_attribute("class")
        axe_check(browser, f"kiosk {path}")
        assert_targets_at_least(browser, 44, f"kiosk {path}")
        set_viewport_width(browser, 320)
        assert_no_horizontal_scroll(browser, f"kiosk {path} at 320px")


def test_the_warning_fits_a_narrow_screen(browser, serve_app, clocks):
    kiosk = serve_kiosk(serve_app)
    open_page(browser, kiosk, "/")
    set_viewport_width(browser, 320)
    clocks.advance(91)
    wait_for_dialog(browser)
    assert_no_horizontal_scroll(browser, "kiosk idle warning at 320px")
    assert_targets_at_least(browser, 44, "kiosk idle warning")


def test_the_target_check_catches_a_small_target(browser):
    page = "<main><a href='#x'>x</a> <button style='height:50px;width:50px'>ok</button></main>"
    browser.get("data:text/html;charset=utf-8," + quote(page))
    small = small_targets(browser, 44)
    assert len(small) == 1 and "<a>" in small[0]
