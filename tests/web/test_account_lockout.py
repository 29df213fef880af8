"""Lockout (DESIGN "Accounts and sign-in"): 5 wrong passwords in a row for one registration
lock its password login for 30 minutes, unknown numbers get the same message after 5 tries,
at most one lockout mail a day, a completed reset lifts the lock and works while locked;
the per-address limit keyed on the client address behind TRUSTED_PROXIES, shared through
Redis between app instances."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from app import create_app
from tests.conftest import DEMO_PASSWORD, make_config
from tests.web.account_support import body_of, delivered, link_in, login, post_form, smtp_for
from tests.web.card_support import move_clock
from tests.web.test_account_sessions import REDIS_URL, redis_client

LOCKED = "この利用者登録番号でのログインを30分間停止しています"
FAILED = "登録施設、利用者登録番号、またはパスワードが正しくありません。"
MEGURO_EMAIL = "meguro-dantai@example.jp"


@pytest.fixture
def smtp(app):
    yield from smtp_for(app)


def wrong(client, number="40675", times=1):
    return [login(client, number=number, password=f"wrong-{i}") for i in range(times)]


def test_five_wrong_passwords_lock_the_registration_for_thirty_minutes(app, client, smtp):
    answers = wrong(client, times=5)
    assert [a.status_code for a in answers] == [422] * 5
    assert all(FAILED in a.get_data(as_text=True) for a in answers[:4])
    assert LOCKED in answers[4].get_data(as_text=True)
    # Even the right password waits now…
    right = login(client)
    assert right.status_code == 422 and LOCKED in right.get_data(as_text=True)
    assert client.get("/mymenu/").status_code == 302
    # …and the resident is told once by mail.
    mails = delivered(app, smtp, to=MEGURO_EMAIL)
    assert [m["Subject"] for m in mails] == ["目黒区施設予約システム ログイン停止のお知らせ"]
    assert "パスワードを忘れた場合" in body_of(mails[0])
    # Locked again the same day: no second mail.
    move_clock(app, timedelta(minutes=31))
    wrong(client, times=5)
    assert len(delivered(app, smtp, to=MEGURO_EMAIL)) == 1
    # After 30 minutes the right password works again.
    move_clock(app, timedelta(minutes=31))
    assert login(client).status_code == 303


def test_a_right_password_before_the_fifth_starts_the_count_again(app, client):
    wrong(client, times=4)
    assert login(client).status_code == 303
    other = app.test_client()
    assert all(FAILED in a.get_data(as_text=True) for a in wrong(other, times=4))
    assert LOCKED in wrong(other)[0].get_data(as_text=True)


def test_an_unknown_number_answers_the_same_lockout_after_five_tries(client):
    answers = wrong(client, number="99999", times=6)
    texts = [a.get_data(as_text=True) for a in answers]
    assert all(FAILED in t for t in texts[:4])
    assert all(LOCKED in t for t in texts[4:])


def test_a_reset_works_while_locked_and_lifts_the_lock(app, client, smtp):
    wrong(client, times=5)
    assert LOCKED in login(client).get_data(as_text=True)
    sent = post_form(
        client, "/password/forgot", registration_kind="assembly", registration_number="40675", email=MEGURO_EMAIL
    )
    assert sent.status_code == 303
    [mail] = [m for m in delivered(app, smtp, to=MEGURO_EMAIL) if "再設定" in m["Subject"]]
    done = post_form(
        client, link_in(mail), new_password="plum-harbour-sketch-9", new_password_confirm="plum-harbour-sketch-9"
    )
    assert done.status_code == 303 and done.headers["Location"] == "/mymenu/profile"
    other = app.test_client()
    assert login(other, password="plum-harbour-sketch-9").status_code == 303


# -- the per-address limit --------------------------------------------------------------------


def limited(database_url, tmp_path, name, seconds, **overrides):
    # A limit no other test uses (`seconds` differs per test): Flask-Limiter keeps the first app's key prefix for the whole
    # process, so with Redis another test's "3 per minute" tries would count here.
    return create_app(
        "standard", make_config(database_url, tmp_path / name, RATELIMIT_LOGIN=f"3 per {seconds} seconds", **overrides)
    )


def test_behind_a_trusted_proxy_each_client_address_has_its_own_limit(database_url, tmp_path):
    application = limited(database_url, tmp_path, "proxied", 51, TRUSTED_PROXIES=1)
    try:
        first, second = application.test_client(), application.test_client()
        # Both arrive from the proxy's address; the proxy says who sent them.
        first.environ_base = {"HTTP_X_FORWARDED_FOR": "203.0.113.1"}
        second.environ_base = {"HTTP_X_FORWARDED_FOR": "203.0.113.2"}
        for _ in range(3):
            answer = post_form(first, "/login", registration_kind="sports", registration_number="1", password="x")
            assert answer.status_code == 422
        assert (
            post_form(first, "/login", registration_kind="sports", registration_number="1", password="x").status_code
            == 429
        )
        # Another resident behind the same proxy is not locked out with them.
        assert login(second).status_code == 303
    finally:
        application.extensions["database"].dispose()


def test_without_trusted_proxies_a_forged_forwarded_address_changes_nothing(database_url, tmp_path):
    application = limited(database_url, tmp_path, "direct", 52)
    try:
        client = application.test_client()
        for i in range(3):
            client.environ_base = {"HTTP_X_FORWARDED_FOR": f"198.51.100.{i}"}
            assert (
                post_form(
                    client, "/login", registration_kind="sports", registration_number="1", password="x"
                ).status_code
                == 422
            )
        client.environ_base = {"HTTP_X_FORWARDED_FOR": "198.51.100.200"}
        assert (
            post_form(client, "/login", registration_kind="sports", registration_number="1", password="x").status_code
            == 429
        )
    finally:
        application.extensions["database"].dispose()


def test_the_address_limit_is_shared_by_two_instances_through_redis(database_url, tmp_path):
    redis_client()
    shared = {"REDIS_URL": REDIS_URL, "RATELIMIT_KEY_PREFIX": f"shared-{uuid.uuid4().hex[:8]}"}
    one = limited(database_url, tmp_path, "one", 53, **shared)
    two = limited(database_url, tmp_path, "two", 53, **shared)
    try:
        a, b = one.test_client(), two.test_client()
        statuses = [
            post_form(c, "/login", registration_kind="sports", registration_number="1", password="x").status_code
            for c in (a, b, a)
        ]
        assert statuses == [422, 422, 422]
        # The fourth try, on the other instance, is over the limit the two share.
        assert (
            post_form(b, "/login", registration_kind="sports", registration_number="1", password="x").status_code == 429
        )
    finally:
        one.extensions["database"].dispose()
        two.extensions["database"].dispose()


@pytest.mark.parametrize("number", ["40675", "99998"])
def test_the_registration_lockout_is_shared_by_two_instances(database_url, tmp_path, number):
    """Known numbers lock in the database, unknown ones in Redis: either way another instance
    answers the same."""
    redis_client()
    shared = {"REDIS_URL": REDIS_URL, "RATELIMIT_KEY_PREFIX": f"lock-{uuid.uuid4().hex[:8]}"}
    one = create_app("standard", make_config(database_url, tmp_path / "one", **shared))
    two = create_app("standard", make_config(database_url, tmp_path / "two", **shared))
    try:
        a, b = one.test_client(), two.test_client()
        for client in (a, b, a, b):
            assert FAILED in login(client, number=number, password="nope").get_data(as_text=True)
        assert LOCKED in login(a, number=number, password="nope").get_data(as_text=True)
        assert LOCKED in login(b, number=number, password=DEMO_PASSWORD).get_data(as_text=True)
    finally:
        one.extensions["database"].dispose()
        two.extensions["database"].dispose()
