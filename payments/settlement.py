"""Card settlement (DESIGN "Settlement", rules 4, 6, 8, 9, 13, 14): quote, open, start,
record the provider's outcome. The one money path for first payments, fee changes and
refunds. Each step takes the session and `now` and runs inside the caller's transaction;
card_pages.py strings them together with the provider's HTTP between transactions."""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime

from sqlalchemy import ColumnElement, and_, case, exists, func, select
from sqlalchemy.orm import Session, selectinload

from mail.compose import CallCentre, ChargeFacts, capture_mail, superseded_mail, void_mail
from mail.outbox import queue_notice
from models import errors
from models.counters import next_value
from models.deadline_rules import payment_closes_at
from models.numbering_rules import receipt_counter_key, receipt_number
from models.payment import CardCharge, ChargeStatus, Settlement, SettlementStatus, VoidStatus
from models.reservation import CounterPayment, Reservation
from models.reservation_rules import ACTIVE_STATES, UNPAID_STATES, Action, ReservationState, next_state
from models.settlement_rules import (
    HeldCharge,
    SettlementPlan,
    check_void_window,
    held_charge_of,
    last_void_day,
    settlement_plan_rule,
)
from models.time_rules import jst_day, jst_moment
from payments.voids import request_void

# The call centre the mails name, in a mail language ("ja", "en").
CallCentres = Callable[[str], CallCentre]


@dataclass(frozen=True)
class SettlementQuote:
    """What 確認 shows: 決済予定額, クレジット取消予定額 with its 取消収納番号, and limits."""

    reservation: Reservation
    plan: SettlementPlan
    void_charge: CardCharge | None
    pay_by: datetime | None  # first payments only (rule 4)
    void_last_day: date | None  # rule 13


def held_charge(reservation: Reservation) -> HeldCharge | None:
    return held_charge_of(reservation.live_charge)


def is_first_payment(reservation: Reservation) -> bool:
    return reservation.state in UNPAID_STATES and reservation.live_charge is None


def pending_plan(reservation: Reservation) -> SettlementPlan | None:
    """The settlement this booking waits for, if any (rows with one come first in 選択)."""
    if reservation.is_counter_paid or reservation.state not in (*ACTIVE_STATES, ReservationState.CANCELLED):
        return None
    return settlement_plan_rule(held_charge(reservation), reservation.due_yen)


def pending_clause() -> ColumnElement[bool]:
    """`pending_plan(reservation) is not None` as SQL over `reservations`, so that a list can
    ask the database for the bookings waiting for a settlement instead of loading a group's
    whole history: not paid at the counter, 仮予約／当選／本予約／取消済, and the live card
    charge (0 without one) differs from what is due (the total fee while active, the
    cancellation fee once cancelled: settlement_rules.due_rule). It reads each booking's
    counter payments and live charge through their indexes on reservation_id.
    tests/web/test_payment_listing.py checks that it agrees with pending_plan."""
    held = (
        select(CardCharge.amount_yen)
        .where(
            CardCharge.reservation_id == Reservation.id,
            CardCharge.status == ChargeStatus.CAPTURED,
            CardCharge.void_status == VoidStatus.NONE,
        )
        .correlate(Reservation)
        .scalar_subquery()
    )
    due = case(
        (Reservation.state.in_(sorted(ACTIVE_STATES)), Reservation.facility_fee_yen + Reservation.equipment_fee_yen),
        else_=func.coalesce(Reservation.cancellation_fee_yen, 0),
    )
    return and_(
        Reservation.state.in_(sorted({*ACTIVE_STATES, ReservationState.CANCELLED})),
        ~exists().where(CounterPayment.reservation_id == Reservation.id),
        func.coalesce(held, 0) != due,
    )


def quote_settlement(reservation: Reservation, now: datetime) -> SettlementQuote:
    """The settlement this booking needs now, or the rule that refuses it."""
    if reservation.is_counter_paid:
        raise errors.CounterPaid(facility=reservation.room.facility)
    if reservation.state not in (*ACTIVE_STATES, ReservationState.CANCELLED):
        raise errors.InvalidTransition(state=reservation.state, action=Action.PAY)
    held = held_charge(reservation)
    plan = settlement_plan_rule(held, reservation.due_yen)
    if plan is None:
        raise errors.NothingToSettle()
    check_void_window(held, now)
    pay_by = None
    if is_first_payment(reservation):
        pay_by = payment_closes_at(reservation.payment_basis, reservation.use_date, reservation.starts_at)
        if now > pay_by:
            raise errors.PaymentWindowClosed(deadline=pay_by)
    return SettlementQuote(
        reservation=reservation,
        plan=plan,
        void_charge=reservation.live_charge,
        pay_by=pay_by,
        void_last_day=last_void_day(held.captured_at) if held else None,
    )


