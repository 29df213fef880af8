"""マイメニュー: 予約内容の確認・取消 (list, 表示条件), 詳細, 登録済利用者団体区分.

Demo resident 00040675 (目黒団体) holds, from the frozen today (2026-11-25): 仮予約 in
several rooms, a 当選, a counter-paid 本予約, and two 取消済 (by the resident, by expiry)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from html.parser import HTMLParser

import pytest
from sqlalchemy import event, select

from models.account import Resident
from models.facility import Room
from models.reservation import CounterPayment, Reservation
from models.reservation_rules import ReservationState
from tests.conftest import HTMX_HEADERS, csrf_token_from
from tests.pages import text

LIST = "/mymenu/reservations"


# Reading pages as a user does -------------------------------------------------------------


class _Tables(HTMLParser):
    """Each table's caption and its body rows, as the text of each cell."""

    def __init__(self):
        super().__init__()
        self.tables: list[dict] = []
        self._in_caption = self._in_body = False
        self._row: list[str] | None = None
        self._cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self.tables.append({"caption": "", "rows": []})
        elif tag == "caption":
            self._in_caption = True
        elif tag == "tbody":
            self._in_body = True
        elif tag == "tr" and self._in_body:
            self._row = []
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []

    def handle_endtag(self, tag):
        if tag == "caption":
            self._in_caption = False
        elif tag == "tbody":
            self._in_body = False
        elif tag in ("td", "th") and self._cell is not None:
            self._row.append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "tr" and self._row is not None:
            self.tables[-1]["rows"].append(self._row)
            self._row = None

    def handle_data(self, data):
        if self._in_caption:
            self.tables[-1]["caption"] += data.strip()
        elif self._cell is not None:
            self._cell.append(data)


def tables(html: str) -> list[dict]:
    parser = _Tables()
    parser.feed(html)
    return parser.tables


def listed(html: str) -> dict[str, list[list[str]]]:
    """The booking tables of the list page: "<facility> <room>" → rows."""
    return {t["caption"]: t["rows"] for t in tables(html)}


def numbers_on(html: str) -> list[str]:
    return [row[1] for rows in listed(html).values() for row in rows]


def row_of(html: str, number: str) -> tuple[str, list[str]]:
    for caption, rows in listed(html).items():
        for row in rows:
            if row[1] == number:
                return caption, row
    raise AssertionError(f"{number} is not listed")


# Demo data, read from the database so that the tests name bookings by what they are ------


def demo(app, resident_number: str = "00040675") -> list[Reservation]:
    with app.extensions["database"].read_session() as s:
        resident = s.scalar(select(Resident).where(Resident.registration_number == resident_number))
        found = s.scalars(select(Reservation).where(Reservation.resident_id == resident.id)).all()
        for r in found:  # load what the assertions read before the session closes
            _ = (r.room.facility.name_ja, r.counter_payments, r.purpose.name_ja)
        return list(found)


def one(app, predicate, resident_number: str = "00040675") -> Reservation:
    matches = [r for r in demo(app, resident_number) if predicate(r)]
    assert len(matches) == 1, matches
    return matches[0]


def counter_paid(app) -> Reservation:
    return one(app, lambda r: r.state is ReservationState.CONFIRMED and r.counter_payments)


def won(app) -> Reservation:
    """The 当選 whose result came three days ago (the demo's lottery drew another yesterday)."""
    return one(app, lambda r: r.state is ReservationState.WON and r.lottery_result_at.day == 22)


def cancelled_by_resident(app) -> Reservation:
    return one(app, lambda r: r.state is ReservationState.CANCELLED and r.cancel_reason)


def cancelled_by_expiry(app) -> Reservation:
    return one(app, lambda r: r.state is ReservationState.CANCELLED and r.cancel_kind.value == "expiry")


def provisional(app) -> list[Reservation]:
    return sorted(
        (r for r in demo(app) if r.state is ReservationState.PROVISIONAL), key=lambda r: (r.use_date, r.starts_at)
    )


