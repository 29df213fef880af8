"""Payment state is derived from (state, held, due), never stored (DESIGN rule 3)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from models.payment_state_rules import PaymentState, is_refund_due, payment_state_rule
from models.reservation_rules import ReservationState

S, P = ReservationState, PaymentState
ACTIVE = [S.PROVISIONAL, S.WON, S.CONFIRMED]
INACTIVE = [S.LOTTERY_ENTRY, S.LOST, S.WITHDRAWN, S.CANCELLED]

CASES = [
    # state, held, due, payment state, (※) refund due
    # Nothing held: − whatever the state.
    (S.PROVISIONAL, 0, 700, P.NONE, False),
    (S.WON, 0, 700, P.NONE, False),
    (S.CONFIRMED, 0, 0, P.NONE, False),
    (S.CANCELLED, 0, 0, P.NONE, False),
    (S.LOTTERY_ENTRY, 0, 0, P.NONE, False),
    # Active and held = due: 支払済.
    (S.CONFIRMED, 700, 700, P.PAID, False),
    (S.WON, 400, 400, P.PAID, False),
    # Active and held ≠ due: 一部支払済 (equipment added: held < due; removed: held > due).
    (S.CONFIRMED, 700, 1200, P.PARTLY_PAID, False),
    (S.CONFIRMED, 1200, 700, P.PARTLY_PAID, False),
    (S.PROVISIONAL, 200, 400, P.PARTLY_PAID, False),
    # Cancelled and money still held: 支払あり, (※) when more is held than the fee due.
    (S.CANCELLED, 700, 175, P.HELD, True),  # 75 %: 525円 to refund, 175円 fee kept
    (S.CANCELLED, 700, 0, P.HELD, True),  # 100 %: everything to refund
    (S.CANCELLED, 700, 700, P.HELD, False),  # 0 %: the whole charge is the fee
]


@pytest.mark.parametrize(("state", "held", "due", "expected", "refund"), CASES)
def test_payment_state_and_refund_mark(state, held, due, expected, refund):
    assert payment_state_rule(state, held, due) is expected
    assert is_refund_due(state, held, due) is refund


@given(state=st.sampled_from(list(ReservationState)), due=st.integers(0, 1_000_000))
def test_nothing_held_is_always_unpaid_and_never_refunded(state, due):
    assert payment_state_rule(state, 0, due) is P.NONE
    assert not is_refund_due(state, 0, due)


@given(state=st.sampled_from(ACTIVE), held=st.integers(1, 1_000_000), due=st.integers(0, 1_000_000))
def test_an_active_booking_with_money_held_is_paid_exactly_when_held_equals_due(state, held, due):
    expected = P.PAID if held == due else P.PARTLY_PAID
    assert payment_state_rule(state, held, due) is expected
    # (※) belongs beside 支払あり: an active booking is settled, not refunded.
    assert not is_refund_due(state, held, due)


@given(state=st.sampled_from(INACTIVE), held=st.integers(1, 1_000_000), due=st.integers(0, 1_000_000))
def test_an_ended_booking_with_money_held_shows_payment_held(state, held, due):
    assert payment_state_rule(state, held, due) is P.HELD
    assert is_refund_due(state, held, due) is (held > due)