def load_own_reservation(session: Session, resident_id: int, number: str, *, lock: bool = False) -> Reservation:
    query = (
        select(Reservation)
        .where(Reservation.number == number, Reservation.resident_id == resident_id)
        .options(selectinload(Reservation.card_charges), selectinload(Reservation.counter_payments))
    )
    if lock:
        query = query.with_for_update()
    reservation = session.scalar(query)
    if reservation is None:
        raise errors.NotFound(number=number)
    return reservation


def open_settlement(
    session: Session, *, resident_id: int, number: str, expected_version: int, now: datetime
) -> Settlement:
    """確定: bind a settlement to the booking as the resident saw it on 確認."""
    reservation = load_own_reservation(session, resident_id, number, lock=True)
    if reservation.version != expected_version:
        raise errors.StaleBooking(number=number)
    quote = quote_settlement(reservation, now)
    settlement = Settlement(
        reservation_id=reservation.id,
        resident_id=resident_id,
        reservation_version=reservation.version,
        charge_yen=quote.plan.charge_yen,
        void_charge_id=quote.void_charge.id if quote.void_charge else None,
        status=SettlementStatus.QUOTED,
        created_at=now,
    )
    session.add(settlement)
    session.flush()
    return settlement


def load_own_settlement(session: Session, resident_id: int, settlement_id: int, *, lock: bool = False) -> Settlement:
    query = select(Settlement).where(Settlement.id == settlement_id, Settlement.resident_id == resident_id)
    if lock:
        query = query.with_for_update()
    settlement = session.scalar(query)
    if settlement is None:
        raise errors.NotFound(settlement=settlement_id)
    return settlement


@dataclass(frozen=True)
class PaymentStart:
    """After 注意事項: either the settlement is complete (void only), or the card page for
    `charge` must be opened at the provider."""

    settlement: Settlement
    charge: CardCharge | None
    stale: bool = False  # the booking changed since 確定: the settlement was abandoned


def start_settlement(
    session: Session, *, resident_id: int, settlement_id: int, call_centre: CallCentres, now: datetime
) -> PaymentStart:
    """次へ進む on 注意事項. Pressed twice, it returns the same charge (same 収納番号, same
    provider session); a void-only settlement completes here without a card page. When
    another tab already opened the card page for the same booking and amount, this
    settlement ends (nothing was charged) and that card page is returned instead: one
    booking, one card page."""
    settlement = load_own_settlement(session, resident_id, settlement_id, lock=True)
    if settlement.status in (SettlementStatus.PAYING, SettlementStatus.COMPLETED):
        return PaymentStart(settlement, settlement.new_charge)
    if settlement.status is not SettlementStatus.QUOTED:
        raise errors.StaleBooking(settlement=settlement_id)
    reservation = load_own_reservation(session, resident_id, settlement.reservation.number, lock=True)
    quote = _still_valid(settlement, reservation, now)
    if quote is None:
        # Ended for good (committed by the caller), then reported: not raised, which would
        # roll the ending back.
        settlement.status, settlement.outcome = SettlementStatus.ABANDONED, "booking_changed"
        session.flush()
        return PaymentStart(settlement, None, stale=True)
    open_elsewhere = session.scalar(
        select(Settlement)
        .where(
            Settlement.reservation_id == reservation.id,
            Settlement.id != settlement.id,
            Settlement.status == SettlementStatus.PAYING,
            Settlement.reservation_version == settlement.reservation_version,
            Settlement.charge_yen == settlement.charge_yen,
        )
        .order_by(Settlement.id)
    )
    if open_elsewhere is not None and open_elsewhere.void_charge_id == settlement.void_charge_id:
        settlement.status, settlement.outcome = SettlementStatus.ABANDONED, "another_open"
        session.flush()
        return PaymentStart(open_elsewhere, open_elsewhere.new_charge)
    if quote.plan.void_only:
        _complete(session, settlement, reservation, None, call_centre, now)
        return PaymentStart(settlement, None)
    facility_code = reservation.room.facility.code
    issued_on = jst_day(now)
    charge = CardCharge(
        reservation_id=reservation.id,
        settlement_id=settlement.id,
        receipt_number=receipt_number(
            facility_code, issued_on, next_value(session, receipt_counter_key(facility_code, issued_on))
        ),
        amount_yen=settlement.charge_yen,
        status=ChargeStatus.OPEN,
        created_at=now,
    )
    session.add(charge)
    session.flush()
    settlement.new_charge_id = charge.id
    settlement.status = SettlementStatus.PAYING
    session.flush()
    return PaymentStart(settlement, charge)


