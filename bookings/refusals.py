"""Why a listed booking offers no 取消 or no 決済: each refusal named once as a kind, which the
shared row notes (templates/bookings/_refusals.html) put into words. The operations check
again when the button is pressed."""

from __future__ import annotations

from datetime import datetime

from models import errors
from models.cancellation_rules import check_cancellable
from models.reservation import Reservation

CANCELLED = "cancelled"
STARTED = "started"
COUNTER_PAID = "counter_paid"
DEADLINE_PASSED = "deadline_passed"
VOID_PERIOD_OVER = "void_period_over"
SETTLED = "settled"  # nothing to pay or to give back
OTHER = "other"

KINDS: dict[type[errors.DomainError], str] = {
    errors.AlreadyCancelled: CANCELLED,
    errors.CancellationClosed: STARTED,
    errors.CounterPaid: COUNTER_PAID,
    errors.PaymentWindowClosed: DEADLINE_PASSED,
    errors.RefundPeriodExpired: VOID_PERIOD_OVER,
}


def refusal_kind(refusal: errors.DomainError | None) -> str | None:
    """The kind of a refusal, or None when there is none."""
    if refusal is None:
        return None
    return KINDS.get(type(refusal), OTHER)


def cancel_refusal(reservation: Reservation, now: datetime) -> errors.DomainError | None:
    """Why 予約内容の確認・取消 offers no 取消 for this row, or None when it does."""
    try:
        check_cancellable(
            reservation.state,
            number=reservation.number,
            counter_paid=reservation.is_counter_paid,
            use_date=reservation.use_date,
            starts_at=reservation.starts_at,
            now=now,
        )
    except errors.DomainError as exc:
        return exc
    return None
