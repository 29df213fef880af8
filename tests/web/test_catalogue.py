"""One catalogue for every UI text (STYLE rule 5): nothing extracted is missing from ja or
en, every entry is translated, and English pages show no Japanese outside data."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import pytest
from sqlalchemy import select

from models.account import Resident
from models.introduction import GroupIntroduction
from models.notice import Message
from models.reservation import Reservation
from tests.conftest import csrf_token_from
from tests.web.test_every_route import crawl, visit_as
from web import catalogue

LOCALES = ("ja", "en")
JAPANESE = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uff01-\uff60]")
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")
GUIDE = Path(__file__).resolve().parents[2] / "docs" / "guide-chapter5.txt"


def msgid_text(message) -> str:
    return message.id if isinstance(message.id, str) else message.id[0]


def translations(message) -> list[str]:
    return list(message.string) if isinstance(message.string, (list, tuple)) else [message.string]


@pytest.fixture(scope="module")
def extracted():
    return catalogue.extract()


@pytest.fixture(scope="module")
def catalogues():
    return {locale: catalogue.load(locale) for locale in LOCALES}


# -- (a) nothing extracted is missing -----------------------------------------------------


@pytest.mark.parametrize("locale", LOCALES)
def test_every_extracted_message_is_in_the_catalogue(extracted, catalogues, locale):
    known = catalogues[locale]
    missing = [
        f"{msgid_text(m)!r} ({', '.join(f'{f}:{n}' for f, n in m.locations[:2])})"
        for m in extracted
        if m.id and known.get(m.id, context=m.context) is None
    ]
    assert not missing, (
        f"{len(missing)} messages missing from locales/{locale}: run the catalogue update\n" + "\n".join(missing)
    )


def test_the_extractor_sees_code_and_templates(extracted):
    # A broken babel.cfg would make the test above pass on an empty extraction.
    files = {f for m in extracted for f, _ in m.locations}
    assert any(f.endswith(".py") for f in files) and any(f.endswith(".html") for f in files)
    assert extracted.get("ログイン") is not None
    assert extracted.get("登録施設、利用者登録番号、またはパスワードが正しくありません。") is not None


# -- (b) every message is translated ------------------------------------------------------


@pytest.mark.parametrize("locale", LOCALES)
def test_every_message_has_a_translation(catalogues, locale):
    untranslated = [
        msgid_text(m) for m in catalogues[locale] if m.id and (not all(s.strip() for s in translations(m)) or m.fuzzy)
    ]
    assert not untranslated, f"{len(untranslated)} messages without a {locale} translation:\n" + "\n".join(untranslated)


def test_japanese_translations_are_the_msgids(catalogues):
    def same(m) -> bool:  # Japanese has one plural form: the singular msgid
        if isinstance(m.id, str):
            return m.string == m.id
        return all(form == m.id[0] for form in m.string)

    differing = [msgid_text(m) for m in catalogues["ja"] if m.id and m.string and not same(m)]
    assert not differing, "ja entries whose text differs from their msgid:\n" + "\n".join(differing)


@pytest.mark.parametrize("locale", LOCALES)
def test_translations_keep_the_placeholders(catalogues, locale):
    """A lost or misspelt %(name)s breaks the page (KeyError) or drops the fact it names."""
    broken = [
        f"{msgid_text(m)!r} → {s!r}"
        for m in catalogues[locale]
        if m.id
        for s in translations(m)
        if s and sorted(PLACEHOLDER.findall(s)) != sorted(PLACEHOLDER.findall(msgid_text(m)))
    ]
    assert not broken, "translations whose placeholders differ from the msgid:\n" + "\n".join(broken)


def test_english_translations_are_english(catalogues):
    japanese = [
        f"{msgid_text(m)!r} → {s!r}"
        for m in catalogues["en"]
        if m.id
        for s in translations(m)
        if s and JAPANESE.search(s)
    ]
    assert not japanese, "English entries that contain Japanese:\n" + "\n".join(japanese)


def test_guide_citations_point_at_lines_of_the_guide(extracted):
    lines = len(GUIDE.read_text(encoding="utf-8").splitlines())
    bad = []
    for m in extracted:
        for comment in m.auto_comments:
            if not comment.startswith("guide:"):
                continue
            numbers = [int(n) for n in re.findall(r"L(\d+)", comment)]
            if not numbers or not all(1 <= n <= lines for n in numbers):
                bad.append(f"{msgid_text(m)!r}: {comment!r}")
    assert not bad, f"guide citations that name no line of the guide (1–{lines}):\n" + "\n".join(bad)


# -- (c) English pages show no Japanese outside data --------------------------------------

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
READ_ATTRIBUTES = ("title", "alt", "aria-label", "aria-description", "placeholder", "data-announce")


class VisibleText(HTMLParser):
    """The text a person reads or hears on a page, minus elements marked lang="ja"."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, bool]] = []
        self.texts: list[str] = []

    @property
    def skipping(self) -> bool:
        return bool(self.stack) and self.stack[-1][1]

    def handle_starttag(self, tag, attrs):
        a = {k: (v or "") for k, v in attrs}
        lang = a.get("lang")
        skip = lang.lower().startswith("ja") if lang is not None else self.skipping
        skip = skip or tag in ("script", "style")
        if not skip:
            self.texts += [a[name] for name in READ_ATTRIBUTES if a.get(name)]
            self.texts += [v for k, v in a.items() if k.startswith("data-msg-")]
            if tag == "input" and a.get("type") in ("submit", "button", "reset") and a.get("value"):
                self.texts.append(a["value"])
        if tag not in VOID:
            self.stack.append((tag, skip))

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag not in VOID:
            self.stack.pop()

    def handle_endtag(self, tag):
        # Close up to the matching tag (tolerates an unclosed <li>, <p> or <option>).
        for i in range(len(self.stack) - 1, -1, -1):
            if self.stack[i][0] == tag:
                del self.stack[i:]
                return

    def handle_data(self, data):
        if not self.skipping and data.strip():
            self.texts.append(data.strip())


