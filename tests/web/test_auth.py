"""ログイン / ログアウト and the expiry rules (DESIGN rule 1)."""

from __future__ import annotations

import re

import pytest

from app import create_app
from tests.conftest import DEMO_PASSWORD, HTMX_HEADERS, csrf_token_from, make_config

LOGIN_FAILED = "登録施設、利用者登録番号、またはパスワードが正しくありません。"


def title_of(html: str) -> str:
    match = re.search(r"<title>(.*?)</title>", html, re.S)
    assert match, "the page has no title"
    return match.group(1).strip()


def post_login(client, number="40675", password=DEMO_PASSWORD, kind="assembly", next_url=None):
    page = client.get("/login")
    data = {
        "csrf_token": csrf_token_from(page.get_data(as_text=True)),
        "registration_kind": kind,
        "registration_number": number,
        "password": password,
    }
    if next_url is not None:
        data["next"] = next_url
    return client.post("/login", data=data)


# -- logging in ---------------------------------------------------------------------------


@pytest.mark.parametrize("number", ["40675", "00040675", "４０６７５", " 40675 "])
def test_login_with_or_without_leading_zeros_and_in_full_width(client, number):
    response = post_login(client, number=number)
    assert response.status_code == 303
    assert response.headers["Location"] == "/mymenu/"
    page = client.get("/mymenu/")
    assert page.status_code == 200
    assert "目黒団体 さん" in page.get_data(as_text=True)


@pytest.mark.parametrize(
    ("number", "password", "kind"),
    [
        ("40675", "wrong-password", "assembly"),
        ("40675", DEMO_PASSWORD, "sports"),  # 目黒団体 registered for 集会・学校, not スポーツ
        ("99999", DEMO_PASSWORD, "assembly"),  # nobody has this number
        ("50001", DEMO_PASSWORD, "assembly"),  # the sports club, with the wrong kind
    ],
    ids=["wrong password", "wrong registration kind", "unknown number", "other kind's number"],
)
def test_a_failed_login_says_the_same_thing_whatever_was_wrong(client, number, password, kind):
    response = post_login(client, number=number, password=password, kind=kind)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert title_of(html).startswith("エラー: ")
    # The summary names the problem and links to the number field, which exists.
    assert f'<a href="#registration_number">{LOGIN_FAILED}</a>' in html
    assert 'id="registration_number"' in html
    # Still logged out, and the password is not sent back.
    assert 'value="wrong-password"' not in html and f'value="{DEMO_PASSWORD}"' not in html
    assert client.get("/mymenu/").status_code == 302


def test_a_failed_login_as_an_htmx_request_is_not_a_500(client):
    page = client.get("/login")
    response = client.post(
        "/login",
        data={
            "csrf_token": csrf_token_from(page.get_data(as_text=True)),
            "registration_kind": "assembly",
            "registration_number": "40675",
            "password": "nope",
        },
        headers=HTMX_HEADERS,
    )
    assert response.status_code == 422
    assert LOGIN_FAILED in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("form", "message", "anchor"),
    [
        (
            {"registration_kind": "assembly", "registration_number": "", "password": "x"},
            "利用者登録番号を入力してください。",
            "#registration_number",
        ),
        (
            {"registration_kind": "assembly", "registration_number": "123456789", "password": "x"},
            "利用者登録番号は8桁以内の数字で入力してください。",
            "#registration_number",
        ),
        (
            {"registration_kind": "assembly", "registration_number": "4067a", "password": "x"},
            "利用者登録番号は8桁以内の数字で入力してください。",
            "#registration_number",
        ),
        (
            {"registration_kind": "assembly", "registration_number": "40675", "password": ""},
            "パスワードを入力してください。",
            "#password",
        ),
        (
            {"registration_number": "40675", "password": "x"},
            "利用者登録を行った施設を選択してください。",
            "#registration_kind-0",
        ),
        ({"registration_kind": "golf", "registration_number": "40675", "password": "x"}, None, "#registration_kind-0"),
    ],
    ids=["empty number", "nine digits", "letters", "empty password", "no kind", "forged kind"],
)
def test_bad_login_input_is_explained_at_the_field(client, form, message, anchor):
    page = client.get("/login")
    response = client.post("/login", data={"csrf_token": csrf_token_from(page.get_data(as_text=True)), **form})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert title_of(html).startswith("エラー: ")
    assert f'href="{anchor}"' in html
    if message:
        assert message in html
    assert client.get("/mymenu/").status_code == 302


