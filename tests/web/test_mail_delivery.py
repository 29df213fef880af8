"""Mail delivery by the worker (DESIGN "Email"): over a real SMTP server (aiosmtpd), as .eml
files without SMTP_HOST, retried when the server is down, each mail once even with two
workers, and a 取消通知 before the 完了通知 queued after it."""

from __future__ import annotations

import threading
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from demo.card_payments import CARD_PAID
from mail.compose import ChargeFacts, capture_mail, void_mail
from mail.delivery import RETRY_BASE
from mail.outbox import queue_notice
from models.account import Resident
from models.outbox import OutboxMail
from models.payment import CardCharge
from tests.web.card_support import SmtpServer, clock, database, move_clock, outbox, pay_by_card, run_worker, settings
from worker.jobs import deliver_mail

CAPTURE_SUBJECT = "目黒区施設予約システム 使用料の決済完了通知"
VOID_SUBJECT = "目黒区施設予約システム 使用料の決済取消通知"
MEGURO_EMAIL = "meguro-dantai@example.jp"


@pytest.fixture
def smtp():
    server = SmtpServer()
    yield server
    server.stop()


def use_smtp(app, server: SmtpServer) -> None:
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=server.port)


def receipts_in_order(app) -> list[str]:
    with database(app).read_session() as session:
        return list(session.scalars(select(CardCharge.receipt_number).order_by(CardCharge.id)))


def test_card_payment_mails_are_delivered_over_smtp_with_the_charges_receipt_numbers(paying_app, smtp):
    pay_by_card(paying_app)
    receipts = receipts_in_order(paying_app)
    assert len(receipts) == len(CARD_PAID)
    assert all(mail.sent_at is None for mail in outbox(paying_app))
    use_smtp(paying_app, smtp.start())

    result = run_worker(paying_app)

    assert result.exit_code == 0, result.output
    assert f"mail: sent {len(receipts)}, failed 0" in result.output
    messages = smtp.messages
    assert [m["Subject"] for m in messages] == [CAPTURE_SUBJECT] * len(receipts)
    for raw in smtp.handler.received:
        assert b"Subject: =?utf-8?" in raw  # the Japanese subject is RFC 2047 encoded
    for message, receipt in zip(messages, receipts):
        assert message["To"] == MEGURO_EMAIL
        assert message["From"] == paying_app.config["MAIL_FROM"]
        assert message["Message-ID"] and message["Date"]
        assert message.get_content_type() == "text/plain"
        assert message.get_content_charset() == "utf-8"
        body = message.get_content()
        assert body.startswith("目黒団体様")
        assert f"収納番号：{receipt}" in body  # the same 収納番号 as the charge
        assert "本メールは、利用承認書の代わりとなります。" in body
    assert all(mail.sent_at == clock(paying_app) for mail in outbox(paying_app))

    again = run_worker(paying_app)
    assert "mail: sent 0, failed 0" in again.output
    assert len(smtp.handler.received) == len(receipts)


def test_smtp_down_at_the_first_send_keeps_the_mail_and_delivers_it_later(paying_app, smtp):
    pay_by_card(paying_app, CARD_PAID[:2])
    first, second = receipts_in_order(paying_app)
    use_smtp(paying_app, smtp)  # the server is not started yet
    started = clock(paying_app)

    down = run_worker(paying_app)

    assert down.exit_code == 0, down.output
    assert "mail: sent 0, failed 1" in down.output
    kept, waiting = outbox(paying_app)
    assert kept.sent_at is None and kept.attempts == 1
    assert "Connection" in kept.last_error
    assert kept.next_attempt_at == started + RETRY_BASE
    assert waiting.sent_at is None and waiting.attempts == 0

    smtp.start()
    assert "mail: sent 0" in run_worker(paying_app).output  # not before its retry time
    assert smtp.handler.received == []

    move_clock(paying_app, RETRY_BASE)
    up = run_worker(paying_app)

    assert "mail: sent 2, failed 0" in up.output
    bodies = [m.get_content() for m in smtp.messages]
    assert [f"収納番号：{first}" in bodies[0], f"収納番号：{second}" in bodies[1]] == [True, True]
    kept, waiting = outbox(paying_app)
    assert kept.sent_at == started + RETRY_BASE and kept.attempts == 2 and kept.last_error is None
    assert waiting.sent_at == started + RETRY_BASE and waiting.attempts == 1

    move_clock(paying_app, timedelta(hours=2))
    run_worker(paying_app)
    assert len(smtp.handler.received) == 2  # nothing lost, nothing doubled


