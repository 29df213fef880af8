"""Reservation states and the transition table (DESIGN rule 2)."""

from __future__ import annotations

import enum

from models.errors import InvalidTransition


class ReservationState(str, enum.Enum):
    LOTTERY_ENTRY = "lottery_entry"  # 抽選申込中
    WON = "won"  # 当選
    LOST = "lost"  # 落選
    WITHDRAWN = "withdrawn"  # 取下げ
    PROVISIONAL = "provisional"  # 仮予約
    CONFIRMED = "confirmed"  # 本予約
    CANCELLED = "cancelled"  # 取消済


class Action(str, enum.Enum):
    DRAW_WIN = "draw_win"
    DRAW_LOSE = "draw_lose"
    WITHDRAW = "withdraw"
    PAY = "pay"  # online or at the counter
    CANCEL = "cancel"  # by the resident, by expiry or by staff


class CancelKind(str, enum.Enum):
    RESIDENT = "resident"
    EXPIRY = "expiry"  # 期限切れ
    STAFF = "staff"


S, A = ReservationState, Action

TRANSITIONS: dict[tuple[ReservationState, Action], ReservationState] = {
    (S.LOTTERY_ENTRY, A.DRAW_WIN): S.WON,
    (S.LOTTERY_ENTRY, A.DRAW_LOSE): S.LOST,
    (S.LOTTERY_ENTRY, A.WITHDRAW): S.WITHDRAWN,
    (S.WON, A.PAY): S.CONFIRMED,
    (S.PROVISIONAL, A.PAY): S.CONFIRMED,
    (S.WON, A.CANCEL): S.CANCELLED,
    (S.PROVISIONAL, A.CANCEL): S.CANCELLED,
    (S.CONFIRMED, A.CANCEL): S.CANCELLED,
}

# States that hold the slot: at most one per room × date × slot (a partial unique index).
ACTIVE_STATES = frozenset({S.PROVISIONAL, S.WON, S.CONFIRMED})
# States awaiting a first payment, bound by the payment deadline (rule 4).
UNPAID_STATES = frozenset({S.PROVISIONAL, S.WON})


def next_state(state: ReservationState, action: Action) -> ReservationState:
    try:
        return TRANSITIONS[(state, action)]
    except KeyError:
        raise InvalidTransition(state=state, action=action) from None


def is_active(state: ReservationState) -> bool:
    return state in ACTIVE_STATES
