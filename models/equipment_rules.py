"""Equipment (備品) on a booking, DESIGN rule 10 and guide §5-2: who may change it, the
lending time within the slot, stock counted across overlapping bookings of the facility,
subtotals and the total, and which completion message follows the money. Pure: the
caller passes the facts and `now`."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, datetime, time

from models import errors
from models.reservation_rules import ACTIVE_STATES, ReservationState
from models.time_rules import jst_moment

# Lending start and end are chosen in steps of this many minutes within the slot.
LEND_STEP_MINUTES = 30


# -- who may change equipment -------------------------------------------------------------


class EquipmentAccess(str, enum.Enum):
    """Whether a booking's equipment can be changed online now, and if not, why."""

    ALLOWED = "allowed"
    CANCELLED = "cancelled"  # 取消済
    NOT_ACTIVE = "not_active"  # a lottery entry, lost or withdrawn: nothing to equip
    COUNTER_ONLY = "counter_only"  # sports facilities: at the counter (guide L239-L240)
    NO_ITEMS = "no_items"  # the facility lends nothing online
    COUNTER_PAID = "counter_paid"  # paid at the counter, wholly or partly (rule 6)
    STARTED = "started"  # the slot has started


def equipment_access_rule(
    *,
    state: ReservationState,
    lends_equipment: bool,
    has_items: bool,
    counter_paid: bool,
    use_date: date,
    starts_at: time,
    now: datetime,
) -> EquipmentAccess:
    """The first reason, in the order a resident can make sense of, that keeps the booking's
    equipment from being changed online; ALLOWED when there is none."""
    if state is ReservationState.CANCELLED:
        return EquipmentAccess.CANCELLED
    if state not in ACTIVE_STATES:
        return EquipmentAccess.NOT_ACTIVE
    if not lends_equipment:
        return EquipmentAccess.COUNTER_ONLY
    if not has_items:
        return EquipmentAccess.NO_ITEMS
    if counter_paid:
        return EquipmentAccess.COUNTER_PAID
    if now >= jst_moment(use_date, starts_at):
        return EquipmentAccess.STARTED
    return EquipmentAccess.ALLOWED


ACCESS_ERRORS = {
    EquipmentAccess.CANCELLED: errors.EquipmentOnCancelledBooking,
    EquipmentAccess.NOT_ACTIVE: errors.InvalidTransition,
    EquipmentAccess.COUNTER_ONLY: errors.EquipmentAtCounterOnly,
    EquipmentAccess.NO_ITEMS: errors.NoEquipmentToLend,
    EquipmentAccess.COUNTER_PAID: errors.CounterPaid,
    EquipmentAccess.STARTED: errors.EquipmentChangeClosed,
}


def check_equipment_access(access: EquipmentAccess, **facts) -> None:
    """Raise the domain error that matches a refusal; nothing when ALLOWED."""
    if access is not EquipmentAccess.ALLOWED:
        raise ACCESS_ERRORS[access](**facts)


def holds_card_paid_equipment(card_held_yen: int, facility_fee_yen: int) -> bool:
    """The live card charge paid for more than the room: part of it is equipment, and the
    guide's message (L345-L351) comes before the equipment screen."""
    return card_held_yen > facility_fee_yen


# -- lending time ---------------------------------------------------------------------------


def _minutes(t: time) -> int:
    return t.hour * 60 + t.minute


def _time(minutes: int) -> time:
    return time(minutes // 60, minutes % 60)


def lending_times_rule(slot_starts: time, slot_ends: time, step_minutes: int = LEND_STEP_MINUTES) -> list[time]:
    """The times a lending may start or end at: the slot's start, every step after it, and
    the slot's end (9:00, 9:30 … 12:00 for 9:00~12:00)."""
    start, end = _minutes(slot_starts), _minutes(slot_ends)
    if end <= start:
        raise ValueError("a slot ends after it starts")
    times = list(range(start, end, step_minutes)) + [end]
    return [_time(m) for m in times]


def check_lending_window(slot_starts: time, slot_ends: time, lend_starts: time, lend_ends: time) -> None:
    """The lending lies within the slot, on the steps, and ends after it starts."""
    allowed = lending_times_rule(slot_starts, slot_ends)
    if lend_starts not in allowed or lend_ends not in allowed:
        raise errors.LendingTimeOutsideSlot(starts_at=slot_starts, ends_at=slot_ends)
    if lend_ends <= lend_starts:
        raise errors.LendingTimeReversed(starts_at=lend_starts, ends_at=lend_ends)


# -- stock ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Lending:
    """Some units of one item lent to another booking on the same day, from `starts` to `ends`."""

    starts: time
    ends: time
    quantity: int


def overlaps(a_starts: time, a_ends: time, b_starts: time, b_ends: time) -> bool:
    """Half-open intervals: a lending that ends at 12:00 does not overlap one from 12:00."""
    return a_starts < b_ends and b_starts < a_ends


def peak_use_rule(lend_starts: time, lend_ends: time, others: list[Lending]) -> int:
    """The most units other bookings hold at any one moment between `lend_starts` and
    `lend_ends`: two bookings one after the other within the window count once, two at the
    same time count twice."""
    relevant = [o for o in others if o.quantity > 0 and overlaps(lend_starts, lend_ends, o.starts, o.ends)]
    # The use only rises where a lending starts, so the peak is at the window's start or at
    # some lending's start inside it.
    moments = {lend_starts} | {o.starts for o in relevant if o.starts > lend_starts}
    return max((sum(o.quantity for o in relevant if o.starts <= m < o.ends) for m in moments), default=0)


def available_rule(stock: int, lend_starts: time, lend_ends: time, others: list[Lending]) -> int:
    """Units still free for this lending: the item's stock less the peak held by overlapping
    bookings (never below zero, should the stock have been lowered since)."""
    return max(0, stock - peak_use_rule(lend_starts, lend_ends, others))


@dataclass(frozen=True)
class Shortage:
    item_id: int
    requested: int
    available: int


def check_stock(requested: dict[int, int], available: dict[int, int]) -> None:
    """Every requested quantity fits what is available, or OutOfStock names each that does not."""
    shortages = tuple(
        Shortage(item_id, quantity, available.get(item_id, 0))
        for item_id, quantity in sorted(requested.items())
        if quantity > available.get(item_id, 0)
    )
    if shortages:
        raise errors.OutOfStock(shortages=shortages)


# -- money ------------------------------------------------------------------------------------


def subtotal_rule(price_yen: int, quantity: int) -> int:
    if price_yen < 0 or quantity < 0:
        raise ValueError("price and quantity cannot be negative")
    return price_yen * quantity


def total_rule(lines: list[tuple[int, int]]) -> int:
    """備品使用料: the sum of price × quantity over (price_yen, quantity) lines."""
    return sum(subtotal_rule(price, quantity) for price, quantity in lines)


class CompletionKind(str, enum.Enum):
    """Which completion message follows an equipment change (rule 10, guide L416-L438)."""

    PAY = "pay"  # more is due than is held: pay by card from the list
    REFUND = "refund"  # less is due than is held: a refund, settled by card again
    DONE = "done"  # what is held is what is due


def completion_kind_rule(total_yen: int, held_yen: int) -> CompletionKind:
    if total_yen > held_yen:
        return CompletionKind.PAY
    if total_yen < held_yen:
        return CompletionKind.REFUND
    return CompletionKind.DONE
