"""Free and taken at their boundaries: the booking window, slot and day statuses, closed
days, and the periods the 施設別空き状況 grid pages through."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest

from models.availability_rules import (
    GRID_MARGIN_DAYS,
    BookingWindow,
    DayStatus,
    GridPeriod,
    SlotStatus,
    booking_window_rule,
    day_status_rule,
    grid_start_range_rule,
    group_day_status_rule,
    is_closed_day_rule,
    period_days_rule,
    shift_period_rule,
    slot_status_rule,
)
from models.lottery_rules import LotterySlotStatus
from models.time_rules import JST

TODAY = date(2026, 11, 25)  # a Wednesday
NOW = datetime(2026, 11, 25, 10, 0, tzinfo=JST)
WINDOW = booking_window_rule(TODAY, 90)


def starts(day: date, hour: int = 9, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=JST)


# Booking window -------------------------------------------------------------------------


def test_the_window_opens_tomorrow_and_closes_on_the_ninetieth_day():
    assert BookingWindow(first=date(2026, 11, 26), last=date(2027, 2, 23)) == WINDOW


@pytest.mark.parametrize(
    ("day", "inside"),
    [
        (TODAY, False),
        (TODAY + timedelta(days=1), True),
        (TODAY + timedelta(days=90), True),
        (TODAY + timedelta(days=91), False),
    ],
)
def test_the_window_includes_both_ends_and_nothing_beyond(day, inside):
    assert (day in WINDOW) is inside


# Slot status ----------------------------------------------------------------------------


def slot(day, *, closed=False, taken=False, at=None, now=NOW):
    return slot_status_rule(day=day, window=WINDOW, closed=closed, taken=taken, starts_at=at or starts(day), now=now)


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (TODAY, SlotStatus.OUT_OF_WINDOW),  # today is never bookable online
        (TODAY + timedelta(days=1), SlotStatus.FREE),
        (TODAY + timedelta(days=90), SlotStatus.FREE),
        (TODAY + timedelta(days=91), SlotStatus.OUT_OF_WINDOW),
        (TODAY - timedelta(days=1), SlotStatus.OUT_OF_WINDOW),
    ],
)
def test_a_free_slot_is_free_only_inside_the_window(day, expected):
    assert slot(day) is expected


def test_a_taken_slot_inside_the_window_is_taken():
    assert slot(TODAY + timedelta(days=3), taken=True) is SlotStatus.TAKEN


def test_a_closed_day_is_closed_even_when_taken_or_outside_the_window():
    assert slot(TODAY + timedelta(days=3), closed=True, taken=True) is SlotStatus.CLOSED
    assert slot(TODAY, closed=True) is SlotStatus.CLOSED
    assert slot(TODAY + timedelta(days=91), closed=True) is SlotStatus.CLOSED


def test_a_taken_slot_outside_the_window_is_out_of_window():
    assert slot(TODAY + timedelta(days=91), taken=True) is SlotStatus.OUT_OF_WINDOW


def test_a_slot_that_has_started_is_out_of_window_from_the_very_moment_it_starts():
    tomorrow = TODAY + timedelta(days=1)
    at = starts(tomorrow, 9)
    assert slot(tomorrow, at=at, now=at - timedelta(microseconds=1)) is SlotStatus.FREE
    assert slot(tomorrow, at=at, now=at) is SlotStatus.OUT_OF_WINDOW


@pytest.mark.parametrize("status", list(SlotStatus))
def test_only_a_free_slot_can_be_chosen(status):
    assert status.selectable is (status is SlotStatus.FREE)


# Day status -----------------------------------------------------------------------------

F, T, O, C = SlotStatus.FREE, SlotStatus.TAKEN, SlotStatus.OUT_OF_WINDOW, SlotStatus.CLOSED  # noqa: E741 (the four statuses by initial)


@pytest.mark.parametrize(
    ("slots", "expected"),
    [
        ([F, F, F, F], DayStatus.FREE),
        ([F], DayStatus.FREE),
        ([T, F, F, F], DayStatus.PARTLY_FREE),  # one booked band: 一部空き
        ([T, T, T, F], DayStatus.PARTLY_FREE),
        ([T, T, T, T], DayStatus.FULL),
        ([T], DayStatus.FULL),
        ([O, O, O, O], DayStatus.OUT_OF_WINDOW),
        ([C, C, C, C], DayStatus.CLOSED),
        ([], DayStatus.CLOSED),  # a room without bands cannot be booked on any day
        # Some bands of the day have started: the others are still free.
        ([O, F, F, F], DayStatus.PARTLY_FREE),
        ([O, O, T, T], DayStatus.FULL),
    ],
)
def test_a_day_is_as_free_as_its_slots(slots, expected):
    assert day_status_rule(slots) is expected


@pytest.mark.parametrize("status", list(DayStatus))
def test_free_and_partly_free_days_can_be_chosen(status):
    assert status.selectable is (status in (DayStatus.FREE, DayStatus.PARTLY_FREE, DayStatus.LOTTERY_OPEN))


L, W, B = SlotStatus.LOTTERY_OPEN, SlotStatus.AWAITING_DRAW, SlotStatus.BEFORE_FIRST_COME


@pytest.mark.parametrize(
    ("slots", "expected"),
    [
        ([L, L, L, L], DayStatus.LOTTERY_OPEN),
        ([T, L, O, L], DayStatus.LOTTERY_OPEN),  # one band open for entries: the day can be chosen
        ([W, W, W, W], DayStatus.AWAITING_DRAW),
        ([T, W, T, W], DayStatus.AWAITING_DRAW),  # bookings made before the month was drawn stay
        ([B, T, B, B], DayStatus.BEFORE_FIRST_COME),
        ([C, C, C, C], DayStatus.CLOSED),
        ([O, O, O, O], DayStatus.OUT_OF_WINDOW),
        ([O, W, W, W], DayStatus.AWAITING_DRAW),  # today's started band aside
    ],
)
def test_a_lottery_rooms_day_says_where_its_month_stands(slots, expected):
    status = day_status_rule(slots)
    assert status is expected
    assert status.selectable is (expected is DayStatus.LOTTERY_OPEN)


def test_a_lottery_slot_is_entered_not_applied_for():
    assert SlotStatus.LOTTERY_OPEN.enterable and not SlotStatus.LOTTERY_OPEN.selectable
    assert [s for s in SlotStatus if s.enterable] == [SlotStatus.LOTTERY_OPEN]
    # The lottery's statuses are the grid's own values.
    assert {s.value for s in LotterySlotStatus} <= {s.value for s in SlotStatus}


# Closed days ----------------------------------------------------------------------------


def test_a_weekly_closing_day_and_a_listed_date_are_closed_and_nothing_else():
    sundays = frozenset({6})
    new_year = frozenset({date(2026, 12, 29)})
    assert is_closed_day_rule(date(2026, 11, 29), sundays, new_year)  # Sunday
    assert is_closed_day_rule(date(2026, 12, 29), sundays, new_year)  # Tuesday, listed
    assert not is_closed_day_rule(date(2026, 11, 30), sundays, new_year)  # Monday
    assert not is_closed_day_rule(date(2026, 11, 28), frozenset(), frozenset())


# Grid periods ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "period", "days"),
    [
        (date(2026, 11, 26), GridPeriod.WEEK, 7),
        (date(2026, 11, 26), GridPeriod.TWO_WEEKS, 14),
        (date(2026, 11, 26), GridPeriod.MONTH, 30),  # 26 Nov – 25 Dec
        (date(2026, 12, 1), GridPeriod.MONTH, 31),
        (date(2027, 2, 1), GridPeriod.MONTH, 28),
        (date(2028, 2, 1), GridPeriod.MONTH, 29),  # leap year
    ],
)
def test_a_period_shows_consecutive_days_up_to_the_next_period(start, period, days):
    shown = period_days_rule(start, period)
    assert len(shown) == days
    assert shown[0] == start
    assert shown[-1] + timedelta(days=1) == shift_period_rule(start, period, 1)
    assert all(b - a == timedelta(days=1) for a, b in zip(shown, shown[1:]))


@pytest.mark.parametrize(
    ("start", "period", "steps", "expected"),
    [
        (date(2026, 11, 26), GridPeriod.WEEK, 1, date(2026, 12, 3)),
        (date(2026, 11, 26), GridPeriod.WEEK, -1, date(2026, 11, 19)),
        (date(2026, 11, 26), GridPeriod.TWO_WEEKS, 1, date(2026, 12, 10)),
        (date(2026, 11, 26), GridPeriod.MONTH, 1, date(2026, 12, 26)),
        (date(2026, 12, 26), GridPeriod.MONTH, 1, date(2027, 1, 26)),  # across the year
        (date(2027, 1, 26), GridPeriod.MONTH, -1, date(2026, 12, 26)),
        (date(2027, 1, 31), GridPeriod.MONTH, 1, date(2027, 2, 28)),  # clamped to the month's end
        (date(2027, 3, 31), GridPeriod.MONTH, -1, date(2027, 2, 28)),
        (date(2028, 1, 31), GridPeriod.MONTH, 1, date(2028, 2, 29)),
    ],
)
def test_previous_and_next_period(start, period, steps, expected):
    assert shift_period_rule(start, period, steps) == expected


def test_the_grid_may_start_a_margin_before_and_after_the_window_and_no_further():
    allowed = grid_start_range_rule(WINDOW)
    assert allowed.first == WINDOW.first - timedelta(days=GRID_MARGIN_DAYS)
    assert allowed.last == WINDOW.last + timedelta(days=GRID_MARGIN_DAYS)
    assert allowed.first in allowed and allowed.last in allowed
    assert allowed.first - timedelta(days=1) not in allowed
    assert allowed.last + timedelta(days=1) not in allowed


def test_room_day_status_is_the_day_status_of_its_slots_in_every_case():
    """room_day_status_rule (the grid's one pass) against day_status_rule over each band's
    slot_status_rule (the definition), over closed days, days outside the window, today with
    bands started or not, and every share of taken bands."""
    import random

    from models.availability_rules import room_day_status_rule
    from models.time_rules import JST, jst_day

    rng = random.Random(12)
    band_sets = [
        [],
        [(1, time(9))],
        [(1, time(9)), (2, time(12, 30)), (3, time(15, 30)), (4, time(18, 30))],
        [(5, time(h)) for h in range(9, 21, 2)],
    ]
    band_sets[3] = [(10 + i, time(9 + 2 * i)) for i in range(6)]
    for _ in range(3000):
        now = datetime(2026, 11, 25, rng.randrange(24), rng.randrange(60), tzinfo=JST)
        today = jst_day(now)
        window = booking_window_rule(today, rng.choice((1, 7, 90)))
        day = today + timedelta(days=rng.randint(-3, 95))
        bands = rng.choice(band_sets)
        taken = {band_id for band_id, _ in bands if rng.random() < rng.choice((0.0, 0.5, 1.0))}
        closed = rng.random() < 0.1
        expected = day_status_rule(
            [
                slot_status_rule(
                    day=day,
                    window=window,
                    closed=closed,
                    taken=band_id in taken,
                    starts_at=datetime.combine(day, starts, tzinfo=JST),
                    now=now,
                )
                for band_id, starts in bands
            ]
        )
        got = room_day_status_rule(day, bands, taken, closed=closed, window=window, today=today, now=now)
        assert got is expected, (day, now, bands, taken, closed)


def test_a_day_as_the_group_that_cancelled_some_of_its_slots_sees_it():
    free, taken = SlotStatus.FREE, SlotStatus.TAKEN
    # Nothing of its own cancelled among the free bands: as everyone sees it.
    assert group_day_status_rule([free, free], [False, False]) is DayStatus.FREE
    assert group_day_status_rule([free, taken], [False, True]) is DayStatus.PARTLY_FREE
    # One free band its own: the day is partly free for it; all of them: 再予約不可 (None).
    assert group_day_status_rule([free, free], [True, False]) is DayStatus.PARTLY_FREE
    assert group_day_status_rule([free, taken], [True, False]) is None
    assert group_day_status_rule([free, free], [True, True]) is None
    # A lottery day whose only open band it cancelled before.
    lottery = SlotStatus.LOTTERY_OPEN
    assert group_day_status_rule([lottery, SlotStatus.AWAITING_DRAW], [True, False]) is None
    # A day that could not be chosen anyway stays as it is.
    assert group_day_status_rule([taken, taken], [True, True]) is DayStatus.FULL
