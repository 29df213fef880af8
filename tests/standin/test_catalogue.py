"""The provider's own catalogue: every text on its pages has an English translation with
the same placeholders."""

from __future__ import annotations

import re
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from payment_standin.settings import PACKAGE_DIR

PLACEHOLDER = re.compile(r"%\((\w+)\)s")
GUIDE = Path(__file__).resolve().parents[2] / "docs" / "guide-chapter5.txt"
# Jinja strips the "guide:" tag from template comments; Python keeps it.
CITATION = re.compile(r"(?:guide:\s*)?L(\d+)")


def extracted() -> dict[str, list[str]]:
    """msgid → the comments written immediately before it."""
    with (PACKAGE_DIR / "babel.cfg").open() as config:
        method_map, options_map = parse_mapping_cfg(config)
    messages: dict[str, list[str]] = {}
    for _filename, _line, message, comments, _context in extract_from_dir(
        str(PACKAGE_DIR), method_map, options_map, comment_tags=("guide:",), strip_comment_tags=False
    ):
        messages.setdefault(message, []).extend(comments)
    return messages


def extracted_msgids() -> set[str]:
    return set(extracted())


def test_every_text_has_an_english_translation_with_the_same_placeholders():
    with (PACKAGE_DIR / "translations/en/LC_MESSAGES/messages.po").open("rb") as po_file:
        catalogue = {m.id: m.string for m in read_po(po_file) if m.id}
    msgids = extracted_msgids()
    assert len(msgids) > 50
    missing = sorted(m for m in msgids if not catalogue.get(m))
    assert missing == [], missing
    for msgid in msgids:
        assert set(PLACEHOLDER.findall(msgid)) == set(PLACEHOLDER.findall(catalogue[msgid])), msgid


def test_guide_citations_point_at_the_line_with_that_text():
    lines = GUIDE.read_text(encoding="utf-8").splitlines()
    cited = 0
    for msgid, comments in extracted().items():
        for comment in comments:
            for number in CITATION.findall(comment):
                pattern = re.escape(msgid).replace(re.escape("%(minutes)s"), r"\d+")
                assert re.search(pattern, lines[int(number) - 1]), (msgid, number)
                cited += 1
    assert cited >= 14
