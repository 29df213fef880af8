"""読み上げ用ブラウザモード (issue 5) as the server renders it: the 読み上げ toggle remembered per
browser, the read-aloud controls (sent hidden, labelled through the catalogue) in reader
layouts only, and every page a crawl of `app.url_map` reaches checked for what reader mode
promises: whole pages without htmx, no layout tables, controls named in words, and the step
in the title and h1 of the pages that are a step of a flow."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from werkzeug.exceptions import HTTPException

from app import create_app
from tests.conftest import HTMX_HEADERS, make_config
from tests.web.test_every_route import crawl, visit_as

READ_ALOUD = re.compile(
    r'<div class="read-aloud" id="read-aloud".*?</div>\s*<p class="read-aloud-status"[^>]*></p>\s*</div>', re.S
)


# What a browser sends with a form posted from this site's own page: the header's preference
# forms carry no CSRF token for a visitor without a session (issue 10, web/sessions.py).
SAME_ORIGIN = {"Sec-Fetch-Site": "same-origin"}


def use_reader_mode(client):
    return client.post("/settings/reader", data={"presentation": "reader", "next": "/guide"}, headers=SAME_ORIGIN)


def page_text(client, path="/", **kwargs) -> str:
    return client.get(path, **kwargs).get_data(as_text=True)


# -- the toggle ------------------------------------------------------------------------------


def test_the_toggle_is_remembered_per_browser_for_a_year(client):
    response = use_reader_mode(client)
    assert response.status_code == 303 and response.headers["Location"] == "/guide"
    cookie = next(h for h in response.headers.getlist("Set-Cookie") if h.startswith("pref_presentation="))
    assert "pref_presentation=reader" in cookie and "Max-Age=31536000" in cookie and "HttpOnly" in cookie
    assert "presentation-reader" in page_text(client, "/guide")


def test_the_toggle_switches_back_to_the_normal_presentation(client):
    use_reader_mode(client)
    page = page_text(client)
    assert 'name="presentation" value="normal"' in page and 'aria-pressed="true"' in page
    client.post("/settings/reader", data={"presentation": "normal", "next": "/"}, headers=SAME_ORIGIN)
    page = page_text(client)
    assert "presentation-normal" in page and "/vendor/htmx.min." in page and 'aria-pressed="false"' in page


def test_an_unknown_presentation_changes_nothing(client):
    response = client.post("/settings/reader", data={"presentation": "<script>", "next": "/"}, headers=SAME_ORIGIN)
    assert response.status_code == 303
    assert not any(h.startswith("pref_presentation=") for h in response.headers.getlist("Set-Cookie"))
    assert "presentation-normal" in page_text(client)


def test_the_toggle_needs_the_csrf_token(client):
    # Without the browser's same-origin headers only the session's token will do.
    response = client.post("/settings/reader", data={"presentation": "reader", "next": "/"})
    assert response.status_code == 400
    assert "presentation-normal" in page_text(client)


def test_a_forged_presentation_cookie_falls_back_to_normal(client):
    client.set_cookie("pref_presentation", "fancy")
    assert "presentation-normal" in page_text(client)


# -- the read-aloud controls -----------------------------------------------------------------


def test_reader_pages_carry_the_read_aloud_controls_hidden_with_their_labels(client):
    use_reader_mode(client)
    page = page_text(client, "/guide")
    panel = READ_ALOUD.search(page)
    assert panel, "no read-aloud controls"
    markup = panel.group(0)
    assert re.search(
        r'<div class="read-aloud" id="read-aloud" role="group" aria-labelledby="read-aloud-title" hidden', markup
    )
    assert ">本文を読み上げる</button>" in markup and ">一時停止</button>" in markup and ">停止</button>" in markup
    assert 'data-label-resume="再開"' in markup and 'data-label-pause="一時停止"' in markup
    assert 'data-status-speaking="本文を読み上げています。"' in markup
    assert markup.count('type="button"') == 3
    assert "/static/js/reader." in page
    # Inside <main>, before the page's own content: the skip link lands just above it.
    assert page.index('<main id="main"') < page.index('id="read-aloud"') < page.index("<h1")


def test_normal_pages_have_no_read_aloud_controls(client):
    page = page_text(client, "/guide")
    assert 'id="read-aloud"' not in page and "reader.js" not in page


def test_the_kiosk_reader_layout_has_read_aloud_too(kiosk_app):
    kiosk = kiosk_app.test_client()
    use_reader_mode(kiosk)
    page = page_text(kiosk, "/guide")
    assert "profile-kiosk" in page and 'id="read-aloud"' in page and "/static/js/reader." in page


def test_reader_mode_answers_htmx_requests_with_whole_pages(client):
    use_reader_mode(client)
    page = page_text(client, "/?tab=name", headers=HTMX_HEADERS)
    assert "<html" in page and 'id="read-aloud"' in page


# -- every page a reader-mode crawl reaches --------------------------------------------------


class ControlNames(HTMLParser):
    """Buttons and links whose words are empty or only symbols, and form fields that have no
    label (a <label for>, an enclosing <label>, aria-label or aria-labelledby)."""

    WORD = re.compile(r"[0-9A-Za-z\u3040-\u30ff\u3400-\u9fff\uff10-\uff5a]")

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self.label_for: set[str] = set()
        self.fields: list[tuple[str, dict]] = []
        self._open: list[tuple[str, dict, list[str]]] = []
        self._in_label = 0

    def handle_starttag(self, tag, attrs):
        a = {k: v or "" for k, v in attrs}
        if tag == "label":
            self._in_label += 1
            if a.get("for"):
                self.label_for.add(a["for"])
        if tag in ("input", "select", "textarea") and a.get("type") not in ("hidden", "submit", "button"):
            named = self._in_label or a.get("aria-label") or a.get("aria-labelledby")
            self.fields.append((tag, {**a, "_named": bool(named)}))
        if tag in ("button", "a"):
            self._open.append((tag, a, []))
        if tag == "img" and self._open:
            self._open[-1][2].append(a.get("alt", ""))

    def handle_endtag(self, tag):
        if tag == "label":
            self._in_label = max(0, self._in_label - 1)
        if tag in ("button", "a") and self._open and self._open[-1][0] == tag:
            _, a, words = self._open.pop()
            name = a.get("aria-label") or "".join(words)
            if (tag == "button" or a.get("href")) and not self.WORD.search(name) and not a.get("aria-labelledby"):
                self.problems.append(f"<{tag}> named {name.strip()!r}")

    def handle_data(self, data):
        for _, _, words in self._open:
            words.append(data)

    def unnamed_fields(self) -> list[str]:
        return [
            f"<{tag} name={a.get('name')!r} id={a.get('id')!r}>"
            for tag, a in self.fields
            if not a["_named"] and a.get("id") not in self.label_for
        ]


def reader_problems(html: str) -> list[str]:
    problems = []
    if "presentation-reader" not in html:
        problems.append("not in reader mode")
    if "/vendor/htmx.min." in html:
        problems.append("loads htmx (reader mode is whole pages)")
    for table in re.findall(r"<table\b.*?</table>", html, re.S):
        opening = re.match(r"<table\b[^>]*>", table).group(0)
        if re.search(r'class="[^"]*\b(day-grid|slot-grid)\b', opening):
            problems.append("the availability grid as a table instead of sentences")
        if "<caption" not in table or not re.search(r'<th\b[^>]*scope="(col|row|colgroup|rowgroup)"', table):
            problems.append(f"a table without caption and th scope (a layout table?): {opening}")
        if 'role="presentation"' in opening or 'role="none"' in opening:
            problems.append(f"a layout table: {opening}")
    parser = ControlNames()
    parser.feed(html)
    problems += [f"control without words: {p}" for p in parser.problems]
    problems += [f"field without a label: {p}" for p in parser.unnamed_fields()]
    return problems


def step_problem(html: str) -> str | None:
    """A page whose breadcrumb marks the current step must say 手順 n/m in title and h1."""
    if 'aria-current="step"' not in html:
        return None
    title = re.search(r"<title>(.*?)</title>", html, re.S).group(1).strip()
    h1 = re.search(r"<h1\b[^>]*>(.*?)</h1>", html, re.S)
    heading = re.sub(r"<[^>]+>", "", h1.group(1)).strip() if h1 else ""
    pattern = re.compile(r"手順 \d+/\d+ ")
    if pattern.search(title) and pattern.match(heading):
        return None
    return f"step page without 手順 n/m: title {title!r}, h1 {heading!r}"


@pytest.fixture(scope="module")
def reader_crawl(template_databases, tmp_path_factory):
    """Every page a crawl from `app.url_map` reaches as 00040675 in reader mode (url →
    (endpoint, html)); crawled once for the checks below, on its own fresh database."""
    url = template_databases.fresh()
    app = create_app("standard", make_config(url, tmp_path_factory.mktemp("reader-crawl")))
    try:
        run = crawl(app, visit_as(app, "00040675 in reader mode"), "reader mode", forged=False, junk=False)
        adapter = app.url_map.bind("localhost")
        pages = {}
        for page_url, html in run.pages.items():
            try:
                endpoint, _ = adapter.match(page_url.split("?")[0], method="GET")
            except HTTPException:
                endpoint = ""
            pages[page_url] = (endpoint, html)
    finally:
        app.extensions["database"].dispose()
        template_databases.drop(url)
    return pages


def test_every_page_in_reader_mode_is_linear_named_and_whole(reader_crawl):
    assert len(reader_crawl) > 40, "the crawl reached too few pages to mean anything"
    found = {url: reader_problems(html) for url, (_endpoint, html) in reader_crawl.items()}
    found = {url: problems for url, problems in found.items() if problems}
    assert not found, "\n".join(f"{url}: {problems}" for url, problems in sorted(found.items()))


def test_every_step_page_in_reader_mode_names_its_step(reader_crawl):
    steps = {url: endpoint for url, (endpoint, html) in reader_crawl.items() if 'aria-current="step"' in html}
    assert {
        "search.facilities",
        "search.availability",
        "search.slots",
        "apply.details",
        "apply.confirm",
        "mymenu.reservations",
        "cancel.confirm",
    } <= set(steps.values())
    found = {url: problem for url, (_endpoint, html) in reader_crawl.items() if (problem := step_problem(html))}
    assert not found, "\n".join(f"{url}: {problem}" for url, problem in sorted(found.items()))


def test_the_checks_catch_what_they_look_for():
    bad = (
        '<html class="presentation-reader"><script src="/vendor/htmx.min.js"></script>'
        '<table class="day-grid"><tr><td>x</td></tr></table><button>‹</button><input type="text" id="q">'
        '<nav><span aria-current="step">x</span></nav><title>詳細申請 | x</title><h1>詳細申請</h1></html>'
    )
    problems = " ".join(reader_problems(bad))
    for expected in ("htmx", "availability grid", "layout table", "control without words", "field without a label"):
        assert expected in problems
    assert step_problem(bad)
    good = (
        '<html class="presentation-reader"><table><caption>c</caption><tr><th scope="col">h</th></tr></table>'
        '<button>次へ</button><label for="q">検索</label><input type="text" id="q">'
        '<title>手順 4/6 詳細申請 | x</title><h1>手順 4/6 詳細申請</h1><span aria-current="step">x</span></html>'
    )
    assert reader_problems(good) == [] and step_problem(good) is None
