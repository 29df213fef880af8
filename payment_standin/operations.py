"""What the provider does, one function per action. Each takes the SQLAlchemy session and
`now` explicitly, loads, applies the rules, and never imports Flask; the caller owns the
transaction (Database.write), so a change and its notification commit together."""

from __future__ import annotations

import enum
import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from payment_standin.cards import Card
from payment_standin.errors import (
    ExtensionLimitReached,
    NotCaptured,
    ReceiptConflict,
    ReceiptNotFound,
    SessionClosed,
    SessionNotFound,
)
from payment_standin.models import FaultSettings, Notification, PaymentSession
from payment_standin.status import SessionStatus, can_transition, is_payable

FAULTS_ROW_ID = 1


@dataclass(frozen=True)
class SessionRequest:
    """A validated POST /api/sessions body."""

    merchant_reference: str
    receipt_number: str
    amount_yen: int
    return_url: str
    notify_url: str
    limit_seconds: int
    locale: str = "ja"


class PaymentOutcome(enum.Enum):
    CAPTURED = "captured"  # this call captured, or an earlier submit already had
    DECLINED = "declined"  # the card was declined; the page stays open for another
    CLOSED = "closed"  # cancelled or expired: nothing was charged


def iso(moment: datetime | None) -> str | None:
    return moment.isoformat(timespec="seconds") if moment else None


def new_session_id() -> str:
    return "cs_" + secrets.token_urlsafe(32)


# Faults ---------------------------------------------------------------------------------
def fault_settings(session: Session, *, for_update: bool = False) -> FaultSettings:
    query = select(FaultSettings).where(FaultSettings.id == FAULTS_ROW_ID)
    if for_update:
        query = query.with_for_update()
    row = session.scalars(query).first()
    if row is None:
        row = FaultSettings(
            id=FAULTS_ROW_ID, fail_next_voids=0, delay_notifications_seconds=0, duplicate_notifications=False
        )
        session.add(row)
        session.flush()
    return row


def configure_faults(session: Session, changes: dict) -> FaultSettings:
    """Set the given fault fields; `reset` first clears all of them."""
    row = fault_settings(session, for_update=True)
    if changes.get("reset"):
        row.fail_next_voids, row.delay_notifications_seconds, row.duplicate_notifications = 0, 0, False
    for name in ("fail_next_voids", "delay_notifications_seconds", "duplicate_notifications"):
        if name in changes:
            setattr(row, name, changes[name])
    return row


def take_void_failure(session: Session) -> bool:
    """Consume one of the 'next N voids fail' if any is left."""
    row = fault_settings(session, for_update=True)
    if row.fail_next_voids <= 0:
        return False
    row.fail_next_voids -= 1
    return True


# Sessions -------------------------------------------------------------------------------
def open_session(session: Session, now: datetime, request: SessionRequest) -> tuple[PaymentSession, bool]:
    """The session for this receipt number, created when new. The same receipt with the
    same amount and reference is the same session (a retried call); otherwise conflict."""
    existing = session.scalars(
        select(PaymentSession).where(PaymentSession.receipt_number == request.receipt_number)
    ).first()
    if existing is not None:
        if existing.amount_yen != request.amount_yen or existing.merchant_reference != request.merchant_reference:
            raise ReceiptConflict()
        return existing, False
    created = PaymentSession(
        id=new_session_id(),
        merchant_reference=request.merchant_reference,
        receipt_number=request.receipt_number,
        amount_yen=request.amount_yen,
        return_url=request.return_url,
        notify_url=request.notify_url,
        locale=request.locale,
        status=SessionStatus.OPEN.value,
        limit_seconds=request.limit_seconds,
        created_at=now,
        expires_at=now + timedelta(seconds=request.limit_seconds),
        extensions_used=0,
        decline_count=0,
    )
    session.add(created)
    session.flush()
    return created, True


def load_session(session: Session, session_id: str, *, for_update: bool = False) -> PaymentSession:
    query = select(PaymentSession).where(PaymentSession.id == session_id)
    if for_update:
        query = query.with_for_update()
    found = session.scalars(query).first()
    if found is None:
        raise SessionNotFound()
    return found


