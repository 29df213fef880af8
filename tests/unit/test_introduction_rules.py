"""サークル(団体) 紹介's pure rules: who is listed, what text is kept."""

from __future__ import annotations

from datetime import date

import pytest

from models.introduction_rules import has_control_characters, is_activity, is_listed, may_introduce, plain_text

TODAY = date(2026, 11, 25)


@pytest.mark.parametrize(
    "published, kind, expires_on, listed",
    [
        (True, "assembly", TODAY, True),  # valid through its expiry day
        (True, "assembly", date(2026, 11, 24), False),  # expired
        (False, "assembly", date(2027, 1, 1), False),  # did not choose to be introduced
        (True, "sports", date(2027, 1, 1), False),  # not a 集会・学校 group
    ],
)
def test_a_group_is_listed_only_when_it_chose_to_and_its_assembly_registration_is_valid(
    published, kind, expires_on, listed
):
    assert (
        is_listed(published=published, registration_kind=kind, registration_expires_on=expires_on, today=TODAY)
        is listed
    )


def test_only_assembly_registrations_may_introduce_themselves():
    assert may_introduce("assembly") and not may_introduce("sports")


@pytest.mark.parametrize(
    "text, refused",
    [
        ("毎週水曜日\n19:00~21:00\t和室", False),
        ("家族👨‍👩‍👧で参加できます", False),  # an emoji's zero-width joiners are text
        ("見学\x00歓迎", True),
        ("\x1b[31m赤", True),
        ("\u202emoc.elpmaxe", True),  # a right-to-left override makes it read otherwise
    ],
)
def test_control_characters_are_refused_but_line_breaks_and_emoji_are_text(text, refused):
    assert has_control_characters(text) is refused


def test_plain_text_keeps_line_breaks_as_newlines_and_trims_the_ends():
    assert plain_text("  一行目\r\n二行目\r三行目  ") == "一行目\n二行目\n三行目"


def test_activities_are_a_closed_list():
    assert is_activity("music") and not is_activity("") and not is_activity("<script>")
