"""The refund on cancellation (DESIGN rule 12) and who may cancel (rule 11): the table at
every boundary, counted in JST days across month and year ends, the guide's examples."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone
from types import SimpleNamespace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from models import errors
from models.cancellation_rules import check_cancellable, reason_required
from models.refund_rules import (
    RateBand,
    bands_from,
    days_before_use,
    next_rate_drop,
    percent_of,
    refund_on,
    refund_percent_rule,
    refund_quote_rule,
    returned_rule,
)
from models.reservation_rules import ReservationState as S
from models.settlement_rules import HeldCharge, due_rule, settlement_plan_rule

JST = timezone(timedelta(hours=9))
# The demo table (the guide's, L972-L975), as the database holds it: in no particular order.
TABLE = bands_from([SimpleNamespace(min_days_before=d, percent=p) for d, p in [(6, 50), (0, 0), (21, 100), (11, 75)]])


def at_jst(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=JST).astimezone(UTC)


# -- the rate by days before the use date -----------------------------------------------------


@pytest.mark.parametrize(
    ("days", "percent"),
    [
        (400, 100),
        (21, 100),  # 利用日21日以上前...全額還付
        (20, 75),  # 利用日20日前~11日前...75%還付
        (11, 75),
        (10, 50),  # 利用日10日前~6日前...50%還付
        (6, 50),
        (5, 0),  # 利用日5日前~当日...還付不可
        (1, 0),
        (0, 0),  # the use day itself
    ],
)
def test_the_table_at_every_boundary(days, percent):
    assert refund_percent_rule(days, TABLE) == percent


def test_after_the_use_date_there_is_no_rate():
    with pytest.raises(ValueError):
        refund_percent_rule(-1, TABLE)


def test_bands_are_taken_widest_first_and_need_a_band_for_the_use_day():
    assert [b.min_days_before for b in TABLE] == [21, 11, 6, 0]
    with pytest.raises(ValueError):
        bands_from([SimpleNamespace(min_days_before=21, percent=100)])


def test_another_facility_types_table_is_just_other_data():
    generous = [RateBand(7, 100), RateBand(0, 50)]
    assert refund_percent_rule(7, generous) == 100
    assert refund_percent_rule(6, generous) == 50


@pytest.mark.parametrize(
    ("use", "cancel_day", "days"),
    [
        (date(2026, 12, 21), date(2026, 11, 30), 21),  # across a month end
        (date(2026, 12, 21), date(2026, 12, 1), 20),
        (date(2027, 1, 10), date(2026, 12, 31), 10),  # across a year end
        (date(2027, 1, 10), date(2027, 1, 1), 9),
        (date(2027, 1, 5), date(2026, 12, 31), 5),
        (date(2028, 3, 1), date(2028, 2, 9), 21),  # a leap year's February
        (date(2027, 3, 1), date(2027, 2, 8), 21),
    ],
)
def test_days_are_calendar_days_in_tokyo_across_month_and_year_ends(use, cancel_day, days):
    assert days_before_use(at_jst(cancel_day, 12), use) == days


def test_a_cancellation_at_2330_jst_counts_that_day_and_at_0030_the_next():
    use = date(2027, 1, 1)
    # 2026-12-11 23:30 JST is still the 11th in Tokyo (14:30 UTC): 21 days before, 100 %.
    late = at_jst(date(2026, 12, 11), 23, 30)
    assert late.date() == date(2026, 12, 11) and late.hour == 14
    assert days_before_use(late, use) == 21
    assert refund_on(late, use, TABLE, held_yen=700, total_fee_yen=700).percent == 100
    # One hour later, 00:30 JST on the 12th, is still the 11th in UTC (15:30): 20 days, 75 %.
    early = at_jst(date(2026, 12, 12), 0, 30)
    assert early.date() == date(2026, 12, 11)
    assert days_before_use(early, use) == 20
    assert refund_on(early, use, TABLE, held_yen=700, total_fee_yen=700).percent == 75


@pytest.mark.parametrize(
    ("cancelled", "percent"),
    [
        (at_jst(date(2026, 12, 27), 0, 30), 50),  # 6 days before 2027-01-02
        (at_jst(date(2026, 12, 27), 23, 30), 50),
        (at_jst(date(2026, 12, 28), 0, 30), 0),  # 5 days before
        (at_jst(date(2027, 1, 2), 0, 30), 0),  # on the use day
    ],
)
def test_the_six_five_day_boundary_in_the_small_hours(cancelled, percent):
    assert refund_on(cancelled, date(2027, 1, 2), TABLE, held_yen=400, total_fee_yen=400).percent == percent


# -- the money ---------------------------------------------------------------------------------


def test_the_guides_example_700_yen_at_75_percent():
    quote = refund_quote_rule(held_yen=700, total_fee_yen=700, percent=75)
    assert (quote.base_yen, quote.refund_yen, quote.fee_yen, quote.returned_yen) == (700, 525, 175, 525)
    assert quote.refund_due


def test_the_guides_example_400_yen_at_100_percent_is_a_void_only():
    quote = refund_quote_rule(held_yen=400, total_fee_yen=400, percent=100)
    assert (quote.refund_yen, quote.fee_yen, quote.returned_yen) == (400, 0, 400)


def test_partly_paid_700_held_of_1200_at_75_percent():
    """一部支払済: a 500円 projector added after paying 700円, cancelled before paying it."""
    quote = refund_quote_rule(held_yen=700, total_fee_yen=1200, percent=75)
    assert (quote.base_yen, quote.refund_yen, quote.fee_yen) == (700, 525, 175)


def test_more_held_than_the_current_total_comes_back_beyond_the_rate():
    """The projector removed (total 700円) while 1,200円 is still held: the fee is on 700円,
    and everything else held comes back."""
    quote = refund_quote_rule(held_yen=1200, total_fee_yen=700, percent=50)
    assert (quote.base_yen, quote.refund_yen, quote.fee_yen, quote.returned_yen) == (700, 350, 350, 850)


def test_nothing_held_means_no_refund_and_no_fee():
    quote = refund_quote_rule(held_yen=0, total_fee_yen=700, percent=0)
    assert (quote.base_yen, quote.refund_yen, quote.fee_yen, quote.refund_due) == (0, 0, 0, False)


def test_no_refund_at_zero_percent_keeps_the_charge_as_the_fee():
    quote = refund_quote_rule(held_yen=700, total_fee_yen=700, percent=0)
    assert (quote.fee_yen, quote.returned_yen, quote.refund_due) == (700, 0, False)


def test_the_one_rounding_rounds_down_to_the_yen():
    assert percent_of(333, 75) == 249  # 249.75
    assert percent_of(1, 50) == 0
    assert percent_of(0, 100) == 0
    with pytest.raises(ValueError):
        percent_of(100, 101)
    with pytest.raises(ValueError):
        percent_of(-1, 50)


@given(
    held=st.integers(min_value=0, max_value=10_000_000),
    total=st.integers(min_value=0, max_value=10_000_000),
    percent=st.integers(min_value=0, max_value=100),
)
def test_refund_and_fee_always_add_up_to_the_base(held, total, percent):
    quote = refund_quote_rule(held_yen=held, total_fee_yen=total, percent=percent)
    assert quote.refund_yen + quote.fee_yen == quote.base_yen == min(held, total)
    assert 0 <= quote.fee_yen <= held and 0 <= quote.returned_yen <= held
    assert quote.refund_yen <= quote.base_yen * percent / 100 < quote.refund_yen + 1


# -- what comes back ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("held", "fee", "returned"),
    [
        (700, 175, 525),  # guide §5-3: 700円 at 75 %
        (400, 0, 400),  # full refund
        (700, 700, 0),  # no refund: the charge stays as the fee
        (175, 175, 0),  # the fee already settled: nothing more comes back
        (0, 0, 0),  # nothing was paid
        (0, 175, 0),  # never below zero
    ],
)
def test_what_comes_back_is_the_held_charge_less_the_fee(held, fee, returned):
    assert returned_rule(held_yen=held, fee_yen=fee) == returned


def test_negative_amounts_are_a_programming_error():
    with pytest.raises(ValueError):
        returned_rule(held_yen=-1, fee_yen=0)
    with pytest.raises(ValueError):
        returned_rule(held_yen=0, fee_yen=-1)


@given(
    held=st.integers(min_value=0, max_value=10_000_000),
    total=st.integers(min_value=0, max_value=10_000_000),
    percent=st.integers(min_value=0, max_value=100),
)
def test_the_quote_and_the_settlement_after_cancelling_give_back_the_same(held, total, percent):
    """確認 shows quote.returned_yen before cancelling; 完了 shows returned_rule of the stored
    fee; the settlement then voids what is held and charges the fee: all three agree."""
    quote = refund_quote_rule(held_yen=held, total_fee_yen=total, percent=percent)
    returned = returned_rule(held_yen=held, fee_yen=quote.fee_yen)
    assert quote.returned_yen == returned == held - quote.fee_yen
    due = due_rule(S.CANCELLED, total_fee_yen=total, cancellation_fee_yen=quote.fee_yen)
    charge = HeldCharge("0392026112500001", held, datetime(2026, 11, 25, tzinfo=UTC)) if held else None
    plan = settlement_plan_rule(charge, due)
    assert (plan.void_yen - plan.charge_yen if plan else 0) == returned
    assert quote.refund_due is (plan is not None)


# -- when the rate next drops -------------------------------------------------------------------


def test_the_last_day_of_full_refund_and_the_rate_after_it():
    drop = next_rate_drop(date(2026, 11, 25), date(2026, 12, 25), TABLE)  # 30 days before
    assert (drop.last_day, drop.percent, drop.next_day, drop.next_percent) == (
        date(2026, 12, 4),
        100,
        date(2026, 12, 5),
        75,
    )
    # On that last day, cancelling still refunds in full; the next day, 75 %.
    assert refund_percent_rule((date(2026, 12, 25) - drop.last_day).days, TABLE) == 100
    assert refund_percent_rule((date(2026, 12, 25) - drop.next_day).days, TABLE) == 75


@pytest.mark.parametrize(
    ("today", "last_day", "percent", "next_percent"),
    [
        (date(2026, 12, 5), date(2026, 12, 14), 75, 50),  # 20 days before
        (date(2026, 12, 14), date(2026, 12, 14), 75, 50),  # the last 75 % day itself
        (date(2026, 12, 15), date(2026, 12, 19), 50, 0),
    ],
)
def test_the_next_drop_from_each_band(today, last_day, percent, next_percent):
    drop = next_rate_drop(today, date(2026, 12, 25), TABLE)
    assert (drop.last_day, drop.percent, drop.next_percent) == (last_day, percent, next_percent)


def test_no_drop_once_nothing_is_refunded():
    assert next_rate_drop(date(2026, 12, 20), date(2026, 12, 25), TABLE) is None
    assert next_rate_drop(date(2026, 12, 25), date(2026, 12, 25), TABLE) is None


def test_the_drop_across_a_year_end():
    drop = next_rate_drop(date(2026, 12, 1), date(2027, 1, 15), TABLE)
    assert (drop.last_day, drop.next_day) == (date(2026, 12, 25), date(2026, 12, 26))


# -- who may cancel (rule 11) ---------------------------------------------------------------------

NOW = at_jst(date(2026, 11, 25), 10)


def check(state, *, counter_paid=False, use_date=date(2026, 12, 25), starts_at=time(9), now=NOW):
    return check_cancellable(
        state, number="2026-000001", counter_paid=counter_paid, use_date=use_date, starts_at=starts_at, now=now
    )


@pytest.mark.parametrize("state", [S.PROVISIONAL, S.WON, S.CONFIRMED])
def test_cancellable_states_become_cancelled(state):
    assert check(state) is S.CANCELLED


@pytest.mark.parametrize("state", [S.PROVISIONAL, S.WON, S.CONFIRMED])
def test_until_the_slot_starts_and_not_from_then(state):
    assert check(state, use_date=date(2026, 11, 25), starts_at=time(10, 1)) is S.CANCELLED
    with pytest.raises(errors.CancellationClosed):
        check(state, use_date=date(2026, 11, 25), starts_at=time(10, 0))
    with pytest.raises(errors.CancellationClosed):
        check(state, use_date=date(2026, 11, 24), starts_at=time(18, 30))


@pytest.mark.parametrize("state", [S.PROVISIONAL, S.CONFIRMED])
def test_anything_paid_at_the_counter_is_not_cancelled_online(state):
    with pytest.raises(errors.CounterPaid):
        check(state, counter_paid=True)


def test_already_cancelled_and_lottery_states():
    with pytest.raises(errors.AlreadyCancelled):
        check(S.CANCELLED)
    for state in (S.LOTTERY_ENTRY, S.LOST, S.WITHDRAWN):
        with pytest.raises(errors.InvalidTransition):
            check(state)


def test_a_reason_is_required_when_the_batch_holds_a_confirmed_booking():
    assert reason_required([S.PROVISIONAL, S.CONFIRMED])
    assert not reason_required([S.PROVISIONAL, S.WON])