def load_by_receipt(session: Session, receipt_number: str, *, for_update: bool = False) -> PaymentSession:
    query = select(PaymentSession).where(PaymentSession.receipt_number == receipt_number)
    if for_update:
        query = query.with_for_update()
    found = session.scalars(query).first()
    if found is None:
        raise ReceiptNotFound()
    return found


def _move(payment: PaymentSession, new: SessionStatus) -> None:
    if not can_transition(payment.state, new):
        raise SessionClosed()
    payment.status = new.value


def is_overdue(payment: PaymentSession, now: datetime) -> bool:
    return is_payable(payment.state) and now >= payment.expires_at


def expire_if_overdue(session: Session, now: datetime, payment: PaymentSession) -> bool:
    """Close a payable session whose time limit has passed (nothing is charged) and queue
    its notification. The caller holds the row lock."""
    if not is_overdue(payment, now):
        return False
    _move(payment, SessionStatus.EXPIRED)
    payment.closed_at = now
    queue_notification(session, now, payment, "payment.expired")
    return True


def refresh_session(session: Session, now: datetime, session_id: str) -> PaymentSession:
    """The session as of `now`, expired first if its time is up."""
    payment = load_session(session, session_id, for_update=True)
    expire_if_overdue(session, now, payment)
    return payment


def capture_payment(session: Session, now: datetime, session_id: str, card: Card) -> PaymentOutcome:
    """Charge the card once. A second submit finds the session captured and reports the
    first result; after the time limit nothing is charged."""
    payment = refresh_session(session, now, session_id)
    if payment.state is SessionStatus.CAPTURED:
        return PaymentOutcome.CAPTURED
    if not is_payable(payment.state):
        return PaymentOutcome.CLOSED
    if card.is_declined_test_card:
        _move(payment, SessionStatus.DECLINED)
        payment.decline_count += 1
        return PaymentOutcome.DECLINED
    _move(payment, SessionStatus.CAPTURED)
    payment.captured_at = now
    payment.closed_at = now
    payment.card_brand = card.brand.display
    payment.card_last4 = card.last4
    queue_notification(session, now, payment, "payment.captured")
    return PaymentOutcome.CAPTURED


def cancel_session(session: Session, now: datetime, session_id: str) -> PaymentSession:
    """決済を中止する: close without charging. On a closed session nothing changes."""
    payment = refresh_session(session, now, session_id)
    if is_payable(payment.state):
        _move(payment, SessionStatus.CANCELLED)
        payment.closed_at = now
        queue_notification(session, now, payment, "payment.cancelled")
    return payment


def extend_session(session: Session, now: datetime, session_id: str, max_extensions: int) -> PaymentSession:
    """延長: the time limit starts again from now (never shortened)."""
    payment = refresh_session(session, now, session_id)
    if not is_payable(payment.state):
        raise SessionClosed()
    if payment.extensions_used >= max_extensions:
        raise ExtensionLimitReached()
    payment.extensions_used += 1
    payment.expires_at = max(payment.expires_at, now + timedelta(seconds=payment.limit_seconds))
    return payment


def void_receipt(session: Session, now: datetime, receipt_number: str) -> PaymentSession:
    """Void the captured charge of a receipt; a second void changes nothing and answers
    the same."""
    payment = load_by_receipt(session, receipt_number, for_update=True)
    expire_if_overdue(session, now, payment)
    if payment.state is not SessionStatus.CAPTURED:
        raise NotCaptured()
    if payment.voided_at is None:
        payment.voided_at = now
    return payment


def expire_overdue_sessions(session: Session, now: datetime, limit: int = 100) -> int:
    ids = session.scalars(
        select(PaymentSession.id)
        .where(PaymentSession.status.in_([SessionStatus.OPEN.value, SessionStatus.DECLINED.value]))
        .where(PaymentSession.expires_at <= now)
        .limit(limit)
    ).all()
    expired = 0
    for session_id in ids:
        expired += expire_if_overdue(session, now, load_session(session, session_id, for_update=True))
    return expired


def charges(session: Session) -> list[PaymentSession]:
    """Every captured charge, voided or not, oldest first."""
    return list(
        session.scalars(
            select(PaymentSession)
            .where(PaymentSession.captured_at.is_not(None))
            .order_by(PaymentSession.captured_at, PaymentSession.receipt_number)
        )
    )


