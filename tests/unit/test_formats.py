"""Formats by context (issue 2): header 2026年02月24日, lists 2025/3/4(火), mails 2025年3月4日
and 9時~12時; English Tue 4 Mar 2025; money 1,200円 and ¥1,200."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from types import SimpleNamespace

import pytest
from flask import Flask, g

from web import formats


@pytest.fixture
def request_locale():
    """A bare app context whose `g.locale` the filters read when no locale is passed."""
    app = Flask(__name__)

    def use(locale):
        ctx = app.app_context()
        ctx.push()
        g.locale = locale
        contexts.append(ctx)

    contexts = []
    yield use
    for ctx in reversed(contexts):
        ctx.pop()


@pytest.mark.parametrize(
    ("name", "value", "ja", "en"),
    [
        ("header_date", date(2026, 2, 24), "2026年02月24日", "24 Feb 2026"),
        ("header_date", date(2027, 11, 5), "2027年11月05日", "5 Nov 2027"),
        ("list_date", date(2025, 3, 4), "2025/3/4(火)", "Tue 4 Mar 2025"),
        ("list_date", date(2026, 11, 29), "2026/11/29(日)", "Sun 29 Nov 2026"),
        ("long_date", date(2026, 11, 26), "2026年11月26日(木)", "Thursday 26 November 2026"),
        ("short_date", date(2026, 11, 26), "11/26(木)", "Thu 26 Nov"),
        ("mail_date", date(2025, 3, 4), "2025年3月4日", "4 March 2025"),
    ],
)
def test_dates(name, value, ja, en):
    fmt = getattr(formats, name)
    assert fmt(value, "ja") == ja
    assert fmt(value, "en") == en


def test_an_aware_moment_is_shown_on_its_tokyo_day():
    late_utc = datetime(2026, 11, 25, 15, 30, tzinfo=UTC)  # 00:30 JST on the 26th
    assert formats.list_date(late_utc, "ja") == "2026/11/26(木)"
    assert formats.header_date(late_utc, "ja") == "2026年11月26日"


@pytest.mark.parametrize(
    ("amount", "ja", "en"),
    [(0, "0円", "¥0"), (400, "400円", "¥400"), (1200, "1,200円", "¥1,200"), (1234567, "1,234,567円", "¥1,234,567")],
)
def test_money(amount, ja, en):
    assert formats.yen(amount, "ja") == ja
    assert formats.yen(amount, "en") == en


def test_a_moment_in_tokyo_time():
    at = datetime(2025, 3, 4, 7, 30, tzinfo=UTC)
    assert formats.moment(at, "ja") == "2025/3/4(火) 16:30"
    assert formats.moment(at, "en") == "Tue 4 Mar 2025 16:30"


@pytest.mark.parametrize(
    ("starts", "ends", "ja", "en"),
    [
        (time(9), time(12), "9時~12時", "9:00–12:00"),
        (time(12, 30), time(15), "12時30分~15時", "12:30–15:00"),
        (time(18), time(21, 30), "18時~21時30分", "18:00–21:30"),
    ],
)
def test_mail_bands(starts, ends, ja, en):
    assert formats.mail_band(starts, ends, "ja") == ja
    assert formats.mail_band(starts, ends, "en") == en


def test_screen_bands_follow_the_request_locale(request_locale):
    request_locale("ja")
    assert formats.band(time(9), time(12)) == "9:00~12:00"
    assert formats.band(time(12, 30), time(15)) == "12:30~15:00"
    request_locale("en")
    assert formats.band(time(9), time(12)) == "9:00–12:00"


def test_without_an_explicit_locale_the_request_locale_applies(request_locale):
    request_locale("en")
    assert formats.yen(1200) == "¥1,200"
    assert formats.header_date(date(2026, 2, 24)) == "24 Feb 2026"
    request_locale("ja")
    assert formats.yen(1200) == "1,200円"


def test_clock_time():
    assert formats.clock_time(time(9, 0)) == "9:00"
    assert formats.clock_time(time(21, 30)) == "21:30"


def test_localized_picks_the_column_of_the_locale_and_falls_back_to_japanese():
    facility = SimpleNamespace(name_ja="駒場住区センター", name_en="Komaba Community Centre")
    untranslated = SimpleNamespace(name_ja="和室", name_en="")
    assert formats.localized(facility, "name", "ja") == "駒場住区センター"
    assert formats.localized(facility, "name", "en") == "Komaba Community Centre"
    assert formats.localized(untranslated, "name", "en") == "和室"
