"""The kiosk profile (issue 5, DESIGN "Channels"): shared-terminal safety as the server sees it.
Idle sessions end even without JavaScript, the reset and 延長 endpoints work as plain forms and
for the page's script, every page is no-store, no form keeps values, no "remember me", and
preferences live in the server session only."""

from __future__ import annotations

import re

import pytest

from app import create_app
from config import ROOT
from tests.conftest import HTMX_HEADERS, AuthActions, csrf_token_from, make_config

SCRIPT = {"X-Kiosk-Script": "1"}


@pytest.fixture
def kiosk(kiosk_app):
    return kiosk_app.test_client()


@pytest.fixture
def kiosk_auth(kiosk):
    return AuthActions(kiosk)


@pytest.fixture
def clock(monkeypatch):
    """The kiosk's idle clock, moved by the test (wall-clock seconds)."""

    class Clock:
        now = 1_000_000.0

        def advance(self, seconds: float) -> None:
            self.now += seconds

    current = Clock()
    monkeypatch.setattr("blueprints.kiosk.routes.seconds_now", lambda: current.now)
    return current


def token_of(client, path: str = "/") -> str:
    html = client.get(path).get_data(as_text=True)
    if 'name="csrf_token"' not in html:
        # A visitor without a session gets no token on a page without a form of its own
        # (issue 10): a page with one (ログイン) starts the session.
        client.get("/login")
        html = client.get(path).get_data(as_text=True)
    return csrf_token_from(html)


def is_logged_in(client) -> bool:
    response = client.get("/mymenu/")
    return response.status_code == 200 and "目黒団体 さん" in response.get_data(as_text=True)


def set_cookie_headers(response) -> list[str]:
    return response.headers.getlist("Set-Cookie")


# -- no-store everywhere ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/?tab=name",
        "/login",
        "/availability?facility=013",
        "/settings/display",
        "/guide",
        "/no-such-page",
        "/payment/",
    ],
)
def test_every_kiosk_answer_is_no_store_logged_out(kiosk, path):
    for headers in ({}, HTMX_HEADERS):
        response = kiosk.get(path, headers=headers)
        assert response.headers["Cache-Control"] == "no-store", (path, headers, response.status_code)


@pytest.mark.parametrize("path", ["/", "/mymenu/", "/mymenu/reservations", "/availability?facility=013", "/payment/"])
def test_every_kiosk_answer_is_no_store_logged_in(kiosk, kiosk_auth, path):
    kiosk_auth.login()
    for headers in ({}, HTMX_HEADERS):
        response = kiosk.get(path, headers=headers)
        assert response.headers["Cache-Control"] == "no-store", (path, headers, response.status_code)


def test_the_standard_profile_lets_public_pages_be_cached(client):
    # The kiosk's rule is its own: a resident's phone may keep the public top page.
    assert client.get("/").headers.get("Cache-Control") != "no-store"


def test_reset_and_extend_answers_are_no_store(kiosk):
    token = token_of(kiosk)
    assert kiosk.post("/kiosk/extend", data={"csrf_token": token}).headers["Cache-Control"] == "no-store"
    assert kiosk.post("/kiosk/reset", data={"csrf_token": token}).headers["Cache-Control"] == "no-store"


# -- the idle dialog in the page -------------------------------------------------------------


def test_kiosk_pages_carry_the_idle_dialog_with_the_configured_timings(database_url, tmp_path):
    app = create_app(
        "kiosk", make_config(database_url, tmp_path, KIOSK_IDLE_WARN_SECONDS=3, KIOSK_IDLE_RESET_SECONDS=7.5)
    )
    try:
        page = app.test_client().get("/").get_data(as_text=True)
    finally:
        app.extensions["database"].dispose()
    dialog = re.search(r"<dialog id=\"kiosk-idle\"[^>]*>", page, re.S).group(0)
    assert 'data-warn-seconds="3"' in dialog and 'data-reset-seconds="7.5"' in dialog
    assert 'aria-labelledby="kiosk-idle-title"' in dialog
    assert "まもなく最初の画面に戻ります" in page
    assert "このまま4.5秒たつと" in page
    assert ">延長</button>" in page and ">ご利用を終了する</button>" in page
    assert 'action="/kiosk/extend"' in page and 'action="/kiosk/reset"' in page
    assert "/static/js/kiosk." in page


def test_the_default_timings_warn_at_90_and_reset_at_120_seconds(kiosk):
    page = kiosk.get("/").get_data(as_text=True)
    assert 'data-warn-seconds="90"' in page and 'data-reset-seconds="120"' in page
    assert "このまま30秒たつと" in page


