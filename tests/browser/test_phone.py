"""Phones (issue 11) in headless Chromium: the lists of bookings become cards below the
breakpoint with the same HTML — each booking one block of labelled lines, its actions inside
it, full width and at least 44 px high — while the table stays a table for a screen reader
and on a wide screen. (Every page at 360, 320 and 1,280 px is the accessibility gate's
fits_phone / fits_1280 check, tests/browser/test_accessibility_gate.py.)"""

from __future__ import annotations

from urllib.parse import quote

import pytest

from tests.browser.chromium import DESKTOP, set_viewport_width
from tests.browser.gate import fit_failures, hidden_focus
from tests.browser.steps import log_in_by_keyboard, open_page, toggle_reader_mode_by_keyboard

# Each card of a list: its box, its labelled lines, its actions' boxes.
_CARDS = """
const lists = [...document.querySelectorAll(arguments[0])];
return lists.flatMap(list => [...list.querySelectorAll("tbody tr")].map(row => {
  const box = row.getBoundingClientRect();
  const cells = [...row.children];
  return {
    display: getComputedStyle(row).display,
    left: box.left, right: box.right,
    labels: cells.filter(c => getComputedStyle(c).display !== "none")
                 .map(c => getComputedStyle(c, "::before").content),
    actions: [...row.querySelectorAll(".card-action .button, .card-action .cancel-choice")].map(a => {
      const r = a.getBoundingClientRect();
      return {text: a.textContent.trim().split(/\\s+/)[0], left: r.left, right: r.right, height: r.height};
    }),
  };
}));
"""


def cards(driver, selector: str) -> list[dict]:
    return driver.execute_script(_CARDS, selector)


def table_roles(driver) -> set[str]:
    """The roles Chromium's accessibility tree gives the page now (what a screen reader gets)."""
    tree = driver.execute_cdp_cmd("Accessibility.getFullAXTree", {})
    return {node.get("role", {}).get("value") for node in tree["nodes"]}


def test_bookings_are_cards_on_a_phone_and_a_table_on_a_wide_screen(browser, live_server):
    open_page(browser, live_server, "/login")
    log_in_by_keyboard(browser)
    for width in (360, 320):
        set_viewport_width(browser, width)
        open_page(browser, live_server, "/mymenu/reservations")
        found = cards(browser, ".reservation-group")
        assert len(found) >= 5, found
        main = browser.execute_script(
            "const r = document.querySelector('main').getBoundingClientRect(); return [r.left, r.right]"
        )
        for card in found:
            assert card["display"] == "block", card
            assert card["left"] >= 0 and card["right"] <= width, card
            # Every fact on a labelled line: the column's own heading.
            assert '"予約番号"' in card["labels"] and '"利用日"' in card["labels"], card["labels"]
            assert card["actions"], card
            for action in card["actions"]:
                assert action["height"] >= 44, (width, action)
                # Full width: the card's inner width (its border and padding aside).
                assert action["right"] - action["left"] >= card["right"] - card["left"] - 40, (width, action, card)
        assert any(a["text"] == "取消" for card in found for a in card["actions"])
        assert any(a["text"] == "詳細" for card in found for a in card["actions"])
        assert not fit_failures(browser), fit_failures(browser)
        assert main[1] <= width
        # The same table for a screen reader: table, headers and cells.
        assert {"table", "row", "columnheader", "rowheader", "cell"} <= table_roles(browser)

        open_page(browser, live_server, "/payment/")
        found = cards(browser, ".payment-group")
        assert found and all(card["display"] == "block" for card in found)
        payable = [a for card in found for a in card["actions"] if a["text"] == "決済"]
        assert payable and all(a["height"] >= 44 and a["right"] <= width for a in payable), payable
        assert not fit_failures(browser), fit_failures(browser)

    set_viewport_width(browser, DESKTOP[0])
    open_page(browser, live_server, "/mymenu/reservations")
    assert {card["display"] for card in cards(browser, ".reservation-group")} == {"table-row"}
    assert (
        browser.execute_script("return getComputedStyle(document.querySelector('.reservation-group thead')).display")
        == "table-header-group"
    )


