"""The provider's own catalogue: every text on its pages has an English translation with
the same placeholders."""
from __future__ import annotations

import re

from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from payment_standin.settings import PACKAGE_DIR

PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def extracted_msgids() -> set[str]:
    with (PACKAGE_DIR / "babel.cfg").open() as config:
        method_map, options_map = parse_mapping_cfg(config)
    return {message for _filename, _line, message, *_ in extract_from_dir(str(PACKAGE_DIR), method_map, options_map)}


def test_every_text_has_an_english_translation_with_the_same_placeholders():
    with (PACKAGE_DIR / "translations/en/LC_MESSAGES/messages.po").open("rb") as po_file:
        catalogue = {m.id: m.string for m in read_po(po_file) if m.id}
    msgids = extracted_msgids()
    assert len(msgids) > 50
    missing = sorted(m for m in msgids if not catalogue.get(m))
    assert missing == [], missing
    for msgid in msgids:
        assert set(PLACEHOLDER.findall(msgid)) == set(PLACEHOLDER.findall(catalogue[msgid])), msgid