def place(r: Reservation) -> str:
    return f"{r.room.facility.name_ja} {r.room.name_ja}"


# Login -----------------------------------------------------------------------------------


def test_logged_out_the_list_asks_for_login_and_comes_back(client, auth):
    response = client.get(LIST + "?state=won")
    assert response.status_code == 302
    assert "/login?next=" in response.headers["Location"]
    assert "reservations" in response.headers["Location"]

    back = auth.login(next_url="/mymenu/reservations?state=won")
    assert back.status_code == 303 and back.headers["Location"] == "/mymenu/reservations?state=won"
    assert "予約内容の確認・取消" in text(client.get(back.headers["Location"]))


def test_logged_out_an_htmx_request_is_sent_to_login(client):
    response = client.get(LIST + "?state=won", headers=HTMX_HEADERS)
    assert response.status_code == 204
    assert response.headers["HX-Redirect"].startswith("/login?next=")


@pytest.mark.parametrize("path", ["/mymenu/reservations/2026-000001", "/mymenu/group-classes"])
def test_logged_out_other_pages_ask_for_login(client, path):
    response = client.get(path)
    assert response.status_code == 302 and "/login?next=" in response.headers["Location"]


# 予約内容の確認・取消 -------------------------------------------------------------------


def test_the_list_groups_every_booking_by_facility_and_room(client, auth, app):
    auth.login()
    response = client.get(LIST)
    assert response.status_code == 200
    page = text(response)
    assert "<title>予約内容の確認・取消 | " in page
    groups = listed(page)

    mine = demo(app)
    assert sorted(numbers_on(page)) == sorted(r.number for r in mine)
    for r in mine:
        caption, row = row_of(page, r.number)
        assert caption == place(r)
        assert row[4] == f"{r.total_fee_yen:,}円"
    # Facilities in the order of their reading, as in the guide (区民センター before 駒場).
    captions = list(groups)
    assert captions.index("区民センター社会教育館 702【旧第2研修室】") < captions.index(
        "駒場住区センター 201【旧第1会議室】"
    )
    assert captions.index("駒場住区センター 202【旧第2会議室】") < captions.index("中目黒住区センター 第1会議室")
    # Within a room: by 利用日, then start time.
    for rows in groups.values():
        starts = [(r.use_date, r.starts_at) for n in (row[1] for row in rows) for r in mine if r.number == n]
        assert starts == sorted(starts)
    seminar = groups["区民センター社会教育館 702【旧第2研修室】"]
    assert [row[3] for row in seminar] == ["9:00~12:00", "12:30~15:00"]
    assert all(row[2] == "2026/12/25(金)" and row[4] == "700円" for row in seminar)


def test_each_row_says_its_state_and_payment_state_in_words(client, auth, app):
    auth.login()
    page = text(client.get(LIST))

    _, paid = row_of(page, counter_paid(app).number)
    assert paid[0] == "本予約 支払済"
    assert paid[5] == ""  # paid: no deadline

    first = provisional(app)[0]
    _, row = row_of(page, first.number)
    # "−" is shown; a screen reader hears 支払なし instead of a bare dash.
    assert row[0] == "仮予約 −支払なし"
    assert re.search(
        r'<span class="payment-state" aria-hidden="true">−</span><span class="visually-hidden">支払なし</span>', page
    )
    assert row[5] == "2026/11/28(土)"  # applied 11/24, used 11/28: the use date comes first

    _, lottery = row_of(page, won(app).number)
    assert lottery[0].startswith("当選 −")
    assert lottery[5] == "2026/12/6(日)"  # lottery result 11/22 + 14 days

    for r in (cancelled_by_resident(app), cancelled_by_expiry(app)):
        _, row = row_of(page, r.number)
        assert row[0].startswith("取消済")
        assert row[5] == ""


