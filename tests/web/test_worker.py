"""The worker (Procfile `worker`): voids retried until the provider takes them, the payment
deadline (DESIGN rule 4), card sessions whose browser never came back, and the loop
surviving a failing job. Against the served stand-in provider and the real database."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import selectinload

from blueprints.apply.operations import RoomAnswers, apply_for_slots
from bookings.slots import SlotRef
from config import ROOT
from demo.card_payments import cancel_on_card_page, confirm_and_open_card_page, pay_on_card_page, record_return
from models import errors
from models.account import Resident
from models.deadline_rules import payment_closes_at
from models.notice import Message
from models.outbox import OutboxMail
from models.payment import CardCharge, ChargeStatus, Settlement, SettlementStatus, VoidStatus
from models.reservation import CounterPayment, Reservation
from models.reservation_rules import UNPAID_STATES, CancelKind, ReservationState
from payments.provider import provider_client
from payments.settlement import open_settlement, start_settlement
from payments.voids import VOID_RETRY_BASE
from tests.conftest import nobody_answers_url
from tests.web.card_support import URLS, clock, database, move_clock, outbox, run_worker, set_faults, settings
from worker import commands as worker_commands
from worker.jobs import RECHECK_OPEN_SESSION_AFTER as RECHECK
from worker.jobs import STALE_SESSION_AFTER as STALE
from worker.jobs import expire_overdue_bookings, settle_stale_sessions

EXPIRY_SUBJECT = "目黒区施設予約システム 予約の自動取消通知"


def provider(app):
    return provider_client(app.config)


def load(app, number: str) -> Reservation:
    with database(app).read_session() as session:
        return session.scalar(
            select(Reservation)
            .where(Reservation.number == number)
            .options(
                selectinload(Reservation.card_charges),
                selectinload(Reservation.settlements),
                selectinload(Reservation.resident),
            )
        )


def resident_id(app, registration_number: str = "00040675") -> int:
    with database(app).read_session() as session:
        return session.scalar(select(Resident.id).where(Resident.registration_number == registration_number))


def unpaid_by_deadline(app) -> list[tuple[str, object]]:
    """Every 仮予約 and 当選 with the moment its payment window closes, earliest first."""
    with database(app).read_session() as session:
        rows = session.scalars(select(Reservation).where(Reservation.state.in_(UNPAID_STATES))).all()
        return sorted(
            ((r.number, payment_closes_at(r.payment_basis, r.use_date, r.starts_at)) for r in rows),
            key=lambda row: row[1],
        )


def meguro_first_deadline(app) -> tuple[str, object]:
    meguro = resident_id(app)
    with database(app).read_session() as session:
        mine = set(session.scalars(select(Reservation.number).where(Reservation.resident_id == meguro)))
    return next(row for row in unpaid_by_deadline(app) if row[0] in mine)


def centre(app):
    return settings(app).call_centre


# Voids ---------------------------------------------------------------------------------


def orphan_capture(app) -> tuple[str, str, str]:
    """One 仮予約 paid by card (kept); then its fee changes and a settlement for the new
    total opens a card page, and the booking changes again in another tab before that page
    is paid: the capture arrives for a booking that changed and is voided at once (void
    pending). Returns the booking's number and both receipts."""
    number, _ = meguro_first_deadline(app)
    now = clock(app)
    first = confirm_and_open_card_page(
        database(app), provider(app), URLS, centre(app), now, resident_id=resident_id(app), number=number
    )
    record_return(database(app), provider(app), centre(app), now, pay_on_card_page(first, URLS.return_url))
    with database(app).write() as session:  # a projector added: the new total is due
        session.execute(
            update(Reservation)
            .where(Reservation.number == number)
            .values(facility_fee_yen=Reservation.facility_fee_yen + 500, version=Reservation.version + 1)
        )
    second = confirm_and_open_card_page(
        database(app), provider(app), URLS, centre(app), now, resident_id=resident_id(app), number=number
    )
    with database(app).write() as session:  # changed in another tab while the card page is open
        session.execute(update(Reservation).where(Reservation.number == number).values(version=Reservation.version + 1))
    record_return(database(app), provider(app), centre(app), now, pay_on_card_page(second, URLS.return_url))
    return number, first.receipt_number, second.receipt_number


