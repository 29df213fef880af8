"""The refund on cancellation (DESIGN rule 12, guide L968-L975): the rate by JST days before
the use date, from the facility type's bands; the refund and the cancellation fee in integer
yen; and when the rate next drops. Pure functions of their inputs, `now` included."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from models.time_rules import jst_day


@dataclass(frozen=True)
class RateBand:
    """One row of a facility type's refund table: from `min_days_before` days before the use
    date (inclusive) up to the next higher band, `percent` of the base is refunded."""

    min_days_before: int
    percent: int


@dataclass(frozen=True)
class RefundQuote:
    """The money of one cancellation, fixed on the JST day it is made."""

    percent: int
    held_yen: int  # the live card charge
    total_fee_yen: int  # the booking's current total fee, equipment included
    base_yen: int  # min(held, total)
    refund_yen: int  # base × percent // 100
    fee_yen: int  # キャンセル料(不還付額) = base − refund: what stays charged

    @property
    def returned_yen(self) -> int:
        """What the card settlement gives back: the refund plus anything held beyond the
        current total (returned_rule)."""
        return returned_rule(held_yen=self.held_yen, fee_yen=self.fee_yen)

    @property
    def refund_due(self) -> bool:
        """The (※) mark: money will come back through クレジット決済."""
        return self.returned_yen > 0


@dataclass(frozen=True)
class RateDrop:
    """Cancelled on or before `last_day`, `percent` is refunded; from the next day, only
    `next_percent`."""

    last_day: date
    percent: int
    next_day: date
    next_percent: int


def bands_from(rows: Iterable) -> list[RateBand]:
    """RateBand from anything with min_days_before and percent (the RefundBand rows), the
    widest margin first."""
    bands = sorted((RateBand(r.min_days_before, r.percent) for r in rows), key=lambda b: -b.min_days_before)
    if not bands or bands[-1].min_days_before != 0:
        raise ValueError("a refund table must have a band from the use day (0 days before)")
    return bands


def days_before_use(now: datetime, use_date: date) -> int:
    """Whole JST calendar days from the day of `now` to the use date (0 on the use day)."""
    return (use_date - jst_day(now)).days


def refund_percent_rule(days_before: int, bands: Sequence[RateBand]) -> int:
    """The rate of the band the day falls in: the band with the largest start not above
    `days_before`. Before the use date only: a booking is not cancelled after it."""
    if days_before < 0:
        raise ValueError("the use date has passed")
    return _band_of(days_before, bands).percent


def _band_of(days_before: int, bands: Sequence[RateBand]) -> RateBand:
    return max((b for b in bands if b.min_days_before <= days_before), key=lambda b: b.min_days_before)


def percent_of(amount_yen: int, percent: int) -> int:
    """The one rounding of percentages of money: rounded down to the yen."""
    if amount_yen < 0 or not 0 <= percent <= 100:
        raise ValueError("amount must be non-negative and percent within 0-100")
    return amount_yen * percent // 100


def returned_rule(*, held_yen: int, fee_yen: int) -> int:
    """還付額: what the card settlement of a cancellation gives back. The held card charge is
    voided and the cancellation fee charged again, so held − fee; nothing when nothing more
    than the fee is held."""
    if held_yen < 0 or fee_yen < 0:
        raise ValueError("amounts cannot be negative")
    return max(held_yen - fee_yen, 0)


def refund_quote_rule(*, held_yen: int, total_fee_yen: int, percent: int) -> RefundQuote:
    """base = min(held, current total fee incl. equipment); refund = base × pct // 100;
    fee = base − refund. Nothing held: nothing refunded and no fee."""
    if held_yen < 0 or total_fee_yen < 0:
        raise ValueError("amounts cannot be negative")
    base = min(held_yen, total_fee_yen)
    refund = percent_of(base, percent)
    return RefundQuote(
        percent=percent,
        held_yen=held_yen,
        total_fee_yen=total_fee_yen,
        base_yen=base,
        refund_yen=refund,
        fee_yen=base - refund,
    )


def refund_on(
    now: datetime, use_date: date, bands: Sequence[RateBand], *, held_yen: int, total_fee_yen: int
) -> RefundQuote:
    """The refund of a cancellation made at `now` (its JST day fixes the rate)."""
    percent = refund_percent_rule(days_before_use(now, use_date), bands)
    return refund_quote_rule(held_yen=held_yen, total_fee_yen=total_fee_yen, percent=percent)


def next_rate_drop(today: date, use_date: date, bands: Sequence[RateBand]) -> RateDrop | None:
    """The last day the current rate still applies, and the rate after it; None when the
    rate cannot drop any further (the lowest band, or the next band refunds as much)."""
    days = (use_date - today).days
    if days < 0:
        raise ValueError("the use date has passed")
    current = _band_of(days, bands)
    lower = [b for b in bands if b.min_days_before < current.min_days_before]
    if not lower:
        return None
    following = max(lower, key=lambda b: b.min_days_before)
    if following.percent >= current.percent:
        return None
    last_day = use_date - timedelta(days=current.min_days_before)
    return RateDrop(
        last_day=last_day,
        percent=current.percent,
        next_day=last_day + timedelta(days=1),
        next_percent=following.percent,
    )
