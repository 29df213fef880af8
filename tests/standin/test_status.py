"""The session status transition table, one row per (status, next status)."""

from __future__ import annotations

import pytest

from payment_standin.status import SessionStatus as S
from payment_standin.status import can_transition, is_payable

ALLOWED = {
    (S.OPEN, S.CAPTURED),
    (S.OPEN, S.DECLINED),
    (S.OPEN, S.CANCELLED),
    (S.OPEN, S.EXPIRED),
    (S.DECLINED, S.CAPTURED),
    (S.DECLINED, S.DECLINED),
    (S.DECLINED, S.CANCELLED),
    (S.DECLINED, S.EXPIRED),
}


@pytest.mark.parametrize("current", list(S))
@pytest.mark.parametrize("new", list(S))
def test_transition_table(current, new):
    assert can_transition(current, new) == ((current, new) in ALLOWED)


@pytest.mark.parametrize(
    "status, payable",
    [(S.OPEN, True), (S.DECLINED, True), (S.CAPTURED, False), (S.CANCELLED, False), (S.EXPIRED, False)],
)
def test_only_open_and_declined_sessions_take_a_card(status, payable):
    assert is_payable(status) is payable
