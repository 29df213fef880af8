"""表示条件 of a list of a resident's bookings (予約内容の確認・取消, クレジット決済 選択; the
lottery's 抽選申込の確認・取消 to come): a 利用日 period and one state, and the query that
reads the bookings they match."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import Select, select
from sqlalchemy.orm import joinedload, selectinload

from models.facility import Room
from models.reservation import Reservation
from models.reservation_rules import ReservationState

# The state filter's value for 全て.
ALL_STATES = "all"

# The states 予約内容の確認・取消 and クレジット決済 選択 list; lottery entries have their own
# menu entry, with their own states.
LISTED_STATES = (
    ReservationState.PROVISIONAL,
    ReservationState.WON,
    ReservationState.CONFIRMED,
    ReservationState.CANCELLED,
)


@dataclass(frozen=True)
class ListConditions:
    """表示条件: a 利用日 period (either side may be open) and one state, or None for 全て."""

    date_from: date | None
    date_to: date | None
    state: ReservationState | None = None

    @classmethod
    def from_day(cls, day: date) -> ListConditions:
        """The default: from `day` (today) on, in every state."""
        return cls(day, None, None)

    @property
    def state_choice(self) -> str:
        """The filter form's value for the state: its own, or ALL_STATES for 全て."""
        return self.state.value if self.state else ALL_STATES


def bookings_matching(
    resident_id: int,
    conditions: ListConditions,
    *,
    listed: Sequence[ReservationState] = LISTED_STATES,
    before_period: bool = False,
) -> Select[Reservation]:
    """The resident's bookings in `conditions`' period and state (any of `listed` for 全て),
    earliest 利用日 and start first, with what a list row reads (room, facility, payments).
    With `before_period`, the period's start is left to the caller."""
    query = (
        select(Reservation)
        .where(Reservation.resident_id == resident_id)
        .where(Reservation.state.in_([conditions.state] if conditions.state else listed))
        .order_by(Reservation.use_date, Reservation.starts_at, Reservation.id)
        .options(
            joinedload(Reservation.room).joinedload(Room.facility),
            selectinload(Reservation.counter_payments),
            selectinload(Reservation.card_charges),
        )
    )
    if conditions.date_from and not before_period:
        query = query.where(Reservation.use_date >= conditions.date_from)
    if conditions.date_to:
        query = query.where(Reservation.use_date <= conditions.date_to)
    return query
