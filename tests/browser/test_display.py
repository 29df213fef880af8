"""色・文字サイズ変更 in a real browser (issue 5): changed by keyboard and applied at once;
every colour theme passes axe's WCAG 2.2 AA rules (colour contrast included) in every channel;
特大 at 320 px never makes the page body scroll sideways."""

from __future__ import annotations

import pytest

from tests.browser.accessibility import assert_no_horizontal_scroll, assert_wide_content_scrolls_in_a_region, axe_check
from tests.browser.chromium import set_viewport_width
from tests.browser.keyboard import choose_radio, named, press_enter, tab_to
from tests.browser.navigation import new_page
from tests.browser.steps import log_in_by_keyboard, open_page, toggle_reader_mode_by_keyboard

COLOURS = ["standard", "contrast", "inverted"]
FREE_SLOT = "2:2026-12-01:5"  # 区民センター社会教育館 702, free in the demo data

PUBLIC = [
    "/",
    "/?tab=name",
    "/login",
    "/guide",
    "/notices",
    "/search/facilities?all=1",
    "/availability?facility=013",
    "/availability/slots?cell=1:2026-12-03",
    "/settings/display",
]
PRIVATE = [
    "/mymenu/",
    "/mymenu/reservations",
    "/mymenu/messages",
    "/mymenu/group-classes",
    f"/apply/details?slot={FREE_SLOT}",
    "/payment/",
]


def html_class(driver) -> str:
    return driver.find_element("css selector", "html").get_attribute("class")


def choose_display_by_keyboard(driver, *, text_size: str, colour: str) -> None:
    """From any page: the header's 色・文字サイズ変更, both radio groups, 変更する."""
    tab_to(driver, named("色・文字サイズ変更", tag="a"))
    with new_page(driver):
        press_enter(driver)
    choose_radio(driver, "text_size", text_size)
    choose_radio(driver, "colour", colour)
    tab_to(driver, named("変更する", tag="button"))
    with new_page(driver):
        press_enter(driver)
    assert "表示の設定を変更しました。" in driver.find_element("css selector", "main").text
    assert f"text-{text_size}" in html_class(driver) and f"colour-{colour}" in html_class(driver)


def log_in(driver, server) -> None:
    open_page(driver, server, "/login")
    log_in_by_keyboard(driver)


def test_the_display_changes_by_keyboard_and_applies_at_once(browser, live_server):
    open_page(browser, live_server, "/guide")
    choose_display_by_keyboard(browser, text_size="xlarge", colour="inverted")
    style = browser.execute_script(
        "const s = getComputedStyle(document.documentElement), b = getComputedStyle(document.body);"
        "return {size: s.fontSize, bg: b.backgroundColor, text: b.color};"
    )
    assert style == {"size": "24px", "bg": "rgb(0, 0, 0)", "text": "rgb(255, 255, 255)"}
    # 前の画面に戻る returns to the page the resident came from, still in their display.
    tab_to(browser, named("前の画面に戻る", tag="a"))
    with new_page(browser):
        press_enter(browser)
    assert browser.current_url == live_server.url("/guide")
    assert "text-xlarge" in html_class(browser) and "colour-inverted" in html_class(browser)
    # Remembered by this browser: a new visit still has it.
    open_page(browser, live_server, "/")
    assert "colour-inverted" in html_class(browser)


@pytest.mark.parametrize("colour", COLOURS)
def test_every_page_passes_axe_in_each_colour_theme(browser, live_server, colour):
    open_page(browser, live_server, "/")
    browser.add_cookie({"name": "pref_colour", "value": colour, "path": "/"})
    for path in PUBLIC:
        open_page(browser, live_server, path)
        assert f"colour-{colour}" in html_class(browser)
        axe_check(browser, f"{path} in colour {colour}")
    log_in(browser, live_server)
    for path in PRIVATE:
        open_page(browser, live_server, path)
        axe_check(browser, f"{path} in colour {colour}")
    # An error state (the error colours) and reader mode in this theme.
    open_page(browser, live_server, "/settings/display?next=/")
    browser.execute_script("document.querySelectorAll('input[type=radio]').forEach(r => r.checked = false)")
    tab_to(browser, named("変更する", tag="button"))
    with new_page(browser):
        press_enter(browser)
    assert browser.title.startswith("エラー: ")
    axe_check(browser, f"display preferences, error state, colour {colour}")
    toggle_reader_mode_by_keyboard(browser)
    for path in ("/availability?facility=013", "/mymenu/reservations"):
        open_page(browser, live_server, path)
        assert "presentation-reader" in html_class(browser)
        axe_check(browser, f"{path} in reader mode, colour {colour}")


@pytest.mark.parametrize("colour", ["contrast", "inverted"])
def test_a_kiosk_passes_axe_in_each_colour_theme(browser, serve_app, colour):
    kiosk = serve_app("kiosk")
    open_page(browser, kiosk, "/")
    choose_display_by_keyboard(browser, text_size="large", colour=colour)
    for path in ("/", "/availability?facility=013", "/login"):
        open_page(browser, kiosk, path)
        assert f"colour-{colour}" in html_class(browser)
        axe_check(browser, f"kiosk {path} in colour {colour}")


@pytest.mark.parametrize("channel", ["standard", "reader", "kiosk"])
def test_extra_large_text_at_320px_never_scrolls_the_page_sideways(browser, serve_app, channel):
    server = serve_app("kiosk" if channel == "kiosk" else "standard")
    open_page(browser, server, "/")
    choose_display_by_keyboard(browser, text_size="xlarge", colour="standard")
    if channel == "reader":
        toggle_reader_mode_by_keyboard(browser)
    set_viewport_width(browser, 320)
    for path in PUBLIC:
        open_page(browser, server, path)
        assert "text-xlarge" in html_class(browser)
        assert_no_horizontal_scroll(browser, f"{path}, 特大, {channel}, 320px")
    set_viewport_width(browser, 1280)
    log_in(browser, server)
    set_viewport_width(browser, 320)
    for path in PRIVATE:
        open_page(browser, server, path)
        assert_no_horizontal_scroll(browser, f"{path}, 特大, {channel}, 320px")
    if channel == "standard":
        # Wide grids scroll inside their own region instead.
        open_page(browser, server, "/availability?facility=013")
        assert_wide_content_scrolls_in_a_region(browser, "table.day-grid")
