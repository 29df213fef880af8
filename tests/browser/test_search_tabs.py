"""The top page's search tabs: with JavaScript an htmx swap that moves focus to the new
panel, announces it, pushes the URL and keeps Back working; without JavaScript the same
links load whole pages."""

from __future__ import annotations

import pytest

from tests.browser.accessibility import axe_check, focused_element_summary
from tests.browser.keyboard import matching_css, named, press_enter, tab_to
from tests.browser.navigation import new_page, page_change, wait_until
from tests.browser.steps import open_page, switch_language_by_keyboard

TAB_LINK = "#search-panel nav a"


def _current_tab(driver) -> str:
    return driver.find_element("css selector", f"{TAB_LINK}[aria-current='page']").text


def _was_swapped_in_place(driver) -> bool:
    """page_change marks the document; the mark survives a swap but not a page load."""
    return driver.execute_script("return document.documentElement.dataset.testStale === '1'")


def _choose_tab_by_keyboard(driver, label: str) -> None:
    tab_to(driver, named(label, tag="a"))
    with page_change(driver):
        press_enter(driver)


def test_a_tab_swaps_in_place_moves_focus_pushes_the_url_and_back_works(browser, live_server):
    open_page(browser, live_server, "/")
    assert _current_tab(browser) == "カテゴリから探す"

    _choose_tab_by_keyboard(browser, "施設名から探す")
    assert _was_swapped_in_place(browser), "the tab loaded a whole page instead of swapping the panel"
    assert browser.current_url == live_server.url("/?tab=name")
    assert _current_tab(browser) == "施設名から探す"
    assert "か行" in browser.find_element("css selector", "#search-panel").text
    focus = focused_element_summary(browser)
    assert not focus["isBody"], "after the swap the focus fell back to <body>"
    assert focus["id"] == "search-panel-title" and focus["text"] == "施設名から探す", focus
    assert browser.title.startswith("トップページ")
    axe_check(browser, "top page after the 施設名から探す swap")
    # Announced once (issue 11): the focused heading says it; the live region does not repeat it.
    assert browser.find_element("css selector", "#live-region").get_attribute("textContent") != "施設名から探す"

    # The focus is on the new panel's heading, so Tab continues inside the new content.
    _choose_tab_by_keyboard(browser, "一覧から探す")
    assert browser.current_url == live_server.url("/?tab=list")
    assert browser.find_elements("css selector", "#search-panel input[type=checkbox]")
    assert focused_element_summary(browser)["id"] == "search-panel-title"

    # Back restores each earlier state, URL and content together.
    with page_change(browser):
        browser.back()
    wait_until(browser, lambda d: d.current_url == live_server.url("/?tab=name"), "Back did not return to ?tab=name")
    wait_until(browser, lambda d: _current_tab(d) == "施設名から探す", "Back restored the URL but not the panel")
    with page_change(browser):
        browser.back()
    wait_until(browser, lambda d: d.current_url == live_server.url("/"), "Back did not return to the top page")
    wait_until(browser, lambda d: _current_tab(d) == "カテゴリから探す", "Back restored the URL but not the panel")


@pytest.mark.parametrize(
    "label, tab, content",
    [
        ("使用目的から探す", "purpose", "会議・打合せ"),
        ("施設種類から探す", "type", "会議室"),
        ("施設名から探す", "name", "か行"),
        ("一覧から探す", "list", "空き状況を表示"),
    ],
)
def test_without_javascript_the_tabs_are_plain_links(browser_nojs, live_server, label, tab, content):
    driver = browser_nojs
    open_page(driver, live_server, "/")
    tab_to(driver, named(label, tag="a"))
    with new_page(driver):
        press_enter(driver)
    assert driver.current_url == live_server.url(f"/?tab={tab}#search-panel-title")
    assert _current_tab(driver) == label
    assert content in driver.find_element("css selector", "#search-panel").text
    driver.back()
    wait_until(driver, lambda d: d.current_url == live_server.url("/"), "Back did not return to the top page")
    assert _current_tab(driver) == "カテゴリから探す"


def test_each_tab_panel_is_axe_clean_in_english_too(browser, live_server):
    open_page(browser, live_server, "/?tab=list")
    axe_check(browser, "top page, 一覧から探す, ja")
    switch_language_by_keyboard(browser, "en")
    for tab in ("category", "purpose", "type", "name"):
        tab_to(browser, matching_css(f"{TAB_LINK}[href^='/?tab={tab}']"))
        with page_change(browser):
            press_enter(browser)
        assert browser.current_url == live_server.url(f"/?tab={tab}")
        assert "Search by" in _current_tab(browser)
        axe_check(browser, f"top page, {tab} tab (en)")