def test_kiosk_reader_pages_have_the_dialog_too_and_no_htmx(kiosk):
    kiosk.post("/settings/reader", data={"csrf_token": token_of(kiosk), "presentation": "reader", "next": "/"})
    page = kiosk.get("/").get_data(as_text=True)
    assert "presentation-reader" in page and "profile-kiosk" in page
    assert 'id="kiosk-idle"' in page and "/static/js/kiosk." in page
    assert "/vendor/htmx.min." not in page


def test_standard_pages_have_no_idle_dialog_and_no_kiosk_routes(client):
    page = client.get("/").get_data(as_text=True)
    assert "kiosk-idle" not in page and "kiosk.js" not in page
    assert client.post("/kiosk/reset", data={"csrf_token": token_of(client)}).status_code == 404


def test_timings_that_leave_less_than_30_seconds_to_answer_are_refused_outside_tests(database_url, tmp_path):
    config = make_config(
        database_url, tmp_path, TESTING=False, KIOSK_IDLE_WARN_SECONDS=100, KIOSK_IDLE_RESET_SECONDS=120
    )
    with pytest.raises(ValueError, match="at least 30 s"):
        create_app("kiosk", config)


def test_timings_where_the_reset_comes_before_the_warning_are_refused(database_url, tmp_path):
    config = make_config(database_url, tmp_path, KIOSK_IDLE_WARN_SECONDS=10, KIOSK_IDLE_RESET_SECONDS=5)
    with pytest.raises(ValueError, match="warn < reset"):
        create_app("kiosk", config)


# -- reset -----------------------------------------------------------------------------------


def test_reset_as_a_plain_form_ends_the_session_and_goes_to_the_top_page(kiosk, kiosk_auth):
    kiosk_auth.login()
    kiosk.post(
        "/settings/display",
        data={"csrf_token": token_of(kiosk, "/settings/display"), "text_size": "xlarge", "colour": "inverted"},
    )
    assert is_logged_in(kiosk)
    response = kiosk.post("/kiosk/reset", data={"csrf_token": token_of(kiosk)})
    assert response.status_code == 303 and response.headers["Location"] == "/"
    assert not is_logged_in(kiosk)
    page = kiosk.get("/").get_data(as_text=True)
    # The next person starts with the standard display and no name in the header.
    assert "text-standard colour-standard" in page and "目黒団体" not in page


def test_reset_from_the_script_answers_204(kiosk, kiosk_auth):
    kiosk_auth.login()
    response = kiosk.post("/kiosk/reset", data={"csrf_token": token_of(kiosk)}, headers=SCRIPT)
    assert response.status_code == 204 and not response.data
    assert not is_logged_in(kiosk)


def test_reset_without_the_csrf_token_changes_nothing(kiosk, kiosk_auth):
    kiosk_auth.login()
    response = kiosk.post("/kiosk/reset", data={})
    assert response.status_code == 400
    assert "フォームの有効期限が切れたか" in response.get_data(as_text=True)
    assert is_logged_in(kiosk)


def test_reset_by_get_is_not_allowed(kiosk, kiosk_auth):
    kiosk_auth.login()
    assert kiosk.get("/kiosk/reset").status_code == 405
    assert is_logged_in(kiosk)


def test_reset_keeps_the_residents_other_sessions(kiosk_app, kiosk, kiosk_auth, app):
    """The kiosk shows a QR code to pay on the resident's own phone: resetting the terminal
    must not log the phone out."""
    phone = app.test_client()
    AuthActions(phone).login()
    kiosk_auth.login()
    kiosk.post("/kiosk/reset", data={"csrf_token": token_of(kiosk)})
    assert not is_logged_in(kiosk)
    assert is_logged_in(phone)


# -- 延長 -------------------------------------------------------------------------------------


def test_extend_from_the_script_answers_204_and_keeps_the_login(kiosk, kiosk_auth):
    kiosk_auth.login()
    response = kiosk.post("/kiosk/extend", data={"csrf_token": token_of(kiosk)}, headers=SCRIPT)
    assert response.status_code == 204
    assert is_logged_in(kiosk)


def test_extend_as_a_plain_form_returns_to_the_page(kiosk):
    token = token_of(kiosk)
    response = kiosk.post("/kiosk/extend", data={"csrf_token": token, "next": "/availability?facility=013"})
    assert response.status_code == 303 and response.headers["Location"] == "/availability?facility=013"
    response = kiosk.post("/kiosk/extend", data={"csrf_token": token, "next": "//evil.example/"})
    assert response.headers["Location"] == "/"


def test_extend_without_the_csrf_token_is_refused(kiosk):
    assert kiosk.post("/kiosk/extend", data={}, headers=SCRIPT).status_code == 400


# -- the server's own idle clock (works without JavaScript) ---------------------------------