def test_a_failing_void_is_retried_with_backoff_until_the_provider_takes_it(paying_app, payment_provider):
    number, kept, orphan = orphan_capture(paying_app)
    charges = {c.receipt_number: c for c in load(paying_app, number).card_charges}
    assert charges[orphan].void_status is VoidStatus.PENDING
    assert charges[kept].is_live
    set_faults(payment_provider, reset=True, fail_next_voids=2)
    started = clock(paying_app)

    first = run_worker(paying_app)

    assert first.exit_code == 0, first.output
    assert "voids: voided 0, failed 1" in first.output
    charge = {c.receipt_number: c for c in load(paying_app, number).card_charges}[orphan]
    assert charge.void_status is VoidStatus.PENDING and charge.void_attempts == 1
    assert "void_failed" in charge.void_last_error
    assert charge.next_void_at == started + VOID_RETRY_BASE

    assert "voids: voided 0, failed 0" in run_worker(paying_app).output  # not due yet
    move_clock(paying_app, VOID_RETRY_BASE)
    assert "voids: voided 0, failed 1" in run_worker(paying_app).output  # the second fault
    move_clock(paying_app, 2 * VOID_RETRY_BASE)
    last = run_worker(paying_app)

    assert "voids: voided 1, failed 0" in last.output
    charges = {c.receipt_number: c for c in load(paying_app, number).card_charges}
    assert charges[orphan].void_status is VoidStatus.VOIDED and charges[orphan].void_attempts == 2
    assert charges[orphan].voided_at == clock(paying_app)
    assert charges[kept].is_live
    ledger = {c["receipt_number"]: c for c in provider(paying_app).ledger()["charges"]}
    assert ledger[orphan]["voided"] is True and ledger[kept]["voided"] is False
    reconcile = paying_app.test_cli_runner().invoke(args=["reconcile"])
    assert reconcile.exit_code == 0, reconcile.output
    assert "Result: the ledgers agree." in reconcile.output


# Payment deadline (rule 4) --------------------------------------------------------------


def test_an_overdue_booking_is_cancelled_by_expiry_and_the_resident_told(app):
    number, closes_at = meguro_first_deadline(app)
    before = load(app, number)
    app.config["FROZEN_NOW"] = closes_at.isoformat()

    on_time = run_worker(app)

    assert on_time.exit_code == 0, on_time.output
    assert load(app, number).state is before.state  # the last second still counts

    app.config["FROZEN_NOW"] = (closes_at + timedelta(seconds=1)).isoformat()
    result = run_worker(app)

    assert result.exit_code == 0, result.output
    now = clock(app)
    after = load(app, number)
    assert after.state is ReservationState.CANCELLED
    assert after.cancel_kind is CancelKind.EXPIRY
    assert after.cancelled_at == now
    assert after.cancellation_fee_yen == 0
    assert after.version == before.version + 1
    # Every unpaid booking past its deadline is cancelled, and only those.
    remaining = unpaid_by_deadline(app)
    assert remaining and all(closes >= now for _, closes in remaining)
    mail = next(m for m in outbox(app) if m.dedupe_key == f"expiry:{number}")
    assert mail.subject == EXPIRY_SUBJECT
    assert mail.to_address == "meguro-dantai@example.jp"
    assert number in mail.body and "再予約できません" in mail.body
    assert mail.sent_at == now  # delivered in the same pass (as a file: no SMTP_HOST here)
    assert list((Path(app.instance_path) / "mail").glob(f"*-expiry-{number}.eml"))
    with database(app).read_session() as session:
        assert session.scalar(
            select(Message).where(Message.resident_id == after.resident_id, Message.subject == EXPIRY_SUBJECT)
        )

    run_worker(app)  # a second pass changes nothing
    assert load(app, number).version == after.version
    assert len([m for m in outbox(app) if m.dedupe_key == f"expiry:{number}"]) == 1


def test_the_expiry_notice_is_in_the_residents_language(app):
    number, closes_at = meguro_first_deadline(app)
    with database(app).write() as session:
        session.get(Resident, resident_id(app)).preferred_locale = "en"
    app.config["FROZEN_NOW"] = (closes_at + timedelta(seconds=1)).isoformat()

    run_worker(app)

    mail = next(m for m in outbox(app) if m.dedupe_key == f"expiry:{number}")
    assert mail.subject == "Meguro City Facility Reservation System: booking cancelled automatically"
    assert "Your group cannot book the same room, date and time slot again." in mail.body
    assert number in mail.body
    assert app.config["CALL_CENTRE_HOURS_EN"] in mail.body
    with database(app).read_session() as session:
        reservation = session.scalar(select(Reservation).where(Reservation.number == number))
        assert reservation.room.facility.name_en in mail.body and "区" not in mail.body