def japanese_outside_data(html: str, data: list[str]) -> list[str]:
    parser = VisibleText()
    parser.feed(html)
    found = []
    for text in parser.texts:
        for value in data:
            text = text.replace(value, " ")
        if JAPANESE.search(text):
            found.append(text)
    return found


def data_without_english(app) -> list[str]:
    """Texts residents or staff typed, which have no English version: group names, cancel
    reasons, inbox messages, groups' introductions (サークル(団体) 紹介). Longest first, so that a name inside a longer text goes whole."""
    session = app.extensions["database"].read_session()
    try:
        values = set(session.scalars(select(Resident.name)))
        values |= {r for r in session.scalars(select(Reservation.cancel_reason)) if r}
        for subject, body in session.execute(select(Message.subject, Message.body)):
            values |= {subject, *body.splitlines()}
        for written in session.execute(
            select(GroupIntroduction.description, GroupIntroduction.meets, GroupIntroduction.contact)
        ):
            values |= {line for text in written for line in text.splitlines()}
    finally:
        session.close()
    return sorted((v.strip() for v in values if v and v.strip()), key=len, reverse=True)


@dataclass
class EnglishPages:
    pages: dict[str, str] = field(default_factory=dict)

    def add(self, label: str, response) -> None:
        assert response.status_code < 500, f"{label} answered {response.status_code}"
        self.pages[label] = response.get_data(as_text=True)


def english_pages(app) -> EnglishPages:
    found = EnglishPages()
    for visitor in ("logged out", "00040675"):
        client = visit_as(app, visitor)
        client.set_cookie("pref_locale", "en")
        run = crawl(app, client, visitor, forged=False, junk=False)
        assert not run.failures, run.failures
        found.pages.update({f"{visitor}: {url}": html for url, html in run.pages.items()})

    # States the crawl does not reach by GET.
    client = app.test_client()
    client.set_cookie("pref_locale", "en")
    login = client.get("/login").get_data(as_text=True)
    found.add(
        "login error",
        client.post(
            "/login",
            data={
                "csrf_token": csrf_token_from(login),
                "registration_kind": "assembly",
                "registration_number": "40675",
                "password": "wrong",
            },
        ),
    )
    found.add("login form errors", client.post("/login", data={"csrf_token": csrf_token_from(login)}))
    found.add("form without CSRF token", client.post("/settings/display", data={"text_size": "large"}))
    found.add("404", client.get("/no-such-page"))
    expired = visit_as(app, "00040678 (registration expired)")
    expired.set_cookie("pref_locale", "en")
    found.add("registration expired", expired.get("/account/expired"))
    return found


def test_english_pages_show_no_japanese_outside_data(app):
    pages = english_pages(app)
    data = data_without_english(app)
    assert len(pages.pages) > 20
    problems: dict[str, list[str]] = {}
    for label, html in pages.pages.items():
        assert '<html lang="en"' in html or "<html" not in html, f"{label} is not in English"
        found = japanese_outside_data(html, data)
        if found:
            problems[label] = found
    # One line per distinct text, with the first page that shows it.
    first_seen: dict[str, str] = {}
    for label, texts in problems.items():
        for text in texts:
            first_seen.setdefault(text, label)
    assert not first_seen, f"{len(first_seen)} Japanese texts on English pages:\n" + "\n".join(
        f"{label}: {text[:120]!r}" for text, label in first_seen.items()
    )


def test_the_japanese_check_sees_text_attributes_and_respects_lang():
    html = (
        '<html lang="en"><body><p>Hello <span lang="ja">日本語</span></p>'
        '<button aria-label="閉じる">x</button><p>目黒団体 logged in</p></body></html>'
    )
    assert japanese_outside_data(html, ["目黒団体"]) == ["閉じる"]
    assert japanese_outside_data('<ul><li>one<li lang="ja">二</ul><p>三</p>', []) == ["三"]
