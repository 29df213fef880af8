"""The booking reads screens share (bookings/): the slot reference in URLs and the 表示条件
of a list of bookings."""

from __future__ import annotations

from datetime import date

import pytest

from bookings.conditions import ALL_STATES, LISTED_STATES, ListConditions
from bookings.slots import SlotRef
from models import errors
from models.reservation_rules import ReservationState

FREE_A = SlotRef(2, date(2026, 12, 1), 5)


# -- SlotRef ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "",
        "abc",
        "1:2:3:4",
        "1:2026-02-30:1",
        "x:2026-12-01:1",
        "0:2026-12-01:1",
        "1:2026-12-01:0",
        f"{2**31}:2026-12-01:1",
    ],
)
def test_slot_ref_refuses_what_we_never_write(text):
    with pytest.raises(errors.NotFound):
        SlotRef.parse(text)


def test_slot_ref_round_trips():
    assert SlotRef.parse(str(FREE_A)) == FREE_A
    assert str(FREE_A) == "2:2026-12-01:5"


# -- ListConditions ---------------------------------------------------------------------


def test_the_default_conditions_are_from_today_in_every_state():
    conditions = ListConditions.from_day(date(2026, 11, 25))
    assert (conditions.date_from, conditions.date_to, conditions.state) == (date(2026, 11, 25), None, None)
    assert conditions.state_choice == ALL_STATES


@pytest.mark.parametrize("state", LISTED_STATES)
def test_a_chosen_state_is_the_filter_forms_value(state):
    assert ListConditions(None, None, state).state_choice == state.value


def test_the_lists_show_bookings_not_lottery_entries():
    assert ReservationState.LOTTERY_ENTRY not in LISTED_STATES
    assert ALL_STATES not in {state.value for state in ReservationState}
