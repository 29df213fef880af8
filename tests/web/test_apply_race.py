"""Two residents press 申込 for the same slot at the same moment, against a real threaded
HTTP server: exactly one gets it, the other is told which slot was taken."""

from __future__ import annotations

import time
from datetime import date
from urllib.parse import urlencode

import pytest
import requests
from sqlalchemy import select

from models.facility import Room
from models.reservation import Reservation
from models.reservation_rules import ACTIVE_STATES
from tests.web.served_support import at_once, form_fields, logged_in

pytestmark = pytest.mark.xdist_group("race")

# Free for both 目黒団体 and 駒場サークル at the frozen clock: (slot, answers, words).
ROUNDS = [
    (
        "2:2026-12-01:5",
        {"r2-purpose": "1", "r2-attendees": "5", "r2-charges_fee": "no"},
        "駒場住区センター 202【旧第2会議室】 2026/12/1(火) 9:00~12:00",
    ),
    (
        "2:2026-12-01:6",
        {"r2-purpose": "4", "r2-attendees": "18", "r2-charges_fee": "yes"},
        "駒場住区センター 202【旧第2会議室】 2026/12/1(火) 12:30~15:00",
    ),
    (
        "6:2026-12-02:21",
        {"r6-purpose": "3", "r6-attendees": "7", "r6-charges_fee": "no"},
        "中目黒住区センター 第1会議室 2026/12/2(水) 9:00~12:00",
    ),
    (
        "5:2026-12-04:17",
        {"r5-purpose": "2", "r5-attendees": "40", "r5-charges_fee": "no"},
        "区民センター社会教育館 702【旧第2研修室】 2026/12/4(金) 9:00~12:00",
    ),
    (
        "1:2026-12-22:4",
        {"r1-purpose": "1", "r1-attendees": "3", "r1-charges_fee": "no"},
        "駒場住区センター 201【旧第1会議室】 2026/12/22(火) 18:30~21:30",
    ),
]


def confirm_form(browser: requests.Session, base: str, slot: str, answers: dict) -> list[tuple[str, str]]:
    """The 申込確認 page's POST form, as its hidden inputs."""
    response = browser.get(f"{base}/apply/confirm?" + urlencode([("slot", slot), *answers.items()]), timeout=30)
    assert response.status_code == 200, response.text
    return form_fields(response.text, "/apply")


def active_holders(app, slot: str) -> list[int]:
    room, day, band = slot.split(":")
    with app.extensions["database"].read_session() as s:
        return list(
            s.scalars(
                select(Reservation.resident_id).where(
                    Reservation.room_id == int(room),
                    Reservation.use_date == date.fromisoformat(day),
                    Reservation.time_band_id == int(band),
                    Reservation.state.in_(ACTIVE_STATES),
                )
            )
        )


def test_two_residents_pressing_apply_at_once_get_one_booking_between_them(served):
    app, base = served
    residents = [logged_in(base, "40675"), logged_in(base, "40676")]
    for slot, answers, words in ROUNDS:
        assert active_holders(app, slot) == []
        forms = [confirm_form(browser, base, slot, answers) for browser in residents]
        responses = at_once(
            [
                lambda browser=browser, form=form: browser.post(f"{base}/apply", data=form, timeout=60)
                for browser, form in zip(residents, forms)
            ]
        )

        won = [r for r in responses if r.status_code == 200]
        lost = [r for r in responses if r.status_code == 409]
        assert len(won) == 1 and len(lost) == 1, [(r.status_code, r.text[:500]) for r in responses]
        assert [h.status_code for h in won[0].history] == [303]
        assert "予約申込 完了" in won[0].text and "申込を受付しました。" in won[0].text
        assert f"他の方が先に申し込みました: {words}" in lost[0].text
        assert "予約申込 完了" not in lost[0].text

        holders = active_holders(app, slot)
        assert len(holders) == 1
        # The winner is the one who saw the completion page.
        assert holders[0] == (1 if won[0] is responses[0] else 2)


def test_a_slot_already_taken_is_refused_without_waiting_for_the_bookings_being_written(served):
    """The opening rush: most of those who press 申込 find their slot taken already. They
    are told so at once, not after queueing for the write lock behind the bookings being
    written (held here by another transaction: SQLite's write lock, the room's row on
    PostgreSQL)."""
    app, base = served
    slot, answers, words = ROUNDS[0]
    first, second = logged_in(base, "40675"), logged_in(base, "40676")
    late_form = confirm_form(second, base, slot, answers)
    booked = first.post(f"{base}/apply", data=confirm_form(first, base, slot, answers), timeout=60)
    assert booked.status_code == 200 and "予約申込 完了" in booked.text

    with app.extensions["database"].write() as writer:
        writer.execute(select(Room.id).where(Room.id == int(slot.split(":")[0])).with_for_update()).all()
        started = time.monotonic()
        refused = second.post(f"{base}/apply", data=late_form, timeout=10)
        waited = time.monotonic() - started
    assert refused.status_code == 409, refused.text[:500]
    assert f"他の方が先に申し込みました: {words}" in refused.text
    assert waited < 10
    assert active_holders(app, slot) == [1]