# Views of a session for the API and notifications ------------------------------------------
def session_document(payment: PaymentSession) -> dict:
    return {
        "session_id": payment.id,
        "status": payment.status,
        "merchant_reference": payment.merchant_reference,
        "receipt_number": payment.receipt_number,
        "amount_yen": payment.amount_yen,
        "created_at": iso(payment.created_at),
        "expires_at": iso(payment.expires_at),
        "extensions_used": payment.extensions_used,
        "decline_count": payment.decline_count,
        "captured_at": iso(payment.captured_at),
        "voided": payment.voided_at is not None,
        "voided_at": iso(payment.voided_at),
        "closed_at": iso(payment.closed_at),
        "card_brand": payment.card_brand,
        "card_last4": payment.card_last4,
    }


def charge_document(payment: PaymentSession) -> dict:
    return {
        "receipt_number": payment.receipt_number,
        "merchant_reference": payment.merchant_reference,
        "session_id": payment.id,
        "amount_yen": payment.amount_yen,
        "captured_at": iso(payment.captured_at),
        "voided": payment.voided_at is not None,
        "voided_at": iso(payment.voided_at),
    }


def ledger_document(session: Session) -> dict:
    rows = charges(session)
    captured = sum(p.amount_yen for p in rows)
    voided = sum(p.amount_yen for p in rows if p.voided_at is not None)
    return {
        "charges": [charge_document(p) for p in rows],
        "captured_yen": captured,
        "voided_yen": voided,
        "held_yen": captured - voided,
    }


# Notifications ---------------------------------------------------------------------------
def queue_notification(session: Session, now: datetime, payment: PaymentSession, event_type: str) -> str:
    """Write the notification to the outbox in the caller's transaction. The fault
    control may hold it back for a while or queue it twice (same event id)."""
    faults = fault_settings(session)
    event_id = "evt_" + secrets.token_urlsafe(16)
    body = json.dumps(
        {"event_id": event_id, "type": event_type, "occurred_at": iso(now), "session": session_document(payment)},
        ensure_ascii=False,
        separators=(",", ":"),
    )
    due = now + timedelta(seconds=faults.delay_notifications_seconds)
    copies = 2 if faults.duplicate_notifications else 1
    for _ in range(copies):
        session.add(
            Notification(
                event_id=event_id,
                session_id=payment.id,
                event_type=event_type,
                url=payment.notify_url,
                body=body,
                created_at=now,
                next_attempt_at=due,
                attempts=0,
            )
        )
    session.flush()
    return event_id


def claim_due_notifications(session: Session, now: datetime, lease_seconds: int, limit: int = 20) -> list[Notification]:
    """Claim notifications that are due, so that another process does not send them at
    the same time; a claim lapses after `lease_seconds` if its sender died."""
    candidates = session.scalars(
        select(Notification)
        .where(Notification.delivered_at.is_(None))
        .where(Notification.next_attempt_at <= now)
        .order_by(Notification.next_attempt_at, Notification.id)
        .limit(limit)
    ).all()
    claimed = []
    for row in candidates:
        result = session.execute(
            update(Notification)
            .where(Notification.id == row.id)
            .where(Notification.delivered_at.is_(None))
            .where((Notification.claimed_until.is_(None)) | (Notification.claimed_until <= now))
            .values(claimed_until=now + timedelta(seconds=lease_seconds))
            .execution_options(synchronize_session=False)
        )
        if result.rowcount == 1:
            claimed.append(row)
    return claimed


def retry_delay(attempts: int, base_seconds: int, max_seconds: int) -> int:
    """Exponential backoff: base, 2·base, 4·base, … capped at max_seconds."""
    return min(max_seconds, base_seconds * 2 ** max(0, min(attempts - 1, 30)))


def record_delivery(
    session: Session,
    now: datetime,
    notification_id: int,
    status_code: int | None,
    error: str | None,
    base_seconds: int,
    max_seconds: int,
) -> Notification:
    row = session.get(Notification, notification_id, with_for_update=True)
    row.attempts += 1
    row.last_status = status_code
    row.claimed_until = None
    if status_code is not None and 200 <= status_code < 300:
        row.delivered_at = now
        row.last_error = None
    else:
        row.last_error = (error or f"HTTP {status_code}")[:500]
        row.next_attempt_at = now + timedelta(seconds=retry_delay(row.attempts, base_seconds, max_seconds))
    return row
