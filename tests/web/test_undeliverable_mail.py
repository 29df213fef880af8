"""A mail the receiving server refuses for good (5xx for the address or the content), or keeps
refusing for GIVE_UP_AFTER after its first refusal, is marked undeliverable: it no longer
holds up the mails after it to the same address, メッセージ says it was not delivered (and,
for an address, where to correct it), and a corrected address receives it. Our own server
being down or refusing everything (421, sender or relay refused) is never a refusal of the
message: those mails wait however long it takes (see also test_mail_delivery)."""

from __future__ import annotations

import smtplib

import pytest
from sqlalchemy import select

from blueprints.mymenu.operations import change_email
from mail.compose import CallCentre, capture_mail, void_mail
from mail.delivery import (
    CLAIM_LEASE,
    GIVE_UP_AFTER,
    RETRY_BASE,
    RETRY_MAX,
    Refusal,
    claim_next,
    classify,
    mark_undeliverable,
)
from mail.outbox import queue_notice
from models.account import Resident
from tests.conftest import DEMO_PASSWORD, csrf_token_from
from tests.web.card_support import SmtpServer, clock, database, move_clock, outbox, run_worker
from tests.web.test_mail_delivery import CAPTURE_SUBJECT, MEGURO_EMAIL, VOID_SUBJECT, facts

CENTRE = CallCentre("03-5431-5932", "平日9:00~21:00")
NO_SUCH_USER = "550 5.1.1 <meguro-dantai@example.jp>: Recipient address rejected: User unknown"


@pytest.fixture
def smtp(app):
    server = SmtpServer().start()
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=server.port)
    yield server
    server.stop()


def queue_void_then_capture(app) -> None:
    """目黒団体's 取消通知, then its 完了通知: the second waits for the first (DESIGN "Email")."""
    with database(app).write() as session:
        resident = session.scalar(select(Resident).where(Resident.registration_number == "00040675"))
        queue_notice(
            session,
            resident=resident,
            dedupe_key="void:0392026112000001",
            mail=void_mail(facts("0392026112000001", 700), CENTRE),
            now=clock(app),
        )
        queue_notice(
            session,
            resident=resident,
            dedupe_key="capture:0392026112500009",
            mail=capture_mail(facts("0392026112500009", 525), CENTRE),
            now=clock(app),
        )


def test_a_mailbox_that_does_not_exist_is_given_up_at_once_and_never_retried(app, smtp):
    queue_void_then_capture(app)
    smtp.handler.refused_recipients[MEGURO_EMAIL] = NO_SUCH_USER

    result = run_worker(app)

    assert result.exit_code == 0, result.output
    assert "mail: sent 0, failed 0, undeliverable 2" in result.output
    void, capture = outbox(app)
    assert void.undeliverable_at == clock(app) and void.sent_at is None and "550" in void.last_error
    assert capture.undeliverable_at == clock(app) and capture.attempts == 1

    move_clock(app, RETRY_BASE * 100)
    assert "mail: sent 0, failed 0, undeliverable 0" in run_worker(app).output
    assert [m.attempts for m in outbox(app)] == [1, 1] and smtp.handler.received == []


def test_a_message_refused_for_good_no_longer_holds_up_the_next_one(app, smtp):
    queue_void_then_capture(app)
    smtp.handler.refuse_next, smtp.handler.refusal = 1, "554 5.6.0 Message content rejected"

    result = run_worker(app)

    assert "mail: sent 1, failed 0, undeliverable 1" in result.output
    assert [m["Subject"] for m in smtp.messages] == [CAPTURE_SUBJECT]
    void, capture = outbox(app)
    assert void.undeliverable_at is not None and "554" in void.last_error
    assert capture.sent_at == clock(app)


def test_a_message_refused_for_a_while_is_retried_then_given_up_five_days_after_its_first_refusal(app, smtp):
    queue_void_then_capture(app)
    smtp.handler.refuse_next = 1000  # 451 Try again later, every time

    assert "mail: sent 0, failed 1, undeliverable 0" in run_worker(app).output
    first_refusal = clock(app)
    move_clock(app, GIVE_UP_AFTER - RETRY_BASE)
    assert "mail: sent 0, failed 1, undeliverable 0" in run_worker(app).output  # still retried, the next one waits
    assert outbox(app)[1].attempts == 0

    # The next retry, now five days after the first refusal: the 取消通知 is given up. The
    # 完了通知 behind it has waited as long but was never refused: its own five days start
    # now (and the payment deadline notice queued on 11/30 waits behind it).
    move_clock(app, RETRY_MAX)
    assert "mail: sent 0, failed 1, undeliverable 1" in run_worker(app).output
    void, capture, deadline = outbox(app)
    assert void.attempts == 3 and void.undeliverable_at == clock(app) and void.undeliverable_reason == "temporary"
    assert void.first_refused_at == first_refusal and "451" in void.last_error
    assert capture.undeliverable_at is None and capture.attempts == 1 and capture.first_refused_at == clock(app)
    assert deadline.attempts == 0


