"""What each channel allows (DESIGN "Channels"): one row per profile × presentation."""

from __future__ import annotations

import pytest

from web.channels import KIOSK, NORMAL, READER, STANDARD, Channel

ROWS = [
    # profile, presentation, serves card payment, may pay, fragments, numbered steps, session prefs
    (STANDARD, NORMAL, True, True, True, False, False),
    (STANDARD, READER, True, False, False, True, False),
    (KIOSK, NORMAL, False, False, True, False, True),
    (KIOSK, READER, False, False, False, True, True),
]


@pytest.mark.parametrize(("profile", "presentation", "serves", "pays", "fragments", "numbered", "session"), ROWS)
def test_each_channel_allows_what_the_design_says(profile, presentation, serves, pays, fragments, numbered, session):
    channel = Channel(profile, presentation)
    assert channel.serves_card_payment is serves
    assert channel.may_pay is pays
    assert channel.loads_fragments is fragments
    assert channel.numbers_steps is numbered
    assert channel.keeps_preferences_in_session is session
    assert channel.stores_no_page is session
    assert channel.layout == f"layouts/{profile}_{presentation}.html"


@pytest.mark.parametrize(("presentation", "other"), [(NORMAL, READER), (READER, NORMAL)])
def test_the_reader_switch_offers_the_other_presentation(presentation, other):
    assert Channel(STANDARD, presentation).other_presentation == other
