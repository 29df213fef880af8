"""Free and taken: the state of a day cell and of a slot cell in the availability grids."""

from __future__ import annotations

import enum
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from models.time_rules import jst_moment


class DayStatus(str, enum.Enum):
    FREE = "free"  # 空き
    PARTLY_FREE = "partly_free"  # 一部空き
    FULL = "full"  # 空きなし
    OUT_OF_WINDOW = "out_of_window"  # 申込期間外
    CLOSED = "closed"  # 休館日
    # A lottery room's day (DESIGN "Lottery", Calendar): some band open for entries, or
    # nothing free and the month still waiting for its draw or for 一般空き申込.
    LOTTERY_OPEN = "lottery_open"  # 抽選受付中
    AWAITING_DRAW = "awaiting_draw"  # 抽選結果待ち
    BEFORE_FIRST_COME = "before_first_come"  # 先着受付前

    @property
    def selectable(self) -> bool:
        return self in (DayStatus.FREE, DayStatus.PARTLY_FREE, DayStatus.LOTTERY_OPEN)


class SlotStatus(str, enum.Enum):
    FREE = "free"
    TAKEN = "taken"
    OUT_OF_WINDOW = "out_of_window"
    CLOSED = "closed"
    # A lottery room's slot in a lottery month (the values of models.lottery_rules.LotterySlotStatus).
    LOTTERY_OPEN = "lottery_open"  # 抽選受付中
    AWAITING_DRAW = "awaiting_draw"  # 抽選結果待ち
    BEFORE_FIRST_COME = "before_first_come"  # 先着受付前

    @property
    def selectable(self) -> bool:
        """Can be chosen for a first-come application."""
        return self is SlotStatus.FREE

    @property
    def enterable(self) -> bool:
        """Can be chosen for a lottery entry (抽選申込)."""
        return self is SlotStatus.LOTTERY_OPEN


@dataclass(frozen=True)
class BookingWindow:
    """First-come booking is open for use dates from `first` to `last`, inclusive."""

    first: date
    last: date

    def __contains__(self, day: date) -> bool:
        return self.first <= day <= self.last


def booking_window_rule(today: date, days_ahead: int) -> BookingWindow:
    return BookingWindow(first=today + timedelta(days=1), last=today + timedelta(days=days_ahead))


def slot_status_rule(
    *, day: date, window: BookingWindow, closed: bool, taken: bool, starts_at: datetime, now: datetime
) -> SlotStatus:
    if closed:
        return SlotStatus.CLOSED
    if day not in window or starts_at <= now:
        return SlotStatus.OUT_OF_WINDOW
    return SlotStatus.TAKEN if taken else SlotStatus.FREE


def day_status_rule(slot_statuses: list[SlotStatus]) -> DayStatus:
    """A day is as free as its slots: all free, some free, none free; closed and out of
    window win over everything because no slot of that day can be chosen. A lottery room's
    day with a band open for entries is 抽選受付中; one with nothing free while its month
    waits for the draw or for 一般空き申込 says which."""
    if not slot_statuses or all(s is SlotStatus.CLOSED for s in slot_statuses):
        return DayStatus.CLOSED
    if any(s is SlotStatus.LOTTERY_OPEN for s in slot_statuses):
        return DayStatus.LOTTERY_OPEN
    if all(s is SlotStatus.OUT_OF_WINDOW for s in slot_statuses):
        return DayStatus.OUT_OF_WINDOW
    free = sum(s is SlotStatus.FREE for s in slot_statuses)
    if not free:
        for waiting in (SlotStatus.AWAITING_DRAW, SlotStatus.BEFORE_FIRST_COME):
            if waiting in slot_statuses:
                return DayStatus(waiting.value)
    if free == len(slot_statuses):
        return DayStatus.FREE
    return DayStatus.PARTLY_FREE if free else DayStatus.FULL


