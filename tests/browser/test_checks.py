"""The browser checks themselves can fail: a gate that never fails proves nothing. Each
check runs against a small page that breaks its rule (and one that keeps it)."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from tests.browser.accessibility import assert_no_horizontal_scroll, axe_check
from tests.browser.chromium import set_viewport_width
from tests.browser.keyboard import named, tab_to


def _show(driver, body: str) -> None:
    driver.get(
        "data:text/html;charset=utf-8,"
        + quote(
            f'<!doctype html><html lang="ja"><head><title>検査</title></head><body><main>{body}</main></body></html>'
        )
    )


def test_axe_check_names_the_rule_the_element_and_the_fix(browser):
    _show(browser, '<h1>検査</h1><form><input type="text" id="nameless"></form>')
    with pytest.raises(AssertionError) as failure:
        axe_check(browser, "a field without a label")
    report = str(failure.value)
    assert "axe-core 4.14.1 found" in report and "a field without a label" in report
    assert "- label [critical]" in report and "#nameless" in report and "dequeuniversity.com" in report


def test_axe_check_passes_a_labelled_field(browser):
    _show(browser, '<h1>検査</h1><form><label for="named">氏名</label><input type="text" id="named"></form>')
    axe_check(browser, "a labelled field")


def test_reflow_check_catches_a_page_wider_than_320px_but_not_a_scrolling_region(browser):
    set_viewport_width(browser, 320)
    _show(browser, '<h1>検査</h1><table id="wide"><tr><td style="min-width:600px">広い表</td></tr></table>')
    with pytest.raises(AssertionError) as failure:
        assert_no_horizontal_scroll(browser, "a wide table")
    assert "scrolls sideways at 320px" in str(failure.value) and "table#wide" in str(failure.value)

    _show(
        browser,
        '<h1>検査</h1><div style="overflow-x:auto" role="region" aria-label="表" tabindex="0">'
        '<table id="wide"><tr><td style="min-width:600px">広い表</td></tr></table></div>',
    )
    assert_no_horizontal_scroll(browser, "a wide table in its own region")


def test_tab_to_fails_with_the_path_the_focus_took(browser):
    _show(browser, '<h1>検査</h1><a href="#a">最初のリンク</a><div>フォーカスできない文字</div>')
    with pytest.raises(pytest.fail.Exception) as failure:
        tab_to(browser, named("フォーカスできない文字"), max_tabs=4)
    message = str(failure.value)
    assert "never reached the element named 'フォーカスできない文字'" in message and "最初のリンク" in message
