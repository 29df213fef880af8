"""Where a booking stands on money, as every list of bookings shows it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from models.deadline_rules import payment_deadline_day
from models.payment_state_rules import PaymentState, is_refund_due, payment_state_rule
from models.reservation import Reservation
from models.reservation_rules import UNPAID_STATES


@dataclass(frozen=True)
class Standing:
    """Where a booking stands on money: payment state (rule 3), the (※) mark, and the
    deadline of a first payment still owed (rule 4)."""

    payment_state: PaymentState
    refund_due: bool
    payment_deadline: date | None
    card_paid: bool  # a card charge is held: cancelling it asks twice first (guide L923-L936)

    @classmethod
    def of(cls, reservation: Reservation) -> Standing:
        held, due = reservation.held_yen, reservation.due_yen
        owes_first_payment = reservation.state in UNPAID_STATES and held == 0
        return cls(
            payment_state=payment_state_rule(reservation.state, held, due),
            refund_due=is_refund_due(reservation.state, held, due),
            payment_deadline=(
                payment_deadline_day(reservation.payment_basis, reservation.use_date) if owes_first_payment else None
            ),
            card_paid=reservation.live_charge is not None,
        )
