"""パスワードを忘れた場合 (DESIGN "Accounts and sign-in", 仮パスワード発行): the same answer
whether or not the registration and address match, a single-use link valid 30 minutes by
mail (over a real SMTP server), a new password, logged in with the other sessions ended; the
kiosk's mails link to the standard site; the reset form's limits; a counter's 仮パスワード is
changed first."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select

from app import create_app
from models.account import AccountToken
from tests.conftest import DEMO_PASSWORD, make_config
from tests.web.account_support import body_of, delivered, link_in, login, post_form, smtp_for
from tests.web.card_support import SmtpServer, database, move_clock

MEGURO_EMAIL = "meguro-dantai@example.jp"
NEW = "plum-harbour-sketch-9"
SENT = "入力した内容が登録と一致する場合"
BAD_LINK = "このリンクは無効です"


@pytest.fixture
def smtp(app):
    yield from smtp_for(app)


def ask(client, number="40675", email=MEGURO_EMAIL, kind="assembly"):
    return post_form(client, "/password/forgot", registration_kind=kind, registration_number=number, email=email)


def reset_mails(app, server):
    return [m for m in delivered(app, server) if m["Subject"] == "目黒区施設予約システム パスワード再設定のご案内"]


def set_password(client, link, new=NEW, confirm=None):
    return post_form(client, link, new_password=new, new_password_confirm=confirm or new)


@pytest.mark.parametrize(
    ("number", "email", "kind"),
    [
        ("40675", MEGURO_EMAIL, "assembly"),  # matches
        ("40675", "someone-else@example.jp", "assembly"),  # wrong address
        ("99999", MEGURO_EMAIL, "assembly"),  # nobody
        ("40675", MEGURO_EMAIL, "sports"),  # wrong kind
        ("40676", "komaba@example.jp", "assembly"),  # registered without an address
        ("４０６７５", MEGURO_EMAIL.upper(), "assembly"),  # full-width digits, capitals: matches
    ],
    ids=["match", "wrong address", "unknown number", "wrong kind", "no address registered", "full-width"],
)
def test_the_answer_is_the_same_whether_or_not_anything_matches(app, client, smtp, number, email, kind):
    answer = ask(client, number=number, email=email, kind=kind)
    assert answer.status_code == 303 and answer.headers["Location"] == "/password/forgot/sent"
    page = client.get("/password/forgot/sent").get_data(as_text=True)
    assert SENT in page and "窓口で仮パスワードの発行" in page
    mails = reset_mails(app, smtp)
    assert len(mails) == (1 if number in ("40675", "４０６７５") and kind == "assembly" and "else" not in email else 0)
    for mail in mails:
        assert mail["To"] == MEGURO_EMAIL
        assert "30分間、1回だけ使えます" in body_of(mail)


def test_the_link_sets_a_new_password_logs_in_and_ends_the_other_sessions(app, client, smtp):
    elsewhere = app.test_client()
    assert login(elsewhere).status_code == 303
    ask(client)
    [mail] = reset_mails(app, smtp)
    link = link_in(mail)
    assert link.startswith("/password/reset?token=")
    form = client.get(link)
    assert form.status_code == 200 and "新しいパスワードの設定" in form.get_data(as_text=True)
    done = set_password(client, link)
    assert done.status_code == 303 and done.headers["Location"] == "/mymenu/profile"
    profile = client.get("/mymenu/profile").get_data(as_text=True)
    assert "新しいパスワードを設定しました" in profile
    assert elsewhere.get("/mymenu/").status_code == 302
    # The old password no longer works, the new one does; the resident is told by mail.
    fresh = app.test_client()
    assert login(fresh, password=DEMO_PASSWORD).status_code == 422
    assert login(fresh, password=NEW).status_code == 303
    subjects = [m["Subject"] for m in delivered(app, smtp, to=MEGURO_EMAIL)]
    assert "目黒区施設予約システム パスワード変更のお知らせ" in subjects
    # The link was used up.
    again = client.get(link)
    assert again.status_code == 410 and BAD_LINK in again.get_data(as_text=True)
    # Only the token's hash is stored.
    token = link.split("token=")[1]
    with database(app).read_session() as s:
        hashes = s.scalars(select(AccountToken.token_hash)).all()
    assert token not in hashes and len(hashes) == 1


def test_the_link_expires_after_thirty_minutes(app, client, smtp):
    ask(client)
    [mail] = reset_mails(app, smtp)
    move_clock(app, timedelta(minutes=31))
    expired = client.get(link_in(mail))
    assert expired.status_code == 410 and BAD_LINK in expired.get_data(as_text=True)
    refused = set_password(app.test_client(), link_in(mail).replace("token=", "token="))
    assert refused.status_code in (410, 422)
    assert login(app.test_client(), password=DEMO_PASSWORD).status_code == 303


def test_a_later_link_or_a_password_change_ends_the_earlier_links(app, client, smtp):
    ask(client)
    ask(client)
    first, second = reset_mails(app, smtp)
    assert client.get(link_in(first)).status_code == 410
    assert client.get(link_in(second)).status_code == 200
    # A password change (logged in) ends the link too.
    other = app.test_client()
    login(other)
    changed = post_form(
        other,
        "/mymenu/profile/password",
        current_password=DEMO_PASSWORD,
        new_password=NEW,
        new_password_confirm=NEW,
    )
    assert changed.status_code == 303
    assert client.get(link_in(second)).status_code == 410


@pytest.mark.parametrize(
    ("new", "confirm", "message"),
    [
        ("password1", None, "推測されやすい"),
        ("x" * 65, None, "8文字以上64文字以内"),
        ("short", None, "8文字以上64文字以内"),
        ("00040675", None, "利用者登録番号をパスワードにすることはできません"),
        (NEW, NEW + "x", "確認用のパスワードが一致しません"),
        ("", None, "新しいパスワードを入力してください"),
    ],
    ids=["common", "too long", "too short", "the number", "mismatch", "empty"],
)
def test_a_refused_new_password_changes_nothing_and_keeps_the_link(app, client, smtp, new, confirm, message):
    ask(client)
    [mail] = reset_mails(app, smtp)
    answer = set_password(client, link_in(mail), new=new, confirm=confirm if confirm is not None else new)
    assert answer.status_code == 422 and message in answer.get_data(as_text=True)
    assert client.get(link_in(mail)).status_code == 200  # still usable
    assert login(app.test_client(), password=DEMO_PASSWORD).status_code == 303


@pytest.mark.parametrize("token", ["", "nope", "x" * 500, "\x00", "%E3%81%82"])
def test_a_forged_link_is_refused_with_a_message(client, token):
    answer = client.get("/password/reset", query_string={"token": token})
    assert answer.status_code == 410 and BAD_LINK in answer.get_data(as_text=True)


def test_the_kiosk_s_reset_mail_links_to_the_standard_site(database_url, tmp_path):
    kiosk = create_app(
        "kiosk", make_config(database_url, tmp_path, PUBLIC_BASE_URL="https://yoyaku.city.meguro.example")
    )
    server = SmtpServer().start()
    kiosk.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=server.port)
    try:
        client = kiosk.test_client()
        assert ask(client).status_code == 303
        [mail] = reset_mails(kiosk, server)
        assert "https://yoyaku.city.meguro.example/password/reset?token=" in body_of(mail)
    finally:
        server.stop()
        kiosk.extensions["database"].dispose()


def test_the_reset_form_is_limited_per_registration_and_per_address(database_url, tmp_path):
    application = create_app(
        "standard",
        make_config(
            database_url,
            tmp_path,
            RATELIMIT_RESET="2 per 54 seconds",  # a limit no other test uses (see test_account_lockout)
            TRUSTED_PROXIES=1,
            RATELIMIT_KEY_PREFIX=f"reset-{uuid.uuid4().hex[:8]}",
        ),
    )
    try:
        clients = []
        for i in range(4):
            c = application.test_client()
            c.environ_base = {"HTTP_X_FORWARDED_FOR": f"203.0.113.{i + 10}"}
            clients.append(c)
        # One registration asked for from two addresses…
        assert ask(clients[0]).status_code == 303
        assert ask(clients[1]).status_code == 303
        # …is not asked for a third time, from anywhere.
        refused = ask(clients[2])
        assert refused.status_code == 429 and "しばらくお待ちください" in refused.get_data(as_text=True)
        # Another registration from that address is.
        assert ask(clients[2], number="50001", email="sports-club@example.jp", kind="sports").status_code == 303
        # One address asking for many registrations stops too.
        assert ask(clients[3], number="11111").status_code == 303
        assert ask(clients[3], number="22222").status_code == 303
        assert ask(clients[3], number="33333").status_code == 429
    finally:
        application.extensions["database"].dispose()


# -- 仮パスワード issued at a counter ---------------------------------------------------------------


def test_a_temporary_password_must_be_changed_before_anything_else(app, client):
    answer = login(client, number="40679")
    assert answer.status_code == 303
    for path in ("/mymenu/", "/", "/mymenu/reservations", "/search/facilities"):
        bounced = client.get(path)
        assert bounced.status_code == 302 and bounced.headers["Location"] == "/mymenu/profile/password", path
    page = client.get("/mymenu/profile/password").get_data(as_text=True)
    assert "仮パスワードでログインしています" in page
    changed = post_form(
        client, "/mymenu/profile/password", current_password=DEMO_PASSWORD, new_password=NEW, new_password_confirm=NEW
    )
    assert changed.status_code == 303
    assert client.get("/mymenu/").status_code == 200
