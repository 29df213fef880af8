"""The accessibility gate (issue 5) in headless Chromium: every page of `app.url_map` (see
gate.py) in every channel — standard normal, standard reader (読み上げ用ブラウザモード), kiosk —
and language, logged out and as 00040675:

- pages[channel-language]: axe-core 4.14.1, WCAG 2.0/2.1/2.2 A and AA rules, 0 violations
  at 1280 px; target size (24 px with WCAG 2.5.8's spacing and inline exceptions; 44 px
  in reader mode and on a kiosk); every link, button, input and piece of text within the
  viewport's width and no sideways scroll of the document at 1280, 360 and 320 px (issue
  11: phones, and English at 1280 px);
- forms[channel-language]: every form sent empty or invalid once, its error state the same;
- layout[channel], in Japanese: axe at 360 px; no sideways page scroll at 320 px (WCAG
  1.4.10); Tab through every page at 320 px, forwards and then backwards with Shift+Tab
  from its end (and the same at 1280 px on pages with a sticky or fixed part), and the
  focus is never hidden under anything fixed or sticky (2.4.11); text at 200 % (the browser's own text size, 1.4.4) clips no
  text and puts nothing over the header.

Each part records what it checked and found, and when the last part of a run has reported
the results file docs/accessibility-results.json is rewritten for アクセシビリティ方針. The
keyboard and no-JavaScript flows are the flow tests' (test_apply_flow, test_payment_flow …),
not repeated here. Run: .venv/bin/python -m pytest tests/browser/test_accessibility_gate.py -n 2"""

from __future__ import annotations

import json
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

import pytest

from tests.browser.accessibility import AXE_VERSION
from tests.browser.chromium import DESKTOP, set_viewport_width
from tests.browser.gate import (
    CHANNELS,
    ERROR_STATES,
    FIT_WIDTHS,
    LANGUAGES,
    LOGGED_OUT,
    NARROW,
    PHONE,
    RESIDENT,
    WIDE,
    Findings,
    FlowResults,
    GatePage,
    Violation,
    axe_violations,
    fit_failures,
    gate_pages,
    hidden_focus,
    make_flow_results,
    nu_errors,
    record_part,
    reflow_failure,
    routes_without_a_page,
    save_pages,
    send_in_error_state,
    set_text_size,
    shows_error_summary,
    target_size_failures,
    text_200_failures,
    tool_versions,
)
from tests.browser.live_server import LiveServer
from tests.browser.steps import (
    log_in_by_keyboard,
    open_page,
    switch_language_by_keyboard,
    toggle_reader_mode_by_keyboard,
)
from tests.conftest import PAYMENT_SECRET

PAGE_PARTS = [f"{channel}-{language}" for channel in CHANNELS for language in LANGUAGES]
EXPECTED_PARTS = (
    [f"pages[{p}]" for p in PAGE_PARTS]
    + [f"forms[{p}]" for p in PAGE_PARTS]
    + [f"layout[{channel}]" for channel in CHANNELS]
    + [f"html[{profile}]" for profile in ("standard", "kiosk")]
)


@dataclass
class Site:
    server: LiveServer
    channel: str
    flow: FlowResults
    pages: list[GatePage]

    def summary(self) -> dict:
        endpoints = {page.endpoint for page in self.pages if page.endpoint != "404"}
        return {"endpoints": len(endpoints), "pages": sorted({page.url for page in self.pages})}


@pytest.fixture
def gate_site(serve_app, payment_provider):
    """The site of a channel on the test's database, with what the POST flows leave behind
    made by the site's own operations (card payments through the served card company)."""

    def make(channel: str) -> Site:
        standard = serve_app(
            "standard", PAYMENT_PROVIDER_URL=payment_provider.base_url, PAYMENT_PROVIDER_SECRET=PAYMENT_SECRET
        )
        flow = make_flow_results(standard.app)
        server = serve_app("kiosk") if channel == "kiosk" else standard
        return Site(server, channel, flow, gate_pages(server.app, flow))

    return make


def set_channel(driver, channel: str, language: str) -> None:
    """With the header's own buttons, as a resident would (on a kiosk the choice lives in
    the session, which logging in starts afresh)."""
    html = driver.find_element("css selector", "html")
    if html.get_attribute("lang") != language:
        switch_language_by_keyboard(driver, language)
    reading = "presentation-reader" in driver.find_element("css selector", "html").get_attribute("class")
    if reading != (channel == "reader"):
        toggle_reader_mode_by_keyboard(driver)


def enter_as(driver, site: Site, visitor: str, language: str) -> None:
    if visitor == RESIDENT:
        open_page(driver, site.server, "/login")
        if driver.find_elements("css selector", "form[action$='/login']"):
            log_in_by_keyboard(driver)
    else:
        open_page(driver, site.server, "/")
    set_channel(driver, site.channel, language)


