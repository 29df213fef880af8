"""Payment state is derived, never stored (DESIGN rule 3)."""

from __future__ import annotations

import enum

from models.reservation_rules import ReservationState, is_active


class PaymentState(str, enum.Enum):
    NONE = "none"  # −
    PAID = "paid"  # 支払済
    PARTLY_PAID = "partly_paid"  # 一部支払済
    HELD = "held"  # 支払あり


def payment_state_rule(state: ReservationState, held_yen: int, due_yen: int) -> PaymentState:
    if held_yen == 0:
        return PaymentState.NONE
    if not is_active(state):
        return PaymentState.HELD
    return PaymentState.PAID if held_yen == due_yen else PaymentState.PARTLY_PAID


def is_refund_due(state: ReservationState, held_yen: int, due_yen: int) -> bool:
    """The (※) mark: money is held beyond what is due on a cancelled booking."""
    return not is_active(state) and held_yen > due_yen
