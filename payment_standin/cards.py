"""Card rules of the stand-in: brand by prefix, Luhn, lengths, security code and expiry.
Pure functions of their inputs (today included); no Flask, no database."""

from __future__ import annotations

import enum
import re
import unicodedata
from dataclasses import dataclass
from datetime import date

# The one Luhn-valid number that the stand-in declines (DESIGN "The payment provider").
DECLINED_TEST_NUMBER = "4000000000000002"
SEPARATORS = re.compile(r"[\s\-]")


class Brand(enum.Enum):
    """Accepted brands, in the order the guide lists them (L150). `display` is the name
    shown in words on the page; it is the same in Japanese and English."""

    VISA = ("VISA", 3, (13, 16, 19))
    MASTERCARD = ("Mastercard", 3, (16,))
    JCB = ("JCB", 3, (16, 17, 18, 19))
    DINERS = ("Diners Club", 3, (14, 15, 16, 17, 18, 19))
    AMEX = ("AMERICAN EXPRESS", 4, (15,))

    def __init__(self, display: str, code_length: int, lengths: tuple[int, ...]):
        self.display = display
        self.code_length = code_length
        self.lengths = lengths


class Field(str, enum.Enum):
    """Form fields a problem is about (their HTML ids)."""

    NUMBER = "card_number"
    MONTH = "expiry_month"
    YEAR = "expiry_year"
    CODE = "security_code"


class Problem(str, enum.Enum):
    NUMBER_MISSING = "number_missing"
    NUMBER_NOT_DIGITS = "number_not_digits"
    BRAND_UNKNOWN = "brand_unknown"
    NUMBER_LENGTH = "number_length"
    NUMBER_LUHN = "number_luhn"
    MONTH_MISSING = "month_missing"
    YEAR_MISSING = "year_missing"
    EXPIRED = "expired"
    CODE_MISSING = "code_missing"
    CODE_LENGTH = "code_length"


@dataclass(frozen=True)
class CardProblem:
    field: Field
    problem: Problem
    brand: Brand | None = None


class InvalidCard(Exception):
    """The card details cannot be used as entered; `problems` says which field and why."""

    def __init__(self, problems: list[CardProblem]):
        super().__init__(", ".join(p.problem.value for p in problems))
        self.problems = problems


@dataclass(frozen=True)
class Card:
    number: str
    brand: Brand
    expiry_month: int
    expiry_year: int

    @property
    def last4(self) -> str:
        return self.number[-4:]

    @property
    def is_declined_test_card(self) -> bool:
        return self.number == DECLINED_TEST_NUMBER


def _ascii_digits(text: str) -> bool:
    """0-9 only: str.isdigit() also accepts ² or Ethiopic ፩, which int() refuses."""
    return text.isascii() and text.isdigit()


def normalise_digits(text: str | None) -> str:
    """Full-width digits become ASCII; spaces and hyphens between groups are dropped."""
    return SEPARATORS.sub("", unicodedata.normalize("NFKC", text or ""))


def brand_of(number: str) -> Brand | None:
    """Brand by prefix: 4 VISA; 51–55 and 2221–2720 Mastercard; 3528–3589 JCB;
    36, 38 and 300–305 Diners Club; 34 and 37 AMERICAN EXPRESS."""
    if not _ascii_digits(number):
        return None
    if number.startswith("4"):
        return Brand.VISA
    if len(number) >= 2 and 51 <= int(number[:2]) <= 55:
        return Brand.MASTERCARD
    if len(number) >= 4 and 2221 <= int(number[:4]) <= 2720:
        return Brand.MASTERCARD
    if len(number) >= 4 and 3528 <= int(number[:4]) <= 3589:
        return Brand.JCB
    if number[:2] in ("36", "38") or (len(number) >= 3 and 300 <= int(number[:3]) <= 305):
        return Brand.DINERS
    if number[:2] in ("34", "37"):
        return Brand.AMEX
    return None


def is_luhn_valid(number: str) -> bool:
    if not _ascii_digits(number):
        return False
    total = 0
    for position, char in enumerate(reversed(number)):
        digit = int(char)
        if position % 2 == 1:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return total % 10 == 0


def expiry_years(today: date, count: int = 15) -> list[int]:
    """The years offered in the expiry select: this year and the next `count - 1`."""
    return [today.year + offset for offset in range(count)]


def _code_lengths(brand: Brand | None) -> tuple[int, ...]:
    """3 digits, 4 for AMERICAN EXPRESS; either while the brand is not yet known."""
    return (brand.code_length,) if brand else (3, 4)


def _parse_choice(value: str | None, allowed: range) -> int | None:
    text = normalise_digits(value)
    if not _ascii_digits(text) or len(text) > 4:
        return None
    number = int(text)
    return number if number in allowed else None


def check_card(number: str | None, month: str | None, year: str | None, code: str | None, today: date) -> Card:
    """The card as entered, or InvalidCard listing every problem (at most one a field).
    A card is valid through the last day of its expiry month."""
    problems: list[CardProblem] = []
    digits = normalise_digits(number)
    brand = brand_of(digits) if _ascii_digits(digits) else None
    if not digits:
        problems.append(CardProblem(Field.NUMBER, Problem.NUMBER_MISSING))
    elif not _ascii_digits(digits):
        problems.append(CardProblem(Field.NUMBER, Problem.NUMBER_NOT_DIGITS))
    elif brand is None:
        problems.append(CardProblem(Field.NUMBER, Problem.BRAND_UNKNOWN))
    elif len(digits) not in brand.lengths:
        problems.append(CardProblem(Field.NUMBER, Problem.NUMBER_LENGTH, brand))
    elif not is_luhn_valid(digits):
        problems.append(CardProblem(Field.NUMBER, Problem.NUMBER_LUHN, brand))

    month_value = _parse_choice(month, range(1, 13))
    year_value = _parse_choice(year, range(today.year - 50, today.year + 50))
    if month_value is None:
        problems.append(CardProblem(Field.MONTH, Problem.MONTH_MISSING))
    if year_value is None:
        problems.append(CardProblem(Field.YEAR, Problem.YEAR_MISSING))
    if month_value is not None and year_value is not None and (year_value, month_value) < (today.year, today.month):
        problems.append(CardProblem(Field.MONTH, Problem.EXPIRED))

    code_digits = normalise_digits(code)
    if not code_digits:
        problems.append(CardProblem(Field.CODE, Problem.CODE_MISSING, brand))
    elif not _ascii_digits(code_digits) or len(code_digits) not in _code_lengths(brand):
        problems.append(CardProblem(Field.CODE, Problem.CODE_LENGTH, brand))

    if problems:
        raise InvalidCard(problems)
    assert brand is not None and month_value is not None and year_value is not None
    return Card(number=digits, brand=brand, expiry_month=month_value, expiry_year=year_value)