def test_login_without_csrf_token_is_refused_with_a_message(client):
    response = client.post(
        "/login", data={"registration_kind": "assembly", "registration_number": "40675", "password": DEMO_PASSWORD}
    )
    assert response.status_code == 400
    assert "フォームの有効期限が切れたか" in response.get_data(as_text=True)
    assert client.get("/mymenu/").status_code == 302


def test_a_logged_in_resident_visiting_the_login_page_goes_on(client, auth):
    auth.login()
    response = client.get("/login?next=/notices")
    assert response.status_code == 302 and response.headers["Location"] == "/notices"


# -- next= --------------------------------------------------------------------------------


def test_a_page_that_needs_login_asks_for_it_and_comes_back(client):
    response = client.get("/mymenu/messages")
    assert response.status_code == 302
    login_url = response.headers["Location"]
    assert login_url.startswith("/login?") and "next=/mymenu/messages" in login_url
    page = client.get(login_url).get_data(as_text=True)
    assert "この操作にはログインが必要です" in page
    assert 'name="next"' in page and 'value="/mymenu/messages"' in page
    done = post_login(client, next_url="/mymenu/messages")
    assert done.status_code == 303 and done.headers["Location"] == "/mymenu/messages"
    assert client.get("/mymenu/messages").status_code == 200


@pytest.mark.parametrize("target", ["/a\r\nb", "/mymenu/\x00", "/a\x7fb", "/a\tb"])
def test_a_next_with_control_characters_goes_to_the_fallback_not_to_an_error(client, auth, target):
    auth.login()
    response = client.get("/login", query_string={"next": target})
    assert response.status_code == 302 and response.headers["Location"] == "/mymenu/"
    token = csrf_token_from(client.get("/").get_data(as_text=True))
    for switch, data in (("/settings/language", {"locale": "en"}), ("/settings/reader", {})):
        answer = client.post(switch, data={"csrf_token": token, "next": target, **data})
        assert answer.status_code == 303 and answer.headers["Location"] == "/", switch


def test_an_htmx_request_that_needs_login_redirects_the_whole_page(client):
    response = client.get("/mymenu/", headers={**HTMX_HEADERS, "HX-Current-URL": "http://localhost/mymenu/messages"})
    assert response.status_code == 204
    assert response.headers["HX-Redirect"].startswith("/login?")
    assert "next=/mymenu/messages" in response.headers["HX-Redirect"]


def test_next_keeps_its_query_string(client):
    target = "/?tab=name"
    page = client.get("/login", query_string={"next": target}).get_data(as_text=True)
    assert 'value="/?tab=name"' in page
    response = post_login(client, next_url=target)
    assert response.headers["Location"] == target


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/",
        "//evil.example/",
        "/\\evil.example",
        "\\\\evil.example",
        "javascript:alert(1)",
        "http:/evil.example",
    ],
)
def test_next_refuses_to_leave_the_site(client, target):
    page = client.get("/login", query_string={"next": target}).get_data(as_text=True)
    # The login form carries the safe fallback, not the foreign address.
    assert re.search(r'<input id="next" name="next" type="hidden" value="/mymenu/">', page)
    response = post_login(client, next_url=target)
    assert response.status_code == 303
    assert response.headers["Location"] == "/mymenu/"


# -- logging out --------------------------------------------------------------------------


def test_logout_ends_the_session(client, auth):
    auth.login()
    response = auth.logout()
    assert response.status_code == 303 and response.headers["Location"] == "/logged-out"
    assert "ログアウトしました" in client.get("/logged-out").get_data(as_text=True)
    assert client.get("/mymenu/").status_code == 302
    assert "目黒団体" not in client.get("/").get_data(as_text=True)


def test_an_old_session_cookie_replayed_after_logout_no_longer_works(app, client, auth):
    auth.login()
    old_cookie = client.get_cookie("session").value
    # The stolen copy works while the resident is logged in…
    thief = app.test_client()
    thief.set_cookie("session", old_cookie)
    assert thief.get("/mymenu/").status_code == 200
    auth.logout()
    # …and not after they log out.
    replay = app.test_client()
    replay.set_cookie("session", old_cookie)
    response = replay.get("/mymenu/")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    assert "目黒団体" not in replay.get("/").get_data(as_text=True)


def test_logout_needs_the_csrf_token(client, auth):
    auth.login()
    response = client.post("/logout")
    assert response.status_code == 400
    assert client.get("/mymenu/").status_code == 200


def test_logout_by_get_is_not_allowed(client, auth):
    auth.login()
    assert client.get("/logout").status_code == 405
    assert client.get("/mymenu/").status_code == 200