def _show(driver, body: str, style: str = "") -> None:
    driver.get(
        "data:text/html;charset=utf-8,"
        + quote(
            f'<!doctype html><html lang="ja"><head><title>検査</title><style>{style}</style></head><body>{body}</body></html>'
        )
    )


def test_the_fit_check_finds_controls_and_text_outside_the_viewport(browser):
    set_viewport_width(browser, 320)
    try:
        _show(
            browser,
            '<main><h1>検査</h1><div class="scroll"><table><tr><td>とても長い表の中身の文字列です</td>'
            "<td><button>決済</button></td></tr></table></div>"
            '<p class="gone">画面の外</p><span class="hidden">隠した名前</span>'
            '<a class="skip-link" href="#main">本文へ移動</a></main>',
            ".scroll { overflow-x: auto; } td { white-space: nowrap; padding: 0 200px; } "
            ".gone { position: relative; left: 400px; white-space: nowrap; } "
            ".hidden { position: absolute; left: 900px; width: 1px; height: 1px; overflow: hidden; clip-path: inset(50%); } "
            ".skip-link { position: absolute; left: -9999px; }",
        )
        found = {(what, target.split(" ")[0]) for what, target, _ in fit_failures(browser)}
        assert ("control", "<button>") in found, found
        assert ("text", "td") in found and ("text", "p") in found, found
        assert not any("隠した" in target or "本文へ" in target for _, target, _ in fit_failures(browser))
        _show(browser, "<main><h1>検査</h1><p>収まる文</p><button>決済</button></main>")
        assert fit_failures(browser) == []
    finally:
        set_viewport_width(browser, DESKTOP[0])


@pytest.mark.parametrize("profile", ["standard", "kiosk"])
def test_shift_tab_through_a_month_grid_never_hides_the_focus_under_the_room_column(browser, serve_app, profile):
    """WCAG 2.4.11 (issue 11): moving back with Shift+Tab scrolled each cell to the left edge
    of the grid's region, under the sticky room column. At 1,280 and 800 px the month grid
    scrolls sideways in its region; on a phone it is cards and nothing is sticky."""
    server = serve_app(profile)
    try:
        for width in (1280, 800, 360):
            set_viewport_width(browser, width)
            open_page(browser, server, "/availability?facility=039&from=2026-11-26&period=1m")
            for backwards in (False, True):
                hidden, stops = hidden_focus(browser, backwards=backwards)
                assert stops > 50, (width, backwards, stops)
                assert hidden == [], (width, "Shift+Tab" if backwards else "Tab", hidden)
    finally:
        set_viewport_width(browser, DESKTOP[0])


def test_radio_buttons_and_checkboxes_are_24px_themselves(browser, live_server):
    """WCAG 2.5.8 without counting the label (issue 11): the control's own box."""
    open_page(browser, live_server, "/login")
    sizes = browser.execute_script(
        "return [...document.querySelectorAll('input[type=radio], input[type=checkbox]')]"
        ".map(el => { const r = el.getBoundingClientRect(); return [el.name, r.width, r.height]; })"
    )
    assert sizes, "no radio buttons on ログイン"
    assert all(width >= 24 and height >= 24 for _, width, height in sizes), sizes


def test_reader_modes_header_leaves_the_phone_screen_for_the_content(browser, live_server):
    """Issue 11: one header link a line took 400 px of a 360 px phone before the content."""
    open_page(browser, live_server, "/")
    toggle_reader_mode_by_keyboard(browser)
    try:
        for width in (360, 320):
            set_viewport_width(browser, width)
            open_page(browser, live_server, "/")
            height = browser.execute_script(
                "return document.querySelector('.site-header').getBoundingClientRect().height"
            )
            assert height <= 250, (width, height)
            assert not fit_failures(browser), fit_failures(browser)
    finally:
        set_viewport_width(browser, DESKTOP[0])