@pytest.mark.parametrize(
    ("refuse", "problem"),
    [
        (
            lambda h: h.refused_recipients.update(
                {MEGURO_EMAIL: "554 5.7.1 <meguro-dantai@example.jp>: Relay access denied"}
            ),
            "(554, b'5.7.1",
        ),
        (
            lambda h: h.refused_recipients.update({MEGURO_EMAIL: "421 4.7.0 Too many connections, closing"}),
            "(421, b'4.7.0",
        ),
        (
            lambda h: setattr(h, "refuse_next", 1000) or setattr(h, "refusal", "550 5.7.1 Message refused by policy"),
            "(550, b'5.7.1",
        ),
    ],
    ids=["relay-denied", "421-closing", "policy-on-data"],
)
def test_our_server_refusing_every_mail_is_never_taken_for_a_bad_address(app, smtp, refuse, problem):
    """Relay access denied, 421 and 5.7.x policy refusals come from our own server's rules:
    the pass stops (the other mails are not tried in vain) and nothing is ever given up."""
    queue_void_then_capture(app)
    refuse(smtp.handler)
    for _ in range(12):
        assert "mail: sent 0, failed 1, undeliverable 0" in run_worker(app).output
        move_clock(app, RETRY_MAX + GIVE_UP_AFTER / 4)
    void, capture, *_ = outbox(app)
    assert void.undeliverable_at is None and void.first_refused_at is None and problem in void.last_error
    assert capture.undeliverable_at is None


def test_messages_say_the_mail_was_not_delivered_and_a_corrected_address_receives_it(app, client, auth, smtp):
    queue_void_then_capture(app)
    smtp.handler.refused_recipients[MEGURO_EMAIL] = NO_SUCH_USER
    run_worker(app)
    auth.login()

    page = client.get("/mymenu/messages").get_data(as_text=True)

    warning = f"このメッセージのメールは、送信先（{MEGURO_EMAIL}）のメールサーバーに受け取りを拒否されたため、届けられませんでした。"
    assert page.count(warning) == 2
    assert "メールアドレスを変更すると、30日以内に届けられなかったメールを新しいアドレスへ送り直します。" in page
    assert 'href="/mymenu/email?next=/mymenu/messages">メールアドレスの変更</a>' in page

    form = client.get("/mymenu/email?next=/mymenu/messages").get_data(as_text=True)
    changed = client.post(
        "/mymenu/email",
        data={
            "csrf_token": csrf_token_from(form),
            "email": "dantai@example.jp",
            "email_confirm": "dantai@example.jp",
            "current_password": DEMO_PASSWORD,
            "next": "/mymenu/messages",
        },
    )
    assert changed.status_code == 303 and changed.headers["Location"] == "/mymenu/messages"
    assert warning not in client.get("/mymenu/messages").get_data(as_text=True)

    assert "mail: sent 2, failed 0, undeliverable 0" in run_worker(app).output
    assert [(m["To"], m["Subject"]) for m in smtp.messages] == [
        ("dantai@example.jp", VOID_SUBJECT),
        ("dantai@example.jp", CAPTURE_SUBJECT),
    ]


def test_english_messages_say_it_too(app, client, auth, smtp):
    queue_void_then_capture(app)
    smtp.handler.refused_recipients[MEGURO_EMAIL] = NO_SUCH_USER
    run_worker(app)
    auth.login()
    token = csrf_token_from(client.get("/").get_data(as_text=True))
    client.post("/settings/language", data={"csrf_token": token, "locale": "en", "next": "/"})
    page = client.get("/mymenu/messages").get_data(as_text=True)
    assert "The emails of 2 messages could not be delivered." in page
    assert f"could not be delivered: the mail server of {MEGURO_EMAIL} refused it." in page


