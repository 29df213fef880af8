"""抽選申込 from the grid: 詳細申請 → 抽選申込確認 → 抽選申込完了, and the refusals that name
their rule and change nothing (DESIGN "Lottery": Who, Entries and caps). The clock is frozen
at 2026-11-25 10:00 JST: 2027-02 is open for entries until 2026-12-03 00:00; 目黒団体
(00040675) has two entries in it already, so two more fit under the cap of 4."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select
from werkzeug.datastructures import MultiDict

from models.lottery import LotteryApplication, LotteryEntry
from tests.conftest import HTMX_HEADERS, AuthActions
from tests.pages import main_of, text, words

WASHITSU = 3  # 駒場住区センター 和室, a lottery room; bands 9-12
HALL = 7  # 中小企業センター ホール, bands 25-28
KOMABA_201 = 1  # first come
OPEN = "2027-02-05"  # a Friday in the open month
HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)">')


@pytest.fixture
def meguro(client):
    AuthActions(client).login()
    return client


def slot_query(*slots: str, purpose="1", attendees="5", charges="no", room=WASHITSU) -> str:
    parts = [f"slot={s}" for s in slots] + [
        f"r{room}-purpose={purpose}",
        f"r{room}-attendees={attendees}",
        f"r{room}-charges_fee={charges}",
    ]
    return "&".join(parts)


def submit_form(html: str) -> MultiDict:
    form = html[html.index('action="/lottery"') :]
    return MultiDict(HIDDEN.findall(form[: form.index("</form>")]))


def count_entries(app) -> int:
    with app.extensions["database"].read_session() as s:
        return s.scalar(select(func.count()).select_from(LotteryEntry))


def snapshot(app) -> tuple:
    with app.extensions["database"].read_session() as s:
        return (
            s.scalar(select(func.count()).select_from(LotteryEntry)),
            s.scalar(select(func.count()).select_from(LotteryApplication)),
            tuple(s.scalars(select(LotteryEntry.state).order_by(LotteryEntry.id))),
        )


def confirm(client, query: str):
    return client.get(f"/lottery/confirm?{query}")


def apply(client, *slots: str, **answers):
    page = text(confirm(client, slot_query(*slots, **answers)))
    return client.post("/lottery", data=submit_form(page))


def test_details_confirm_and_complete_with_the_number_and_the_result_date(app, meguro):
    details = meguro.get(f"/lottery/details?slot={WASHITSU}:{OPEN}:9&slot={WASHITSU}:{OPEN}:11")
    assert details.status_code == 200
    page = words(main_of(text(details)))
    assert page.startswith("詳細申請")
    assert "抽選結果の発表日: 2026/12/7(月) 09:00" in page
    # Each chosen slot with its entries so far and its fee if won.
    assert "2027/2/5(金) 9:00~12:00 0件 300円" in page and "2027/2/5(金) 15:30~18:00 1件 300円" in page
    # The breadcrumb names the lottery's own steps.
    assert "抽選申込確認" in words(text(details)) and "抽選申込完了" in words(text(details))

    query = slot_query(f"{WASHITSU}:{OPEN}:9", f"{WASHITSU}:{OPEN}:11")
    checked = confirm(meguro, query)
    assert checked.status_code == 200
    page = words(main_of(text(checked)))
    assert page.startswith("抽選申込確認")
    assert "当選した場合の合計 600円" in page and "抽選に申込む" in page
    before = count_entries(app)
    done = meguro.post("/lottery", data=submit_form(text(checked)))
    assert done.status_code == 303 and "/lottery/complete/" in done.headers["Location"]
    complete = meguro.get(done.headers["Location"])
    page = words(main_of(text(complete)))
    assert page.startswith("抽選申込完了 抽選の申込を受付しました。")
    assert re.search(r"抽選申込番号 2026-\d{6}", page)
    assert "抽選結果の発表日: 2026/12/7(月) 09:00" in page
    assert "抽選申込中 駒場住区センター 和室 2027/2/5(金) 9:00~12:00 会議・打合せ 5人" in page
    assert count_entries(app) == before + 2
    # The slot's count went up on the grid.
    slots = text(meguro.get(f"/availability/slots?cell={WASHITSU}:{OPEN}&facility=013"))
    assert "◎抽選受付中 申込2件" in re.sub(r"<[^>]+>", "", slots)


def test_the_pages_answer_htmx_requests_as_whole_pages(meguro):
    for url in (f"/lottery/details?slot={WASHITSU}:{OPEN}:9", f"/lottery/confirm?{slot_query(f'{WASHITSU}:{OPEN}:9')}"):
        response = meguro.get(url, headers=HTMX_HEADERS)
        assert response.status_code == 200 and "<title>" in text(response)


def test_missing_answers_come_back_to_details_with_the_errors(app, meguro):
    response = confirm(meguro, slot_query(f"{WASHITSU}:{OPEN}:9", attendees="99"))
    assert response.status_code == 422
    assert "<title>エラー: 詳細申請" in text(response)
    assert "15" in words(text(response))


def test_a_replayed_form_enters_once_and_shows_the_first_result(app, meguro):
    page = text(confirm(meguro, slot_query(f"{WASHITSU}:{OPEN}:10")))
    form = submit_form(page)
    first = meguro.post("/lottery", data=form)
    before = snapshot(app)
    second = meguro.post("/lottery", data=form)
    assert second.status_code == 303 and second.headers["Location"] == first.headers["Location"]
    assert snapshot(app) == before


def test_the_same_slot_twice_is_refused_and_names_the_rule(app, meguro):
    apply(meguro, f"{WASHITSU}:{OPEN}:10")
    before = snapshot(app)
    response = confirm(meguro, slot_query(f"{WASHITSU}:{OPEN}:10"))
    assert response.status_code == 422
    assert "この時間帯には、すでに抽選申込をしています: 駒場住区センター 和室 2027/2/5(金) 12:30~15:00" in words(
        text(response)
    )
    assert snapshot(app) == before


def test_the_cap_of_four_entries_a_month_is_said_and_nothing_is_entered(app, meguro):
    before = snapshot(app)
    slots = [f"{WASHITSU}:{OPEN}:{band}" for band in (9, 10, 11)]
    page = text(confirm(meguro, slot_query(*slots)))
    assert "抽選申込は、1団体につき1か月の利用分あたり4件までです（2027年2月分の申込: 2件）。" in words(page)
    assert '<button type="submit" class="button">抽選に申込む</button>' not in page
    # Posted anyway (a forged form): the operation refuses, nothing changes.
    response = meguro.post("/lottery", data=submit_form(page))
    assert response.status_code == 422
    assert "4件まで" in words(text(response))
    assert snapshot(app) == before


def test_a_first_come_slot_and_a_drawn_month_are_not_open_for_entries(app, meguro):
    before = snapshot(app)
    first_come = meguro.get(f"/lottery/details?slot={KOMABA_201}:{OPEN}:1")
    assert "選択した時間帯は抽選の対象ではありません（先着順で申込できます）: 駒場住区センター 201" in words(
        text(first_come)
    )
    drawn = meguro.get(f"/lottery/details?slot={WASHITSU}:2027-01-12:9")
    assert (
        "抽選の申込期間（2026/11/10(火) 09:00～2026/11/20(金) 00:00）ではないため、申込できません: 駒場住区センター 和室"
        in words(text(drawn))
    )
    assert snapshot(app) == before


def test_an_entry_sent_after_the_period_closed_is_refused(app, meguro):
    page = text(confirm(meguro, slot_query(f"{WASHITSU}:{OPEN}:12")))
    before = snapshot(app)
    app.config["FROZEN_NOW"] = "2026-12-02T15:00:00+00:00"  # 2026-12-03 00:00 JST: closed
    response = meguro.post("/lottery", data=submit_form(page))
    assert response.status_code == 422
    assert "抽選の申込期間（2026/11/23(月) 09:00～2026/12/3(木) 00:00）ではないため、申込できません" in words(
        text(response)
    )
    assert snapshot(app) == before


@pytest.mark.parametrize(
    "query",
    [
        "",
        "slot=abc",
        "slot=3:2027-02-30:9",
        "slot=99999:2027-02-05:9",
        "slot=3:2027-02-05:1",
        "slot=" + "&slot=".join(f"3:2027-02-{d:02d}:9" for d in range(1, 28)),
    ],
)
def test_forged_selections_are_refused_with_a_message(app, meguro, query):
    before = snapshot(app)
    for url in (f"/lottery/details?{query}", f"/lottery/confirm?{query}"):
        response = meguro.get(url)
        assert response.status_code in (404, 422), url
        assert "<title>エラー:" in text(response)
    assert snapshot(app) == before


def test_logged_out_the_lottery_asks_for_login(client):
    response = client.get(f"/lottery/details?slot={WASHITSU}:{OPEN}:9")
    assert response.status_code in (302, 303) and "/login" in response.headers["Location"]


@pytest.mark.parametrize(
    ("number", "kind", "message"),
    [
        ("50001", "sports", "スポーツ"),
        ("40677", "assembly", "有効期限"),  # 青葉会: its 団体区分 expired
    ],
)
def test_groups_that_may_not_enter_are_told_why(app, client, number, kind, message):
    AuthActions(client).login(number=number, kind=kind)
    before = snapshot(app)
    response = client.get(f"/lottery/details?slot={WASHITSU}:{OPEN}:9")
    assert response.status_code == 403
    assert "<title>エラー:" in text(response)
    assert snapshot(app) == before
