"""The provider's own message catalogue (Japanese msgids, English in
translations/en), separate from the city's: a card company has its own texts."""

from __future__ import annotations

import os
from datetime import datetime, timedelta, timezone

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import Flask, g
from flask_babel import Babel

from payment_standin.settings import PACKAGE_DIR

TRANSLATIONS_DIR = PACKAGE_DIR / "translations"
LOCALES = ("ja", "en")
# Japan keeps no daylight saving time, so a fixed offset is exact.
JST = timezone(timedelta(hours=9), "JST")


def compile_catalogues() -> None:
    """Write messages.mo beside each messages.po that is newer (the .mo is not committed)."""
    for po_path in TRANSLATIONS_DIR.glob("*/LC_MESSAGES/messages.po"):
        mo_path = po_path.with_suffix(".mo")
        if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
            continue
        with po_path.open("rb") as po_file:
            catalog = read_po(po_file, locale=po_path.parts[-3])
        tmp = mo_path.with_suffix(f".mo.{os.getpid()}.tmp")
        with tmp.open("wb") as mo_file:
            write_mo(mo_file, catalog, use_fuzzy=False)
        tmp.replace(mo_path)


def locale_or_default(value: str | None, default: str = "ja") -> str:
    return value if value in LOCALES else default


def select_locale() -> str:
    return g.get("locale", "ja")


def yen(amount: int) -> str:
    """400円 in Japanese (guide L148), ¥400 in English."""
    return f"¥{amount:,}" if select_locale() == "en" else f"{amount:,}円"


def clock_time(moment: datetime) -> str:
    """10:15 in Japan time, rounded down so the time shown is never later than the limit."""
    local = moment.astimezone(JST)
    return f"{local.hour}:{local.minute:02d}"


def init_app(app: Flask) -> None:
    compile_catalogues()
    Babel(app, locale_selector=select_locale, default_translation_directories=str(TRANSLATIONS_DIR))
    app.jinja_env.filters["yen"] = yen
    app.jinja_env.filters["clock_time"] = clock_time
    app.jinja_env.filters["jst_iso"] = lambda moment: moment.astimezone(JST).isoformat(timespec="seconds")