def test_a_refused_content_is_explained_and_not_sent_again_to_a_new_address(app, client, auth, smtp):
    queue_void_then_capture(app)
    smtp.handler.refuse_next, smtp.handler.refusal = 1, "552 5.3.4 Message size exceeds fixed limit"
    assert "mail: sent 1, failed 0, undeliverable 1" in run_worker(app).output
    auth.login()

    page = client.get("/mymenu/messages").get_data(as_text=True)

    assert "1件のメッセージのメールが届けられませんでした。" in page
    assert (
        "このメッセージのメールは、送信先のメールサーバーに受け取りを拒否されたため、届けられませんでした。内容はこの画面でご確認ください。"
        in page
    )
    assert MEGURO_EMAIL not in page and "送り直します" not in page  # the address was not the problem
    form = client.get("/mymenu/email").get_data(as_text=True)
    changed = client.post(
        "/mymenu/email",
        data={
            "csrf_token": csrf_token_from(form),
            "email": "dantai@example.jp",
            "email_confirm": "dantai@example.jp",
            "current_password": DEMO_PASSWORD,
        },
    )
    assert changed.status_code == 303
    move_clock(app, RETRY_MAX)
    assert "mail: sent 0, failed 0, undeliverable 0" in run_worker(app).output
    assert outbox(app)[0].to_address == MEGURO_EMAIL and outbox(app)[0].undeliverable_reason == "content"


def test_an_address_changed_while_a_worker_sends_goes_to_the_new_address_once(app):
    """The worker has claimed the 取消通知 for the old address when the resident corrects it;
    the old address then refuses it for good. That refusal is not recorded against the
    re-addressed mail: once the claim runs out, the mail goes to the new address."""
    queue_void_then_capture(app)
    mail = claim_next(database(app), clock(app))
    with database(app).write() as session:
        change_email(session, resident_id=mail_resident(app), email="dantai@example.jp", now=clock(app))

    mark_undeliverable(database(app), mail, Refusal.ADDRESS, NO_SUCH_USER, clock(app))

    void, capture = outbox(app)
    assert void.undeliverable_at is None and void.to_address == "dantai@example.jp" and void.attempts == 0
    assert capture.to_address == "dantai@example.jp"
    assert claim_next(database(app), clock(app)) is None  # still claimed by the first worker
    move_clock(app, CLAIM_LEASE)
    assert claim_next(database(app), clock(app)).to_address == "dantai@example.jp"


def mail_resident(app) -> int:
    with database(app).read_session() as session:
        return session.scalar(select(Resident.id).where(Resident.registration_number == "00040675"))


@pytest.mark.parametrize(
    ("exc", "refusal"),
    [
        (smtplib.SMTPRecipientsRefused({"a@example.jp": (550, b"5.1.1 no such user")}), Refusal.ADDRESS),
        (smtplib.SMTPRecipientsRefused({"a@example.jp": (553, b"5.1.3 bad address syntax")}), Refusal.ADDRESS),
        (smtplib.SMTPRecipientsRefused({"a@example.jp": (550, b"no such user")}), Refusal.ADDRESS),
        (smtplib.SMTPRecipientsRefused({"a@example.jp": (452, b"4.2.2 mailbox full")}), Refusal.TEMPORARY),
        (smtplib.SMTPRecipientsRefused({"a@example.jp": (554, b"5.7.1 Relay access denied")}), Refusal.SERVER),
        (smtplib.SMTPRecipientsRefused({"a@example.jp": (421, b"4.7.0 closing")}), Refusal.SERVER),
        (smtplib.SMTPDataError(552, b"5.3.4 too big"), Refusal.CONTENT),
        (smtplib.SMTPDataError(554, b"5.6.0 content rejected"), Refusal.CONTENT),
        (smtplib.SMTPDataError(554, b"5.7.1 spam policy"), Refusal.SERVER),
        (smtplib.SMTPDataError(451, b"try later"), Refusal.TEMPORARY),
        (smtplib.SMTPDataError(421, b"closing"), Refusal.SERVER),
        (smtplib.SMTPSenderRefused(550, b"sender refused", "noreply@example"), Refusal.SERVER),  # our configuration
        (ConnectionRefusedError(111, "refused"), Refusal.SERVER),  # our server is down
        (smtplib.SMTPServerDisconnected("lost"), Refusal.SERVER),
        (UnicodeEncodeError("ascii", "件", 0, 1, "no"), Refusal.TEMPORARY),  # this message only
    ],
)
def test_what_a_refusal_says_about_the_message(exc, refusal):
    assert classify(exc) is refusal
