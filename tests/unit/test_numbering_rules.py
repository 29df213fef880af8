"""予約番号 FFFF-NNNNNN by Japanese fiscal year, 収納番号 of 16 digits (DESIGN rule 14)."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from models.numbering_rules import (
    RESERVATION_NUMBER,
    receipt_counter_key,
    receipt_number,
    reservation_counter_key,
    reservation_number,
)


@pytest.mark.parametrize(
    ("applied_on", "sequence", "expected"),
    [
        (date(2025, 3, 31), 1, "2024-000001"),  # March belongs to the fiscal year before
        (date(2025, 4, 1), 1, "2025-000001"),
        (date(2026, 1, 1), 42, "2025-000042"),
        (date(2026, 11, 25), 999_999, "2026-999999"),
        (date(2026, 12, 31), 123_456, "2026-123456"),
    ],
)
def test_reservation_number(applied_on, sequence, expected):
    assert reservation_number(applied_on, sequence) == expected
    assert RESERVATION_NUMBER.match(expected)


@pytest.mark.parametrize("sequence", [0, -1, 1_000_000])
def test_reservation_sequence_out_of_range(sequence):
    with pytest.raises(ValueError):
        reservation_number(date(2026, 11, 25), sequence)


def test_the_reservation_counter_restarts_each_fiscal_year_not_each_calendar_year():
    assert reservation_counter_key(date(2026, 4, 1)) == reservation_counter_key(date(2027, 3, 31))
    assert reservation_counter_key(date(2027, 3, 31)) != reservation_counter_key(date(2027, 4, 1))
    assert reservation_counter_key(date(2026, 12, 31)) == reservation_counter_key(date(2027, 1, 1))


@pytest.mark.parametrize(
    ("code", "issued_on", "sequence", "expected"),
    [
        ("013", date(2026, 11, 25), 1, "0132026112500001"),
        ("039", date(2025, 3, 4), 99_999, "0392025030499999"),
        ("000", date(2027, 1, 1), 12_345, "0002027010112345"),
    ],
)
def test_receipt_number(code, issued_on, sequence, expected):
    assert receipt_number(code, issued_on, sequence) == expected


@pytest.mark.parametrize("sequence", [0, -1, 100_000])
def test_receipt_sequence_out_of_range(sequence):
    with pytest.raises(ValueError):
        receipt_number("013", date(2026, 11, 25), sequence)


@pytest.mark.parametrize("code", ["13", "0133", "", "ab1", "01 ", "０１３", "٠١٣"])
def test_receipt_needs_a_three_digit_ascii_facility_code(code):
    with pytest.raises(ValueError):
        receipt_number(code, date(2026, 11, 25), 1)


def test_receipt_counter_is_per_facility_and_per_day():
    key = receipt_counter_key("013", date(2026, 11, 25))
    assert key != receipt_counter_key("039", date(2026, 11, 25))
    assert key != receipt_counter_key("013", date(2026, 11, 26))
    assert key == receipt_counter_key("013", date(2026, 11, 25))


@given(
    code=st.integers(0, 999).map(lambda n: f"{n:03d}"),
    issued_on=st.dates(min_value=date(2000, 1, 1), max_value=date(9999, 12, 31)),
    sequence=st.integers(1, 99_999),
)
def test_receipt_number_is_always_16_ascii_digits_that_read_back(code, issued_on, sequence):
    number = receipt_number(code, issued_on, sequence)
    assert len(number) == 16 and number.isascii() and number.isdigit()
    assert number[:3] == code
    assert date(int(number[3:7]), int(number[7:9]), int(number[9:11])) == issued_on
    assert int(number[11:]) == sequence


@given(
    applied_on=st.dates(min_value=date(2000, 1, 1), max_value=date(9998, 12, 31)),
    sequence=st.integers(1, 999_999),
)
def test_reservation_number_reads_back(applied_on, sequence):
    number = reservation_number(applied_on, sequence)
    match = RESERVATION_NUMBER.match(number)
    assert match
    fiscal, seq = int(match.group(1)), int(match.group(2))
    assert seq == sequence
    # The fiscal year starts on 1 April of its own number.
    assert date(fiscal, 4, 1) <= applied_on < date(fiscal + 1, 4, 1)
