"""抽選申込 pressed many times at the same moment, against a real threaded HTTP server
(DESIGN "Lottery": Entries and caps). The caps hold: one group racing for more slots than its
month allows gets exactly what fits, every other request is told the cap; several groups
racing for one slot each get one entry of it, and a group's second tab is told it has entered
already. Runs on SQLite, and on PostgreSQL when DATABASE_URL is set.

The clock is frozen at 2026-11-25 10:00 JST: 2027-02 is open for entries, with a cap of 4
entries per group; 目黒団体 (00040675) and 駒場サークル (00040676) have two each."""

from __future__ import annotations

from datetime import date
from urllib.parse import urlencode

import pytest
import requests
from sqlalchemy import func, select

from models.account import Resident
from models.lottery import LotteryEntry
from models.reservation_rules import ReservationState
from tests.pages import words
from tests.web.served_support import at_once, form_fields, logged_in

pytestmark = pytest.mark.xdist_group("race")

WASHITSU = 3  # 駒場住区センター 和室, drawn by lottery; bands 9-12
MEGURO, KOMABA = "40675", "40676"
ANSWERS = {f"r{WASHITSU}-purpose": "1", f"r{WASHITSU}-attendees": "5", f"r{WASHITSU}-charges_fee": "no"}
# Free slots of the open month that neither group has entered.
FREE = [f"{WASHITSU}:2027-02-05:{band}" for band in (9, 10, 12)] + [
    f"{WASHITSU}:2027-02-06:{band}" for band in (9, 10, 11)
]
CAP_REFUSED = "抽選申込は、1団体につき1か月の利用分あたり4件までです（2027年2月分の申込: 4件）。"


def submit_form(browser: requests.Session, base: str, slot: str) -> list[tuple[str, str]]:
    """抽選申込確認's form for one slot, as its hidden inputs (its own form token)."""
    response = browser.get(f"{base}/lottery/confirm?" + urlencode([("slot", slot), *ANSWERS.items()]), timeout=30)
    assert response.status_code == 200, words(response.text)
    assert "抽選に申込む" in response.text
    return form_fields(response.text, "/lottery")


def press(browser: requests.Session, base: str, form: list[tuple[str, str]]):
    return lambda: browser.post(f"{base}/lottery", data=form, timeout=60)


def open_entries(app, number: str) -> list[tuple[int, date, int]]:
    """The group's 抽選申込中 entries in 2027-02, as (room, date, band)."""
    with app.extensions["database"].read_session() as s:
        return list(
            s.execute(
                select(LotteryEntry.room_id, LotteryEntry.use_date, LotteryEntry.time_band_id)
                .join(Resident, Resident.id == LotteryEntry.resident_id)
                .where(
                    Resident.registration_number == number.zfill(8),
                    LotteryEntry.state == ReservationState.LOTTERY_ENTRY,
                    LotteryEntry.use_date >= date(2027, 2, 1),
                    LotteryEntry.use_date < date(2027, 3, 1),
                )
                .order_by(LotteryEntry.use_date, LotteryEntry.time_band_id)
            ).all()
        )


def entries_of_slot(app, slot: str) -> int:
    room, day, band = slot.split(":")
    with app.extensions["database"].read_session() as s:
        return s.scalar(
            select(func.count())
            .select_from(LotteryEntry)
            .where(
                LotteryEntry.room_id == int(room),
                LotteryEntry.use_date == date.fromisoformat(day),
                LotteryEntry.time_band_id == int(band),
                LotteryEntry.state == ReservationState.LOTTERY_ENTRY,
            )
        )


def entered(response: requests.Response) -> bool:
    """抽選申込完了, reached through the 303 after the POST."""
    return (
        response.status_code == 200
        and [r.status_code for r in response.history] == [303]
        and "抽選の申込を受付しました。" in words(response.text)
    )


def test_one_group_racing_for_more_slots_than_its_cap_gets_what_fits_and_the_rest_are_told(served):
    app, base = served
    assert len(open_entries(app, MEGURO)) == 2
    # Six tabs of 目黒団体, each with one free slot: each alone would fit under the cap.
    tabs = [logged_in(base, MEGURO) for _ in FREE]
    forms = [submit_form(tab, base, slot) for tab, slot in zip(tabs, FREE)]

    responses = at_once([press(tab, base, form) for tab, form in zip(tabs, forms)])

    won = [r for r in responses if entered(r)]
    refused = [r for r in responses if not entered(r)]
    assert len(won) == 2, [(r.status_code, words(r.text)[:300]) for r in responses]
    for response in refused:
        assert response.status_code == 422, words(response.text)[:500]
        assert CAP_REFUSED in words(response.text)
        assert "抽選の申込を受付しました。" not in words(response.text)
    held = open_entries(app, MEGURO)
    assert len(held) == 4
    assert len(set(held)) == len(held)


def test_groups_racing_for_one_slot_each_enter_it_once(served):
    app, base = served
    slot = FREE[0]
    assert entries_of_slot(app, slot) == 0
    before = {number: len(open_entries(app, number)) for number in (MEGURO, KOMABA)}
    # Two tabs of each group, all pressing 抽選に申込む for the same slot at once.
    tabs = [(number, logged_in(base, number)) for number in (MEGURO, MEGURO, KOMABA, KOMABA)]
    forms = [submit_form(tab, base, slot) for _, tab in tabs]

    responses = at_once([press(tab, base, form) for (_, tab), form in zip(tabs, forms)])

    for number in (MEGURO, KOMABA):
        theirs = [r for (n, _), r in zip(tabs, responses) if n == number]
        won = [r for r in theirs if entered(r)]
        refused = [r for r in theirs if not entered(r)]
        assert len(won) == 1 and len(refused) == 1, [(r.status_code, words(r.text)[:300]) for r in theirs]
        assert refused[0].status_code == 409, words(refused[0].text)[:500]
        assert "この時間帯には、すでに抽選申込をしています: 駒場住区センター 和室 2027/2/5(金) 9:00~12:00" in words(
            refused[0].text
        )
        assert len(open_entries(app, number)) == before[number] + 1
    # A lottery slot takes an entry from each group, never two from one.
    assert entries_of_slot(app, slot) == 2
