"""The Asia/Tokyo calendar: JST days, fiscal years, day types. Pure functions of their inputs."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import jpholiday

JST = ZoneInfo("Asia/Tokyo")


def jst_day(moment: datetime) -> date:
    """The calendar day in Tokyo of an aware moment."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime")
    return moment.astimezone(JST).date()


def jst_moment(day: date, at: time) -> datetime:
    """The aware moment of a wall-clock time on a Tokyo calendar day."""
    return datetime.combine(day, at, tzinfo=JST)


def end_of_jst_day(day: date) -> datetime:
    """23:59:59 JST of the day: the last moment a deadline on that day still allows."""
    return datetime.combine(day, time(23, 59, 59), tzinfo=JST)


def fiscal_year(day: date) -> int:
    """Japanese fiscal year (April to March): 2025-03-31 is FY2024, 2025-04-01 is FY2025."""
    return day.year if day.month >= 4 else day.year - 1


def is_holiday(day: date) -> bool:
    """Saturdays, Sundays and national holidays are charged at the holiday rate."""
    return day.weekday() >= 5 or jpholiday.is_holiday(day)


def day_type(day: date) -> str:
    return "holiday" if is_holiday(day) else "weekday"


def days_between(earlier: date, later: date) -> int:
    return (later - earlier).days


def date_range(start: date, days: int) -> list[date]:
    return [start + timedelta(days=i) for i in range(days)]