def attach_provider_session(session: Session, *, charge_id: int, provider_session_id: str, payment_url: str) -> None:
    charge = session.get_one(CardCharge, charge_id, with_for_update=True)
    if charge.provider_session_id is None:
        charge.provider_session_id = provider_session_id
        charge.payment_url = payment_url
    elif charge.provider_session_id != provider_session_id:
        raise ValueError("provider returned another session for the same receipt")


def _still_valid(settlement: Settlement, reservation: Reservation, now: datetime) -> SettlementQuote | None:
    """The quote, if the booking is as it was when the settlement was opened."""
    if reservation.version != settlement.reservation_version:
        return None
    try:
        quote = quote_settlement(reservation, now)
    except errors.DomainError:
        return None
    void_id = quote.void_charge.id if quote.void_charge else None
    if quote.plan.charge_yen != settlement.charge_yen or void_id != settlement.void_charge_id:
        return None
    return quote


def _charge_facts(reservation: Reservation, charge: CardCharge) -> ChargeFacts:
    room = reservation.room
    cancelled = reservation.state is ReservationState.CANCELLED
    return ChargeFacts(
        resident_name=reservation.resident.name,
        receipt_number=charge.receipt_number,
        amount_yen=charge.amount_yen,
        use_date=reservation.use_date,
        starts_at=reservation.starts_at,
        ends_at=reservation.ends_at,
        place=f"{room.facility.name_ja} {room.name_ja}"
        if reservation.resident.preferred_locale == "ja"
        else f"{room.facility.name_en} {room.name_en}",
        fee_yen=charge.amount_yen if cancelled else reservation.total_fee_yen,
        is_cancellation_fee=cancelled,
    )


def _complete(session, settlement, reservation, new_charge, call_centre: CallCentres, now) -> None:
    """Held becomes due: the old charge turns void-pending and the new one (if any) is the
    live charge, in one transaction; both mails are queued, 取消通知 first."""
    locale = reservation.resident.preferred_locale
    centre = call_centre(locale)
    old = settlement.void_charge
    if old is not None and old.is_live:
        request_void(old, now)
        session.flush()  # the old charge stops being live before the new one starts
        queue_notice(
            session,
            resident=reservation.resident,
            dedupe_key=f"void:{old.receipt_number}",
            mail=void_mail(
                replace(
                    _charge_facts(reservation, old),
                    replaced_by_new_charge=new_charge is not None
                    and reservation.state is not ReservationState.CANCELLED,
                ),
                centre,
                locale,
            ),
            now=now,
        )
    if new_charge is not None:
        new_charge.status = ChargeStatus.CAPTURED
        session.flush()
    if reservation.state in UNPAID_STATES and new_charge is not None:
        reservation.state = next_state(reservation.state, Action.PAY)
        reservation.confirmed_at = now
    reservation.version += 1
    settlement.status = SettlementStatus.COMPLETED
    settlement.completed_at = now
    if new_charge is not None:
        queue_notice(
            session,
            resident=reservation.resident,
            dedupe_key=f"capture:{new_charge.receipt_number}",
            mail=capture_mail(_charge_facts(reservation, new_charge), centre, locale),
            now=now,
        )
    session.flush()


class ProviderOutcome(enum.Enum):
    """What recording the provider's word about a card page did."""

    COMPLETED = "completed"  # captured: the settlement completed (held = due), 決済完了通知 queued
    VOIDED_AT_ONCE = "voided_at_once"  # captured, but the booking changed, the settlement had
    # ended or a first payment came after the slot started: void pending, the resident told
    ENDED = "ended"  # cancelled or expired at the provider: nothing charged, the settlement abandoned
    UNCHANGED = "unchanged"  # recorded before (a second return, a duplicate or late notification)
    STILL_OPEN = "still_open"  # the card page is still open at the provider: nothing to record yet


@dataclass(frozen=True)
class Recorded:
    """The outcome, and the settlement it belongs to as it stands afterwards."""

    outcome: ProviderOutcome
    settlement_id: int
    settlement_status: SettlementStatus