def shown_path(driver) -> str:
    parts = urlsplit(driver.current_url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def each_page(driver, site: Site, language: str):
    """Open every page of the gate in the channel, logged out first; a page reached twice
    (a redirect to one already seen) is checked once. Yields (page, shown path)."""
    for visitor in (LOGGED_OUT, RESIDENT):
        enter_as(driver, site, visitor, language)
        checked: set[str] = set()
        for page in site.pages:
            if page.visitor != visitor:
                continue
            open_page(driver, site.server, page.url)
            shown = shown_path(driver)
            if shown in checked:
                continue
            checked.add(shown)
            yield page, shown


def finish(findings: Findings, driver, site: Site | None) -> None:
    tools = tool_versions(driver)
    record_part(findings, expected_parts=EXPECTED_PARTS, tools=tools, site=site.summary() if site else {})
    assert findings.error is None, findings.error
    assert not findings.violations, findings.report()


def run_part(findings: Findings, driver, body) -> None:
    """Run the part; whatever happens, its findings (or the error that stopped it) reach
    the results file."""
    try:
        site = body()
    except Exception as exc:
        first_line = (str(exc).strip().splitlines() or [""])[0]
        findings.error = f"{type(exc).__name__}: {first_line}"[:300]
        record_part(findings, expected_parts=EXPECTED_PARTS, tools=tool_versions(driver), site={})
        raise
    finish(findings, driver, site)


# -- every GET route has a page in the gate ------------------------------------------------


@pytest.mark.parametrize("channel", ["standard", "kiosk"])
def test_every_get_route_is_in_the_gate(gate_site, channel):
    """A new route cannot escape the gate: each GET route of the url_map has a page shown in
    its own state (status 200), except those that by design answer a GET only with a
    problem page."""
    site = gate_site(channel)
    missing = routes_without_a_page(site.server.app, site.pages)
    assert not missing, (
        f"GET routes with no page in the gate on the {channel} profile: {missing}. Give their arguments a demo "
        "value (tests/web/test_every_route.py demo_values), link to them from a page, or add their flow "
        "result to tests/browser/gate.py flow_urls."
    )
    endpoints = {page.endpoint for page in site.pages}
    for flow_page in ("apply.complete", "cancel.done", "equipment.done", "mymenu.reservation"):
        assert flow_page in endpoints
    if channel == "standard":
        assert "payment.result" in endpoints and "payment.terms" in endpoints


# -- the gate's parts ----------------------------------------------------------------------


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("channel", CHANNELS)
def test_every_page_passes_axe_and_target_size(browser, gate_site, channel, language):
    findings = Findings(f"pages[{channel}-{language}]")

    def body() -> Site:
        site = gate_site(channel)
        for page, shown in each_page(browser, site, language):
            findings.ran("axe", channel=channel, language=language, page=page.url)
            for rule, target, detail in axe_violations(browser):
                findings.found(Violation("axe", shown, channel, language, rule, target, detail))
            findings.ran("target_size", channel=channel, language=language, page=page.url)
            for target, detail in target_size_failures(browser, channel):
                findings.found(Violation("target_size", shown, channel, language, "target-size", target, detail))
            check_fit(findings, browser, page, shown, channel, language)
        return site

    try:
        run_part(findings, browser, body)
    finally:
        set_viewport_width(browser, DESKTOP[0])


def check_fit(findings: Findings, driver, page: GatePage, shown: str, channel: str, language: str) -> None:
    """Issue 11: at 1,280 px (where the crawl is) and then at 360 and 320 px, the same page
    without reloading it, nothing lies outside the viewport's width."""
    for width, check in ((WIDE, "fits_1280"), *((w, "fits_phone") for w in FIT_WIDTHS)):
        if width != WIDE:
            set_viewport_width(driver, width)
        findings.ran(check, channel=channel, language=language, page=page.url)
        for what, target, detail in fit_failures(driver):
            findings.found(Violation(check, shown, channel, language, f"{what} outside {width}px", target, detail))
    set_viewport_width(driver, WIDE)


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("channel", CHANNELS)
def test_every_form_in_its_error_state_passes_axe(browser, gate_site, channel, language):
    findings = Findings(f"forms[{channel}-{language}]")

    def body() -> Site:
        site = gate_site(channel)
        for visitor in (LOGGED_OUT, RESIDENT):
            enter_as(browser, site, visitor, language)
            for state in ERROR_STATES:
                if state.visitor != visitor or channel not in state.channels:
                    continue
                open_page(browser, site.server, state.page(site.pages, site.flow))
                send_in_error_state(browser, state)
                shown = shown_path(browser)
                findings.ran("error_states", channel=channel, language=language, state=state.name)
                if not shows_error_summary(browser):
                    findings.found(
                        Violation(
                            "error_states",
                            shown,
                            channel,
                            language,
                            "no error summary",
                            state.name,
                            "the form was sent empty or invalid but no error summary is shown",
                        )
                    )
                for rule, target, detail in axe_violations(browser):
                    findings.found(
                        Violation("error_states", shown, channel, language, rule, target, f"{state.name}: {detail}")
                    )
                findings.ran("target_size", channel=channel, language=language, state=state.name)
                for target, detail in target_size_failures(browser, channel):
                    findings.found(
                        Violation(
                            "target_size", shown, channel, language, "target-size", target, f"{state.name}: {detail}"
                        )
                    )
        return site

    run_part(findings, browser, body)


@pytest.mark.parametrize("channel", CHANNELS)
def test_every_page_reflows_keeps_focus_visible_and_takes_large_text(browser, gate_site, channel):
    language = "ja"
    findings = Findings(f"layout[{channel}]")

    def body() -> Site:
        site = gate_site(channel)
        try:
            set_viewport_width(browser, PHONE)
            for page, shown in each_page(browser, site, language):
                findings.ran("axe_360", channel=channel, language=language, page=page.url)
                for rule, target, detail in axe_violations(browser):
                    findings.found(Violation("axe_360", shown, channel, language, rule, target, detail))

            set_viewport_width(browser, NARROW)
            for page, shown in each_page(browser, site, language):
                findings.ran("reflow_320", channel=channel, language=language, page=page.url)
                problem = reflow_failure(browser)
                if problem:
                    findings.found(Violation("reflow_320", shown, channel, language, "reflow", "body", problem))
                check_focus(findings, browser, page, shown, channel, language, NARROW)
                if has_sticky_part(browser):
                    set_viewport_width(browser, WIDE)
                    check_focus(findings, browser, page, shown, channel, language, WIDE)
                    set_viewport_width(browser, NARROW)

            set_viewport_width(browser, WIDE)
            set_text_size(browser, 200)
            for page, shown in each_page(browser, site, language):
                findings.ran("text_200", channel=channel, language=language, page=page.url)
                for rule, target, detail in text_200_failures(browser):
                    findings.found(Violation("text_200", shown, channel, language, rule, target, detail))
        finally:
            set_text_size(browser, 100)
            set_viewport_width(browser, DESKTOP[0])
        return site

    run_part(findings, browser, body)


def check_focus(findings: Findings, driver, page: GatePage, shown: str, channel: str, language: str, width: int):
    """Tab forwards from the start, then Shift+Tab backwards from the end (issue 11: the
    sticky room column hid the cells Shift+Tab scrolled to)."""
    for backwards in (False, True):
        findings.ran("focus_not_obscured", channel=channel, language=language, page=page.url)
        hidden, _stops = hidden_focus(driver, backwards=backwards)
        rule = f"focus-not-obscured ({'Shift+Tab' if backwards else 'Tab'}, {width}px)"
        for name, where in hidden:
            findings.found(Violation("focus_not_obscured", shown, channel, language, rule, name, where))


def has_sticky_part(driver) -> bool:
    return driver.execute_script(
        "return [...document.querySelectorAll('body *')].some(el => "
        "['sticky', 'fixed'].includes(getComputedStyle(el).position) && el.getClientRects().length)"
    )


@pytest.mark.parametrize("profile", ["standard", "kiosk"])
def test_every_page_is_valid_html(browser, gate_site, profile, tmp_path):
    """Issue 11: the W3C Nu HTML Checker, run once over every page the gate visits as the
    server sends it (both languages, normal and reader presentation): 0 errors."""
    findings = Findings(f"html[{profile}]")

    def body() -> Site:
        site = gate_site(profile)
        saved = save_pages(site.server.app, site.pages, tmp_path / "pages")
        errors = nu_errors([page.path for page in saved])
        for page in saved:
            channel = "kiosk" if profile == "kiosk" else ("reader" if page.presentation == "reader" else "standard")
            findings.ran("valid_html", channel=channel, language=page.language, page=page.url)
            for line in errors.get(page.path, [])[:5]:
                findings.found(
                    Violation("valid_html", page.url, channel, page.language, "nu-html-checker", "html", line)
                )
        return site

    run_part(findings, browser, body)


# -- the gate's own checks can fail ----------------------------------------------------------


def show(driver, body: str, *, head: str = "") -> None:
    driver.get(
        "data:text/html;charset=utf-8,"
        + quote(
            f'<!doctype html><html lang="ja"><head><title>検査</title><style>{head}</style></head>'
            f"<body>{body}</body></html>"
        )
    )


def test_target_size_fails_crowded_small_targets_but_not_spaced_or_inline_ones(browser):
    show(
        browser,
        "<main><h1>検査</h1>"
        '<p><button id="a">A</button><button id="b">B</button></p>'
        '<p>本文の中の<a href="#x">リンク</a>は対象外です。</p>'
        '<ul class="spaced"><li><a href="#1">一つめ</a></li><li><a href="#2">二つめ</a></li></ul></main>',
        head="button { font-size: 10px; padding: 0; margin: 0; } .spaced li { margin-bottom: 20px; }",
    )
    failures = target_size_failures(browser, "standard")
    assert [target for target, _ in failures] == ['<button id=a> "A"', '<button id=b> "B"'], failures
    assert "too close to" in failures[0][1]


def test_target_size_in_reader_mode_and_on_a_kiosk_is_44px(browser):
    show(
        browser,
        '<main><h1>検査</h1><p><button id="c">大きさ 30px</button></p></main>',
        head="button { width: 120px; height: 30px; }",
    )
    assert target_size_failures(browser, "standard") == []
    assert target_size_failures(browser, "kiosk") == [('<button id=c> "大きさ 30px" 120×30px', "smaller than 44×44px")]


def test_text_200_finds_clipped_text_and_what_covers_the_header(browser):
    show(
        browser,
        '<header class="site-header"><p class="tall">二行目まである見出しの文字</p></header>'
        '<div class="over">ヘッダーの上に重なる箱</div>'
        '<main><h1>検査</h1><div class="clip">とても長い文字列が箱からはみ出して切れています</div></main>',
        head=".site-header { height: 30px; } .tall { margin: 0; height: 60px; } "
        ".over { position: absolute; top: 5px; left: 5px; width: 50px; height: 10px; } "
        ".clip { width: 80px; overflow: hidden; white-space: nowrap; }",
    )
    problems = {(rule, target) for rule, target, _ in text_200_failures(browser)}
    assert problems == {
        ("clipped text", "div.clip"),
        ("spills out of the header", "p.tall"),
        ("overlaps the header", "div.over"),
    }, problems
    show(browser, '<header class="site-header"><p>見出し</p></header><main><h1>検査</h1><p>本文</p></main>')
    assert text_200_failures(browser) == []


def test_focus_hidden_under_a_fixed_bar_is_found_when_tabbing(browser):
    links = "".join(f'<p><a href="#{n}">リンク{n}</a></p>' for n in range(3))
    show(
        browser,
        f'<main><h1>検査</h1>{links}<div class="bar">固定の案内</div></main>',
        head="p { margin: 0 0 10px; } .bar { position: fixed; left: 0; right: 0; top: 0; height: 200px; background: #eee; }",
    )
    hidden, stops = hidden_focus(browser)
    assert stops == 3
    assert [name for name, _ in hidden] == ['a "リンク0"', 'a "リンク1"', 'a "リンク2"'], hidden
    assert hidden[0][1] == "under div.bar"
    show(browser, f"<main><h1>検査</h1>{links}</main>")
    assert hidden_focus(browser) == ([], 3)


def test_results_are_written_once_every_part_has_reported(tmp_path):
    results = tmp_path / "results.json"
    tools = [{"name": "axe-core", "version": AXE_VERSION}]
    first = Findings("pages[standard-ja]")
    first.ran("axe", channel="standard", language="ja", page="/")
    first.found(Violation("axe", "/", "standard", "ja", "color-contrast", "#main > p", "[serious] contrast"))
    second = Findings("layout[standard]")
    second.ran("reflow_320", channel="standard", language="ja", page="/")
    second.ran("reflow_320", channel="standard", language="ja", page="/login")
    parts = [first.part, second.part]
    site = {"endpoints": 2, "pages": ["/", "/login"]}
    assert not record_part(first, expected_parts=parts, tools=tools, site=site, results_file=results, run_dir=tmp_path)
    assert not results.exists()
    assert record_part(second, expected_parts=parts, tools=tools, site=site, results_file=results, run_dir=tmp_path)
    written = json.loads(results.read_text())
    assert written["complete"] is True and written["violations_total"] == 1
    assert written["routes"] == {"endpoints": 2, "pages": 2}
    assert {c["id"]: (c["pages"], c["runs"], c["violations"]) for c in written["checks"]} == {
        "axe": (1, 1, 1),
        "reflow_320": (2, 2, 0),
    }
    assert written["violations"][0]["rule"] == "color-contrast" and written["violations"][0]["channel"] == "standard"


def test_the_nu_checker_finds_an_hx_attribute_but_not_its_data_form(tmp_path):
    page = '<!doctype html><html lang="ja"><head><title>検査</title></head><body><main><h1>検査</h1>{}</main></body></html>'
    bad, good = tmp_path / "bad.html", tmp_path / "good.html"
    bad.write_text(page.format('<a href="/" hx-get="/">戻る</a>'))
    good.write_text(page.format('<a href="/" data-hx-get="/">戻る</a>'))
    found = nu_errors([bad, good])
    assert list(found) == [bad], found
    assert "hx-get" in found[bad][0], found
