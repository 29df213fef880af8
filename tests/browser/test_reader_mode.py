"""読み上げ用ブラウザモード as it stands in this issue: switched by keyboard from the header,
remembered, whole pages instead of swaps, axe-clean. (The channels issue completes it.)"""

from __future__ import annotations

from tests.browser.accessibility import assert_no_horizontal_scroll, axe_check
from tests.browser.chromium import set_viewport_width
from tests.browser.keyboard import matching_css, press_enter, tab_to
from tests.browser.navigation import page_change
from tests.browser.steps import open_page, toggle_reader_mode_by_keyboard


def test_reader_mode_by_keyboard_loads_whole_pages_and_stays_axe_clean(browser, live_server):
    open_page(browser, live_server, "/")
    toggle_reader_mode_by_keyboard(browser)
    html = browser.find_element("css selector", "html")
    assert "presentation-reader" in html.get_attribute("class")
    assert (
        browser.find_element("css selector", "form[action$='/settings/reader'] button").get_attribute("aria-pressed")
        == "true"
    )
    axe_check(browser, "top page, reader mode")

    # A search tab is a whole page load here (no htmx in reader mode).
    tab_to(browser, matching_css("#search-panel nav a[href^='/?tab=name']"))
    with page_change(browser):
        press_enter(browser)
    assert browser.execute_script("return document.documentElement.dataset.testStale") is None
    assert browser.current_url.startswith(live_server.url("/?tab=name"))

    # The availability grid as sentences, remembered across pages.
    open_page(browser, live_server, "/availability?facility=013")
    assert "presentation-reader" in browser.find_element("css selector", "html").get_attribute("class")
    assert not browser.find_elements("css selector", "table.day-grid")
    axe_check(browser, "施設別空き状況, reader mode")
    set_viewport_width(browser, 320)
    assert_no_horizontal_scroll(browser, "施設別空き状況, reader mode, 320px")