def record_provider_outcome(session: Session, document: dict, call_centre: CallCentres, now: datetime) -> Recorded:
    """Apply what the provider says about a session (from the browser's return after a
    status query, from a notification, or from the worker's status query). Idempotent: the
    same outcome twice changes nothing; a capture for a booking that changed meanwhile is
    voided at once. Raises errors.UnknownCardSession, changing nothing, when the document
    is not about a card page we opened: an unknown 収納番号, or another session, amount or
    booking than that 収納番号's."""
    receipt = str(document.get("receipt_number"))
    charge = session.scalar(select(CardCharge).where(CardCharge.receipt_number == receipt).with_for_update())
    if charge is None:
        raise errors.UnknownCardSession(receipt_number=receipt, mismatch="receipt_number")
    if charge.provider_session_id and document.get("session_id") != charge.provider_session_id:
        raise errors.UnknownCardSession(receipt_number=receipt, mismatch="session_id")
    if document.get("amount_yen") != charge.amount_yen:
        raise errors.UnknownCardSession(receipt_number=receipt, mismatch="amount_yen")
    settlement = session.get_one(Settlement, charge.settlement_id, with_for_update=True)
    if document.get("merchant_reference") != settlement.reservation.number:
        raise errors.UnknownCardSession(receipt_number=receipt, mismatch="merchant_reference")
    if charge.provider_session_id is None and isinstance(document.get("session_id"), str):
        # Heard of before our own record of it (the browser never came back from opening
        # the card page): bound now, so no other session can speak for this receipt.
        charge.provider_session_id = document["session_id"]
    outcome = _apply_status(session, settlement, charge, document, call_centre, now)
    return Recorded(outcome, settlement.id, settlement.status)


def _apply_status(session, settlement, charge, document: dict, call_centre: CallCentres, now) -> ProviderOutcome:
    status = document.get("status")
    if status == "captured":
        if charge.status is ChargeStatus.CAPTURED:
            return ProviderOutcome.UNCHANGED
        charge.captured_at = _parse_time(document.get("captured_at")) or now
        charge.closed_at = now
        reservation = session.scalar(
            select(Reservation).where(Reservation.id == charge.reservation_id).with_for_update()
        )
        # The earlier of the card company's capture time and ours: a notification that
        # arrives late does not make a payment late, nor does a clock that runs ahead.
        late = _first_payment_after_the_slot_started(reservation, min(charge.captured_at, now))
        if (
            settlement.status is SettlementStatus.PAYING
            and not late
            and _still_valid_for_capture(settlement, reservation, now)
        ):
            _complete(session, settlement, reservation, charge, call_centre, now)
            return ProviderOutcome.COMPLETED
        # Orphan capture: the booking changed (or the settlement ended) while the card
        # page was open, or a first payment came after the slot started (rule 4).
        # Void it at once and tell the resident.
        charge.status = ChargeStatus.CAPTURED
        request_void(charge, now)
        reason = SLOT_STARTED if late else "booking_changed"
        if settlement.status in (SettlementStatus.PAYING, SettlementStatus.QUOTED):
            settlement.status, settlement.outcome = SettlementStatus.SUPERSEDED, reason
        locale = reservation.resident.preferred_locale
        queue_notice(
            session,
            resident=reservation.resident,
            dedupe_key=f"superseded:{charge.receipt_number}",
            mail=superseded_mail(
                _charge_facts(reservation, charge), call_centre(locale), locale, slot_started=reason == SLOT_STARTED
            ),
            now=now,
        )
        session.flush()
        return ProviderOutcome.VOIDED_AT_ONCE
    if status in ("cancelled", "expired"):
        if charge.status is not ChargeStatus.OPEN:
            return ProviderOutcome.UNCHANGED
        charge.status = ChargeStatus.FAILED
        charge.closed_at = now
        if settlement.status is SettlementStatus.PAYING:
            settlement.status, settlement.outcome = SettlementStatus.ABANDONED, status
        session.flush()
        return ProviderOutcome.ENDED
    return ProviderOutcome.STILL_OPEN


SLOT_STARTED = "slot_started"


def _first_payment_after_the_slot_started(reservation: Reservation, captured_at: datetime) -> bool:
    """A first payment is never taken once the slot has started (DESIGN rule 4), however
    long the card page was kept open; later settlements (fee changes, refunds) are not
    bound by it."""
    return reservation.state in UNPAID_STATES and captured_at >= jst_moment(reservation.use_date, reservation.starts_at)


def _still_valid_for_capture(settlement: Settlement, reservation: Reservation, now: datetime) -> bool:
    """At capture the deadline no longer matters (the card page was opened in time); the
    booking must be unchanged and still need this settlement."""
    if reservation.version != settlement.reservation_version:
        return False
    live = reservation.live_charge
    if (live.id if live else None) != settlement.void_charge_id:
        return False
    return reservation.due_yen == settlement.charge_yen


def _parse_time(value) -> datetime | None:
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except (TypeError, ValueError):
        return None
    # The provider's times are UTC; one without an offset is read as UTC, not refused.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def has_open_card_session(reservation: Reservation) -> bool:
    """The worker never expires a booking whose card page is open (DESIGN "Settlement")."""
    return any(s.status is SettlementStatus.PAYING for s in reservation.settlements)
