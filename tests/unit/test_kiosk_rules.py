"""The kiosk's idle rules (models/kiosk_rules.py), without the app."""

from __future__ import annotations

import pytest

from models.kiosk_rules import IdleTimings, is_idle_expired


@pytest.mark.parametrize(
    ("last_seen", "now", "expired"),
    [
        (1000.0, 1000.0, False),
        (1000.0, 1120.0, False),  # exactly the limit: not yet
        (1000.0, 1120.5, True),
        (1000, 5000, True),
        (None, 5000.0, False),  # a new session gets its first mark
        ("1000", 5000.0, False),  # not a number we wrote
        (True, 5000.0, False),
    ],
)
def test_a_session_expires_only_after_the_limit(last_seen, now, expired):
    assert is_idle_expired(last_seen, now, 120) is expired


def test_the_default_timings_leave_30_seconds_to_answer():
    timings = IdleTimings(90, 120)
    timings.check(strict=True)
    assert timings.answer_seconds == 30
    assert timings.keepalive_seconds == 10


@pytest.mark.parametrize(("warn", "reset"), [(100, 120), (91, 120)])
def test_strict_timings_refuse_less_than_30_seconds_to_answer(warn, reset):
    with pytest.raises(ValueError, match="at least 30 s"):
        IdleTimings(warn, reset).check(strict=True)


def test_test_timings_may_be_short():
    timings = IdleTimings(1.5, 3)
    timings.check(strict=False)
    assert timings.keepalive_seconds == pytest.approx(0.5)


@pytest.mark.parametrize(("warn", "reset"), [(0, 10), (10, 10), (20, 10), (-1, 5)])
def test_nonsense_timings_are_refused_everywhere(warn, reset):
    with pytest.raises(ValueError, match="warn < reset"):
        IdleTimings(warn, reset).check(strict=False)
