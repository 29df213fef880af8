"""Steps a resident takes, by keyboard alone, shared by the browser tests."""

from __future__ import annotations

from tests.browser.keyboard import (
    choose_radio,
    matching_css,
    press_enter,
    tab_to,
    type_text,
    with_id,
)
from tests.browser.live_server import LiveServer
from tests.browser.navigation import new_page, page_change
from tests.conftest import DEMO_PASSWORD

LOGIN_BUTTON = matching_css("form[action$='/login'] button[type=submit]")
HEADER_LOGIN_LINK = matching_css(".header-nav a[href^='/login']")


def open_page(driver, server: LiveServer, path: str = "/") -> None:
    """Type an address into the browser (the one thing a test does without the keyboard
    of the page itself)."""
    with new_page(driver):
        driver.get(server.url(path))


def log_in_by_keyboard(driver, number: str = "40675", password: str = DEMO_PASSWORD, kind: str = "assembly") -> None:
    """Fill in the ログイン page shown now with Tab, Space and typing, then press
    Enter on the ログイン button. With no radio checked, Tab enters the group at its first
    button (集会・学校), which Space checks; the other (スポーツ) is reached, as in any
    radio group, with an arrow key."""
    assert driver.find_elements("css selector", "form[action$='/login']"), f"no login form on {driver.current_url}"
    choose_radio(driver, "registration_kind", kind)
    tab_to(driver, with_id("registration_number"))
    type_text(driver, number)
    tab_to(driver, with_id("password"))
    type_text(driver, password)
    tab_to(driver, LOGIN_BUTTON)
    with page_change(driver):
        press_enter(driver)


def go_to_login_by_keyboard(driver) -> None:
    """From any page, Tab to the header's ログイン link and follow it with Enter."""
    tab_to(driver, HEADER_LOGIN_LINK)
    with new_page(driver):
        press_enter(driver)


def switch_language_by_keyboard(driver, locale: str) -> None:
    """Press the header's English / 日本語 button (a plain form POST, then the same page)."""
    tab_to(driver, matching_css(f"form[action$='/settings/language'] button[value='{locale}']"))
    with new_page(driver):
        press_enter(driver)
    lang = driver.find_element("css selector", "html").get_attribute("lang")
    assert lang == locale, f"the page is still in {lang!r} after choosing {locale!r}"


def toggle_reader_mode_by_keyboard(driver) -> None:
    """Press the header's 読み上げ button (a plain form POST, then the same page)."""
    tab_to(driver, matching_css("form[action$='/settings/reader'] button"))
    with new_page(driver):
        press_enter(driver)
