"""The Asia/Tokyo calendar: JST days across UTC midnight, fiscal years, day types."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from models.time_rules import (
    JST,
    date_range,
    day_type,
    days_between,
    end_of_jst_day,
    fiscal_year,
    is_holiday,
    jst_day,
    jst_moment,
)

UTC = UTC


@pytest.mark.parametrize(
    ("moment", "day"),
    [
        (datetime(2026, 11, 25, 14, 59, 59, tzinfo=UTC), date(2026, 11, 25)),  # 23:59:59 JST
        (datetime(2026, 11, 25, 15, 0, 0, tzinfo=UTC), date(2026, 11, 26)),  # 00:00 JST
        (datetime(2026, 11, 25, 23, 30, tzinfo=UTC), date(2026, 11, 26)),
        (datetime(2026, 12, 31, 15, 0, tzinfo=UTC), date(2027, 1, 1)),  # new year in Tokyo first
        (datetime(2026, 11, 25, 10, 0, tzinfo=timezone(timedelta(hours=-5))), date(2026, 11, 26)),
        (datetime(2026, 11, 26, 0, 30, tzinfo=JST), date(2026, 11, 26)),
    ],
)
def test_jst_day(moment, day):
    assert jst_day(moment) == day


def test_jst_day_refuses_a_naive_moment():
    with pytest.raises(ValueError):
        jst_day(datetime(2026, 11, 25, 10, 0))


def test_jst_moment_and_end_of_day():
    start = jst_moment(date(2026, 12, 1), time(9, 0))
    assert start == datetime(2026, 12, 1, 0, 0, tzinfo=UTC)
    assert end_of_jst_day(date(2026, 12, 1)) == datetime(2026, 12, 1, 14, 59, 59, tzinfo=UTC)


@pytest.mark.parametrize(
    ("day", "year"),
    [
        (date(2025, 3, 31), 2024),
        (date(2025, 4, 1), 2025),
        (date(2025, 12, 31), 2025),
        (date(2026, 1, 1), 2025),
        (date(2026, 11, 25), 2026),
    ],
)
def test_fiscal_year(day, year):
    assert fiscal_year(day) == year


@given(st.dates(min_value=date(1990, 1, 1), max_value=date(2100, 12, 31)))
def test_a_fiscal_year_runs_from_april_to_march(day):
    fy = fiscal_year(day)
    assert date(fy, 4, 1) <= day <= date(fy + 1, 3, 31)


@pytest.mark.parametrize(
    ("day", "kind"),
    [
        (date(2026, 11, 25), "weekday"),  # Wednesday
        (date(2026, 11, 28), "holiday"),  # Saturday
        (date(2026, 11, 29), "holiday"),  # Sunday
        (date(2026, 11, 23), "holiday"),  # 勤労感謝の日
        (date(2026, 9, 22), "holiday"),  # 国民の休日
        (date(2026, 5, 6), "holiday"),  # 振替休日
        (date(2026, 12, 29), "weekday"),  # year-end closing is a facility matter, not a holiday
    ],
)
def test_day_type(day, kind):
    assert day_type(day) == kind
    assert is_holiday(day) is (kind == "holiday")


def test_days_between_and_date_range():
    assert days_between(date(2026, 11, 25), date(2026, 12, 16)) == 21
    assert days_between(date(2026, 12, 16), date(2026, 11, 25)) == -21
    assert date_range(date(2026, 12, 30), 4) == [
        date(2026, 12, 30),
        date(2026, 12, 31),
        date(2027, 1, 1),
        date(2027, 1, 2),
    ]
    assert date_range(date(2026, 12, 30), 0) == []


@given(st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)))
def test_the_jst_day_is_the_utc_day_nine_hours_later(moment):
    assert jst_day(moment) == (moment + timedelta(hours=9)).date()