def test_money_held_on_a_cancelled_booking_is_marked_for_refund(client, auth, app):
    cancelled, partly = cancelled_by_resident(app), provisional(app)[0]
    with app.extensions["database"].write() as s:
        paid_at = datetime(2026, 11, 22, 1, tzinfo=UTC)
        s.add(
            CounterPayment(
                reservation_id=cancelled.id, amount_yen=400, paid_at=paid_at, receipt_number="0132026112200001"
            )
        )
        s.add(
            CounterPayment(reservation_id=partly.id, amount_yen=100, paid_at=paid_at, receipt_number="0142026112200001")
        )
    auth.login()
    page = text(client.get(LIST))

    _, row = row_of(page, cancelled.number)
    assert row[0] == "取消済 支払あり(※)（還付の手続きが必要）"
    assert (
        "状態に「(※)」が付いている予約は、還付金が発生しているため、クレジット決済画面から還付を行う必要があります。"
        in page
    )

    _, row = row_of(page, partly.number)
    assert row[0] == "仮予約 一部支払済"
    assert row[5] == ""  # a first payment was made: the deadline no longer applies


def test_without_money_held_there_is_no_refund_note(client, auth):
    auth.login()
    page = text(client.get(LIST))
    assert "(※)" not in page


def test_each_detail_link_names_its_reservation_number(client, auth, app):
    auth.login()
    page = text(client.get(LIST))
    r = won(app)
    link = re.search(rf'<a [^>]*href="/mymenu/reservations/{r.number}"[^>]*>(.*?)</a>', page)
    assert link, "no 詳細 link"
    assert "詳細" in link.group(1) and r.number in link.group(1)


def test_the_list_carries_the_guides_notes_and_links(client, auth):
    auth.login()
    page = text(client.get(LIST))
    assert "なお、取消が行えるのは、「仮予約」のみです。" in page
    assert "「本予約」のみです" not in page  # the misprint of L450
    assert "「施設検索画面」のお知らせ欄" in page and "施設検査画面" not in page
    assert "「備品予約/変更」ボタンを押してください。" in page
    assert "スポーツ施設の場合は備品(付帯設備)の事前受付は行っていません。" in page
    assert "表示条件を指定</summary>" in page
    assert 'href="/payment/"' in page and "クレジット決済画面" in page
    assert 'href="/mymenu/group-classes"' in page
    assert re.search(r'<button type="button" class="button secondary" data-print hidden>一覧を印刷</button>', page)
    # 備品 is tested in tests/web/test_equipment.py, 取消 in tests/web/test_cancel.py.
    assert '<th scope="col">備品</th>' in page


def test_the_default_period_starts_today(client, auth, app):
    earlier = provisional(app)[0]
    with app.extensions["database"].write() as s:
        s.get(Reservation, earlier.id).use_date = date(2026, 11, 20)
    auth.login()

    page = text(client.get(LIST))
    assert earlier.number not in numbers_on(page)
    assert "表示条件: 利用日 2026/11/25(水)～指定なし、状態 全て" in page

    # An emptied 開始 means no lower limit.
    everything = text(client.get(LIST + "?date_from=&date_to=&state=all"))
    assert earlier.number in numbers_on(everything)
    assert "表示条件: 利用日 指定なし～指定なし、状態 全て" in everything


@pytest.mark.parametrize(
    "query, summary",
    [
        ("?date_from=&date_to=&state=all", "Filter: any date of use, status All"),
        ("?date_from=2026-12-01&date_to=&state=all", "Filter: date of use from Tue 1 Dec 2026, status All"),
        ("?date_from=&date_to=2026-12-05&state=all", "Filter: date of use until Sat 5 Dec 2026, status All"),
        (
            "?date_from=2026-12-01&date_to=2026-12-05&state=all",
            "Filter: date of use Tue 1 Dec 2026 to Sat 5 Dec 2026, status All",
        ),
    ],
)
def test_the_english_filter_summary_says_an_open_side_in_words(client, auth, query, summary):
    auth.login()
    client.set_cookie("pref_locale", "en")
    page = text(client.get(LIST + query))
    assert summary in page
    assert "not set" not in page


