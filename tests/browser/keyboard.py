"""Driving pages by keyboard alone: Tab and Shift+Tab to move, Enter and Space to act, and
typing into the focused field. No clicks and no element.send_keys, so a control that
cannot be reached or operated by keyboard fails the test."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webelement import WebElement


def _normalise(text: str | None) -> str:
    return re.sub(r"\s+", " ", text or "").strip()


@dataclass(frozen=True)
class Focus:
    """What the focused element should be: a predicate with a description for failures."""

    description: str
    test: Callable[[WebElement], bool]

    def __call__(self, element: WebElement) -> bool:
        try:
            return self.test(element)
        except StaleElementReferenceException:
            return False

    def __str__(self) -> str:
        return self.description


def named(name: str, *, exact: bool = True, tag: str | None = None) -> Focus:
    """The element whose accessible name (what a screen reader says) is `name`."""

    def test(element: WebElement) -> bool:
        if tag and element.tag_name.lower() != tag:
            return False
        actual = _normalise(element.accessible_name)
        return actual == name if exact else name in actual

    return Focus(f"{tag or 'element'} named {name!r}" + ("" if exact else " (in part)"), test)


def with_id(element_id: str) -> Focus:
    return Focus(f"#{element_id}", lambda element: element.get_attribute("id") == element_id)


def with_value(value: str, *, name: str | None = None) -> Focus:
    """A control by its value (and optionally its name attribute), e.g. a radio button."""

    def test(element: WebElement) -> bool:
        return element.get_attribute("value") == value and (name is None or element.get_attribute("name") == name)

    return Focus(f"control{f' {name}' if name else ''} with value {value!r}", test)


def matching_css(selector: str) -> Focus:
    return Focus(
        f"element matching {selector!r}",
        lambda element: element.parent.execute_script("return arguments[0].matches(arguments[1])", element, selector),
    )


def describe(element: WebElement) -> str:
    """How a focused element reads in a failure message: tag, id and accessible name."""
    try:
        ident = element.get_attribute("id")
        return f"<{element.tag_name}{f' id={ident}' if ident else ''}> {_normalise(element.accessible_name)[:60]!r}"
    except StaleElementReferenceException:
        return "<stale element>"


def active_element(driver) -> WebElement:
    return driver.switch_to.active_element


def press(driver, *keys: str) -> None:
    ActionChains(driver).send_keys(*keys).perform()


def press_tab(driver, *, backwards: bool = False) -> None:
    if backwards:
        ActionChains(driver).key_down(Keys.SHIFT).send_keys(Keys.TAB).key_up(Keys.SHIFT).perform()
    else:
        press(driver, Keys.TAB)


def press_enter(driver) -> None:
    press(driver, Keys.ENTER)


def press_space(driver) -> None:
    press(driver, Keys.SPACE)


def press_arrow(driver, direction: str) -> None:
    """Arrow keys: how a radio group's choice moves once Tab has entered it."""
    press(
        driver,
        {"up": Keys.ARROW_UP, "down": Keys.ARROW_DOWN, "left": Keys.ARROW_LEFT, "right": Keys.ARROW_RIGHT}[direction],
    )


def type_text(driver, text: str, *, replace: bool = True) -> None:
    """Type into the focused field, as a person would; `replace` first selects what the
    field already holds (Ctrl+A) so the typing replaces it."""
    actions = ActionChains(driver)
    if replace:
        actions.key_down(Keys.CONTROL).send_keys("a").key_up(Keys.CONTROL)
    actions.send_keys(text).perform()


def tab_to(driver, predicate: Focus, *, max_tabs: int = 60, backwards: bool = False) -> WebElement:
    """Press Tab (Shift+Tab when `backwards`) until the focused element matches; fail with
    the path the focus took when it never does."""
    current = active_element(driver)
    if predicate(current):
        return current
    path = []
    for _ in range(max_tabs):
        press_tab(driver, backwards=backwards)
        current = active_element(driver)
        if predicate(current):
            return current
        path.append(current)  # described only on failure: each description costs round trips
    key = "Shift+Tab" if backwards else "Tab"
    visited = "\n  ".join(describe(element) for element in path[-25:])
    pytest.fail(
        f"After {max_tabs} presses of {key} the focus never reached the {predicate} on "
        f"{driver.current_url}.\nLast stops:\n  {visited}",
        pytrace=False,
    )


def choose_radio(driver, name: str, value: str) -> WebElement:
    """Tab into the radio group `name` (at its checked button, or its first when none is),
    check it with Space if need be, then move the choice with the arrow keys, as a
    keyboard user does in any radio group."""
    tab_to(driver, matching_css(f"input[type=radio][name='{name}']"))
    target = with_value(value, name=name)
    if not active_element(driver).is_selected():
        press_space(driver)
    for _ in range(8):
        if target(active_element(driver)):
            break
        press_arrow(driver, "down")
    current = active_element(driver)
    assert target(current) and current.is_selected(), f"could not choose {value!r} in the radio group {name!r}"
    return current


def choose_option(driver, select: Focus, value: str) -> WebElement:
    """Tab to a closed <select> and move its choice with the arrow keys (Chromium on Linux
    changes the choice without opening the list)."""
    element = tab_to(driver, select)
    for _ in range(30):
        if element.get_attribute("value") == value:
            return element
        press_arrow(driver, "down")
    pytest.fail(f"the arrow keys never chose {value!r} in the {select}", pytrace=False)
