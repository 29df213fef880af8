"""Flask-Babel set-up: the locale comes from the channel. The .mo catalogues are compiled
at build and by bin/setup (and catalogue-update), never into the source tree while the site
runs: a site whose .mo files are missing or older than the .po compiles its own copy into
the instance folder and says so in the log."""

from __future__ import annotations

import logging
import os
import sys
import uuid
from pathlib import Path

from babel import support
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import Flask, g
from flask.globals import _cv_app
from flask_babel import Babel, Domain

from config import ROOT

LOCALES_DIR = ROOT / "locales"
log = logging.getLogger("meguro.i18n")

# Where the compiled catalogues are read from (mail.compose reads it too): the source
# tree's, or an instance folder's copy when those are stale.
_directory = LOCALES_DIR


def catalogue_directory() -> Path:
    return _directory


def stale_catalogues(directory: Path | None = None) -> list[Path]:
    """The .po files whose .mo is missing or older."""
    directory = directory or LOCALES_DIR
    stale = []
    for po_path in sorted(directory.glob("*/LC_MESSAGES/messages.po")):
        mo_path = po_path.with_suffix(".mo")
        if not mo_path.exists() or mo_path.stat().st_mtime < po_path.stat().st_mtime:
            stale.append(po_path)
    return stale


def compile_catalogues(source: Path | None = None, target: Path | None = None) -> int:
    """Write messages.mo for each messages.po of `source` that is newer, into `target`
    (default: beside the .po — for bin/setup, the build and catalogue-update only)."""
    source = source or LOCALES_DIR
    target = target or source
    count = 0
    for po_path in source.glob("*/LC_MESSAGES/messages.po"):
        mo_path = target / po_path.relative_to(source).with_suffix(".mo")
        if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
            continue
        mo_path.parent.mkdir(parents=True, exist_ok=True)
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
        count += 1
    return count


def use_compiled_catalogues(instance_path: str) -> Path:
    """The directory to read catalogues from: the source tree's when they are up to date,
    otherwise a copy compiled into <instance>/locales (logged: run bin/setup)."""
    global _directory
    if stale_catalogues():
        _directory = Path(instance_path) / "locales"
        compile_catalogues(LOCALES_DIR, _directory)
        log.warning("message catalogues not compiled (run bin/setup); compiled into %s", _directory)
    else:
        _directory = LOCALES_DIR
    return _directory


def select_locale() -> str:
    return g.get("locale", "ja")


class LocaleDomain(Domain):
    """Flask-Babel's message domain, with each locale's catalogue loaded once per app and
    chosen by `g.locale` (what `select_locale` answers) in one lookup: Flask-Babel's own
    path asks for its request state, the domain and the Locale (and formats its name) on
    every one of a page's fifty-odd gettext calls (issue 12)."""

    def __init__(self, directory: Path):
        super().__init__(translation_directories=[str(directory)])
        self._catalogues: dict[str, support.NullTranslations] = {}

    def get_translations(self) -> support.NullTranslations:
        # The app context's `g` read once, not through its proxy twice (a page calls this
        # fifty to a hundred times, issue 12).
        context = _cv_app.get(None)
        if context is None:  # outside an app context, as Flask-Babel does
            return support.NullTranslations()
        locale = context.g.get("locale", "ja")
        try:
            return self._catalogues[locale]
        except KeyError:
            catalogue = support.Translations.load(self.translation_directories[0], [locale], self.domain[0])
            self._catalogues[locale] = catalogue
            return catalogue


def init_app(app: Flask) -> None:
    directory = use_compiled_catalogues(app.instance_path)
    babel = Babel(
        app,
        locale_selector=select_locale,
        default_translation_directories=str(directory),
        default_timezone="Asia/Tokyo",
    )
    # Flask-Babel's gettext, lazy_gettext and the templates' _() all go through this.
    domain = LocaleDomain(directory)
    babel.domain_instance = domain
    app.jinja_env.install_gettext_callables(  # type: ignore[attr-defined]
        gettext=lambda s: domain.get_translations().ugettext(s),
        ngettext=lambda s, p, n: domain.get_translations().ungettext(s, p, n),
        newstyle=True,
        pgettext=lambda c, s: domain.get_translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: domain.get_translations().unpgettext(c, s, p, n),
    )


if __name__ == "__main__":  # bin/setup: python -m web.i18n
    print(f"{compile_catalogues()} message catalogues compiled", file=sys.stderr)