# -- expiry -------------------------------------------------------------------------------


def test_an_expired_registration_can_only_read_the_notice(client):
    response = post_login(client, number="40678")
    assert response.status_code == 303
    for path in (
        "/mymenu/",
        "/",
        "/notices",
        "/mymenu/messages",
        "/mymenu/reservations",
        "/search/facilities",
        "/availability",
    ):
        bounced = client.get(path)
        assert bounced.status_code == 302, path
        assert bounced.headers["Location"] == "/account/expired", path
    notice = client.get("/account/expired")
    html = notice.get_data(as_text=True)
    assert notice.status_code == 200
    # Expired five days before the frozen today (2026-11-25).
    assert "利用者登録の有効期限（2026年11月20日）が過ぎています" in html
    assert "旧登録の会 さん" in html


def test_an_expired_registration_is_redirected_as_a_whole_page_under_htmx(client):
    post_login(client, number="40678")
    response = client.get("/?tab=name", headers=HTMX_HEADERS)
    # Swapping the notice into a search panel would hide it: htmx is told to load it instead.
    assert response.status_code == 204
    assert response.headers["HX-Redirect"] == "/account/expired"


def test_an_expired_registration_can_log_out(client):
    post_login(client, number="40678")
    notice = client.get("/account/expired").get_data(as_text=True)
    response = client.post("/logout", data={"csrf_token": csrf_token_from(notice)})
    assert response.status_code == 303 and response.headers["Location"] == "/logged-out"
    assert client.get("/").status_code == 200
    assert client.get("/account/expired").status_code == 302  # now it asks for login


def test_an_expired_group_class_still_logs_in_and_sees_its_expiry(client):
    post_login(client, number="40677")  # 青葉会: 団体区分 expired ten days ago, registration valid
    page = client.get("/mymenu/")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "(社成人) 有効期限: 2026年11月15日" in html


# -- header -------------------------------------------------------------------------------


def test_the_header_shows_the_name_group_class_and_registration_expiry(client, auth):
    auth.login()
    html = client.get("/").get_data(as_text=True)
    assert "目黒団体 さん" in html
    assert "(社成人) 有効期限: 2027年02月23日" in html
    assert "(登録) 有効期限: 2028年02月23日" in html
    assert "ログアウト" in html


def test_the_header_in_english(client, auth):
    auth.login()
    client.set_cookie("pref_locale", "en")
    html = client.get("/").get_data(as_text=True)
    assert "23 Feb 2027" in html and "23 Feb 2028" in html


def test_private_pages_are_not_cached(client, auth):
    auth.login()
    assert client.get("/mymenu/").headers["Cache-Control"] == "no-store"


# -- rate limit ---------------------------------------------------------------------------


@pytest.fixture
def limited_app(database_url, tmp_path):
    application = create_app("standard", make_config(database_url, tmp_path, RATELIMIT_LOGIN="3 per minute"))
    yield application
    application.extensions["database"].dispose()


def test_repeated_login_attempts_are_slowed_down_with_a_message(limited_app):
    client = limited_app.test_client()
    statuses = [post_login(client, password="guess").status_code for _ in range(3)]
    assert statuses == [422, 422, 422]
    blocked = post_login(client, password=DEMO_PASSWORD)
    html = blocked.get_data(as_text=True)
    assert blocked.status_code == 429
    assert "しばらくお待ちください" in html
    assert "短時間に多くの操作が行われました" in html
    assert title_of(html).startswith("エラー: ")
    # Even the right password waits; reading the login page does not.
    assert client.get("/mymenu/").status_code == 302
    assert client.get("/login").status_code == 200


def test_refusals_before_the_view_speak_the_residents_language(limited_app):
    """CSRF and rate-limit refusals come from hooks that run before the view: they must
    still know the resident chose English."""
    client = limited_app.test_client()
    client.set_cookie("pref_locale", "en")
    no_token = client.post(
        "/login", data={"registration_kind": "assembly", "registration_number": "40675", "password": "x"}
    )
    html = no_token.get_data(as_text=True)
    assert no_token.status_code == 400
    assert '<html lang="en"' in html
    assert "The form has expired or was not sent correctly." in html
    assert title_of(html).startswith("Error: ")
    for _ in range(3):
        post_login(client, password="guess")
    blocked = post_login(client, password="guess")
    html = blocked.get_data(as_text=True)
    assert blocked.status_code == 429
    assert '<html lang="en"' in html
    assert "There were too many attempts in a short time." in html