def test_a_won_booking_expires_and_its_slot_is_closed_to_the_group_only(app):
    with database(app).read_session() as session:
        won = session.scalar(select(Reservation).where(Reservation.state == ReservationState.WON))
        slot = SlotRef(won.room_id, won.use_date, won.time_band_id)
        answers = {won.room_id: RoomAnswers(won.purpose_id, 10, False)}
        number, closes_at = won.number, payment_closes_at(won.payment_basis, won.use_date, won.starts_at)
    assert closes_at.date() < slot.use_date  # 14 days after the result, well before the use date
    app.config["FROZEN_NOW"] = (closes_at + timedelta(seconds=1)).isoformat()

    run_worker(app)

    assert load(app, number).state is ReservationState.CANCELLED
    assert load(app, number).cancel_kind is CancelKind.EXPIRY
    with database(app).write() as session, pytest.raises(errors.RebookingBlocked):
        meguro = session.get(Resident, resident_id(app))
        apply_for_slots(
            session,
            resident_id=meguro.id,
            slots=[slot],
            answers=answers,
            group_class_id=meguro.group_classes[0].group_class_id,
            now=clock(app),
            days_ahead=90,
        )
    with database(app).write() as session:
        komaba = session.get(Resident, resident_id(app, "00040676"))
        application = apply_for_slots(
            session,
            resident_id=komaba.id,
            slots=[slot],
            answers=answers,
            group_class_id=komaba.group_classes[0].group_class_id,
            now=clock(app),
            days_ahead=90,
        )
        assert application.reservations[0].state is ReservationState.PROVISIONAL


def test_no_expiry_while_money_is_held(app):
    number, closes_at = meguro_first_deadline(app)
    with database(app).write() as session:
        reservation = session.scalar(select(Reservation).where(Reservation.number == number))
        reservation.counter_payments.append(
            CounterPayment(amount_yen=100, paid_at=clock(app), receipt_number="0130000000099999")
        )
    moment = closes_at + timedelta(seconds=1)

    result = expire_overdue_bookings(database(app), None, settings(app), moment)

    assert number in result.kept and number not in result.cancelled
    assert load(app, number).state is ReservationState.PROVISIONAL


def test_no_expiry_while_the_card_page_is_open_then_expiry_once_it_is_abandoned(paying_app):
    number, closes_at = meguro_first_deadline(paying_app)
    page = confirm_and_open_card_page(
        database(paying_app),
        provider(paying_app),
        URLS,
        centre(paying_app),
        clock(paying_app),
        resident_id=resident_id(paying_app),
        number=number,
    )
    paying_app.config["FROZEN_NOW"] = (closes_at + timedelta(seconds=1)).isoformat()

    open_page = run_worker(paying_app)

    assert open_page.exit_code == 0, open_page.output
    assert "card sessions: settled 0, still open 1" in open_page.output
    assert "payment deadline: cancelled 0, kept 1" in open_page.output
    assert load(paying_app, number).state is ReservationState.PROVISIONAL

    # 決済を中止する, and the browser never comes back (the notification cannot arrive).
    cancel_on_card_page(page, URLS.return_url)
    assert "card sessions: settled 0, still open 0" in run_worker(paying_app).output  # asked a moment ago
    move_clock(paying_app, RECHECK)
    ended = run_worker(paying_app)

    assert "card sessions: settled 1" in ended.output
    after = load(paying_app, number)
    assert after.state is ReservationState.CANCELLED and after.cancel_kind is CancelKind.EXPIRY
    settlement = next(s for s in after.settlements if s.id == page.settlement_id)
    assert settlement.status is SettlementStatus.ABANDONED and settlement.outcome == "cancelled"
    assert provider(paying_app).ledger()["charges"] == []


# Card sessions whose browser never came back ------------------------------------------------


def test_a_capture_whose_browser_never_returned_is_recorded_by_the_worker(paying_app):
    number, _ = meguro_first_deadline(paying_app)
    page = confirm_and_open_card_page(
        database(paying_app),
        provider(paying_app),
        URLS,
        centre(paying_app),
        clock(paying_app),
        resident_id=resident_id(paying_app),
        number=number,
    )
    pay_on_card_page(page, URLS.return_url)  # paid; the browser is closed before the return

    early = run_worker(paying_app)
    assert "card sessions: settled 0, still open 0" in early.output  # the return may still come
    assert load(paying_app, number).state is ReservationState.PROVISIONAL

    move_clock(paying_app, STALE)
    late = run_worker(paying_app)

    assert late.exit_code == 0, late.output
    assert "card sessions: settled 1" in late.output
    after = load(paying_app, number)
    assert after.state is ReservationState.CONFIRMED
    assert after.live_charge.receipt_number == page.receipt_number
    assert next(s for s in after.settlements if s.id == page.settlement_id).status is SettlementStatus.COMPLETED
    mail = next(m for m in outbox(paying_app) if m.dedupe_key == f"capture:{page.receipt_number}")
    assert f"収納番号：{page.receipt_number}" in mail.body and mail.sent_at is not None
    reconcile = paying_app.test_cli_runner().invoke(args=["reconcile"])
    assert reconcile.exit_code == 0, reconcile.output


