"""The settlement rule (DESIGN "Settlement"): one rule for first payments, equipment
changes and refunds. Replace the held card charge by a charge of what is due: the new
charge is captured first, then the old one is voided."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from models import errors
from models.reservation_rules import ReservationState, is_active
from models.time_rules import jst_day

VOID_WINDOW_DAYS = 180


@dataclass(frozen=True)
class HeldCharge:
    """The live card charge of a booking: captured, neither voided nor void-pending."""

    receipt_number: str
    amount_yen: int
    captured_at: datetime


@dataclass(frozen=True)
class SettlementPlan:
    """What the next settlement does: void `void` (if any), then charge `charge_yen` (if > 0)."""

    charge_yen: int
    void: HeldCharge | None

    @property
    def void_yen(self) -> int:
        return self.void.amount_yen if self.void else 0

    @property
    def charges(self) -> bool:
        """A new charge is taken (決済予定額); a void-only settlement takes none."""
        return self.charge_yen > 0

    @property
    def void_only(self) -> bool:
        return self.charge_yen == 0 and self.void is not None


def held_charge_of(charge) -> HeldCharge | None:
    """HeldCharge from anything with receipt_number, amount_yen and captured_at (a booking's
    live card charge), or None when there is none."""
    return HeldCharge(charge.receipt_number, charge.amount_yen, charge.captured_at) if charge else None


def due_rule(state: ReservationState, *, total_fee_yen: int, cancellation_fee_yen: int | None) -> int:
    """`due` (DESIGN "Settlement"): the current total fee while the booking is active; the
    stored cancellation fee once it is not (0 when none was fixed: nothing was paid)."""
    if total_fee_yen < 0 or (cancellation_fee_yen or 0) < 0:
        raise ValueError("amounts cannot be negative")
    if is_active(state):
        return total_fee_yen
    return cancellation_fee_yen or 0


def settlement_plan_rule(held: HeldCharge | None, due_yen: int) -> SettlementPlan | None:
    """None when nothing is pending (held = due); otherwise void what is held and charge
    what is due (DESIGN: "When held ≠ due …")."""
    if due_yen < 0:
        raise ValueError("due cannot be negative")
    held_yen = held.amount_yen if held else 0
    if held_yen == due_yen:
        return None
    return SettlementPlan(charge_yen=due_yen, void=held)


def is_resettlement_due(held: HeldCharge | None, due_yen: int) -> bool:
    """A card charge is held and what is due differs from it: the settlement that follows
    voids the charge (and charges what is due). 備品 確認 says so before a change is made."""
    plan = settlement_plan_rule(held, due_yen)
    return plan is not None and plan.void is not None


def last_void_day(captured_at: datetime) -> date:
    """A card charge can be voided online until 180 JST days after its capture (rule 13)."""
    return jst_day(captured_at) + timedelta(days=VOID_WINDOW_DAYS)


def check_void_window(held: HeldCharge | None, now: datetime) -> None:
    """Raises RefundPeriodExpired before anything is charged when the held charge is too
    old to void online."""
    if held is not None and jst_day(now) > last_void_day(held.captured_at):
        raise errors.RefundPeriodExpired(last_day=last_void_day(held.captured_at))
