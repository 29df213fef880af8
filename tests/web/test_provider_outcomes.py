"""What recording the card company's word about a card page does (payments.settlement.
record_provider_outcome): one named outcome for each case, and UnknownCardSession, changing
nothing, for a document about no card page of ours. The documents are written here as the
card company sends them (payment_standin/README.md), so no provider is served."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select, update

from mail.compose import CallCentre
from models import errors
from models.payment import ChargeStatus, SettlementStatus, VoidStatus
from models.reservation import Reservation
from models.reservation_rules import ReservationState
from payments.settlement import ProviderOutcome, open_settlement, record_provider_outcome, start_settlement
from tests.conftest import FROZEN_NOW
from tests.web.test_payment import FIRST, SECOND, booking, charges_of, db, mails

NOW = datetime.fromisoformat(FROZEN_NOW)
SESSION_ID = "cs_" + "a" * 40


def call_centre(_locale: str) -> CallCentre:
    return CallCentre(phone="03-5431-5932", hours="平日9:00~21:00")


@pytest.fixture
def open_page(app) -> dict:
    """確定 and 次へ進む on FIRST (700円): a settlement waiting on its card page, and the
    document the card company answers about that page while it is open."""
    with db(app).write() as session:
        reservation = session.scalar(select(Reservation).where(Reservation.number == FIRST))
        resident_id = reservation.resident_id
        settlement = open_settlement(
            session, resident_id=resident_id, number=FIRST, expected_version=reservation.version, now=NOW
        )
        charge = start_settlement(
            session, resident_id=resident_id, settlement_id=settlement.id, call_centre=call_centre, now=NOW
        ).charge
        return {
            "session_id": SESSION_ID,
            "receipt_number": charge.receipt_number,
            "merchant_reference": FIRST,
            "amount_yen": 700,
            "status": "open",
        }


def record(app, document: dict, now: datetime = NOW):
    with db(app).write() as session:
        return record_provider_outcome(session, document, call_centre, now)


def captured(document: dict) -> dict:
    return {**document, "status": "captured", "captured_at": (NOW + timedelta(minutes=2)).isoformat()}


def test_a_capture_completes_the_settlement_and_the_same_capture_again_changes_nothing(app, open_page):
    first = record(app, captured(open_page))
    again = record(app, captured(open_page))

    assert (first.outcome, first.settlement_status) == (ProviderOutcome.COMPLETED, SettlementStatus.COMPLETED)
    assert (again.outcome, again.settlement_id) == (ProviderOutcome.UNCHANGED, first.settlement_id)
    assert booking(app, FIRST).state is ReservationState.CONFIRMED
    assert len(mails(app)) == 1


def test_a_page_still_open_records_nothing_but_binds_its_session(app, open_page):
    recorded = record(app, open_page)

    assert (recorded.outcome, recorded.settlement_status) == (ProviderOutcome.STILL_OPEN, SettlementStatus.PAYING)
    [charge] = charges_of(app, FIRST)
    assert (charge.status, charge.provider_session_id) == (ChargeStatus.OPEN, SESSION_ID)


@pytest.mark.parametrize("status", ["cancelled", "expired"])
def test_a_page_cancelled_or_expired_ends_the_settlement_once(app, open_page, status):
    first = record(app, {**open_page, "status": status})
    again = record(app, {**open_page, "status": status})

    assert (first.outcome, first.settlement_status) == (ProviderOutcome.ENDED, SettlementStatus.ABANDONED)
    assert again.outcome is ProviderOutcome.UNCHANGED
    [charge] = charges_of(app, FIRST)
    assert charge.status is ChargeStatus.FAILED
    assert booking(app, FIRST).state is ReservationState.PROVISIONAL and mails(app) == []


def test_a_capture_for_a_booking_that_changed_meanwhile_is_voided_at_once(app, open_page):
    with db(app).write() as session:  # changed in another tab while the card page was open
        session.execute(update(Reservation).where(Reservation.number == FIRST).values(version=Reservation.version + 1))

    recorded = record(app, captured(open_page))

    assert (recorded.outcome, recorded.settlement_status) == (
        ProviderOutcome.VOIDED_AT_ONCE,
        SettlementStatus.SUPERSEDED,
    )
    [charge] = charges_of(app, FIRST)
    assert (charge.status, charge.void_status) == (ChargeStatus.CAPTURED, VoidStatus.PENDING)
    assert booking(app, FIRST).state is ReservationState.PROVISIONAL
    assert [m.dedupe_key for m in mails(app)] == [f"superseded:{charge.receipt_number}"]


@pytest.mark.parametrize(
    ("change", "mismatch"),
    [
        ({"receipt_number": "0399999999999999"}, "receipt_number"),
        ({"amount_yen": 1}, "amount_yen"),
        ({"merchant_reference": SECOND}, "merchant_reference"),
    ],
)
def test_a_document_about_no_open_page_of_ours_changes_nothing(app, open_page, change, mismatch):
    with pytest.raises(errors.UnknownCardSession) as refused:
        record(app, captured({**open_page, **change}))

    assert refused.value.facts["mismatch"] == mismatch
    [charge] = charges_of(app, FIRST)
    assert (charge.status, charge.provider_session_id) == (ChargeStatus.OPEN, None)
    assert booking(app, FIRST).state is ReservationState.PROVISIONAL and mails(app) == []


def test_once_bound_another_session_cannot_speak_for_the_receipt(app, open_page):
    record(app, open_page)  # binds SESSION_ID

    with pytest.raises(errors.UnknownCardSession) as refused:
        record(app, captured({**open_page, "session_id": "cs_" + "b" * 40}))

    assert refused.value.facts["mismatch"] == "session_id"
    assert booking(app, FIRST).state is ReservationState.PROVISIONAL and mails(app) == []
