"""Who may cancel online (DESIGN rules 6 and 11, guide L906-L908): 仮予約 and 当選 until the
slot starts; a card-paid 本予約 (一部支払済 included) until the slot starts; nothing paid
at the counter, wholly or partly. Pure: the caller passes the facts and `now`."""

from __future__ import annotations

from datetime import date, datetime, time

from models import errors
from models.reservation_rules import Action, ReservationState, next_state
from models.time_rules import jst_moment

# States a resident cancels from マイメニュー; lottery entries are withdrawn elsewhere.
CANCELLABLE_STATES = frozenset({ReservationState.PROVISIONAL, ReservationState.WON, ReservationState.CONFIRMED})


def check_cancellable(
    state: ReservationState,
    *,
    number: str,
    counter_paid: bool,
    use_date: date,
    starts_at: time,
    now: datetime,
) -> ReservationState:
    """The state the booking moves to (取消済), or the exception that refuses it, the one a
    resident can do something about first."""
    if state is ReservationState.CANCELLED:
        raise errors.AlreadyCancelled(number=number)
    if state not in CANCELLABLE_STATES:
        raise errors.InvalidTransition(state=state, action=Action.CANCEL)
    if counter_paid:
        raise errors.CounterPaid(number=number)
    if now >= jst_moment(use_date, starts_at):
        raise errors.CancellationClosed(number=number)
    return next_state(state, Action.CANCEL)


def reason_required(states: list[ReservationState]) -> bool:
    """One 取消事由 for the batch, required when it holds a 本予約 (guide L960)."""
    return ReservationState.CONFIRMED in states
