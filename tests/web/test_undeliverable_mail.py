"""A mail the receiving server refuses for good (5xx), or keeps refusing for GIVE_UP_AFTER,
is marked undeliverable: it no longer holds up the mails after it to the same address,
メッセージ says it was not delivered and where to correct the address, and a corrected
address receives it. Our own server being down is not a refusal (test_mail_delivery)."""
from __future__ import annotations

import smtplib

import pytest
from sqlalchemy import select

from blueprints.mail.compose import CallCentre, capture_mail, void_mail
from blueprints.mail.delivery import GIVE_UP_AFTER, RETRY_BASE, RETRY_MAX, refused_for_good
from blueprints.mail.outbox import queue_notice
from models.account import Resident
from tests.conftest import csrf_token_from
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
        queue_notice(session, resident=resident, dedupe_key="void:0392026112000001", mail=void_mail(facts("0392026112000001", 700), CENTRE), now=clock(app))
        queue_notice(session, resident=resident, dedupe_key="capture:0392026112500009", mail=capture_mail(facts("0392026112500009", 525), CENTRE), now=clock(app))


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


def test_a_message_refused_for_a_while_is_retried_then_given_up_after_five_days(app, smtp):
    queue_void_then_capture(app)
    smtp.handler.refuse_next = 1000  # 451 Try again later, every time

    assert "mail: sent 0, failed 1, undeliverable 0" in run_worker(app).output
    move_clock(app, GIVE_UP_AFTER - RETRY_BASE)
    assert "mail: sent 0, failed 1, undeliverable 0" in run_worker(app).output  # still retried, the next one waits
    assert outbox(app)[1].attempts == 0

    # The next retry, now past five days: both given up; the payment deadline notice queued
    # on 11/30 is refused too, and kept for its own five days.
    move_clock(app, RETRY_MAX)
    assert "mail: sent 0, failed 1, undeliverable 2" in run_worker(app).output
    void, capture, deadline = outbox(app)
    assert void.attempts == 3 and void.undeliverable_at == clock(app) and "451" in void.last_error
    assert capture.attempts == 1 and capture.undeliverable_at == clock(app)
    assert deadline.undeliverable_at is None and deadline.attempts == 1


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
        data={"csrf_token": csrf_token_from(form), "email": "dantai@example.jp", "email_confirm": "dantai@example.jp", "next": "/mymenu/messages"},
    )
    assert changed.status_code == 303 and changed.headers["Location"] == "/mymenu/messages"
    assert warning not in client.get("/mymenu/messages").get_data(as_text=True)

    assert "mail: sent 2, failed 0, undeliverable 0" in run_worker(app).output
    assert [(m["To"], m["Subject"]) for m in smtp.messages] == [("dantai@example.jp", VOID_SUBJECT), ("dantai@example.jp", CAPTURE_SUBJECT)]


def test_english_messages_say_it_too(app, client, auth, smtp):
    queue_void_then_capture(app)
    smtp.handler.refused_recipients[MEGURO_EMAIL] = NO_SUCH_USER
    run_worker(app)
    auth.login()
    token = csrf_token_from(client.get("/").get_data(as_text=True))
    client.post("/settings/language", data={"csrf_token": token, "locale": "en", "next": "/"})
    page = client.get("/mymenu/messages").get_data(as_text=True)
    assert f"could not be delivered: the mail server of {MEGURO_EMAIL} refused it." in page


@pytest.mark.parametrize(
    ("exc", "for_good"),
    [
        (smtplib.SMTPRecipientsRefused({"a@example.jp": (550, b"no such user")}), True),
        (smtplib.SMTPRecipientsRefused({"a@example.jp": (553, b"bad address")}), True),
        (smtplib.SMTPRecipientsRefused({"a@example.jp": (450, b"mailbox busy")}), False),
        (smtplib.SMTPDataError(554, b"rejected"), True),
        (smtplib.SMTPDataError(451, b"try later"), False),
        (smtplib.SMTPSenderRefused(550, b"sender refused", "noreply@example"), False),  # our configuration
        (ConnectionRefusedError(111, "refused"), False),  # our server is down
    ],
)
def test_only_a_permanent_refusal_of_the_message_is_for_good(exc, for_good):
    assert refused_for_good(exc) is for_good
