"""予約番号 and 収納番号 formats (DESIGN rule 14)."""

from __future__ import annotations

import re
from datetime import date

from models.time_rules import fiscal_year

RESERVATION_NUMBER = re.compile(r"^(\d{4})-(\d{6})$")


def reservation_number(applied_on: date, sequence: int) -> str:
    """FFFF-NNNNNN: fiscal year of the application (JST day) and its sequence in that year."""
    if not 1 <= sequence <= 999_999:
        raise ValueError("reservation sequence out of range")
    return f"{fiscal_year(applied_on):04d}-{sequence:06d}"


def reservation_counter_key(applied_on: date) -> str:
    return f"reservation:{fiscal_year(applied_on):04d}"


def receipt_number(facility_code: str, issued_on: date, sequence: int) -> str:
    """16 digits: 3-digit facility code, JST issue date YYYYMMDD, 5-digit daily sequence."""
    if not (len(facility_code) == 3 and facility_code.isascii() and facility_code.isdigit()):
        raise ValueError("facility code must be 3 digits")
    if not 1 <= sequence <= 99_999:
        raise ValueError("receipt sequence out of range")
    return f"{facility_code}{issued_on:%Y%m%d}{sequence:05d}"


def receipt_counter_key(facility_code: str, issued_on: date) -> str:
    return f"receipt:{facility_code}:{issued_on:%Y%m%d}"


def lottery_application_number(applied_on: date, sequence: int) -> str:
    """抽選申込番号 (DESIGN "Lottery"): FFFF-NNNNNN as a 予約番号, from its own counter."""
    if not 1 <= sequence <= 999_999:
        raise ValueError("lottery application sequence out of range")
    return f"{fiscal_year(applied_on):04d}-{sequence:06d}"


def lottery_application_counter_key(applied_on: date) -> str:
    return f"lottery-application:{fiscal_year(applied_on):04d}"
