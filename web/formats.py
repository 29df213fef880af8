"""Formats by context (issue 2): header 2026年02月24日, lists 2025/3/4(火), mails 2025年3月4日
and 9時~12時; English Tue 4 Mar 2025; money 1,200円 and ¥1,200."""

from __future__ import annotations

from datetime import date, datetime, time

from flask import Flask, g

from models.time_rules import JST

WEEKDAYS_JA = "月火水木金土日"
WEEKDAYS_EN = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
WEEKDAYS_EN_LONG = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MONTHS_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
MONTHS_EN_LONG = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


def _locale(locale: str | None) -> str:
    return locale or g.get("locale", "ja")


def _as_date(value) -> date:
    if isinstance(value, datetime):
        return value.astimezone(JST).date() if value.tzinfo else value.date()
    return value


def header_date(value, locale: str | None = None) -> str:
    """Expiry dates in the header: 2026年02月24日 / 24 Feb 2026."""
    d = _as_date(value)
    if _locale(locale) == "en":
        return f"{d.day} {MONTHS_EN[d.month - 1]} {d.year}"
    return f"{d.year}年{d.month:02d}月{d.day:02d}日"


def list_date(value, locale: str | None = None) -> str:
    """Dates in lists and tables: 2025/3/4(火) / Tue 4 Mar 2025."""
    d = _as_date(value)
    if _locale(locale) == "en":
        return f"{WEEKDAYS_EN[d.weekday()]} {d.day} {MONTHS_EN[d.month - 1]} {d.year}"
    return f"{d.year}/{d.month}/{d.day}({WEEKDAYS_JA[d.weekday()]})"


def long_date(value, locale: str | None = None) -> str:
    """Dates spoken in full, for accessible names: 2026年11月26日(木) / Thursday 26 November 2026."""
    d = _as_date(value)
    if _locale(locale) == "en":
        return f"{WEEKDAYS_EN_LONG[d.weekday()]} {d.day} {MONTHS_EN_LONG[d.month - 1]} {d.year}"
    return f"{d.year}年{d.month}月{d.day}日({WEEKDAYS_JA[d.weekday()]})"


def short_date(value, locale: str | None = None) -> str:
    """Grid column heads: 11/26(木) / Thu 26 Nov."""
    d = _as_date(value)
    if _locale(locale) == "en":
        return f"{WEEKDAYS_EN[d.weekday()]} {d.day} {MONTHS_EN[d.month - 1]}"
    return f"{d.month}/{d.day}({WEEKDAYS_JA[d.weekday()]})"


def mail_date(value, locale: str | None = None) -> str:
    """Dates in mails: 2025年3月4日 / 4 March 2025."""
    d = _as_date(value)
    if _locale(locale) == "en":
        return f"{d.day} {MONTHS_EN_LONG[d.month - 1]} {d.year}"
    return f"{d.year}年{d.month}月{d.day}日"


def clock_time(t: time) -> str:
    return f"{t.hour}:{t.minute:02d}"


def band(starts: time, ends: time) -> str:
    """Time bands on screen: 9:00~12:00 (the same in English, with an en dash)."""
    sep = "–" if _locale(None) == "en" else "~"
    return f"{clock_time(starts)}{sep}{clock_time(ends)}"


def _mail_time(t: time) -> str:
    return f"{t.hour}時{t.minute}分" if t.minute else f"{t.hour}時"


def mail_band(starts: time, ends: time, locale: str | None = None) -> str:
    """Time bands in mails: 9時~12時, 12時30分~15時 / 9:00–12:00."""
    if _locale(locale) == "en":
        return f"{clock_time(starts)}–{clock_time(ends)}"
    return f"{_mail_time(starts)}~{_mail_time(ends)}"


def yen(amount: int, locale: str | None = None) -> str:
    """Money: 1,200円 / ¥1,200."""
    if _locale(locale) == "en":
        return f"¥{amount:,}"
    return f"{amount:,}円"


def moment(value: datetime, locale: str | None = None) -> str:
    """A point in time in Tokyo: 2025/3/4(火) 16:30 / Tue 4 Mar 2025 16:30."""
    local = value.astimezone(JST)
    return f"{list_date(local.date(), locale)} {local:%H:%M}"


def use_month(value, locale: str | None = None) -> str:
    """A lottery's use month: 2027年2月 / February 2027."""
    d = _as_date(value)
    if _locale(locale) == "en":
        return f"{MONTHS_EN_LONG[d.month - 1]} {d.year}"
    return f"{d.year}年{d.month}月"


def localized(obj, attribute: str, locale: str | None = None) -> str:
    """`name_ja` / `name_en` columns by the request's locale."""
    loc = _locale(locale)
    value = getattr(obj, f"{attribute}_{loc}", None)
    return value if value else getattr(obj, f"{attribute}_ja")


FILTERS = {
    "header_date": header_date,
    "list_date": list_date,
    "long_date": long_date,
    "short_date": short_date,
    "mail_date": mail_date,
    "clock_time": clock_time,
    "yen": yen,
    "moment": moment,
    "use_month": use_month,
    "localized": localized,
}


def init_app(app: Flask) -> None:
    app.jinja_env.filters.update(FILTERS)
    app.jinja_env.globals.update(band=band, mail_band=mail_band)