def test_open_card_pages_are_asked_about_in_turn_once_a_minute(paying_app):
    """Long-open card pages (延長) are not asked about at every pass, and a batch of them
    does not keep the others waiting: a page never asked about goes first, then the least
    recently asked."""
    meguro = resident_id(paying_app)
    with database(paying_app).read_session() as session:
        mine = set(session.scalars(select(Reservation.number).where(Reservation.resident_id == meguro)))
    a, b, c = [number for number, _ in unpaid_by_deadline(paying_app) if number in mine][:3]

    def open_page(number: str) -> str:
        return confirm_and_open_card_page(
            database(paying_app),
            provider(paying_app),
            URLS,
            centre(paying_app),
            clock(paying_app),
            resident_id=meguro,
            number=number,
        ).receipt_number

    pages = {number: open_page(number) for number in (a, b)}
    move_clock(paying_app, STALE)
    one_at_a_time = settings(paying_app, batch_size=1)

    def asked() -> list[str]:
        return settle_stale_sessions(
            database(paying_app), provider(paying_app), one_at_a_time, clock(paying_app)
        ).still_open

    assert asked() == [pages[a]]
    move_clock(paying_app, timedelta(seconds=30))
    assert asked() == [pages[b]]  # a was asked 30 s ago
    assert asked() == []  # both asked within the minute
    move_clock(paying_app, timedelta(seconds=31))
    assert asked() == [pages[a]]  # b was asked 31 s ago
    move_clock(paying_app, timedelta(seconds=60))
    assert asked() == [pages[b]]  # both due: b asked 91 s ago, a 60 s ago
    pages[c] = open_page(c)
    move_clock(paying_app, STALE)
    assert asked() == [pages[c]]  # never asked: before a and b, though they have waited longer


def test_a_card_session_the_provider_never_opened_ends_after_a_while(paying_app):
    number, _ = meguro_first_deadline(paying_app)
    meguro = resident_id(paying_app)
    with database(paying_app).write() as session:  # 次へ進む, but the provider call never happened
        reservation = session.scalar(select(Reservation).where(Reservation.number == number))
        settlement = open_settlement(
            session, resident_id=meguro, number=number, expected_version=reservation.version, now=clock(paying_app)
        )
        charge = start_settlement(
            session,
            resident_id=meguro,
            settlement_id=settlement.id,
            call_centre=centre(paying_app),
            now=clock(paying_app),
        ).charge
        settlement_id, charge_id = settlement.id, charge.id
    move_clock(paying_app, STALE)

    result = run_worker(paying_app)

    assert "card sessions: settled 1" in result.output
    with database(paying_app).read_session() as session:
        assert session.get(Settlement, settlement_id).status is SettlementStatus.ABANDONED
        assert session.get(CardCharge, charge_id).status is ChargeStatus.FAILED
    assert load(paying_app, number).state is ReservationState.PROVISIONAL


# The loop -----------------------------------------------------------------------------------


def test_one_failing_job_does_not_stop_the_others(app, monkeypatch):
    def broken(database, provider, settings, now):
        raise RuntimeError("the job broke")

    monkeypatch.setattr(worker_commands, "JOBS", (("broken", broken), *worker_commands.JOBS))
    number, closes_at = meguro_first_deadline(app)
    app.config["FROZEN_NOW"] = (closes_at + timedelta(seconds=1)).isoformat()

    result = run_worker(app)

    assert result.exit_code == 1
    assert "broken: FAILED (RuntimeError: the job broke)" in result.output
    assert "payment deadline: cancelled" in result.output and "mail: sent" in result.output
    assert load(app, number).state is ReservationState.CANCELLED


def test_the_worker_loop_runs_passes_until_it_is_told_to_stop(app, database_url, tmp_path):
    number, closes_at = meguro_first_deadline(app)
    instance = tmp_path / "loop-instance"
    env = dict(
        os.environ,
        DATABASE_URL=database_url,
        INSTANCE_PATH=str(instance),
        SECRET_KEY="loop-secret",
        PAYMENT_PROVIDER_SECRET="loop-payment-secret",
        PAYMENT_PROVIDER_URL=nobody_answers_url(),
        FROZEN_NOW=(closes_at + timedelta(seconds=1)).isoformat(),
        WORKER_INTERVAL_SECONDS="0.2",
        SMTP_HOST="",
        REDIS_URL="",
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "app", "worker"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while not list((instance / "mail").glob(f"*-expiry-{number}.eml")) and time.monotonic() < deadline:
            assert process.poll() is None, process.communicate()
            time.sleep(0.1)
    finally:
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    assert "worker started" in err and "worker stopped" in err
    assert load(app, number).state is ReservationState.CANCELLED
    with database(app).read_session() as session:
        assert session.scalar(select(OutboxMail.sent_at).where(OutboxMail.dedupe_key == f"expiry:{number}")) is not None