def test_without_smtp_host_each_mail_is_written_as_an_eml_file(paying_app):
    import email
    from email.policy import default

    paying_app.config["SMTP_HOST"] = None
    pay_by_card(paying_app, CARD_PAID[:2])
    receipts = receipts_in_order(paying_app)

    result = run_worker(paying_app)

    assert result.exit_code == 0, result.output
    files = sorted((Path(paying_app.instance_path) / "mail").glob("*.eml"))
    assert [f.name.split("-", 1)[1] for f in files] == [f"capture-{r}.eml" for r in receipts]
    for path, receipt in zip(files, receipts):
        message = email.message_from_bytes(path.read_bytes(), policy=default)
        assert message["Subject"] == CAPTURE_SUBJECT
        assert message["To"] == MEGURO_EMAIL
        assert f"収納番号：{receipt}" in message.get_content()
    assert all(mail.sent_at is not None for mail in outbox(paying_app))
    assert not list((Path(paying_app.instance_path) / "mail").glob("*.tmp"))


def queue_plain_mails(app, count: int) -> None:
    with database(app).write() as session:
        for i in range(count):
            session.add(
                OutboxMail(
                    dedupe_key=f"test:{i}",
                    to_address=f"resident{i % 15}@example.jp",  # some addresses get several
                    subject=f"お知らせ {i}",
                    body=f"本文 {i}\n",
                    created_at=clock(app),
                    next_attempt_at=clock(app),
                )
            )


def run_passes_at_once(app, count: int = 2) -> None:
    barrier = threading.Barrier(count)
    failures = []

    def one_pass():
        try:
            barrier.wait()
            deliver_mail(database(app), None, settings(app), clock(app))
        except Exception as exc:  # reported below: a thread's exception would be lost
            failures.append(exc)

    threads = [threading.Thread(target=one_pass) for _ in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not failures


def test_two_workers_at_once_send_each_mail_once(app, smtp):
    use_smtp(app, smtp.start())
    queue_plain_mails(app, 30)

    run_passes_at_once(app)

    subjects = sorted(m["Subject"] for m in smtp.messages)
    assert subjects == sorted(f"お知らせ {i}" for i in range(30))
    assert len({m["Message-ID"] for m in smtp.messages}) == 30
    for address in {m["To"] for m in smtp.messages}:  # each address's mails in queued order
        numbers = [int(m["Subject"].split()[1]) for m in smtp.messages if m["To"] == address]
        assert numbers == sorted(numbers)
    assert all(mail.sent_at is not None and mail.attempts == 1 for mail in outbox(app))


def facts(receipt: str, amount: int) -> ChargeFacts:
    from datetime import date, time

    return ChargeFacts(
        "目黒団体",
        receipt,
        amount,
        date(2026, 12, 20),
        time(9),
        time(12),
        "区民センター社会教育館 702【旧第2研修室】",
        amount,
    )


def test_a_void_notice_queued_before_its_capture_notice_is_delivered_first(app, smtp):
    from mail.compose import CallCentre

    centre = CallCentre("03-5431-5932", "平日9:00~21:00")
    with database(app).write() as session:
        resident = session.scalar(select(Resident).where(Resident.registration_number == "00040675"))
        queue_notice(
            session,
            resident=resident,
            dedupe_key="void:0392026112000001",
            mail=void_mail(facts("0392026112000001", 700), centre),
            now=clock(app),
        )
        queue_notice(
            session,
            resident=resident,
            dedupe_key="capture:0392026112500009",
            mail=capture_mail(facts("0392026112500009", 525), centre),
            now=clock(app),
        )
    use_smtp(app, smtp.start())
    smtp.handler.refuse_next = 1  # the 取消通知's first attempt is refused (451)

    run_passes_at_once(app)

    # The 完了通知 waits for the 取消通知: nothing overtakes it while it is retried.
    assert smtp.handler.received == []
    void, capture = outbox(app)
    assert void.attempts == 1 and "451" in void.last_error
    assert capture.attempts == 0 and capture.sent_at is None

    move_clock(app, RETRY_BASE)
    run_passes_at_once(app)

    assert [m["Subject"] for m in smtp.messages] == [VOID_SUBJECT, CAPTURE_SUBJECT]
    assert "収納番号：0392026112000001" in smtp.messages[0].get_content()
