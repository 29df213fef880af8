"""Fees as data: f(room, slot, day type, 団体区分, 参加費等の有無) → integer yen."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Protocol

from models.time_rules import day_type


class FeeRateLike(Protocol):
    room_id: int
    time_band_id: int
    day_type: str | None
    group_class_code: str | None
    charges_participation_fee: bool | None
    amount_yen: int


class NoFeeRate(LookupError):
    """The fee table has no row for this slot: a data error, never the resident's fault."""


@dataclass(frozen=True)
class FeeQuery:
    room_id: int
    time_band_id: int
    use_date: date
    group_class_code: str
    charges_participation_fee: bool


def _specificity(rate: FeeRateLike) -> int:
    return sum(x is not None for x in (rate.day_type, rate.group_class_code, rate.charges_participation_fee))


def slot_fee_rule(rates: Iterable[FeeRateLike], query: FeeQuery) -> int:
    """The amount of the most specific matching row; a None column matches anything."""
    kind = day_type(query.use_date)
    matches = [
        r
        for r in rates
        if r.room_id == query.room_id
        and r.time_band_id == query.time_band_id
        and r.day_type in (None, kind)
        and r.group_class_code in (None, query.group_class_code)
        and r.charges_participation_fee in (None, query.charges_participation_fee)
    ]
    if not matches:
        raise NoFeeRate(query)
    return max(matches, key=_specificity).amount_yen


def total_yen(amounts: Iterable[int]) -> int:
    return sum(amounts)


def total_fee_rule(facility_fee_yen: int, equipment_fee_yen: int) -> int:
    """使用料: 施設使用料 + 備品使用料."""
    if facility_fee_yen < 0 or equipment_fee_yen < 0:
        raise ValueError("fees cannot be negative")
    return total_yen((facility_fee_yen, equipment_fee_yen))
