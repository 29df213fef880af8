"""Login and expiry rules for registered groups (DESIGN rule 1, guide §5-2 ①)."""

from __future__ import annotations

import unicodedata
from datetime import date


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
