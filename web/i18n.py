"""Flask-Babel set-up: the locale comes from the channel; catalogues compile when stale."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import Flask, g
from flask_babel import Babel

from config import ROOT

LOCALES_DIR = ROOT / "locales"


def compile_catalogues(directory: Path = LOCALES_DIR) -> None:
    """Write messages.mo next to each messages.po that is newer (the .mo is not committed)."""
    for po_path in directory.glob("*/LC_MESSAGES/messages.po"):
        mo_path = po_path.with_suffix(".mo")
        if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
            continue
        with po_path.open("rb") as po_file:
            catalog = read_po(po_file, locale=po_path.parts[-3])
        # A name of this process's own: several processes (test workers, the Procfile's
        # web and kiosk) may compile at the same moment, and each replaces atomically.
        tmp = mo_path.with_name(f"messages.mo.{os.getpid()}.{uuid.uuid4().hex}.tmp")
        try:
            with tmp.open("wb") as mo_file:
                write_mo(mo_file, catalog, use_fuzzy=False)
            tmp.replace(mo_path)
        finally:
            tmp.unlink(missing_ok=True)


def select_locale() -> str:
    return g.get("locale", "ja")


def init_app(app: Flask) -> None:
    compile_catalogues()
    Babel(
        app,
        locale_selector=select_locale,
        default_translation_directories=str(LOCALES_DIR),
        default_timezone="Asia/Tokyo",
    )
