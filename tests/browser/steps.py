"""Steps a resident takes, by keyboard alone, shared by the browser tests."""
from __future__ import annotations

from tests.browser.keyboard import (
    matching_css,
    press_arrow,
    press_enter,
    press_space,
    tab_to,
    type_text,
    with_id,
    with_value,
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
    """Fill in the ログイン page shown now with Tab, Shift+Tab, Space and typing, then press
    Enter on the ログイン button. With no radio checked, Tab enters the group at its first
    button (集会・学校), which Space checks; the other (スポーツ) is reached, as in any
    radio group, with the arrow keys, which also check it."""
    assert driver.find_elements("css selector", "form[action$='/login']"), f"no login form on {driver.current_url}"
    tab_to(driver, matching_css("input[name='registration_kind']"))
    if not driver.switch_to.active_element.is_selected():
        press_space(driver)
    radio = with_value(kind, name="registration_kind")
    for _ in range(3):
        if radio(driver.switch_to.active_element):
            break
        press_arrow(driver, "down")
    assert radio(driver.switch_to.active_element), f"no {kind} registration kind reachable by arrow keys"
    assert driver.switch_to.active_element.is_selected(), "Space did not check the registration kind"
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
