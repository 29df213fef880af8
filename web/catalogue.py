"""The message catalogue: extract every UI text, keep ja and en complete.

ja: msgids are the guide's Japanese, so each Japanese entry is its msgid (filled in here).
en: translated by hand in locales/en/LC_MESSAGES/messages.po. Entries that come from the
guide carry an extracted `guide: L<n>` comment citing the line of ../shared/seed."""

from __future__ import annotations

import io
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po, write_po

from config import ROOT

LOCALES_DIR = ROOT / "locales"
COMMENT_TAGS = ("guide:",)
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "lazy_gettext": None, "_l": None, "N_": None}


def extract() -> Catalog:
    """Every message in code and templates, as Babel's extractor sees it."""
    with (ROOT / "babel.cfg").open() as cfg:
        method_map, options_map = parse_mapping_cfg(cfg)
    catalog = Catalog(project="meguro-reservations", charset="utf-8")
    for filename, lineno, message, comments, context in extract_from_dir(
        str(ROOT), method_map, options_map, keywords=KEYWORDS, comment_tags=COMMENT_TAGS, strip_comment_tags=False
    ):
        if "node_modules" in filename or filename.startswith(".venv"):
            continue
        catalog.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    return catalog


def po_path(locale: str) -> Path:
    return LOCALES_DIR / locale / "LC_MESSAGES" / "messages.po"


def load(locale: str) -> Catalog:
    path = po_path(locale)
    if not path.exists():
        return Catalog(locale=locale, project="meguro-reservations")
    with path.open("rb") as f:
        return read_po(f, locale=locale)


def save(catalog: Catalog, locale: str) -> None:
    path = po_path(locale)
    path.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    # Sorted by message, with files but no line numbers: branches that add messages merge
    # cleanly, and moving code does not rewrite the catalogue.
    write_po(
        buffer,
        catalog,
        width=0,
        sort_output=True,
        include_lineno=False,
        omit_header=False,
        include_previous=False,
        ignore_obsolete=True,
    )
    path.write_bytes(buffer.getvalue())


def update() -> dict[str, list[str]]:
    """Rewrite ja and en from the extracted messages, keeping existing English; return
    what each still lacks (ja never lacks anything: its text is the msgid)."""
    template = extract()
    missing: dict[str, list[str]] = {}
    for locale in ("ja", "en"):
        old = load(locale)
        # The old file's creation date: a header that changes at every update would make
        # every branch that touches the catalogue conflict on that line.
        catalog = Catalog(
            locale=locale, project="meguro-reservations", charset="utf-8", creation_date=old.creation_date
        )
        for message in template:
            if not message.id:
                continue
            if locale == "ja":
                string = message.id
            else:
                previous = old.get(message.id, context=message.context)
                string = previous.string if previous is not None else ""
            catalog.add(
                message.id, string, message.locations, auto_comments=message.auto_comments, context=message.context
            )
        save(catalog, locale)
        missing[locale] = _untranslated(catalog)
    return missing


def _untranslated(catalog: Catalog) -> list[str]:
    """msgids without a translation; a plural lacks one while any of its forms is empty."""

    def lacks(message) -> bool:
        forms = message.string if isinstance(message.string, (tuple, list)) else (message.string,)
        return not all(form and form.strip() for form in forms)

    return [m.id if isinstance(m.id, str) else m.id[0] for m in catalog if m.id and lacks(m)]


def untranslated(locale: str) -> list[str]:
    return _untranslated(load(locale))
