"""マイメニュー 抽選申込の確認・取消: the group's entries with their state, 表示条件, the top 20,
and 取下げ of one or several with a confirmation step while the period is open; after it, why
not. The clock is frozen at 2026-11-25 10:00 JST; 目黒団体 (00040675) has a 当選 and a 落選 in
2027-01 (drawn yesterday) and two entries in 2027-02 (open until 2026-12-03 00:00)."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from models.account import Resident
from models.lottery import LotteryEntry
from models.reservation_rules import ReservationState
from tests.conftest import HTMX_HEADERS, AuthActions, csrf_token_from
from tests.pages import main_of, text, words

LIST = "/mymenu/lottery"
HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)">')


@pytest.fixture
def meguro(client):
    AuthActions(client).login()
    return client


def entries_of(app, number="00040675", state=None) -> list[LotteryEntry]:
    with app.extensions["database"].read_session() as s:
        resident = s.scalar(select(Resident).where(Resident.registration_number == number))
        query = select(LotteryEntry).where(LotteryEntry.resident_id == resident.id).order_by(LotteryEntry.use_date)
        if state:
            query = query.where(LotteryEntry.state == state)
        return list(s.scalars(query))


def states(app) -> list:
    with app.extensions["database"].read_session() as s:
        return list(
            s.execute(select(LotteryEntry.id, LotteryEntry.state, LotteryEntry.version).order_by(LotteryEntry.id))
        )


def post_form(html: str) -> MultiDict:
    form = html[html.index('action="/mymenu/lottery/withdraw"') :]
    return MultiDict(HIDDEN.findall(form[: form.index("</form>")]))


def test_the_menu_links_the_list_instead_of_the_coming_soon_page(meguro):
    assert 'href="/mymenu/lottery"' in text(meguro.get("/mymenu/"))
    page = words(main_of(text(meguro.get(LIST))))
    assert "この機能は準備中です" not in page
    assert page.startswith("抽選申込の確認・取消")


def test_the_list_shows_every_state_with_its_result(app, meguro):
    page = words(main_of(text(meguro.get(LIST))))
    assert "4件の抽選申込があります。" in page
    assert re.search(
        r"当選 2026-\d{6} 区民センター社会教育館 701【旧第1研修室】 2027/1/7\(木\) 9:00~12:00 2026/11/24\(火\) 09:00 予約番号 2026-000013 支払期限: 2026/12/8\(火\)",
        page,
    )
    assert re.search(
        r"落選 2026-\d{6} 中小企業センター ホール 2027/1/10\(日\) 12:30~15:00 2026/11/24\(火\) 09:00 抽選の結果", page
    )
    assert "抽選申込中" in page and "申込期間中（2026/12/3(木) 00:00まで）" in page


def test_the_list_as_a_fragment_and_filtered_by_state_and_period(meguro):
    fragment = text(meguro.get(LIST + "?state=won", headers=HTMX_HEADERS))
    assert "<html" not in fragment and 'id="entries"' in fragment
    assert "1件の抽選申込があります。" in words(fragment) and "落選" not in words(fragment).split("1件の")[1]
    period = words(text(meguro.get(LIST + "?date_from=2027-02-01&date_to=2027-02-28&state=all")))
    assert "2件の抽選申込があります。" in period
    bad = meguro.get(LIST + "?date_from=2027-13-01")
    assert bad.status_code == 422 and "表示条件に誤りがあるため" in words(text(bad))


def test_the_english_filter_summary_reads_naturally_without_dates(meguro):
    meguro.set_cookie("pref_locale", "en")
    page = words(text(meguro.get(LIST + "?date_from=&date_to=&state=all")))
    assert "Filter: any date of use, status All" in page and "not set" not in page


def test_the_top_twenty_with_the_guides_message(app, meguro):
    with app.extensions["database"].write() as s:
        from lottery.entries import list_entries  # noqa: F401 (the same limit the view uses)

        first = s.scalar(select(LotteryEntry).where(LotteryEntry.state == ReservationState.LOST))
        for i in range(20):
            clone = LotteryEntry(
                **{
                    c: getattr(first, c)
                    for c in (
                        "application_id",
                        "lottery_month_id",
                        "resident_id",
                        "room_id",
                        "time_band_id",
                        "starts_at",
                        "ends_at",
                        "purpose_id",
                        "attendees",
                        "charges_participation_fee",
                        "state",
                        "lost_reason",
                        "created_at",
                        "drawn_at",
                    )
                },
                public_id=f"{i:020x}"[-20:].replace("0", "a", 1),
                use_date=first.use_date.replace(day=1 + i),
                version=1,
            )
            s.add(clone)
    page = words(text(meguro.get(LIST)))
    assert "該当する予約数が多いため、上位20件のみ表示します。" in page


def test_withdrawing_two_entries_with_a_confirmation_step(app, meguro):
    open_entries = entries_of(app, state=ReservationState.LOTTERY_ENTRY)
    assert len(open_entries) == 2
    ids = [e.public_id for e in open_entries]
    listing = text(meguro.get(LIST))
    for public_id in ids:
        assert f'name="entry" value="{public_id}"' in listing
    confirm = meguro.get("/mymenu/lottery/withdraw?" + "&".join(f"entry={i}" for i in ids))
    assert confirm.status_code == 200
    page = words(main_of(text(confirm)))
    assert page.startswith("取下げ確認 次の抽選申込を取下げます。")
    before = states(app)
    assert states(app) == before  # the confirmation changes nothing
    done = meguro.post("/mymenu/lottery/withdraw", data=post_form(text(confirm)))
    assert done.status_code == 303
    result = words(main_of(text(meguro.get(done.headers["Location"]))))
    assert result.startswith("取下げ完了 抽選申込を取下げました。")
    assert result.count("取下げ") >= 3
    assert [e.state for e in entries_of(app, state=None) if e.public_id in ids] == [ReservationState.WITHDRAWN] * 2
    # A replayed form shows the first result and changes nothing.
    after = states(app)
    again = meguro.post("/mymenu/lottery/withdraw", data=post_form(text(confirm)))
    assert again.status_code == 303 and again.headers["Location"] == done.headers["Location"]
    assert states(app) == after
    # The slot can be entered again, and the grid's count went down.
    grid = text(meguro.get(f"/availability/slots?cell=7:{open_entries[0].use_date}&facility=051"))
    assert "申込1件" in re.sub(r"<[^>]+>", "", grid)


def test_two_tabs_withdrawing_the_same_entry(app, meguro):
    entry = entries_of(app, state=ReservationState.LOTTERY_ENTRY)[0]
    tab1 = text(meguro.get(f"/mymenu/lottery/withdraw?entry={entry.public_id}"))
    tab2 = text(meguro.get(f"/mymenu/lottery/withdraw?entry={entry.public_id}"))
    assert meguro.post("/mymenu/lottery/withdraw", data=post_form(tab1)).status_code == 303
    before = states(app)
    second = meguro.post("/mymenu/lottery/withdraw", data=post_form(tab2))
    assert second.status_code == 409
    assert "この抽選申込は、すでに取下げています。" in words(text(second))
    assert states(app) == before


def test_after_the_period_the_list_and_the_withdrawal_say_why_not(app, meguro):
    entry = entries_of(app, state=ReservationState.LOTTERY_ENTRY)[0]
    confirm = text(meguro.get(f"/mymenu/lottery/withdraw?entry={entry.public_id}"))
    app.config["FROZEN_NOW"] = "2026-12-02T15:00:00+00:00"  # 2026-12-03 00:00 JST
    page = words(text(meguro.get(LIST)))
    assert "申込期間（2026/12/3(木) 00:00まで）が終了したため、取下げできません。" in page
    assert f'value="{entry.public_id}"' not in text(meguro.get(LIST))
    before = states(app)
    response = meguro.post("/mymenu/lottery/withdraw", data=post_form(confirm))
    assert response.status_code == 409
    assert "抽選の申込期間（2026/12/3(木) 00:00まで）が終了したため、取下げできません。" in words(text(response))
    assert states(app) == before
    assert meguro.get(f"/mymenu/lottery/withdraw?entry={entry.public_id}").status_code == 409


@pytest.mark.parametrize(
    "ids",
    [[], ["nope"], ["0" * 20], ["<script>"], ["a" * 20] * 2],
)
def test_forged_ids_are_not_found_and_change_nothing(app, meguro, ids):
    before = states(app)
    response = meguro.get("/mymenu/lottery/withdraw?" + "&".join(f"entry={i}" for i in ids))
    assert response.status_code in (404, 422)
    assert "<title>エラー:" in text(response)
    token = csrf_token_from(text(meguro.get(LIST)))
    posted = meguro.post(
        "/mymenu/lottery/withdraw",
        data=MultiDict([("csrf_token", token), ("form_token", "t" * 24)] + [("entry", i) for i in ids]),
    )
    assert posted.status_code in (404, 422)
    assert states(app) == before


def test_another_groups_entry_reads_as_not_found(app, meguro):
    theirs = entries_of(app, number="00040676", state=ReservationState.LOTTERY_ENTRY)[0]
    before = states(app)
    assert meguro.get(f"/mymenu/lottery/withdraw?entry={theirs.public_id}").status_code == 404
    token = csrf_token_from(text(meguro.get(LIST)))
    posted = meguro.post(
        "/mymenu/lottery/withdraw", data={"csrf_token": token, "form_token": "u" * 24, "entry": theirs.public_id}
    )
    assert posted.status_code == 404
    assert "選択された抽選申込が見つかりません" in words(text(posted))
    assert meguro.get(f"/mymenu/lottery/withdrawn?entry={theirs.public_id}").status_code == 404
    assert states(app) == before


def _apply_and_withdraw(app, client):
    """Enter one slot through 抽選申込確認, read it in the list, withdraw it: what every
    channel can do (no money moves)."""
    from tests.web.test_lottery_apply import OPEN, WASHITSU, slot_query, submit_form

    page = text(client.get(f"/lottery/confirm?{slot_query(f'{WASHITSU}:{OPEN}:9')}"))
    done = client.post("/lottery", data=submit_form(page))
    assert done.status_code == 303
    assert "抽選申込番号" in words(text(client.get(done.headers["Location"])))
    [entry] = [e for e in entries_of(app, state=ReservationState.LOTTERY_ENTRY) if e.room_id == WASHITSU]
    confirm = text(client.get(f"/mymenu/lottery/withdraw?entry={entry.public_id}"))
    assert client.post("/mymenu/lottery/withdraw", data=post_form(confirm)).status_code == 303
    assert [e.state for e in entries_of(app) if e.public_id == entry.public_id] == [ReservationState.WITHDRAWN]
    # Results can be read there too.
    assert "落選" in words(text(client.get(LIST)))


def test_the_kiosk_applies_withdraws_and_reads_results(kiosk_app, app):
    kiosk = kiosk_app.test_client()
    AuthActions(kiosk).login()
    _apply_and_withdraw(kiosk_app, kiosk)


def test_reader_mode_applies_withdraws_and_reads_results(app, meguro):
    token = csrf_token_from(text(meguro.get("/")))
    meguro.post("/settings/reader", data={"csrf_token": token, "presentation": "reader", "next": "/"})
    assert "手順 1/3 抽選申込の確認・取消" in text(meguro.get(LIST))
    _apply_and_withdraw(app, meguro)


def test_the_list_in_english(app, meguro):
    token = csrf_token_from(text(meguro.get("/")))
    meguro.post("/settings/language", data={"csrf_token": token, "locale": "en", "next": "/"})
    page = words(main_of(text(meguro.get(LIST))))
    assert "Won" in page and "Payment deadline:" in page and "by the lottery draw" in page
