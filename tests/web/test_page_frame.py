"""The whole page of 施設別空き状況 around its body is kept per URL, language, channel,
preferences and host for anonymous visitors (web.rendering page_frame), with the header's
path and CSRF token put in per request: each visitor gets the page a fresh rendering gives."""

from __future__ import annotations

import re
import sys
from datetime import timedelta

from markupsafe import escape

from models.time_rules import jst_day
from tests.conftest import AuthActions, csrf_token_from, frozen_now
from tests.pages import text
from tests.web.test_availability_cache import grid_url
from tests.web.test_search import use_reader_mode
from web.rendering import PageFrames

NEXT_VALUE = re.compile(r'name="next" value="([^"]*)"')


def header_next(html: str) -> set[str]:
    return set(NEXT_VALUE.findall(html.split("</header>")[0]))


def fresh_page(app, client, url: str, **kwargs) -> str:
    """The page as it is rendered with no frame kept."""
    app.extensions["page_frames"] = PageFrames(app.extensions["page_frames"].max_bytes)
    return text(client.get(url, **kwargs))


def test_a_kept_frame_gives_each_request_its_own_path_and_token(app, client):
    start = jst_day(frozen_now()) + timedelta(days=1)
    url = grid_url(start)
    first = fresh_page(app, client, url)
    assert len(app.extensions["page_frames"]._values) == 1
    again = text(client.get(url))
    assert again == first and header_next(again) == {str(escape(url))}
    assert 'name="csrf_token"' not in again.split("</header>")[0]  # no session: no token
    # Another path of the same URL's frame (a chosen cell): its own next=.
    chosen = url + "&cell=1:" + start.isoformat()
    assert header_next(text(client.get(chosen))) == {str(escape(chosen))}
    # Visitors with a session: each its own token, which the language switch takes.
    tokens = []
    for _ in range(2):
        visitor = app.test_client()
        visitor.get("/login")
        page = text(visitor.get(url))
        token = csrf_token_from(page.split("</header>")[0])
        assert page == fresh_page(app, visitor, url)
        tokens.append(token)
        answer = visitor.post("/settings/language", data={"csrf_token": token, "locale": "en", "next": url})
        assert answer.status_code in (302, 303)
        assert "Availability by facility" in text(visitor.get(url))
    assert tokens[0] != tokens[1]


def test_a_kept_frame_follows_the_language_channel_host_and_login(app, client):
    start = jst_day(frozen_now()) + timedelta(days=1)
    url = grid_url(start)
    japanese = text(client.get(url))
    reader = app.test_client()
    use_reader_mode(reader)
    read = text(reader.get(url))
    assert 'aria-pressed="true"' in read and 'aria-pressed="false"' in japanese
    other_host = text(client.get(url, headers={"Host": "example.org"}))
    assert other_host == fresh_page(app, client, url, headers={"Host": "example.org"})
    assert text(client.get(url)) == japanese
    resident = app.test_client()
    AuthActions(resident).login()
    logged_in = text(resident.get(url))
    assert 'class="resident-card"' in logged_in and 'class="resident-card"' not in japanese
    assert text(client.get(url)) == japanese


def test_page_frames_keep_at_most_their_bytes():
    frames = PageFrames(max_bytes=3 * 2 * sys.getsizeof(b"x" * 1000))
    for n in range(4):
        frames.set(("k", n), (200, b"x" * 1000, b"x" * 1000))
    assert frames.get(("k", 0)) is None and frames.get(("k", 3)) == (200, b"x" * 1000, b"x" * 1000)
    frames.set(("big",), (200, b"x" * 10_000, b""))
    assert frames.get(("big",)) is None


def test_the_kept_start_of_every_page_takes_its_own_title(app, client):
    """components/_frame_head.html is kept per language and layout: each page's title is
    its own, escaped, and said as an error only where the page has errors."""
    from web.rendering import render_page

    assert "<title>FAQ / よくあるご質問 | 目黒区施設予約システム</title>" in text(client.get("/faq"))
    refused = client.post("/login", data={"csrf_token": csrf_token_from(text(client.get("/login")))})
    assert "<title>エラー: " in text(refused)
    assert "<title>FAQ / よくあるご質問 | " in text(client.get("/faq"))
    for title in ("<b>&", "A & B"):
        with app.test_request_context("/notices"):
            app.preprocess_request()
            page = render_page("info/notices.html", title=title, notices=[]).get_data(as_text=True)
        assert f"<title>{escape(title)} | 目黒区施設予約システム</title>" in page


def test_the_kept_page_starts_stay_within_their_bound(app, client):
    from web.rendering import FRAME_HEADS

    heads = app.extensions["frame_heads"]
    for n in range(FRAME_HEADS + 5):
        assert "<title>FAQ / よくあるご質問 | " in text(client.get("/faq", headers={"Host": f"h{n}.example"}))
        assert len(heads) <= FRAME_HEADS
    assert sum(sys.getsizeof(str(piece)) for piece in heads.values()) <= 256 * 1024
