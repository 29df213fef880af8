"""The settlement rule: void what is held, charge what is due (DESIGN "Settlement")."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from models import errors
from models.reservation_rules import ACTIVE_STATES, ReservationState
from models.settlement_rules import (
    HeldCharge,
    check_void_window,
    due_rule,
    held_charge_of,
    is_resettlement_due,
    last_void_day,
    settlement_plan_rule,
)

CAPTURED = datetime(2025, 3, 4, 1, 0, tzinfo=UTC)  # 10:00 JST


def held(amount: int) -> HeldCharge:
    return HeldCharge("0392025030440732", amount, CAPTURED)


def test_first_payment_charges_the_fee_and_voids_nothing():
    plan = settlement_plan_rule(None, 400)
    assert (plan.charge_yen, plan.void, plan.void_only) == (400, None, False)


def test_nothing_to_do_when_held_equals_due():
    assert settlement_plan_rule(held(700), 700) is None
    assert settlement_plan_rule(None, 0) is None


@pytest.mark.parametrize(
    ("held_yen", "due_yen", "charge", "void"),
    [
        (700, 1200, 1200, 700),  # guide §5-2 ⑨: projector added
        (1200, 700, 700, 1200),  # guide §5-2 ⑨: projector removed
        (700, 175, 175, 700),  # guide §5-3 ⑫: 75 % refund, fee 175
        (400, 0, 0, 400),  # guide §5-3 ⑧: full refund, void only
    ],
)
def test_the_guides_worked_examples(held_yen, due_yen, charge, void):
    plan = settlement_plan_rule(held(held_yen), due_yen)
    assert (plan.charge_yen, plan.void_yen) == (charge, void)
    assert plan.void_only is (charge == 0)


@given(held_yen=st.integers(0, 100_000), due_yen=st.integers(0, 100_000))
def test_after_a_plan_is_carried_out_held_equals_due(held_yen, due_yen):
    current = held(held_yen) if held_yen else None
    plan = settlement_plan_rule(current, due_yen)
    after = held_yen if plan is None else held_yen - plan.void_yen + plan.charge_yen
    assert after == due_yen


def test_a_plan_charges_unless_it_only_voids():
    assert settlement_plan_rule(None, 400).charges
    assert settlement_plan_rule(held(700), 1200).charges
    assert not settlement_plan_rule(held(400), 0).charges


# -- what is due ---------------------------------------------------------------------------------

INACTIVE = [s for s in ReservationState if s not in ACTIVE_STATES]


@pytest.mark.parametrize("state", sorted(ACTIVE_STATES))
def test_an_active_booking_owes_its_current_total_fee(state):
    assert due_rule(state, total_fee_yen=1200, cancellation_fee_yen=None) == 1200
    assert due_rule(state, total_fee_yen=0, cancellation_fee_yen=None) == 0


def test_a_cancelled_booking_owes_its_stored_cancellation_fee():
    assert due_rule(ReservationState.CANCELLED, total_fee_yen=700, cancellation_fee_yen=175) == 175
    assert due_rule(ReservationState.CANCELLED, total_fee_yen=700, cancellation_fee_yen=0) == 0


@pytest.mark.parametrize("state", INACTIVE)
def test_without_a_stored_fee_an_ended_booking_owes_nothing(state):
    assert due_rule(state, total_fee_yen=700, cancellation_fee_yen=None) == 0


def test_negative_fees_are_a_programming_error():
    with pytest.raises(ValueError):
        due_rule(ReservationState.PROVISIONAL, total_fee_yen=-1, cancellation_fee_yen=None)
    with pytest.raises(ValueError):
        due_rule(ReservationState.CANCELLED, total_fee_yen=700, cancellation_fee_yen=-1)


# -- a settlement again after a change ------------------------------------------------------------


@pytest.mark.parametrize(
    ("held_yen", "due_yen", "again"),
    [
        (700, 1200, True),  # guide §5-2: a projector added to a paid booking
        (1200, 700, True),  # and removed again
        (700, 700, False),  # a free item: what is held is what is due
        (0, 1200, False),  # not paid yet: the first payment is no settlement again
        (0, 0, False),
    ],
)
def test_a_settlement_again_follows_when_a_held_charge_no_longer_matches(held_yen, due_yen, again):
    assert is_resettlement_due(held(held_yen) if held_yen else None, due_yen) is again


@given(held_yen=st.integers(0, 100_000), due_yen=st.integers(0, 100_000))
def test_a_settlement_again_is_exactly_a_plan_that_voids(held_yen, due_yen):
    current = held(held_yen) if held_yen else None
    plan = settlement_plan_rule(current, due_yen)
    assert is_resettlement_due(current, due_yen) is (plan is not None and plan.void_yen > 0)
    assert is_resettlement_due(current, due_yen) is (held_yen > 0 and held_yen != due_yen)


def test_the_held_charge_is_read_from_a_live_charge_or_there_is_none():
    class Charge:
        receipt_number, amount_yen, captured_at = "0392025030440732", 700, CAPTURED

    assert held_charge_of(Charge()) == held(700)
    assert held_charge_of(None) is None


def test_negative_due_is_a_programming_error():
    with pytest.raises(ValueError):
        settlement_plan_rule(None, -1)


def test_void_window_is_180_jst_days_after_capture():
    # Captured at 00:30 JST on 5 March (15:30 UTC on 4 March): the JST day counts.
    late = datetime(2025, 3, 4, 15, 30, tzinfo=UTC)
    assert last_void_day(late) == date(2025, 9, 1)
    assert last_void_day(CAPTURED) == date(2025, 8, 31)


def test_void_refused_the_day_after_the_last_day():
    check_void_window(held(400), datetime(2025, 8, 31, 14, 59, tzinfo=UTC))  # 23:59 JST, last day
    with pytest.raises(errors.RefundPeriodExpired) as refused:
        check_void_window(held(400), datetime(2025, 8, 31, 15, 0, tzinfo=UTC))  # 00:00 JST next day
    assert refused.value.facts["last_day"] == date(2025, 8, 31)
    check_void_window(None, datetime(2030, 1, 1, tzinfo=UTC))
