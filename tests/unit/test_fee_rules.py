"""Fees as data (DESIGN "Architecture"): the most specific matching row of the fee table."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from models.fee_rules import FeeQuery, NoFeeRate, slot_fee_rule, total_fee_rule, total_yen

WEDNESDAY = date(2026, 11, 25)
SATURDAY = date(2026, 11, 28)
SUNDAY = date(2026, 11, 29)
LABOUR_THANKSGIVING = date(2026, 11, 23)  # 勤労感謝の日, a Monday
CITIZENS_HOLIDAY = date(2026, 9, 22)  # 国民の休日, a Tuesday between two holidays
SUBSTITUTE_HOLIDAY = date(2026, 5, 6)  # 振替休日 for 3 May, a Sunday


@dataclass(frozen=True)
class Rate:
    amount_yen: int
    day_type: str | None = None
    group_class_code: str | None = None
    charges_participation_fee: bool | None = None
    room_id: int = 1
    time_band_id: int = 10


def query(day=WEDNESDAY, group="adult", charges=False, room=1, band=10) -> FeeQuery:
    return FeeQuery(
        room_id=room, time_band_id=band, use_date=day, group_class_code=group, charges_participation_fee=charges
    )


def test_a_single_catch_all_row_applies_to_everything():
    rates = [Rate(400)]
    assert slot_fee_rule(rates, query()) == 400
    assert slot_fee_rule(rates, query(day=SUNDAY, group="child", charges=True)) == 400


def test_the_most_specific_row_wins_whatever_the_order():
    rates = [
        Rate(700),
        Rate(900, day_type="holiday"),
        Rate(1100, day_type="holiday", group_class_code="adult"),
        Rate(1400, day_type="holiday", group_class_code="adult", charges_participation_fee=True),
    ]
    for ordering in (rates, list(reversed(rates))):
        assert slot_fee_rule(ordering, query(day=WEDNESDAY)) == 700
        assert slot_fee_rule(ordering, query(day=SUNDAY, group="child")) == 900
        assert slot_fee_rule(ordering, query(day=SUNDAY)) == 1100
        assert slot_fee_rule(ordering, query(day=SUNDAY, charges=True)) == 1400


def test_none_matches_any_value_but_a_set_value_must_match():
    rates = [Rate(500, group_class_code="child"), Rate(300, charges_participation_fee=False)]
    assert slot_fee_rule(rates, query(group="child", charges=True)) == 500
    assert slot_fee_rule(rates, query(group="adult", charges=False)) == 300
    with pytest.raises(NoFeeRate):
        slot_fee_rule(rates, query(group="adult", charges=True))


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (WEDNESDAY, 400),
        (SATURDAY, 600),
        (SUNDAY, 600),
        (LABOUR_THANKSGIVING, 600),
        (CITIZENS_HOLIDAY, 600),
        (SUBSTITUTE_HOLIDAY, 600),
        (date(2027, 1, 1), 600),  # 元日
        (date(2026, 12, 28), 400),  # a Monday, not a national holiday
    ],
)
def test_weekends_and_national_holidays_take_the_holiday_row(day, expected):
    rates = [Rate(400, day_type="weekday"), Rate(600, day_type="holiday")]
    assert slot_fee_rule(rates, query(day=day)) == expected


def test_rows_of_other_rooms_and_bands_never_apply():
    rates = [Rate(400, room_id=2), Rate(500, time_band_id=11)]
    with pytest.raises(NoFeeRate) as missing:
        slot_fee_rule(rates, query())
    # The query travels with the error so the log says which slot has no fee.
    assert missing.value.args[0] == query()


def test_an_empty_table_is_a_data_error():
    with pytest.raises(NoFeeRate):
        slot_fee_rule([], query())
    assert issubclass(NoFeeRate, LookupError)


def test_total_is_integer_yen():
    assert total_yen([400, 700, 500]) == 1600
    assert total_yen([]) == 0


def test_the_fee_is_the_room_and_its_equipment():
    assert total_fee_rule(700, 500) == 1200  # guide §5-2: 702 and a projector
    assert total_fee_rule(700, 0) == 700
    with pytest.raises(ValueError):
        total_fee_rule(-1, 0)
    with pytest.raises(ValueError):
        total_fee_rule(700, -500)


@given(facility=st.integers(0, 1_000_000), equipment=st.integers(0, 1_000_000))
def test_the_fee_never_falls_below_either_part(facility, equipment):
    fee = total_fee_rule(facility, equipment)
    assert fee == facility + equipment and fee >= max(facility, equipment)
