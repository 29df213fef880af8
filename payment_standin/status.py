"""Payment session statuses and their transition table. Pure."""

from __future__ import annotations

import enum


class SessionStatus(str, enum.Enum):
    """open: waiting for the card; declined: the last card was declined, another may be
    tried; captured: paid (a void later sets `voided`, the status stays captured);
    cancelled: 決済を中止する; expired: the time limit passed, nothing was charged."""

    OPEN = "open"
    DECLINED = "declined"
    CAPTURED = "captured"
    CANCELLED = "cancelled"
    EXPIRED = "expired"


_FROM_PAYABLE = frozenset(
    {SessionStatus.DECLINED, SessionStatus.CAPTURED, SessionStatus.CANCELLED, SessionStatus.EXPIRED}
)
TRANSITIONS: dict[SessionStatus, frozenset[SessionStatus]] = {
    SessionStatus.OPEN: _FROM_PAYABLE,
    SessionStatus.DECLINED: _FROM_PAYABLE,
    SessionStatus.CAPTURED: frozenset(),
    SessionStatus.CANCELLED: frozenset(),
    SessionStatus.EXPIRED: frozenset(),
}


def can_transition(current: SessionStatus, new: SessionStatus) -> bool:
    return new in TRANSITIONS[current]


def is_payable(status: SessionStatus) -> bool:
    """A card may still be tried (before the time limit)."""
    return status in (SessionStatus.OPEN, SessionStatus.DECLINED)
