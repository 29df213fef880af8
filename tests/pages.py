"""Reading a served page as a test does: its HTML, its main content, its words."""

from __future__ import annotations

import re
from html import unescape


def text(response) -> str:
    """The response body as text."""
    return response.get_data(as_text=True)


def main_of(html: str) -> str:
    """What is inside <main>: the page without the header, footer and navigation."""
    return html.split('<main id="main" tabindex="-1">', 1)[1].split("</main>", 1)[0]


def words(html: str) -> str:
    """The page's text: tags dropped (each separates words), spaces folded."""
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def words_as_read(html: str) -> str:
    """The text as a reader meets it: inline spans join their text, other tags separate."""
    return words(re.sub(r"</?span[^>]*>", "", html))
