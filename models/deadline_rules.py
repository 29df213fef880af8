"""Payment deadline of a first payment (DESIGN rule 4, guide §5-1 ④ 注意事項)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from models.time_rules import end_of_jst_day, jst_day, jst_moment

PAYMENT_DAYS = 14


def payment_deadline_day(basis: datetime, use_date: date) -> date:
    """min(JST day of the application or of the lottery result + 14, the use date)."""
    return min(jst_day(basis) + timedelta(days=PAYMENT_DAYS), use_date)


def payment_closes_at(basis: datetime, use_date: date, slot_starts: time) -> datetime:
    """The last moment a first payment is accepted: 23:59:59 JST of the deadline day, and
    never after the slot starts."""
    day_end = end_of_jst_day(payment_deadline_day(basis, use_date))
    return min(day_end, jst_moment(use_date, slot_starts))


def is_payment_overdue(now: datetime, basis: datetime, use_date: date, slot_starts: time) -> bool:
    """Past the deadline from 00:00 JST after the deadline day (the whole second 23:59:59
    still counts), or from the moment the slot starts, as the availability grid counts it."""
    return jst_day(now) > payment_deadline_day(basis, use_date) or now >= jst_moment(use_date, slot_starts)
