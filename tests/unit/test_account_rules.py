"""Login numbers and expiries (DESIGN rule 1): 40675 ≡ 00040675."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from models.account_rules import RegistrationKind, is_expired, normalize_registration_number

FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("40675", "00040675"),
        ("00040675", "00040675"),
        ("040675", "00040675"),
        ("４０６７５", "00040675"),  # full-width digits from a Japanese IME
        ("０００４０６７５", "00040675"),
        (" 40675 ", "00040675"),
        ("\u300040675\u3000", "00040675"),  # ideographic spaces around it
        ("40675\n", "00040675"),
        ("1", "00000001"),
        ("12345678", "12345678"),
    ],
)
def test_accepted_numbers(typed, expected):
    assert normalize_registration_number(typed) == expected


@pytest.mark.parametrize(
    "typed",
    [
        "",
        "   ",
        None,
        "123456789",  # more than 8 digits
        "000040675",  # 9 characters, even with a leading zero
        "4067a",
        "abc",
        "40 675",
        "40-675",
        "-40675",
        "+40675",
        "4067.5",
        "٤٠٦٧٥",  # Arabic-Indic digits are digits, but not ours
    ],
)
def test_refused_numbers(typed):
    with pytest.raises(ValueError):
        normalize_registration_number(typed)


@given(st.integers(0, 99_999_999))
def test_any_number_reads_the_same_with_or_without_zeros_and_in_full_width(n):
    canonical = f"{n:08d}"
    assert normalize_registration_number(str(n)) == canonical
    assert normalize_registration_number(canonical) == canonical
    assert normalize_registration_number(str(n).translate(FULL_WIDTH)) == canonical


@given(st.text(max_size=12))
def test_normalizing_is_idempotent_and_yields_eight_ascii_digits(text):
    try:
        once = normalize_registration_number(text)
    except ValueError:
        return
    assert len(once) == 8 and once.isascii() and once.isdigit()
    assert normalize_registration_number(once) == once


@pytest.mark.parametrize(
    ("expires_on", "today", "expired"),
    [
        (date(2026, 2, 24), date(2026, 2, 23), False),
        (date(2026, 2, 24), date(2026, 2, 24), False),  # valid through the expiry day
        (date(2026, 2, 24), date(2026, 2, 25), True),
        (date(2026, 12, 31), date(2027, 1, 1), True),
    ],
)
def test_expiry(expires_on, today, expired):
    assert is_expired(expires_on, today) is expired


def test_the_two_registration_kinds():
    assert RegistrationKind.ALL == ("assembly", "sports")
