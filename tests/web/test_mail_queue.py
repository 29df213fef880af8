"""The outbox under production load (issue 13): workers claiming at the same moment take
different mails without waiting for each other (PostgreSQL), a stop never comes between a
mail accepted and its record, and the retention command trims old delivery records but never
メッセージ's text nor a 決済完了通知 before its booking's use date."""

from __future__ import annotations

import os
import signal
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from mail.delivery import FileTransport, claim_next, deliver_due_mail
from models.notice import Message
from models.outbox import OutboxMail
from tests.web.card_support import clock, database, outbox, pay_by_card

OLD = timedelta(days=500)


def queue(app, *addresses: str, sent_ago: timedelta | None = None, key: str = "test") -> list[int]:
    now = clock(app)
    with database(app).write() as session:
        rows = [
            OutboxMail(
                dedupe_key=f"{key}:{n}",
                to_address=address,
                subject=f"subject {n}",
                body=f"body {n}",
                created_at=now - (sent_ago or timedelta()),
                next_attempt_at=now - (sent_ago or timedelta()),
                sent_at=(now - sent_ago) if sent_ago else None,
            )
            for n, address in enumerate(addresses)
        ]
        session.add_all(rows)
        session.flush()
        for row in rows:
            session.add(
                Message(
                    resident_id=1, created_at=row.created_at, subject=row.subject, body=row.body, outbox_mail_id=row.id
                )
            )
        return [row.id for row in rows]


def test_a_claim_skips_a_mail_another_worker_holds_instead_of_waiting(app):
    db = database(app)
    if db.is_sqlite:
        pytest.skip("SQLite has one writer at a time: the claim is serialised there")
    first, second = queue(app, "a@example.jp", "b@example.jp")
    with db.write() as holder:
        # Another worker in the middle of its claim holds the oldest mail's row.
        holder.execute(select(OutboxMail.id).where(OutboxMail.id == first).with_for_update())
        db.engine.dispose()  # the claim below gets its own connection
        claimed = claim_next(db, clock(app))
    assert claimed is not None and claimed.id == second


def test_a_later_mail_to_the_same_address_still_waits_for_the_one_being_sent(app):
    first, _second = queue(app, "a@example.jp", "a@example.jp")
    assert claim_next(database(app), clock(app)).id == first
    assert claim_next(database(app), clock(app)) is None  # the second waits for the first


class StoppedWhileSending(FileTransport):
    """The worker's stop (SIGTERM, as systemd sends it) arrives while the server accepts."""

    def send(self, mail, message):
        super().send(mail, message)
        os.kill(os.getpid(), signal.SIGTERM)


def test_a_stop_during_a_send_comes_after_the_mail_is_recorded_as_sent(app, tmp_path):
    [mail_id] = queue(app, "a@example.jp")
    seen_at_stop = []

    def on_stop(*_):
        with database(app).read_session() as session:
            seen_at_stop.append(session.get(OutboxMail, mail_id).sent_at)

    previous = signal.signal(signal.SIGTERM, on_stop)
    try:
        result = deliver_due_mail(
            database(app), StoppedWhileSending(tmp_path / "mail"), "noreply@example.jp", clock(app)
        )
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert result.sent == 1
    assert len(seen_at_stop) == 1 and seen_at_stop[0] is not None


def test_deliver_stops_between_mails_when_asked(app, tmp_path):
    queue(app, "a@example.jp", "b@example.jp", "c@example.jp")
    asked = iter([False, True])
    result = deliver_due_mail(
        database(app),
        FileTransport(tmp_path / "mail"),
        "noreply@example.jp",
        clock(app),
        should_stop=lambda: next(asked),
    )
    assert result.sent == 1


# -- retention --------------------------------------------------------------------------------


def messages_text(app) -> list[str]:
    with database(app).read_session() as session:
        return sorted(session.scalars(select(Message.body)))


def run_retention(app, days: int = 400):
    result = app.test_cli_runner().invoke(args=["mail-retention", "--days", str(days)])
    assert result.exit_code == 0, result.output
    return result.output


def test_retention_deletes_old_delivery_records_but_never_the_messages_text(app):
    old = queue(app, "a@example.jp", "b@example.jp", sent_ago=OLD, key="old")
    recent = queue(app, "c@example.jp", sent_ago=timedelta(days=10), key="recent")
    unsent = queue(app, "d@example.jp", key="unsent")
    before = messages_text(app)

    assert "2 records of mail sent more than 400 days ago deleted" in run_retention(app)

    assert {m.id for m in outbox(app)} >= set(recent + unsent)
    assert not {m.id for m in outbox(app)} & set(old)
    assert messages_text(app) == before  # メッセージの確認 shows every notice still


def test_a_payment_completion_notice_is_kept_until_its_use_date_has_passed(paying_app):
    pay_by_card(paying_app)  # four 決済完了通知, the last for a booking 40 days ahead
    with database(paying_app).write() as session:
        for mail in session.scalars(select(OutboxMail)):
            mail.sent_at = clock(paying_app) - OLD
    count = len(outbox(paying_app))
    assert count >= 4

    run_retention(paying_app)
    assert len(outbox(paying_app)) == count  # the 利用承認書 of bookings still to come

    start = clock(paying_app)
    paying_app.config["FROZEN_NOW"] = (start + timedelta(days=40)).isoformat()  # the last booking's use date
    run_retention(paying_app)
    assert len(outbox(paying_app)) == 1  # its day has not passed yet

    paying_app.config["FROZEN_NOW"] = (start + timedelta(days=41)).isoformat()
    run_retention(paying_app)
    with database(paying_app).read_session() as session:
        assert session.scalar(select(func.count()).select_from(OutboxMail)) == 0
        assert session.scalar(select(func.count()).select_from(Message)) >= 4
