"""利用者情報の更新・変更 (DESIGN "Accounts and sign-in"): the registration as held, the email
change confirmed from the new address (the old one in use until then, and told), the
password change (current one, the rules, a mail), the phone, and the counter's forms for
the rest; two tabs and replayed forms change nothing twice."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from mail.compose import Mail
from mail.outbox import queue_notice
from models.account import Resident
from models.outbox import OutboxMail
from tests.conftest import DEMO_PASSWORD, csrf_token_from, frozen_now
from tests.web.account_support import body_of, delivered, hidden, link_in, login, post_form, smtp_for
from tests.web.card_support import database

MEGURO_EMAIL = "meguro-dantai@example.jp"
NEW_EMAIL = "new-address@example.jp"
NEW = "plum-harbour-sketch-9"


@pytest.fixture
def smtp(app):
    yield from smtp_for(app)


def meguro(app) -> Resident:
    with database(app).read_session() as s:
        return s.scalar(select(Resident).where(Resident.registration_number == "00040675"))


def test_the_profile_shows_the_registration_and_the_counter_forms(client, auth):
    auth.login()
    menu = client.get("/mymenu/").get_data(as_text=True)
    assert 'href="/mymenu/profile"' in menu
    page = client.get("/mymenu/profile")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    for text in ("00040675", "目黒団体", "集会・学校", "(社成人)", "2027年02月23日", "2028年02月23日", MEGURO_EMAIL):
        assert text in html, text
    assert "利用者登録変更届" in html
    assert "この機能は準備中です" not in html


def change_email(client, email=NEW_EMAIL, confirm=None, password=DEMO_PASSWORD):
    return post_form(
        client, "/mymenu/profile/email", current_password=password, email=email, email_confirm=confirm or email
    )


def test_an_email_change_is_confirmed_from_the_new_address_and_the_old_one_is_told(app, client, auth, smtp):
    auth.login()
    # A notice queued before the change, not yet sent (the worker has not run).
    with database(app).write() as s:
        resident = s.scalar(select(Resident).where(Resident.registration_number == "00040675"))
        queue_notice(s, resident=resident, dedupe_key="test:pending", mail=Mail("保留中", "本文"), now=frozen_now())
    answer = change_email(client)
    assert answer.status_code == 303 and answer.headers["Location"] == "/mymenu/profile"
    assert "確認のメールを送りました" in client.get("/mymenu/profile").get_data(as_text=True)
    # Until confirmed, the old address stays.
    assert meguro(app).email == MEGURO_EMAIL
    mails = delivered(app, smtp)
    [confirm] = [m for m in mails if m["To"] == NEW_EMAIL]
    assert confirm["Subject"] == "目黒区施設予約システム メールアドレス変更の確認"
    assert [m["Subject"] for m in mails if m["To"] == MEGURO_EMAIL] == ["保留中"]
    link = link_in(confirm)
    # Opening the link changes nothing (mail scanners follow links); the button does.
    shown = client.get(link)
    assert shown.status_code == 200 and NEW_EMAIL in shown.get_data(as_text=True)
    assert meguro(app).email == MEGURO_EMAIL
    with database(app).write() as s:
        resident = s.scalar(select(Resident).where(Resident.registration_number == "00040675"))
        queue_notice(s, resident=resident, dedupe_key="test:later", mail=Mail("後続", "本文"), now=frozen_now())
    done = post_form(app.test_client(), link)
    assert done.status_code == 303 and done.headers["Location"] == "/account/email/confirmed"
    assert meguro(app).email == NEW_EMAIL
    later = delivered(app, smtp)
    assert [m["Subject"] for m in later if m["To"] == NEW_EMAIL][-1] == "後続"  # queued mail moved
    told = [m for m in later if m["To"] == MEGURO_EMAIL and "変更のお知らせ" in m["Subject"]]
    assert len(told) == 1 and NEW_EMAIL in body_of(told[0])
    # The link works once.
    assert client.get(link).status_code == 410


def test_an_email_change_needs_the_current_password(app, client, auth, smtp):
    auth.login()
    answer = change_email(client, password="not-it")
    assert answer.status_code == 422 and "現在のパスワードが正しくありません" in answer.get_data(as_text=True)
    assert not [m for m in delivered(app, smtp) if m["To"] == NEW_EMAIL]


def test_a_password_change_needs_the_current_one_follows_the_rules_and_mails(app, client, auth, smtp):
    auth.login()
    wrong = post_form(
        client, "/mymenu/profile/password", current_password="nope", new_password=NEW, new_password_confirm=NEW
    )
    assert wrong.status_code == 422 and "現在のパスワードが正しくありません" in wrong.get_data(as_text=True)
    weak = post_form(
        client,
        "/mymenu/profile/password",
        current_password=DEMO_PASSWORD,
        new_password="password1",
        new_password_confirm="password1",
    )
    assert weak.status_code == 422 and "推測されやすい" in weak.get_data(as_text=True)
    assert login(app.test_client()).status_code == 303  # unchanged so far
    done = post_form(
        client, "/mymenu/profile/password", current_password=DEMO_PASSWORD, new_password=NEW, new_password_confirm=NEW
    )
    assert done.status_code == 303
    assert "パスワードを変更しました" in client.get("/mymenu/profile").get_data(as_text=True)
    subjects = [m["Subject"] for m in delivered(app, smtp, to=MEGURO_EMAIL)]
    assert subjects == ["目黒区施設予約システム パスワード変更のお知らせ"]


def test_two_tabs_changing_the_password_at_once_change_it_once(app, client, auth):
    auth.login()
    first_tab = client.get("/mymenu/profile/password").get_data(as_text=True)
    second_tab = client.get("/mymenu/profile/password").get_data(as_text=True)

    def submit(page, new):
        return client.post(
            "/mymenu/profile/password",
            data={
                "csrf_token": csrf_token_from(page),
                "epoch": hidden(page, "epoch"),
                "current_password": DEMO_PASSWORD,
                "new_password": new,
                "new_password_confirm": new,
            },
        )

    assert submit(first_tab, NEW).status_code == 303
    # The change renewed the session, and with it the forms' CSRF token: the other tab's
    # form is refused as expired (and, had it a fresh token, as shown before the change).
    late = submit(second_tab, "other-garden-violin-7")
    assert late.status_code == 400
    assert "フォームの有効期限が切れたか" in late.get_data(as_text=True)
    assert login(app.test_client(), password=NEW).status_code == 303
    # The same form sent again (replayed) changes nothing either.
    assert submit(first_tab, NEW).status_code == 400
    fresh = client.get("/mymenu/profile/password").get_data(as_text=True)
    stale = fresh.replace(f'value="{hidden(fresh, "epoch")}"', 'value="1"')
    answer = client.post(
        "/mymenu/profile/password",
        data={
            "csrf_token": csrf_token_from(fresh),
            "epoch": hidden(stale, "epoch"),
            "current_password": NEW,
            "new_password": "other-garden-violin-7",
            "new_password_confirm": "other-garden-violin-7",
        },
    )
    assert answer.status_code == 422 and "別の画面でパスワードが変更されたか" in answer.get_data(as_text=True)
    assert login(app.test_client(), password=NEW).status_code == 303


def test_the_phone_is_changed_directly_and_full_width_digits_are_read(app, client, auth):
    auth.login()
    refused = post_form(client, "/mymenu/profile/phone", phone="12")
    assert refused.status_code == 422 and "10桁または11桁" in refused.get_data(as_text=True)
    assert meguro(app).phone is None
    done = post_form(client, "/mymenu/profile/phone", phone="０３－１２３４－５６７８")
    assert done.status_code == 303
    assert meguro(app).phone == "03-1234-5678"
    assert "03-1234-5678" in client.get("/mymenu/profile").get_data(as_text=True)


def test_the_account_pages_ask_for_login(client):
    for path in ("/mymenu/profile", "/mymenu/profile/password", "/mymenu/profile/email", "/mymenu/profile/phone"):
        answer = client.get(path)
        assert answer.status_code == 302 and answer.headers["Location"].startswith("/login?"), path


def test_unsent_mail_count_unchanged_by_a_refused_email_change(app, client, auth):
    auth.login()
    with database(app).read_session() as s:
        before = len(s.scalars(select(OutboxMail.id)).all())
    change_email(client, email="bad address", confirm="bad address")
    change_email(client, email=NEW_EMAIL, confirm="other@example.jp")
    change_email(client, email=MEGURO_EMAIL)  # the current one
    with database(app).read_session() as s:
        assert len(s.scalars(select(OutboxMail.id)).all()) == before


def test_an_expired_group_class_is_explained_before_any_search(client):
    assert login(client, number="40677").status_code == 303  # 青葉会: its only 団体区分 expired
    menu = client.get("/mymenu/").get_data(as_text=True)
    assert "有効期限が切れた団体区分があります" in menu
    assert "有効な団体区分がないため、施設の予約・抽選の申込みはできません" in menu
    assert "申込済みの予約の確認・取消" in menu
    assert "利用者登録を行った施設の窓口" in menu
    top = client.get("/").get_data(as_text=True)
    assert "期限切れの団体区分では予約・抽選の申込みはできません" in top
    assert 'href="/mymenu/#class-standing"' in top


def test_a_valid_group_class_shows_no_warning(client, auth):
    auth.login()
    assert "期限切れ" not in client.get("/mymenu/").get_data(as_text=True)


def test_the_guide_s_email_page_asks_for_the_password_once_an_address_is_registered(app, client, auth):
    auth.login()
    page = client.get("/mymenu/email").get_data(as_text=True)
    assert 'id="current_password"' in page
    refused = post_form(client, "/mymenu/email", email=NEW_EMAIL, email_confirm=NEW_EMAIL)
    assert refused.status_code == 422 and "現在のパスワードを入力してください" in refused.get_data(as_text=True)
    wrong = post_form(client, "/mymenu/email", email=NEW_EMAIL, email_confirm=NEW_EMAIL, current_password="nope")
    assert wrong.status_code == 422 and "現在のパスワードが正しくありません" in wrong.get_data(as_text=True)
    assert meguro(app).email == MEGURO_EMAIL
    # A first address (the payment gate) needs none, as the guide has it.
    komaba = app.test_client()
    login(komaba, number="40676")
    assert 'id="current_password"' not in komaba.get("/mymenu/email").get_data(as_text=True)
    assert (
        post_form(komaba, "/mymenu/email", email="komaba@example.jp", email_confirm="komaba@example.jp").status_code
        == 303
    )