@pytest.mark.parametrize(
    "query, summary",
    [
        ("?date_from=&date_to=&state=all", "表示条件: 利用日 指定なし～指定なし、状態 全て"),
        ("?date_from=2026-12-01&date_to=&state=all", "表示条件: 利用日 2026/12/1(火)～指定なし、状態 全て"),
        ("?date_from=&date_to=2026-12-05&state=all", "表示条件: 利用日 指定なし～2026/12/5(土)、状態 全て"),
    ],
)
def test_the_japanese_filter_summary_keeps_the_guides_words(client, auth, query, summary):
    auth.login()
    assert summary in text(client.get(LIST + query))


@pytest.mark.parametrize(
    "state, word",
    [("provisional", "仮予約"), ("won", "当選"), ("confirmed", "本予約"), ("cancelled", "取消済")],
)
def test_the_state_filter_keeps_only_that_state(client, auth, app, state, word):
    auth.login()
    page = text(client.get(f"{LIST}?state={state}"))
    expected = sorted(r.number for r in demo(app) if r.state.value == state)
    assert expected and sorted(numbers_on(page)) == expected
    assert all(row[0].startswith(word) for rows in listed(page).values() for row in rows)
    assert f"、状態 {word}</p>" in page
    assert re.search(rf'<input checked id="state-\d" name="state" type="radio" value="{state}">', page)
    assert '<details class="filter-panel no-print" open>' in page


def test_the_period_filter_is_inclusive_and_works_as_a_fragment(client, auth, app):
    auth.login()
    query = f"{LIST}?date_from=2026-12-01&date_to=2026-12-10&state=all"
    inside = sorted(r.number for r in demo(app) if date(2026, 12, 1) <= r.use_date <= date(2026, 12, 10))
    assert len(inside) >= 3

    page = client.get(query)
    fragment = client.get(query, headers=HTMX_HEADERS)
    assert page.status_code == fragment.status_code == 200
    assert "HX-Request" in page.headers["Vary"] and "HX-Request" in fragment.headers["Vary"]
    assert "<html" in text(page) and "<html" not in text(fragment)
    for response in (page, fragment):
        assert sorted(numbers_on(text(response))) == inside
    body = text(fragment)
    assert body.startswith("<title>予約内容の確認・取消 | ")
    assert f'<div id="reservations" class="reservations" data-announce="{len(inside)}件の予約を表示しています">' in body
    assert "data-focus-on-swap" in body
    # Details links return to the list with the same conditions.
    back = "back=/mymenu/reservations?date_from%3D2026-12-01%26date_to%3D2026-12-10%26state%3Dall"
    assert back in body


def test_the_filter_form_updates_in_place_and_works_without_javascript(client, auth):
    auth.login()
    page = text(client.get(LIST))
    form = re.search(r'<form method="get" action="/mymenu/reservations" class="filter"[^>]*>', page).group(0)
    assert 'data-hx-get="/mymenu/reservations"' in form
    assert (
        'data-hx-target="#reservations"' in form
        and 'data-hx-swap="outerHTML"' in form
        and 'data-hx-push-url="true"' in form
    )
    assert '<label for="date_from">利用日（開始）</label>' in page
    assert 'type="date"' in page


def test_a_typed_date_with_slashes_is_understood(client, auth, app):
    auth.login()
    page = text(client.get(LIST + "?date_from=2026/12/20&date_to=2026/12/20&state=all"))
    assert numbers_on(page) == [counter_paid(app).number]


def test_nothing_matching_says_so(client, auth):
    auth.login()
    for headers in ({}, HTMX_HEADERS):
        response = client.get(LIST + "?date_from=2030-01-01&date_to=2030-01-31&state=all", headers=headers)
        assert response.status_code == 200
        assert "表示条件に該当する予約はありません。" in text(response)
        assert tables(text(response)) == []