def group_day_status_rule(slot_statuses: list[SlotStatus], blocked: list[bool]) -> DayStatus | None:
    """A day as one group sees it when it cancelled some of its slots (`blocked`, band by
    band): those slots are 再予約不可 for it, as 時間帯別空き状況 shows them (× like a taken
    slot), and the day is as free as the rest; None (再予約不可) when every slot it could
    have chosen is one it cancelled."""
    shared = day_status_rule(slot_statuses)
    if not any(b and (s.selectable or s.enterable) for s, b in zip(slot_statuses, blocked)):
        return shared
    seen = day_status_rule(
        [SlotStatus.TAKEN if b and (s.selectable or s.enterable) else s for s, b in zip(slot_statuses, blocked)]
    )
    if shared.selectable and not seen.selectable:
        return None
    return seen


def room_day_status_rule(
    day: date,
    bands: Sequence[tuple[int, time]],
    taken: Collection[int],
    *,
    closed: bool,
    window: BookingWindow,
    today: date,
    now: datetime,
) -> DayStatus:
    """The status of one room on one day from its bands (id, start) and the ids of those
    taken: the same as day_status_rule over slot_status_rule of each band, without a status
    per slot where none is needed. A day after `today` (Tokyo) is in the future as a whole,
    so that none of its bands has started; only `today` and earlier go band by band."""
    if not bands or closed:
        return DayStatus.CLOSED
    if day not in window:
        return DayStatus.OUT_OF_WINDOW
    if day > today:
        held = sum(1 for band_id, _starts in bands if band_id in taken) if taken else 0
        if held == 0:
            return DayStatus.FREE
        return DayStatus.FULL if held == len(bands) else DayStatus.PARTLY_FREE
    return day_status_rule(
        [
            slot_status_rule(
                day=day,
                window=window,
                closed=False,
                taken=band_id in taken,
                starts_at=jst_moment(day, starts),
                now=now,
            )
            for band_id, starts in bands
        ]
    )


def is_closed_day_rule(day: date, closed_weekdays: frozenset[int], closed_dates: frozenset[date]) -> bool:
    return day.weekday() in closed_weekdays or day in closed_dates


class GridPeriod(str, enum.Enum):
    """How many days the 施設別空き状況 grid shows from its start date."""

    WEEK = "1w"  # 1週間
    TWO_WEEKS = "2w"  # 2週間
    MONTH = "1m"  # 1ヶ月


def _add_months(day: date, months: int) -> date:
    """The same day `months` later (or earlier), clamped to the end of a shorter month."""
    month_index = day.year * 12 + day.month - 1 + months
    year, month = divmod(month_index, 12)
    month += 1
    following = date(year + (month == 12), month % 12 + 1, 1)
    return date(year, month, min(day.day, (following - timedelta(days=1)).day))


def shift_period_rule(start: date, period: GridPeriod, steps: int) -> date:
    """The start of the period `steps` periods after (or before, when negative) `start`:
    7 or 14 days, or a calendar month (31 Jan + 1 month = 28 Feb)."""
    if period is GridPeriod.MONTH:
        return _add_months(start, steps)
    return start + timedelta(days=steps * (7 if period is GridPeriod.WEEK else 14))


def period_days_rule(start: date, period: GridPeriod) -> list[date]:
    """The days one period shows from `start`: up to the day before the next period starts."""
    end = shift_period_rule(start, period, 1)
    return [start + timedelta(days=i) for i in range((end - start).days)]


# How far outside the booking window the grid may start: far enough to page back over
# the recent past and forward past the last bookable day, no further.
GRID_MARGIN_DAYS = 31


def grid_start_range_rule(window: BookingWindow, margin_days: int = GRID_MARGIN_DAYS) -> BookingWindow:
    """The start dates the grid accepts: the booking window widened by the margin."""
    return BookingWindow(
        first=window.first - timedelta(days=margin_days), last=window.last + timedelta(days=margin_days)
    )
