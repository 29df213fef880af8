"""Card rules of the stand-in (pure): brand by prefix, Luhn, lengths, security code, expiry."""

from __future__ import annotations

from datetime import date

import pytest

from payment_standin.cards import (
    Brand,
    Field,
    InvalidCard,
    Problem,
    brand_of,
    check_card,
    is_luhn_valid,
    normalise_digits,
)

TODAY = date(2026, 11, 25)
VALID = {
    # Luhn-valid numbers, one or more per brand and prefix range.
    "4111111111111111": Brand.VISA,
    "4000000000000002": Brand.VISA,
    "5555555555554444": Brand.MASTERCARD,
    "5105105105105100": Brand.MASTERCARD,
    "2221000000000009": Brand.MASTERCARD,
    "2720990000000007": Brand.MASTERCARD,
    "3530111333300000": Brand.JCB,
    "3566002020360505": Brand.JCB,
    "36227206271667": Brand.DINERS,
    "30569309025904": Brand.DINERS,
    "38520000023237": Brand.DINERS,
    "378282246310005": Brand.AMEX,
    "340000000000009": Brand.AMEX,
}


def problems_of(**kwargs) -> set[tuple[Field, Problem]]:
    values = dict(number="4111111111111111", month="12", year="2027", code="123")
    values.update(kwargs)
    with pytest.raises(InvalidCard) as caught:
        check_card(values["number"], values["month"], values["year"], values["code"], TODAY)
    return {(p.field, p.problem) for p in caught.value.problems}


@pytest.mark.parametrize("number, brand", VALID.items())
def test_brand_by_prefix_and_luhn(number, brand):
    assert brand_of(number) is brand
    assert is_luhn_valid(number)
    code = "1234" if brand is Brand.AMEX else "123"
    card = check_card(number, "11", "2026", code, TODAY)
    assert card.brand is brand and card.last4 == number[-4:]


@pytest.mark.parametrize(
    "number",
    [
        "6011111111111117",
        "1234567812345670",
        "2220990000000000",
        "2721000000000000",
        "3527000000000000",
        "3590000000000000",
        "3060000000000000",
    ],
)
def test_other_prefixes_are_no_accepted_brand(number):
    assert brand_of(number) is None


def test_full_width_digits_spaces_and_hyphens_are_accepted():
    assert normalise_digits("４１１１ 1111-1111 1111") == "4111111111111111"
    assert check_card("４１１１ 1111-1111 1111", "12", "2027", "１２３", TODAY).number == "4111111111111111"


def test_only_the_declined_test_number_is_flagged_as_declined():
    assert check_card("4000000000000002", "12", "2027", "123", TODAY).is_declined_test_card
    assert not check_card("4111111111111111", "12", "2027", "123", TODAY).is_declined_test_card


@pytest.mark.parametrize(
    "number, problem",
    [
        ("", Problem.NUMBER_MISSING),
        ("4111-abcd-1111-1111", Problem.NUMBER_NOT_DIGITS),
        ("6011111111111117", Problem.BRAND_UNKNOWN),
        ("411111111111111", Problem.NUMBER_LENGTH),  # VISA with 15 digits
        ("37828224631000", Problem.NUMBER_LENGTH),  # AMEX with 14 digits
        ("4111111111111112", Problem.NUMBER_LUHN),
        ("4321987654321234", Problem.NUMBER_LUHN),  # the guide's example is not a real number
    ],
)
def test_card_number_problems(number, problem):
    assert (Field.NUMBER, problem) in problems_of(number=number, code="123")


def test_expiry_must_be_chosen_and_not_past():
    assert problems_of(month="", year="") == {(Field.MONTH, Problem.MONTH_MISSING), (Field.YEAR, Problem.YEAR_MISSING)}
    assert problems_of(month="13") == {(Field.MONTH, Problem.MONTH_MISSING)}
    assert problems_of(year="twenty") == {(Field.YEAR, Problem.YEAR_MISSING)}
    assert problems_of(month="10", year="2026") == {(Field.MONTH, Problem.EXPIRED)}
    assert problems_of(month="12", year="2025") == {(Field.MONTH, Problem.EXPIRED)}
    # Valid through the last day of the expiry month.
    assert check_card("4111111111111111", "11", "2026", "123", TODAY).expiry_month == 11


def test_digits_of_other_scripts_are_not_numbers():
    """str.isdigit() accepts Ethiopic ፩ and superscript ², which int() refuses: the form
    says what is wrong instead of failing."""
    assert problems_of(month="፩", year="፪፻") == {
        (Field.MONTH, Problem.MONTH_MISSING),
        (Field.YEAR, Problem.YEAR_MISSING),
    }
    assert problems_of(number="፬፩፩፩", code="፩፪፫") >= {(Field.NUMBER, Problem.NUMBER_NOT_DIGITS)}
    assert brand_of("፬111") is None and is_luhn_valid("፬111") is False


@pytest.mark.parametrize(
    "number, code, ok",
    [
        ("4111111111111111", "123", True),
        ("4111111111111111", "1234", False),
        ("4111111111111111", "12", False),
        ("378282246310005", "1234", True),
        ("378282246310005", "123", False),
        ("3530111333300000", "12a", False),
    ],
)
def test_security_code_length_follows_the_brand(number, code, ok):
    if ok:
        assert check_card(number, "12", "2027", code, TODAY)
    else:
        assert (Field.CODE, Problem.CODE_LENGTH) in problems_of(number=number, code=code)


def test_every_problem_is_reported_at_once():
    assert problems_of(number="", month="", year="", code="") == {
        (Field.NUMBER, Problem.NUMBER_MISSING),
        (Field.MONTH, Problem.MONTH_MISSING),
        (Field.YEAR, Problem.YEAR_MISSING),
        (Field.CODE, Problem.CODE_MISSING),
    }