@pytest.mark.parametrize(
    "query, message, field",
    [
        ("date_from=2026-02-30&date_to=&state=all", "利用日（開始）は「2026-11-25」のように", "date_from"),
        ("date_from=2026-12-01&date_to=tomorrow&state=all", "利用日（終了）は「2026-11-25」のように", "date_to"),
        (
            "date_from=2026-12-10&date_to=2026-12-01&state=all",
            "利用日（終了）には、利用日（開始）と同じ日かそれより後の日付",
            "date_to",
        ),
        ("date_from=2026-12-01&date_to=2026-12-02&state=lost", "状態は一覧から選択してください。", "state-0"),
        ("state=", "状態は一覧から選択してください。", "state-0"),
        ("date_from=99999-01-01", "利用日（開始）は「2026-11-25」のように", "date_from"),
    ],
)
def test_bad_conditions_are_explained_and_the_default_list_stays(client, auth, app, query, message, field):
    auth.login()
    default = sorted(numbers_on(text(client.get(LIST))))
    for headers in ({}, HTMX_HEADERS):
        response = client.get(f"{LIST}?{query}", headers=headers)
        body = text(response)
        assert response.status_code == 422
        assert "HX-Request" in response.headers["Vary"]
        assert "<title>エラー: 予約内容の確認・取消" in body
        assert 'class="error-summary"' in body and "data-autofocus" in body
        assert re.search(rf'<a href="#{field}">[^<]*{re.escape(message)}', body)
        assert body.count('class="error-summary"') == 1
        assert "表示条件に誤りがあるため、本日以降のすべての予約を表示しています。" in body
        assert sorted(numbers_on(body)) == default
        assert '<details class="filter-panel no-print" open>' in body


