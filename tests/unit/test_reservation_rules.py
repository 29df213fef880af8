"""The reservation state machine (DESIGN rule 2): one row per (state, action), all pairs."""

from __future__ import annotations

import itertools

import pytest

from models.errors import InvalidTransition
from models.reservation_rules import (
    ACTIVE_STATES,
    UNPAID_STATES,
    Action,
    ReservationState,
    is_active,
    next_state,
)

S, A = ReservationState, Action

# Written out from DESIGN rule 2 and rule 11, not copied from the module: 抽選申込中 → 当選 /
# 落選 / 取下げ; 当選 and 仮予約 → 本予約 (paid) → 取消済; 仮予約 and 当選 → 取消済.
ALLOWED = {
    (S.LOTTERY_ENTRY, A.DRAW_WIN): S.WON,
    (S.LOTTERY_ENTRY, A.DRAW_LOSE): S.LOST,
    (S.LOTTERY_ENTRY, A.WITHDRAW): S.WITHDRAWN,
    (S.WON, A.PAY): S.CONFIRMED,
    (S.WON, A.CANCEL): S.CANCELLED,
    (S.PROVISIONAL, A.PAY): S.CONFIRMED,
    (S.PROVISIONAL, A.CANCEL): S.CANCELLED,
    (S.CONFIRMED, A.CANCEL): S.CANCELLED,
}

ALL_PAIRS = list(itertools.product(ReservationState, Action))


@pytest.mark.parametrize(("state", "action"), ALL_PAIRS, ids=[f"{s.value}-{a.value}" for s, a in ALL_PAIRS])
def test_transition_table(state, action):
    if (state, action) in ALLOWED:
        assert next_state(state, action) is ALLOWED[(state, action)]
    else:
        with pytest.raises(InvalidTransition) as refused:
            next_state(state, action)
        # The refusal carries the facts a message needs.
        assert refused.value.facts == {"state": state, "action": action}


def test_the_table_covers_every_state_and_action():
    assert len(ALL_PAIRS) == len(ReservationState) * len(Action) == 35


@pytest.mark.parametrize("state", list(ReservationState))
def test_final_states_allow_nothing(state):
    final = not any(s is state for s, _ in ALLOWED)
    assert final == (state in {S.LOST, S.WITHDRAWN, S.CANCELLED})


@pytest.mark.parametrize(
    ("state", "active"),
    [
        (S.LOTTERY_ENTRY, False),
        (S.WON, True),
        (S.LOST, False),
        (S.WITHDRAWN, False),
        (S.PROVISIONAL, True),
        (S.CONFIRMED, True),
        (S.CANCELLED, False),
    ],
)
def test_active_states_are_those_that_hold_the_slot(state, active):
    assert is_active(state) is active
    assert (state in ACTIVE_STATES) is active


def test_only_provisional_and_won_await_a_first_payment():
    assert {S.PROVISIONAL, S.WON} == UNPAID_STATES


def test_states_are_stored_by_their_value():
    # The database column stores the value; renaming one would orphan stored rows.
    assert {s.value for s in ReservationState} == {
        "lottery_entry",
        "won",
        "lost",
        "withdrawn",
        "provisional",
        "confirmed",
        "cancelled",
    }
