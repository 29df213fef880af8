"""Login and expiry rules for registered groups (DESIGN rule 1, guide §5-2 ①)."""

from __future__ import annotations

import unicodedata
from datetime import date, datetime, timedelta


class RegistrationKind:
    ASSEMBLY = "assembly"  # 集会・学校
    SPORTS = "sports"  # スポーツ
    ALL = (ASSEMBLY, SPORTS)


def normalize_registration_number(text: str) -> str:
    """'40675', '００４０６７５' and '00040675' are the same 8-digit number; anything else
    raises ValueError."""
    digits = unicodedata.normalize("NFKC", text or "").strip()
    if not digits.isdigit() or not digits.isascii() or not 1 <= len(digits) <= 8:
        raise ValueError("registration number must be 1 to 8 digits")
    return digits.zfill(8)


def is_expired(expires_on: date, today: date) -> bool:
    """Valid through the expiry day itself."""
    return today > expires_on


# -- sign-in (DESIGN "Accounts and sign-in") ------------------------------------------------

LOCKOUT_AFTER = 5  # wrong passwords in a row for one registration
LOCKOUT_FOR = timedelta(minutes=30)
LOCKOUT_MAIL_EVERY = timedelta(days=1)
RESET_LINK_VALID = timedelta(minutes=30)
EMAIL_LINK_VALID = timedelta(hours=24)
PASSWORD_MIN, PASSWORD_MAX = 8, 64
# zxcvbn's score from 0 (guessed at once) to 4; below this a new password is refused.
PASSWORD_MIN_SCORE = 3


class PasswordProblem:
    """Why a new password is refused (the forms turn each into a sentence)."""

    LENGTH = "length"
    NUMBER = "number"  # it is the registration number
    WEAK = "weak"


def password_problem(password: str, *, registration_number: str, hints: tuple[str, ...] = ()) -> str | None:
    """None when `password` may be set; otherwise a PasswordProblem. 8 to 64 characters, not
    the registration number (with or without its leading zeros), and rated at least
    PASSWORD_MIN_SCORE by zxcvbn, a maintained common-password checker."""
    from zxcvbn import zxcvbn

    if not PASSWORD_MIN <= len(password) <= PASSWORD_MAX:
        return PasswordProblem.LENGTH
    plain = unicodedata.normalize("NFKC", password).strip()
    if plain in (registration_number, registration_number.lstrip("0")):
        return PasswordProblem.NUMBER
    inputs = [registration_number, registration_number.lstrip("0"), *[h for h in hints if h]]
    if zxcvbn(password, user_inputs=inputs)["score"] < PASSWORD_MIN_SCORE:
        return PasswordProblem.WEAK
    return None


def is_locked(locked_until: datetime | None, now: datetime) -> bool:
    return locked_until is not None and now < locked_until


def normalize_phone(text: str) -> str:
    """'03-1234-5678' and '０３－１２３４－５６７８' alike; ValueError unless a Japanese number
    with its area code: 0 then 9 or 10 more digits, with optional hyphens."""
    plain = unicodedata.normalize("NFKC", text or "").strip().replace("ー", "-").replace("−", "-")
    digits = plain.replace("-", "")
    if not digits.isascii() or not digits.isdigit() or not 10 <= len(digits) <= 11 or "--" in plain:
        raise ValueError("a phone number is 10 or 11 digits")
    if not digits.startswith("0"):
        raise ValueError("a phone number is 10 or 11 digits")
    if plain.startswith("-") or plain.endswith("-"):
        raise ValueError("a phone number is 10 or 11 digits")
    return plain