def test_a_large_list_shows_the_guides_top_20_with_the_same_number_of_queries(client, auth, app):
    auth.login()
    statements: list[str] = []
    engine = app.extensions["database"].engine

    def record(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    client.get(LIST)
    small = len(statements)

    with app.extensions["database"].write() as s:
        resident = s.scalar(select(Resident).where(Resident.registration_number == "00040675"))
        template = s.scalars(select(Reservation).where(Reservation.resident_id == resident.id)).first()
        hall = s.scalar(select(Room).where(Room.name_ja == "ホール"))
        applied = datetime(2026, 11, 20, 1, tzinfo=UTC)
        sequence = 500000
        for day in range(1, 41):
            for band in hall.time_bands:
                sequence += 1
                s.add(
                    Reservation(
                        number=f"2026-{sequence:06d}",
                        resident_id=resident.id,
                        room_id=hall.id,
                        time_band_id=band.id,
                        use_date=date(2026, 11, 25) + timedelta(days=day),
                        starts_at=band.starts_at,
                        ends_at=band.ends_at,
                        state=ReservationState.PROVISIONAL,
                        purpose_id=template.purpose_id,
                        attendees=5,
                        charges_participation_fee=False,
                        group_class_id=template.group_class_id,
                        facility_fee_yen=1500,
                        applied_at=applied,
                    )
                )

    statements.clear()
    page = text(client.get(LIST))
    assert len(statements) == small
    assert len(numbers_on(page)) == 20
    assert "該当する予約数が多いため、上位20件のみ表示します。" in page
    assert "処理したい予約が表示されない場合は、表示条件の指定を行ってください。" in page


def test_the_list_is_english_after_switching_language(client, auth, app):
    auth.login()
    token = csrf_token_from(text(client.get(LIST)))
    client.post("/settings/language", data={"csrf_token": token, "locale": "en", "next": LIST})
    response = client.get(LIST + "?state=provisional")
    page = text(response)
    assert response.status_code == 200
    assert '<html lang="en"' in page
    _, row = row_of(page, provisional(app)[-1].number)
    assert row[2] == "Fri 25 Dec 2026" and row[4] == "¥700"
    assert row[3] == "12:30–15:00"


# 詳細 ----------------------------------------------------------------------------------


def detail_of(client, number: str, **params):
    response = client.get(f"{LIST}/{number}", query_string=params)
    return response, text(response)


def facts(html: str) -> dict[str, str]:
    """The summary list of the detail page: term → description text."""
    pairs = re.findall(r"<dt>(.*?)</dt><dd>(.*?)</dd>", html, flags=re.S)
    return {dt: " ".join(re.sub(r"<[^>]+>", "", dd).split()) for dt, dd in pairs}


def test_detail_of_a_provisional_booking(client, auth, app):
    auth.login()
    r = provisional(app)[-1]  # 702, 2026/12/25 12:30~15:00, 講演・研修, 25人
    response, page = detail_of(client, r.number)
    assert response.status_code == 200
    shown = facts(page)
    assert shown["予約番号"] == r.number
    assert shown["施設"] == "区民センター社会教育館" and shown["室場"] == "702【旧第2研修室】"
    assert shown["利用日"] == "2026/12/25(金)" and shown["時間帯"] == "12:30~15:00"
    assert shown["状態"] == "仮予約 −支払なし"
    assert shown["利用目的"] == "講演・研修" and shown["利用人数"] == "25人" and shown["参加費等の有無"] == "なし"
    assert shown["団体区分"] == "社成人"
    assert shown["申込日時"] == "2026/11/24(火) 10:00"
    assert shown["支払期限"] == "2026/12/8(火)"
    assert "取消日" not in shown and "抽選結果日" not in shown
    fees = {t["caption"]: t["rows"] for t in tables(page)}["使用料の内訳"]
    assert fees == [["施設使用料", "700円"], ["備品使用料", "0円"]]
    assert '<th scope="row">合計</th><td class="number total">700円</td>' in page
    assert "※この料金は基本額です。" in page and "入場料の有無等により異なる場合があります。" in page
    assert "納付はまだありません。" in page
    assert "詳しくは、区民センター社会教育館（03-3711-1134）までお問い合わせください。" in page
    assert '<a href="/facilities/039">地図で場所を確認</a>' in page
    assert '<a class="button" href="/mymenu/reservations">一覧に戻る</a>' in page


def test_detail_of_a_won_booking_shows_the_lottery_result_date(client, auth, app):
    auth.login()
    _, page = detail_of(client, won(app).number)
    shown = facts(page)
    assert shown["状態"].startswith("当選")
    assert shown["抽選結果日"] == "2026/11/22(日)"
    assert shown["支払期限"] == "2026/12/6(日)"


def test_detail_of_a_counter_paid_booking_shows_its_payments(client, auth, app):
    auth.login()
    r = counter_paid(app)
    _, page = detail_of(client, r.number)
    shown = facts(page)
    assert shown["状態"] == "本予約 支払済"
    assert "支払期限" not in shown
    payments = {t["caption"]: t["rows"] for t in tables(page)}["窓口での納付"]
    receipt = r.counter_payments[0]
    assert payments == [[receipt.receipt_number, "2026/11/20(金)", "500円"]]
    assert re.search(r"納付額の合計</th><td class=\"number\">500円</td>", page)
    assert '支払状態: <span class="reservation-state">本予約</span> <span class="payment-state">支払済</span>' in page
    assert "利用施設（駒場住区会議室 03-3469-2613）までご連絡ください。" in page


def test_detail_of_a_cancelled_booking_shows_when_why_and_rebooking_blocked(client, auth, app):
    auth.login()
    _, page = detail_of(client, cancelled_by_resident(app).number)
    shown = facts(page)
    assert shown["状態"].startswith("取消済")
    assert shown["取消日"] == "2026/11/23(月)"
    assert shown["取消区分"] == "利用者による取消"
    assert shown["取消事由"] == "会議の日程が変更になったため"
    assert "支払期限" not in shown
    assert "再予約不可" in page and "取消した同一コマには再予約できません。" in page

    _, expired = detail_of(client, cancelled_by_expiry(app).number)
    shown = facts(expired)
    assert shown["取消区分"] == "期限切れ" and shown["取消事由"] == "なし"
    assert "取消した同一コマには再予約できません。" in expired


def test_detail_returns_to_the_list_with_its_conditions_only(client, auth, app):
    auth.login()
    number = won(app).number
    _, page = detail_of(client, number, back="/mymenu/reservations?state=won")
    assert 'href="/mymenu/reservations?state=won">一覧に戻る' in page
    for elsewhere in ("//evil.example/", "https://evil.example/mymenu/reservations", "/mymenu/messages", "/\\evil"):
        _, page = detail_of(client, number, back=elsewhere)
        assert '<a class="button" href="/mymenu/reservations">一覧に戻る</a>' in page


def _without_tokens(html: str) -> str:
    return re.sub(r'value="[^"]*"', 'value=""', html)


def test_someone_elses_booking_is_not_found_and_nothing_leaks(client, auth, app):
    theirs = one(app, lambda r: r.room.name_ja == "702【旧第2研修室】", resident_number="00040676")
    auth.login()
    response, page = detail_of(client, theirs.number)
    assert response.status_code == 404
    assert "<title>エラー: 予約が見つかりません" in page
    assert "指定された予約は見つかりません。" in page
    main = page[page.index("<main") : page.index("</main>")]
    assert theirs.number not in main  # (the header's forms carry the address the user typed)
    assert "2026/12/3" not in page and "趣味" not in page and "700円" not in page and "駒場サークル" not in page
    # The same answer as for a number that does not exist.
    missing, missing_page = detail_of(client, "2026-999999")
    assert missing.status_code == 404
    assert _without_tokens(missing_page).replace("2026-999999", theirs.number) == _without_tokens(page)


@pytest.mark.parametrize("number", ["nonsense", "2026-1", "'; DROP TABLE reservations; --", "２０２６-000001"])
def test_a_malformed_number_is_not_found(client, auth, number):
    auth.login()
    response, page = detail_of(client, number)
    assert response.status_code == 404
    assert "指定された予約は見つかりません。" in page


def test_the_owner_of_that_booking_sees_it(client, auth, app):
    theirs = one(app, lambda r: r.room.name_ja == "702【旧第2研修室】", resident_number="00040676")
    auth.login(number="40676")
    response, page = detail_of(client, theirs.number)
    assert response.status_code == 200 and facts(page)["利用目的"] == "趣味・サークル活動"


# 登録済利用者団体区分 --------------------------------------------------------------------


def test_group_classes_show_expiries_and_validity_in_words(client, auth):
    auth.login()
    response = client.get("/mymenu/group-classes")
    page = text(response)
    assert response.status_code == 200
    assert "<h1>登録済利用者団体区分</h1>" in page
    classes = {t["caption"]: t["rows"] for t in tables(page)}["団体区分と有効期限"]
    assert classes == [["社成人", "2027年02月23日", "有効"]]  # today + 90 days
    assert facts(page) == {"有効期限": "2028年02月23日", "現在の状態": "有効"}  # registration


def test_an_expired_group_class_says_so(client, auth):
    auth.login(number="40677")  # 青葉会: 団体区分 expired ten days ago
    page = text(client.get("/mymenu/group-classes"))
    classes = {t["caption"]: t["rows"] for t in tables(page)}["団体区分と有効期限"]
    assert classes == [["社成人", "2026年11月15日", "期限切れ"]]
    assert facts(page)["現在の状態"] == "有効"


# マイメニュー ---------------------------------------------------------------------------


def test_the_menu_uses_the_guides_words_and_leads_to_the_list(client, auth):
    auth.login()
    page = text(client.get("/mymenu/"))
    entries = re.findall(r'<a class="menu-link" href="([^"]+)">([^<]+)</a>', page)
    assert [label for _, label in entries] == [
        "予約内容の確認・取消",
        "抽選申込の確認・取消",
        "クレジット決済",
        "利用者情報の更新・変更",
        "メッセージの確認",
    ]
    assert entries[0][0] == LIST
