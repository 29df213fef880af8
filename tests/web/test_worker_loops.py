"""The worker's loop (issue 13): the card company's jobs and the mail run apart, so a card
company that hangs never holds up a mail; the outcome of each job is one JSON log line."""

from __future__ import annotations

import json
import logging
import threading
import time

from sqlalchemy import select

from demo.card_payments import CARD_PAID
from models.outbox import OutboxMail
from models.payment import CardCharge, VoidStatus
from tests.web.card_support import clock, database, pay_by_card
from web.log_format import JsonLines
from worker import commands


class HangingCardCompany:
    """Answers a void only when the test lets it (as a card company that hangs would)."""

    def __init__(self):
        self.void_started = threading.Event()
        self.release = threading.Event()
        self.void_finished = False

    def void(self, receipt_number: str) -> dict:
        self.void_started.set()
        self.release.wait(60)
        self.void_finished = True
        return {"receipt_number": receipt_number, "status": "voided"}

    def get_receipt(self, receipt_number: str) -> dict:
        raise AssertionError("no card page is open in this test")


def unsent(app) -> int:
    with database(app).read_session() as session:
        return len(session.scalars(select(OutboxMail.id).where(OutboxMail.sent_at.is_(None))).all())


def test_a_hanging_card_company_never_holds_up_the_mail(paying_app, monkeypatch):
    pay_by_card(paying_app, CARD_PAID[:1])  # a captured charge and its 決済完了通知, unsent
    with database(paying_app).write() as session:
        charge = session.scalars(select(CardCharge)).first()
        charge.void_status, charge.void_requested_at, charge.next_void_at = (
            VoidStatus.PENDING,
            clock(paying_app),
            clock(paying_app),
        )
    assert unsent(paying_app) >= 1
    card_company = HangingCardCompany()
    monkeypatch.setattr(commands, "provider_client", lambda config: card_company)
    stop = threading.Event()
    loops = threading.Thread(target=commands.run_loops, args=(paying_app, stop, 0.2))
    loops.start()
    try:
        assert card_company.void_started.wait(60), "the void was never sent"
        deadline = time.monotonic() + 60
        while unsent(paying_app) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert unsent(paying_app) == 0, "the mail waited for the card company"
        assert not card_company.void_finished  # still hanging while the mail went out
    finally:
        card_company.release.set()
        stop.set()
        loops.join(60)
    assert not loops.is_alive()


def test_each_job_that_did_something_is_one_json_line(paying_app, caplog):
    pay_by_card(paying_app, CARD_PAID[:1])
    caplog.set_level(logging.INFO, logger="worker")
    with paying_app.app_context():
        commands.run_pass(paying_app)
    lines = [json.loads(JsonLines().format(r)) for r in caplog.records if getattr(r, "event", None) == "job"]
    [document] = [line for line in lines if line["job"] == "mail"]  # one line for the mail job
    assert document["outcome"].startswith("sent 1")
    assert document["duration_ms"] >= 0
