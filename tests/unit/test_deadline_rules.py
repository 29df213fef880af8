"""The first-payment deadline (DESIGN rule 4): min(JST day of the application or lottery
result + 14, the use date), payable until 23:59:59 JST that day, never once the slot starts."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from models.deadline_rules import is_payment_overdue, payment_closes_at, payment_deadline_day
from models.time_rules import JST

UTC = UTC
MORNING = time(9, 0)
EVENING = time(18, 0)


def jst(*args) -> datetime:
    return datetime(*args, tzinfo=JST)


@pytest.mark.parametrize(
    ("basis", "use_date", "deadline"),
    [
        # 23:30 JST is still the 25th in Tokyo (14:30 UTC): day 14 is 9 December.
        (jst(2026, 11, 25, 23, 30), date(2027, 1, 20), date(2026, 12, 9)),
        # 00:30 JST on the 26th is 15:30 UTC on the 25th: Tokyo's day counts, so 10 December.
        (jst(2026, 11, 26, 0, 30), date(2027, 1, 20), date(2026, 12, 10)),
        (datetime(2026, 11, 25, 15, 30, tzinfo=UTC), date(2027, 1, 20), date(2026, 12, 10)),
        # The use date comes first.
        (jst(2026, 11, 25, 10, 0), date(2026, 12, 1), date(2026, 12, 1)),
        # The use date is day 14 itself.
        (jst(2026, 11, 25, 10, 0), date(2026, 12, 9), date(2026, 12, 9)),
        # Month and year ends.
        (jst(2026, 12, 20, 12, 0), date(2027, 3, 1), date(2027, 1, 3)),
        (jst(2026, 12, 31, 23, 30), date(2027, 3, 1), date(2027, 1, 14)),
        (jst(2027, 2, 20, 12, 0), date(2027, 4, 1), date(2027, 3, 6)),
        (jst(2028, 2, 20, 12, 0), date(2028, 4, 1), date(2028, 3, 5)),  # leap year
        (jst(2027, 3, 31, 12, 0), date(2027, 6, 1), date(2027, 4, 14)),  # across the fiscal year
    ],
)
def test_payment_deadline_day(basis, use_date, deadline):
    assert payment_deadline_day(basis, use_date) == deadline


def test_a_naive_moment_is_refused_rather_than_guessed():
    with pytest.raises(ValueError):
        payment_deadline_day(datetime(2026, 11, 25, 10, 0), date(2027, 1, 1))


def test_payable_until_23_59_59_jst_of_the_deadline_day():
    basis = jst(2026, 11, 25, 23, 30)
    closes = payment_closes_at(basis, date(2027, 1, 20), MORNING)
    assert closes == jst(2026, 12, 9, 23, 59, 59)
    assert not is_payment_overdue(jst(2026, 12, 9, 23, 59, 59), basis, date(2027, 1, 20), MORNING)
    # The whole last second still counts.
    assert not is_payment_overdue(jst(2026, 12, 9, 23, 59, 59, 999_999), basis, date(2027, 1, 20), MORNING)
    assert is_payment_overdue(jst(2026, 12, 10, 0, 0, 0), basis, date(2027, 1, 20), MORNING)


def test_the_deadline_is_the_tokyo_day_even_when_utc_is_still_the_day_before():
    basis = datetime(2026, 11, 25, 15, 30, tzinfo=UTC)  # 00:30 JST on the 26th
    use = date(2027, 1, 20)
    # 10 December 23:00 JST is 14:00 UTC: still payable.
    assert not is_payment_overdue(datetime(2026, 12, 10, 14, 0, tzinfo=UTC), basis, use, MORNING)
    # 11 December 00:00 JST is 15:00 UTC on the 10th: too late, though UTC still says the 10th.
    assert is_payment_overdue(datetime(2026, 12, 10, 15, 0, tzinfo=UTC), basis, use, MORNING)


def test_when_the_use_date_comes_first_payment_closes_as_the_slot_starts():
    basis = jst(2026, 11, 25, 10, 0)
    use = date(2026, 12, 1)
    assert payment_closes_at(basis, use, MORNING) == jst(2026, 12, 1, 9, 0)
    assert not is_payment_overdue(jst(2026, 12, 1, 8, 59, 59), basis, use, MORNING)
    assert is_payment_overdue(jst(2026, 12, 1, 9, 0), basis, use, MORNING)
    assert is_payment_overdue(jst(2026, 12, 1, 9, 0, 1), basis, use, MORNING)


def test_a_slot_at_9_on_the_deadline_day_closes_payment_at_9_not_at_midnight():
    basis = jst(2026, 11, 25, 10, 0)
    use = date(2026, 12, 9)  # day 14 is the use date
    assert payment_closes_at(basis, use, MORNING) == jst(2026, 12, 9, 9, 0)
    assert is_payment_overdue(jst(2026, 12, 9, 12, 0), basis, use, MORNING)
    # An evening slot that day leaves the morning open.
    assert not is_payment_overdue(jst(2026, 12, 9, 12, 0), basis, use, EVENING)
    assert is_payment_overdue(jst(2026, 12, 9, 18, 0), basis, use, EVENING)


def test_a_lottery_result_counts_like_an_application():
    result = jst(2026, 11, 22, 10, 0)  # the 当選 of the demo data, three days ago
    assert payment_deadline_day(result, date(2027, 1, 14)) == date(2026, 12, 6)


@given(
    basis=st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2030, 12, 31), timezones=st.just(UTC)),
    days_ahead=st.integers(0, 120),
    starts=st.sampled_from([time(9), time(12, 30), time(18)]),
    probe=st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=130)),
)
def test_deadline_properties(basis, days_ahead, starts, probe):
    use = basis.astimezone(JST).date() + timedelta(days=days_ahead)
    deadline = payment_deadline_day(basis, use)
    assert deadline <= use
    assert (deadline - basis.astimezone(JST).date()).days <= 14
    closes = payment_closes_at(basis, use, starts)
    assert closes <= datetime.combine(use, starts, tzinfo=JST)
    now = basis + probe
    # Overdue exactly when the Tokyo day is past the deadline day or the slot has started.
    expected = now.astimezone(JST).date() > deadline or now >= datetime.combine(use, starts, tzinfo=JST)
    assert is_payment_overdue(now, basis, use, starts) is expected