def test_a_request_after_the_idle_limit_finds_the_session_ended(kiosk, kiosk_auth, clock):
    kiosk_auth.login()
    kiosk.post("/settings/reader", data={"csrf_token": token_of(kiosk), "presentation": "reader", "next": "/"})
    clock.advance(119)
    assert is_logged_in(kiosk)  # within the limit, and this request renews it
    clock.advance(121)
    response = kiosk.get("/mymenu/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    page = kiosk.get("/").get_data(as_text=True)
    assert "presentation-normal" in page  # the preferences went with the session


def test_requests_within_the_limit_keep_the_session_alive(kiosk, kiosk_auth, clock):
    kiosk_auth.login()
    for _ in range(5):
        clock.advance(100)
        kiosk.post("/kiosk/extend", data={"csrf_token": token_of(kiosk)}, headers=SCRIPT)
    assert is_logged_in(kiosk)


def test_a_stale_form_after_the_idle_limit_changes_nothing(kiosk, kiosk_auth, clock):
    kiosk_auth.login()
    token = token_of(kiosk, "/settings/display")
    clock.advance(121)
    response = kiosk.post("/settings/display", data={"csrf_token": token, "text_size": "xlarge", "colour": "contrast"})
    assert response.status_code == 400
    assert "フォームの有効期限が切れたか" in response.get_data(as_text=True)
    assert "text-standard colour-standard" in kiosk.get("/").get_data(as_text=True)
    assert not is_logged_in(kiosk)


def test_extend_after_the_idle_limit_is_refused_so_the_page_goes_to_the_top(kiosk, kiosk_auth, clock):
    kiosk_auth.login()
    token = token_of(kiosk)
    clock.advance(121)
    assert kiosk.post("/kiosk/extend", data={"csrf_token": token}, headers=SCRIPT).status_code == 400
    assert not is_logged_in(kiosk)


def test_reset_after_the_idle_limit_answers_as_a_reset(kiosk, kiosk_auth, clock):
    kiosk_auth.login()
    token = token_of(kiosk)
    clock.advance(121)
    assert kiosk.post("/kiosk/reset", data={"csrf_token": token}, headers=SCRIPT).status_code == 204
    response = kiosk.post("/kiosk/reset", data={"csrf_token": token_of(kiosk)})
    assert response.status_code == 303 and response.headers["Location"] == "/"
    assert not is_logged_in(kiosk)


def test_static_files_neither_end_nor_renew_a_session(kiosk, kiosk_auth, clock):
    kiosk_auth.login()
    clock.advance(100)
    kiosk.get("/static/css/site.css").close()
    clock.advance(30)
    assert not is_logged_in(kiosk)  # 130 s since the last page request


def test_the_standard_profile_has_no_kiosk_idle_limit(client, auth, clock):
    auth.login()
    clock.advance(10_000)
    assert is_logged_in(client)


# -- no remember me, preferences in the session only -----------------------------------------


def test_login_on_a_kiosk_sets_no_lasting_cookie(kiosk):
    response = AuthActions(kiosk).login()
    assert response.status_code == 303
    for header in set_cookie_headers(response):
        assert "remember_token" not in header
        # Only cookies that end with the browser session (or deletions, which expire at once).
        if "Expires=" in header or "Max-Age=" in header:
            assert "Max-Age=0" in header or "1970" in header, header
    assert "remember" not in kiosk.get("/login").get_data(as_text=True).lower()


@pytest.mark.parametrize(
    ("path", "data", "shows"),
    [
        ("/settings/display", {"text_size": "large", "colour": "contrast"}, "text-large colour-contrast"),
        ("/settings/reader", {"presentation": "reader", "next": "/"}, "presentation-reader"),
        ("/settings/language", {"locale": "en", "next": "/"}, '<html lang="en"'),
    ],
    ids=["display", "reader", "language"],
)
def test_kiosk_preferences_live_in_the_session_not_in_cookies(kiosk_app, kiosk, path, data, shows):
    token = token_of(kiosk, "/settings/display")
    response = kiosk.post(path, data={"csrf_token": token, **data})
    assert response.status_code == 303
    assert not any(header.startswith("pref_") for header in set_cookie_headers(response))
    assert shows in kiosk.get("/").get_data(as_text=True)
    # The next person at the terminal (a new browser session) starts afresh.
    assert shows not in kiosk_app.test_client().get("/").get_data(as_text=True)


def test_a_preference_cookie_is_ignored_on_a_kiosk(kiosk):
    kiosk.set_cookie("pref_presentation", "reader")
    kiosk.set_cookie("pref_colour", "inverted")
    page = kiosk.get("/").get_data(as_text=True)
    assert "presentation-normal" in page and "colour-standard" in page


# -- forms keep no values, touch-friendly input ---------------------------------------------


FORM_TAG = re.compile(r"<form\b[^>]*>", re.S)


@pytest.mark.parametrize("path", ["/", "/login", "/settings/display", "/availability?facility=013", "/?tab=name"])
def test_every_kiosk_form_is_autocomplete_off(kiosk, path):
    page = kiosk.get(path).get_data(as_text=True)
    forms = FORM_TAG.findall(page)
    assert forms, f"no form on {path}"
    for tag in forms:
        assert 'autocomplete="off"' in tag, tag
    assert not re.search(r'autocomplete="(?!off")', page), "a field still asks the browser to remember it"


def test_kiosk_fragments_are_autocomplete_off_too(kiosk):
    fragment = kiosk.get("/?tab=name", headers=HTMX_HEADERS).get_data(as_text=True)
    assert "<html" not in fragment
    assert all('autocomplete="off"' in tag for tag in FORM_TAG.findall(fragment))


def test_the_logged_in_kiosk_forms_are_autocomplete_off(kiosk, kiosk_auth):
    kiosk_auth.login()
    for path in ("/mymenu/reservations", "/mymenu/email"):
        page = kiosk.get(path).get_data(as_text=True)
        assert all('autocomplete="off"' in tag for tag in FORM_TAG.findall(page)), path
        assert not re.search(r'autocomplete="(?!off")', page), path


def test_the_standard_login_form_still_helps_password_managers(client):
    page = client.get("/login").get_data(as_text=True)
    assert 'autocomplete="username"' in page and 'autocomplete="current-password"' in page


def test_the_registration_number_asks_for_the_numeric_keypad_on_a_kiosk(kiosk):
    page = kiosk.get("/login").get_data(as_text=True)
    field = re.search(r'<input[^>]*id="registration_number"[^>]*>', page).group(0)
    assert 'inputmode="numeric"' in field and 'autocomplete="off"' in field


# -- touch first: nothing needs hover --------------------------------------------------------


def test_no_style_needs_hover_to_show_or_do_something():
    """Touch screens have no hover: a :hover rule may only restyle what is already there
    (underline, colour, cursor), never show, hide or move content."""
    css = (ROOT / "static" / "css" / "site.css").read_text(encoding="utf-8")
    css = re.sub(r"/\*.*?\*/", "", css, flags=re.S)
    allowed = {
        "text-decoration",
        "text-decoration-thickness",
        "text-decoration-color",
        "color",
        "background",
        "background-color",
        "border-color",
        "cursor",
        "outline",
        "box-shadow",
    }
    hover_rules = [
        (selector, body) for selector, body in re.findall(r"([^{}]+)\{([^{}]*)\}", css) if ":hover" in selector
    ]
    assert hover_rules, "the check would pass on any stylesheet without :hover rules"
    for selector, body in hover_rules:
        properties = {part.split(":")[0].strip() for part in body.split(";") if ":" in part}
        assert properties <= allowed, f"{selector.strip()} changes {sorted(properties - allowed)} on hover"


def test_the_idle_clock_runs_from_the_login_itself(kiosk, kiosk_auth, clock):
    """ログイン starts a new session: it must leave with the idle mark, or a resident who
    walks away right after logging in would stay logged in for the next person."""
    kiosk_auth.login()
    clock.advance(121)
    assert not is_logged_in(kiosk)


def test_the_number_of_attendees_asks_for_the_numeric_keypad_on_a_kiosk(kiosk, kiosk_auth):
    kiosk_auth.login()
    page = kiosk.get("/apply/details?slot=2:2026-12-01:5").get_data(as_text=True)
    field = re.search(r'<input[^>]*id="r2-attendees"[^>]*>', page).group(0)
    assert 'inputmode="numeric"' in field and 'autocomplete="off"' in field


def test_the_idle_dialog_posts_from_this_site_only_and_starts_no_session(kiosk, kiosk_auth):
    # Looking at a page without a form of its own starts no session (issue 10), so the
    # dialog's forms carry no token: the browser's Sec-Fetch-Site vouches for them instead.
    page = kiosk.get("/faq")
    assert "Set-Cookie" not in page.headers and 'name="csrf_token"' not in page.get_data(as_text=True)
    answer = kiosk.post("/kiosk/extend", data={"next": "/faq"}, headers={**SCRIPT, "Sec-Fetch-Site": "same-origin"})
    assert answer.status_code == 204 and "Set-Cookie" not in answer.headers
    # Another site cannot end a resident's kiosk session.
    kiosk_auth.login()
    for cross_site in ({"Sec-Fetch-Site": "cross-site"}, {"Origin": "https://evil.example"}, {}):
        assert kiosk.post("/kiosk/reset", headers=cross_site).status_code == 400
        assert is_logged_in(kiosk)
    assert kiosk.post("/kiosk/reset", headers={"Sec-Fetch-Site": "same-origin"}).status_code == 303
    assert not is_logged_in(kiosk)
