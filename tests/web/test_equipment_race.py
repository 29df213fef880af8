"""Two bookings at the same time in the same building ask for the only unit of an item, and
press 予約 at the same moment, against a real threaded HTTP server (DESIGN rule 10 and
"Architecture": stock under a serialising lock). Exactly one gets it; the other is told
how many are free and nothing of theirs changes. Then one booking's 予約 pressed in two
tabs at once: one change, the other told the booking changed. Runs on SQLite and, with
DATABASE_URL, on PostgreSQL."""

from __future__ import annotations

import re
import threading
from html import unescape
from urllib.parse import urlencode

import pytest
import requests
from sqlalchemy import select

from models.equipment import ReservationEquipment
from models.facility import EquipmentItem
from models.reservation import Reservation
from tests.web.served_support import logged_in
from tests.web.test_equipment import FIRST, book_701_at_the_same_time, error_messages, form_fields, item_ids

pytestmark = pytest.mark.xdist_group("race")

# Items of 区民センター社会教育館 with a stock of one.
ONLY_ONE = ["DVDモニターセット", "移動スクリーン", "花器一式", "マイクセット"]


def confirm_page(
    browser: requests.Session, base: str, number: str, version: int, item_id: int, quantity: int = 1
) -> str:
    query = {"version": version, "lend_start": "09:00", "lend_end": "12:00", f"item_{item_id}": quantity}
    response = browser.get(f"{base}/equipment/{number}/confirm?{urlencode(query)}", timeout=30)
    assert response.status_code == 200, response.text[:1000]
    return response.text


def press_together(browsers: list[requests.Session], posts: list[tuple[str, dict]]) -> list[requests.Response]:
    """Each browser POSTs its form after all are ready (a barrier), as close together as
    threads allow; the answers in the same order."""
    barrier = threading.Barrier(len(browsers))
    responses: list[requests.Response | BaseException | None] = [None] * len(browsers)

    def press(i: int) -> None:
        try:
            url, data = posts[i]
            barrier.wait(timeout=30)
            responses[i] = browsers[i].post(url, data=data, timeout=60)
        except BaseException as exc:  # reported below, not lost in the thread
            responses[i] = exc

    threads = [threading.Thread(target=press, args=(i,)) for i in range(len(browsers))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=90)
    assert all(isinstance(r, requests.Response) for r in responses), responses
    return responses


def holdings(app, item_id: int) -> dict[str, int]:
    with app.extensions["database"].read_session() as s:
        rows = s.execute(
            select(Reservation.number, ReservationEquipment.quantity)
            .join(Reservation, Reservation.id == ReservationEquipment.reservation_id)
            .where(ReservationEquipment.item_id == item_id)
        ).all()
    return dict(rows)


def versions(app, numbers: list[str]) -> dict[str, tuple[int, int]]:
    with app.extensions["database"].read_session() as s:
        return {
            r.number: (r.version, r.equipment_fee_yen)
            for r in s.scalars(select(Reservation).where(Reservation.number.in_(numbers)))
        }


def test_two_bookings_cannot_both_take_the_only_unit_even_at_the_same_moment(served):
    app, base = served
    other = book_701_at_the_same_time(app)  # 駒場サークル, 701, 2026/12/25 9:00~12:00
    ids = item_ids(app)
    browsers = [logged_in(base, "40675"), logged_in(base, "40676")]
    numbers = [FIRST, other]
    for name in ONLY_ONE:
        item_id = ids[name]
        with app.extensions["database"].read_session() as s:
            assert s.get(EquipmentItem, item_id).stock == 1
        before = versions(app, numbers)
        pages = [confirm_page(b, base, n, before[n][0], item_id) for b, n in zip(browsers, numbers)]
        posts = [(f"{base}/equipment/{n}", dict(form_fields(p, f"/equipment/{n}"))) for n, p in zip(numbers, pages)]

        responses = press_together(browsers, posts)

        won = [
            i for i, r in enumerate(responses) if r.status_code == 200 and r.history and r.history[0].status_code == 303
        ]
        lost = [i for i, r in enumerate(responses) if r.status_code == 409]
        assert len(won) == 1 and len(lost) == 1, [(r.status_code, r.text[:800]) for r in responses]
        winner, loser = won[0], lost[0]
        assert "備品（付帯品）予約を完了しました。" in responses[winner].text
        with app.extensions["database"].read_session() as s:
            unit = s.get(EquipmentItem, item_id).unit_ja
        assert error_messages(responses[loser].text) == [
            f"{name}の予約数は、貸出できる数（0{unit}）以下で入力してください。"
        ]
        # The loser sees the page again as asked, with what is free now.
        assert re.search(rf'<span id="stock-{item_id}" class="stock">/ 0', unescape(responses[loser].text))
        # The only unit is held once, by the winner; the loser's booking did not change.
        assert holdings(app, item_id) == {numbers[winner]: 1}
        after = versions(app, numbers)
        assert after[numbers[loser]] == before[numbers[loser]]
        assert after[numbers[winner]][0] == before[numbers[winner]][0] + 1

        # Free it again for the next item (as if the winner had removed it).
        with app.extensions["database"].write() as s:
            for line in s.scalars(select(ReservationEquipment).where(ReservationEquipment.item_id == item_id)):
                s.delete(line)


def test_one_booking_changed_from_two_tabs_at_once_changes_once(served):
    app, base = served
    ids = item_ids(app)
    tabs = [logged_in(base, "40675"), logged_in(base, "40675")]
    for round_ in range(3):
        version = versions(app, [FIRST])[FIRST][0]
        # Each tab asks for something the booking does not hold yet (an unchanged
        # request changes nothing and keeps the version).
        pages = [
            confirm_page(tabs[0], base, FIRST, version, ids["プロジェクター"], round_ + 1),
            confirm_page(tabs[1], base, FIRST, version, ids["譜面台"], round_ + 1),
        ]
        posts = [(f"{base}/equipment/{FIRST}", dict(form_fields(p, f"/equipment/{FIRST}"))) for p in pages]

        responses = press_together(tabs, posts)

        statuses = sorted(r.status_code for r in responses)
        assert statuses == [200, 409], (
            round_,
            [
                (
                    r.status_code,
                    [h.status_code for h in r.history],
                    re.findall(r"<h1>(.*?)</h1>", r.text),
                    error_messages(r.text),
                )
                for r in responses
            ],
        )
        stale = next(r for r in responses if r.status_code == 409)
        assert error_messages(stale.text) == [
            "予約の内容が変更されています。最新の内容を確認して、もう一度操作してください。"
        ]
        assert versions(app, [FIRST])[FIRST][0] == version + 1
        with app.extensions["database"].read_session() as s:
            lines = s.scalars(select(ReservationEquipment).join(Reservation).where(Reservation.number == FIRST)).all()
            assert len(lines) == 1  # one tab's choice, whole: never a mix of both
