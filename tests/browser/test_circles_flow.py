"""集会・学校施設 and サークル(団体) 紹介 (issue 11) by keyboard alone, with JavaScript on and
off: from the top page's link row to both pages, and a group's introduction written on
利用者情報の更新・変更, published, then withdrawn; on the kiosk both pages open without leaving
its origin."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from tests.browser.keyboard import choose_option, matching_css, press_enter, press_space, tab_to, type_text, with_id
from tests.browser.navigation import new_page, page_change
from tests.browser.steps import log_in_by_keyboard, open_page


def follow(driver, href: str) -> None:
    tab_to(driver, matching_css(f"a[href='{href}']"), max_tabs=120)
    with new_page(driver):
        press_enter(driver)


def submit(driver, form_action: str) -> None:
    tab_to(driver, matching_css(f"form[action$='{form_action}'] button[type=submit]"))
    with page_change(driver):
        press_enter(driver)


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "nojs"])
def test_a_group_introduces_itself_and_withdraws_by_keyboard(request, serve_app, javascript):
    driver = request.getfixturevalue("browser" if javascript else "browser_nojs")
    server = serve_app("standard")
    open_page(driver, server, "/login")
    log_in_by_keyboard(driver)
    open_page(driver, server, "/mymenu/")
    follow(driver, "/mymenu/profile")
    follow(driver, "/mymenu/profile/introduction")

    # Spaces only first: refused in words, nothing saved.
    tab_to(driver, with_id("description"))
    type_text(driver, "   ")
    submit(driver, "/mymenu/profile/introduction")
    assert "紹介文を入力してください。" in driver.page_source

    published = tab_to(driver, with_id("published"))
    if not published.is_selected():
        press_space(driver)
    choose_option(driver, with_id("activity"), "music")
    tab_to(driver, with_id("description"))
    type_text(driver, "合唱のサークルです。")
    submit(driver, "/mymenu/profile/introduction")
    assert driver.current_url.endswith("/mymenu/profile")
    assert "「サークル(団体) 紹介」に掲載しています。" in driver.page_source

    open_page(driver, server, "/")
    follow(driver, "/circles")
    assert "目黒団体" in driver.page_source and "合唱のサークルです。" in driver.page_source

    open_page(driver, server, "/mymenu/profile/introduction")
    submit(driver, "/mymenu/profile/introduction/withdraw")
    assert "紹介を取り下げました。" in driver.page_source
    open_page(driver, server, "/circles")
    assert "合唱のサークルです。" not in driver.page_source


def test_the_kiosk_opens_both_pages_from_its_top_page_without_leaving_its_origin(browser, serve_app):
    kiosk = serve_app("kiosk")
    for href, heading in (("/assembly-facilities", "集会・学校施設"), ("/circles", "サークル(団体) 紹介")):
        open_page(browser, kiosk, "/")
        follow(browser, href)
        assert urlsplit(browser.current_url).netloc == urlsplit(kiosk.url("/")).netloc
        assert browser.find_element("css selector", "h1").text == heading
