"""詳細申請 → 申込確認 → 申込完了 through the test client, as a resident sees it."""

from __future__ import annotations

import re
from datetime import date
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from werkzeug.datastructures import MultiDict

from models.account import GroupClass, ResidentGroupClass
from models.reservation import Application, Counter, Reservation
from models.reservation_rules import ReservationState
from tests.conftest import DEMO_PASSWORD, HTMX_HEADERS, csrf_token_from
from tests.pages import main_of

# Demo data at the frozen clock (Wed 25 Nov 2026, 10:00 JST), see demo/seed.py.
# Room 2 = 駒場住区センター 202【旧第2会議室】 (capacity 18; 会議・打合せ and 趣味・サークル活動;
# 300円 for its bands 5 = 9:00~12:00 and 6 = 12:30~15:00).
FREE_A = "2:2026-12-01:5"
FREE_B = "2:2026-12-01:6"
# Room 1 = 駒場住区センター 201【旧第1会議室】 (capacity 30; 400円 for band 1 = 9:00~12:00).
FREE_201 = "1:2026-12-22:1"
TAKEN_BY_OTHERS = "5:2026-12-03:19"  # 702【旧第2研修室】 15:30~18:00, 駒場サークル's 仮予約
CANCELLED_BY_MEGURO = "1:2026-12-07:2"  # 目黒団体 cancelled it: 再予約不可 for them only
CLOSED_DAY = "1:2026-12-14:1"  # the second Monday: 休館日
TODAY = "1:2026-11-25:4"  # first-come booking starts tomorrow
BEYOND_WINDOW = "1:2027-03-01:1"  # 90 days ahead ends on 2027-02-23
GYM = "9:2026-12-01:32"  # 目黒区民センター体育館 競技場A面 (sports)

ROOM2_ANSWERS = {"r2-purpose": "1", "r2-attendees": "5", "r2-charges_fee": "no"}
HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)"')


def query(slots, **answers) -> str:
    return urlencode([("slot", s) for s in slots] + list(answers.items()))


def submit_form(html: str) -> MultiDict:
    """The hidden inputs of the 申込 form, as the browser would post them."""
    form = html[html.index('action="/apply"') :]
    form = form[: form.index("</form>")]
    return MultiDict(HIDDEN.findall(form))


def count_reservations(app) -> int:
    with app.extensions["database"].read_session() as s:
        return s.scalar(select(func.count()).select_from(Reservation))


def reservations_of(app, slot: str) -> list[Reservation]:
    room, day, band = slot.split(":")
    with app.extensions["database"].read_session() as s:
        return list(
            s.scalars(
                select(Reservation).where(
                    Reservation.room_id == int(room),
                    Reservation.use_date == date.fromisoformat(day),
                    Reservation.time_band_id == int(band),
                    Reservation.state != ReservationState.CANCELLED,
                )
            )
        )


@pytest.fixture
def meguro(auth):
    response = auth.login()
    assert response.status_code == 303
    return auth


def confirm_page(client, slots=(FREE_A, FREE_B), answers=None) -> str:
    response = client.get("/apply/confirm?" + query(slots, **(answers or ROOM2_ANSWERS)))
    assert response.status_code == 200, main_of(response.get_data(as_text=True))
    return response.get_data(as_text=True)


# -- login and the way back -------------------------------------------------------------


def test_logged_out_resident_logs_in_and_returns_to_the_same_selection(client):
    details = "/apply/details?" + query([FREE_A, FREE_B])
    response = client.get(details)
    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    assert location.path == "/login"
    next_url = parse_qs(location.query)["next"][0]
    assert next_url == details

    login_page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "ログインすると、選択した内容のまま元の画面に戻ります" in login_page
    response = client.post(
        "/login",
        data={
            "csrf_token": csrf_token_from(login_page),
            "registration_kind": "assembly",
            "registration_number": "40675",
            "password": DEMO_PASSWORD,
            "next": next_url,
        },
    )
    assert response.status_code == 303 and response.headers["Location"] == details
    page = client.get(details).get_data(as_text=True)
    assert "2026/12/1(火)" in page and "9:00~12:00" in page and "12:30~15:00" in page
    assert f'name="slot" value="{FREE_A}"' in page and f'name="slot" value="{FREE_B}"' in page


def test_every_step_asks_for_login(client):
    assert client.get("/apply/confirm?" + query([FREE_A], **ROOM2_ANSWERS)).status_code == 302
    assert client.get("/apply/complete/1").status_code == 302


def test_an_htmx_request_while_logged_out_is_sent_to_login(client):
    response = client.get("/apply/details?" + query([FREE_A]), headers=HTMX_HEADERS)
    assert response.headers["HX-Redirect"].startswith("/login?next=")


# -- 詳細申請 ---------------------------------------------------------------------------


def test_details_lists_the_slots_and_asks_each_room_its_questions(client, meguro):
    response = client.get("/apply/details?" + query([FREE_A, FREE_B, FREE_201]))
    assert response.status_code == 200
    assert "HX-Request" in response.headers["Vary"]
    page = response.get_data(as_text=True)
    assert "<title>詳細申請 | " in page
    assert '<span aria-current="step">詳細申請</span>' in page
    for step in ("メニュー", "施設の検索", "施設別空き状況", "時間帯別空き状況", "申込確認", "申込完了"):
        assert step in page
    main = main_of(page)
    assert "駒場住区センター 201【旧第1会議室】" in main and "駒場住区センター 202【旧第2会議室】" in main
    assert "2026/12/22(火)" in main and "400円" in main and "300円" in main
    assert "施設使用料（基本額）" in main
    # One set of questions per room, with ids the error summary can link to.
    for room in ("r1", "r2"):
        assert (
            f'id="{room}-purpose"' in main and f'id="{room}-attendees"' in main and f'id="{room}-charges_fee-0"' in main
        )
    assert 'inputmode="numeric"' in main
    assert "1人から18人まで（定員18人）" in main and "1人から30人まで（定員30人）" in main
    # Room 202 offers only its own purposes.
    room2 = main[main.index('id="r2-purpose"') : main.index("</select>", main.index('id="r2-purpose"'))]
    assert "会議・打合せ" in room2 and "趣味・サークル活動" in room2 and "大会・式典" not in room2
    # The only valid 団体区分 is shown, not asked.
    assert "社成人" in main and 'id="group_class"' not in main
    assert '<form method="get" action="/apply/confirm"' in main
    assert "次へ進む" in main and "前に戻る" in main


def test_details_asks_for_the_group_class_when_the_resident_holds_two(app, client, meguro):
    with app.extensions["database"].write() as s:
        youth = s.scalar(select(GroupClass).where(GroupClass.code == "youth"))
        s.add(ResidentGroupClass(resident_id=1, group_class_id=youth.id, expires_on=date(2027, 5, 1)))
    page = client.get("/apply/details?" + query([FREE_A])).get_data(as_text=True)
    assert 'id="group_class"' in page and "社青少年" in page and "社成人" in page

    missing = client.get("/apply/confirm?" + query([FREE_A], **ROOM2_ANSWERS))
    assert missing.status_code == 422
    assert '<a href="#group_class">団体区分を選択してください。</a>' in missing.get_data(as_text=True)

    chosen = client.get("/apply/confirm?" + query([FREE_A], group_class=str(youth.id), **ROOM2_ANSWERS))
    assert chosen.status_code == 200
    assert "社青少年" in main_of(chosen.get_data(as_text=True))


def test_an_expired_group_class_cannot_apply(client, auth):
    auth.login(number="40677")
    response = client.get("/apply/details?" + query([FREE_A]))
    assert response.status_code == 403
    page = response.get_data(as_text=True)
    assert "<title>エラー: " in page
    assert "団体区分の有効期限（2026年11月15日）が過ぎているため、申込できません。" in page
    assert 'id="r2-purpose"' not in page
    assert client.get("/apply/confirm?" + query([FREE_A], **ROOM2_ANSWERS)).status_code == 403


@pytest.mark.parametrize(
    "number, kind, slot",
    [("50001", "sports", FREE_A), ("40675", "assembly", GYM)],
)
def test_a_registration_of_the_other_kind_cannot_apply(client, auth, number, kind, slot):
    auth.login(number=number, kind=kind)
    response = client.get("/apply/details?" + query([slot]))
    assert response.status_code == 403
    assert "利用者登録の種類（集会・学校／スポーツ）が異なるため申込できません" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    "slots",
    [
        ["abc"],
        ["1:2026-13-01:1"],
        ["1:2026-12-01"],
        ["999:2026-12-01:1"],
        ["1:2026-12-01:999"],
        ["1:2026-12-01:5"],  # band 5 belongs to room 2
        ["99999999999999999999:2026-12-01:1"],
        ["-1:2026-12-01:1"],
        [FREE_A, "1:2026-12-01:99999999999"],
    ],
)
def test_forged_or_unknown_slots_get_a_clear_message(client, meguro, slots):
    for path in ("/apply/details?", "/apply/confirm?"):
        response = client.get(path + query(slots, **ROOM2_ANSWERS))
        assert response.status_code == 404
        page = response.get_data(as_text=True)
        assert "選択された時間帯が見つかりません" in page
        assert '<a href="/search/facilities">施設の検索へ戻る</a>' in page


def test_no_slot_at_all_is_explained(client, meguro):
    for path in ("/apply/details", "/apply/details?slot=", "/apply/confirm?r2-purpose=1"):
        response = client.get(path)
        assert response.status_code == 422
        assert "時間帯が選択されていません" in response.get_data(as_text=True)


def test_too_many_slots_are_refused(client, meguro):
    slots = [f"2:2026-12-{day:02d}:{band}" for day in range(1, 8) for band in (5, 6, 7, 8)]
    response = client.get("/apply/details?" + query(slots))
    assert response.status_code == 422
    assert "一度に申込できる時間帯は20件までです" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    "slot, words",
    [
        (CLOSED_DAY, "2026/12/14(月)"),
        (TODAY, "2026/11/25(水)"),
        (BEYOND_WINDOW, "2027/3/1(月)"),
    ],
)
def test_closed_days_and_dates_outside_the_booking_window_are_refused(client, meguro, slot, words):
    response = client.get("/apply/details?" + query([slot]))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "選択した時間帯は申込できません（休館日、申込期間外、または開始時刻を過ぎています）" in page
    assert f"駒場住区センター 201【旧第1会議室】 {words}" in page
    assert "選択した時間帯はすべて申込できません" in page

    # With a free slot beside it, the resident keeps the free one.
    mixed = client.get("/apply/details?" + query([slot, FREE_A]))
    assert mixed.status_code == 422
    main = main_of(mixed.get_data(as_text=True))
    assert words in main and f'name="slot" value="{FREE_A}"' in main and f'value="{slot}"' not in main


def test_a_slot_taken_by_another_group_is_named_and_the_rest_kept(client, meguro):
    response = client.get("/apply/details?" + query([TAKEN_BY_OTHERS, FREE_A]))
    assert response.status_code == 409
    main = main_of(response.get_data(as_text=True))
    assert (
        "選択した時間帯は、他の方が先に申し込みました: 区民センター社会教育館 702【旧第2研修室】 2026/12/3(木) 15:30~18:00"
        in main
    )
    assert f'name="slot" value="{FREE_A}"' in main and TAKEN_BY_OTHERS not in main


def test_going_back_after_applying_says_the_slots_are_already_booked(client, meguro):
    page = confirm_page(client)
    assert client.post("/apply", data=submit_form(page)).status_code == 303
    again = client.get("/apply/confirm?" + query([FREE_A, FREE_B], **ROOM2_ANSWERS))
    assert again.status_code == 409
    html = again.get_data(as_text=True)
    assert "選択した時間帯は、既に申込済みです。" in html and "2026/12/1(火) 9:00~12:00" in html
    assert "他の方が先に申し込みました" not in html
    assert '<a href="/mymenu/">マイメニューへ戻る</a>' in html


def test_rebooking_a_cancelled_slot_is_blocked_for_the_same_group_only(client, auth):
    auth.login()
    response = client.get("/apply/details?" + query([CANCELLED_BY_MEGURO]))
    assert response.status_code == 422
    assert (
        "同一コマに再予約できません: 駒場住区センター 201【旧第1会議室】 2026/12/7(月) 12:30~15:00"
        in response.get_data(as_text=True)
    )
    auth.logout()
    auth.login(number="40676")
    assert client.get("/apply/details?" + query([CANCELLED_BY_MEGURO])).status_code == 200


def test_reader_mode_names_the_step_in_title_and_heading(client, meguro):
    token = csrf_token_from(client.get("/settings/display").get_data(as_text=True))
    client.post("/settings/reader", data={"csrf_token": token, "presentation": "reader", "next": "/"})
    page = client.get("/apply/details?" + query([FREE_A])).get_data(as_text=True)
    assert "<title>手順 4/6 詳細申請 | " in page and "<h1>手順 4/6 詳細申請</h1>" in page


# -- 申込確認 ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "answers, messages",
    [
        (
            {},
            {
                "#r2-purpose": "利用目的を選択してください。",
                "#r2-attendees": "利用人数を入力してください。",
                "#r2-charges_fee-0": "参加費等の有無を選択してください。",
            },
        ),
        (
            {**ROOM2_ANSWERS, "r2-attendees": "0"},
            {"#r2-attendees": "利用人数は1人から18人までの数字で入力してください。"},
        ),
        (
            {**ROOM2_ANSWERS, "r2-attendees": "19"},
            {"#r2-attendees": "利用人数は1人から18人までの数字で入力してください。"},
        ),
        (
            {**ROOM2_ANSWERS, "r2-attendees": "abc"},
            {"#r2-attendees": "利用人数は1人から18人までの数字で入力してください。"},
        ),
        (
            {**ROOM2_ANSWERS, "r2-attendees": "-3"},
            {"#r2-attendees": "利用人数は1人から18人までの数字で入力してください。"},
        ),
        (
            {**ROOM2_ANSWERS, "r2-purpose": "2"},
            {"#r2-purpose": "利用目的は一覧から選択してください。"},
        ),  # 大会・式典: not in 202
        ({**ROOM2_ANSWERS, "r2-purpose": "99999999999999999"}, {"#r2-purpose": "利用目的は一覧から選択してください。"}),
        ({**ROOM2_ANSWERS, "r2-charges_fee": "maybe"}, {"#r2-charges_fee-0": "参加費等の有無を選択してください。"}),
    ],
)
def test_wrong_answers_show_details_again_with_the_error_summary(client, meguro, answers, messages):
    response = client.get("/apply/confirm?" + query([FREE_A], **answers))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "<title>エラー: 詳細申請 | " in page
    summary = page[page.index('class="error-summary"') : page.index("</div>", page.index('class="error-summary"'))]
    for href, message in messages.items():
        assert f'<a href="{href}">{message}</a>' in summary
    assert page.count('class="field-error"') == len(messages)
    # What the resident typed is kept.
    if answers.get("r2-attendees"):
        assert f'value="{answers["r2-attendees"]}"' in page


def test_confirm_shows_each_slot_its_fee_and_every_answer_with_a_change_link(client, meguro):
    page = confirm_page(
        client,
        slots=(FREE_A, FREE_B, FREE_201),
        answers={**ROOM2_ANSWERS, "r1-purpose": "2", "r1-attendees": "12", "r1-charges_fee": "yes"},
    )
    assert "<title>申込確認 | " in page
    assert '<span aria-current="step">申込確認</span>' in page
    main = main_of(page)
    assert "合計 1,000円" in main  # 300 + 300 + 400
    fees = re.findall(r'<td class="number"[^>]*>([0-9,]+円)</td>', main)
    assert fees.count("300円") == 2 and "400円" in fees
    assert "備品使用料" in main
    assert "会議・打合せ" in main and "5人" in main and "なし" in main
    assert "大会・式典" in main and "12人" in main and "あり" in main
    for field in ("r2-purpose", "r2-attendees", "r2-charges_fee-0", "r1-purpose", "r1-attendees", "r1-charges_fee-0"):
        assert f'#{field}">変更<span class="visually-hidden">' in main
    assert '変更<span class="visually-hidden"> 202【旧第2会議室】 の利用人数</span>' in main
    assert "※この料金は基本額です。" in main and "入場料の有無等により異なる場合があります。" in main
    assert '<form method="post" action="/apply"' in main
    assert "申込</button>" in main and "前に戻る" in main
    posted = submit_form(page)
    assert posted["csrf_token"] and re.fullmatch(r"[A-Za-z0-9_-]{20,64}", posted["form_token"])
    assert posted["r1-attendees"] == "12" and posted["r2-charges_fee"] == "no"


def test_a_change_link_returns_to_details_with_the_answers_filled_in(client, meguro):
    page = confirm_page(client)
    href = re.search(r'href="([^"]+)#r2-attendees"', page).group(1).replace("&amp;", "&")
    details = client.get(href)
    assert details.status_code == 200
    main = main_of(details.get_data(as_text=True))
    assert '<option selected value="1">会議・打合せ</option>' in main
    assert 'value="5"' in main
    assert re.search(r'checked id="r2-charges_fee-1"', main)


# -- 申込 and 申込完了 ------------------------------------------------------------------


def test_applying_creates_provisional_reservations_and_shows_the_completion_page(app, client, meguro):
    page = confirm_page(
        client,
        slots=(FREE_A, FREE_201),
        answers={**ROOM2_ANSWERS, "r1-purpose": "2", "r1-attendees": "1", "r1-charges_fee": "yes"},
    )
    before = count_reservations(app)
    response = client.post("/apply", data=submit_form(page))
    assert response.status_code == 303
    assert re.fullmatch(r"/apply/complete/\d+", response.headers["Location"])
    assert count_reservations(app) == before + 2

    done = client.get(response.headers["Location"])
    assert done.status_code == 200
    html = done.get_data(as_text=True)
    assert "<title>予約申込 完了 | " in html
    assert '<span aria-current="step">申込完了</span>' in html
    main = main_of(html)
    assert "<h1>予約申込 完了</h1>" in main
    assert "申込を受付しました。仮予約として受付している施設がありますので、ご注意ください。" in main
    assert "合計 700円" in main
    numbers = re.findall(r'<h2 id="reservation-\d+-title">予約番号 (\d{4}-\d{6})', main)
    assert numbers == ["2026-000016", "2026-000017"]  # after the demo's 12 bookings and its lottery's 3 当選
    assert main.count("仮予約</strong>") == 2
    assert "駒場住区センター 202【旧第2会議室】" in main and "駒場住区センター 201【旧第1会議室】" in main
    assert "利用目的「会議・打合せ」、利用人数「5人」、参加費等の有無「なし」" in main
    assert "利用目的「大会・式典」、利用人数「1人」、参加費等の有無「あり」" in main
    # 支払期限: min(applied 25 Nov + 14 days, the use date).
    assert "<strong>2026/12/1(火)</strong>" in main  # use date first
    assert "<strong>2026/12/9(水)</strong>" in main  # 14 days after applying
    assert "詳しくは、駒場住区会議室（03-3469-2613）までお問い合わせください。" in main
    assert "利用手続きの無い場合は、仮予約は取消されます。" in main
    assert "施設により休館日が異なります。" in main
    assert '<button type="button" class="button secondary" data-print hidden>申込内容を印刷</button>' in main
    assert "ブラウザの印刷機能" in main
    assert 'href="/facilities/013">地図で場所を確認' in main
    assert 'href="/payment/">クレジット決済</a>' in main
    assert 'href="#pay-at-counter">クレジット決済しない方はこちら</a>' in main
    assert 'id="pay-at-counter"' in main and 'href="/mymenu/">マイメニュー</a>' in main

    created = reservations_of(app, FREE_201)[0]
    assert created.state is ReservationState.PROVISIONAL
    assert (created.purpose_id, created.attendees, created.charges_participation_fee) == (2, 1, True)
    assert created.facility_fee_yen == 400 and created.resident_id == 1


def test_a_fault_of_ours_while_applying_is_not_called_a_taken_slot(app, client, meguro, caplog):
    """A counter out of step (as a broken id sequence was) makes the database refuse the
    insert: the resident sees a fault with a reference number, not 他の方が先に申し込みました,
    and the log has the error under the same number."""
    page = confirm_page(client)
    with app.extensions["database"].write() as session:
        session.get(Counter, "reservation:2026").value = 0  # the next 予約番号 exists already
    before = count_reservations(app)
    response = client.post("/apply", data=submit_form(page), headers={"X-Request-ID": "ref-apply-0001"})
    html = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "<h1>システムエラー</h1>" in html
    assert "他の方が先に申し込みました" not in html
    assert 'お問い合わせ番号: <span class="reference-number">ref-apply-0001</span>' in html
    faults = [r for r in caplog.records if r.name == "meguro.fault"]
    assert [r.request_id for r in faults] == ["ref-apply-0001"]
    assert isinstance(faults[0].exc_info[1], IntegrityError)
    assert count_reservations(app) == before


def count_applications(app) -> int:
    with app.extensions["database"].read_session() as s:
        return s.scalar(select(func.count()).select_from(Application))


def test_a_second_submit_shows_the_first_result_and_creates_nothing(app, client, meguro):
    form = submit_form(confirm_page(client))
    before = count_applications(app), count_reservations(app)
    first = client.post("/apply", data=form)
    assert (count_applications(app), count_reservations(app)) == (before[0] + 1, before[1] + 2)
    second = client.post("/apply", data=form)
    assert second.status_code == 303 and second.headers["Location"] == first.headers["Location"]
    assert (count_applications(app), count_reservations(app)) == (before[0] + 1, before[1] + 2)
    assert "予約申込 完了" in client.get(second.headers["Location"]).get_data(as_text=True)


@pytest.mark.parametrize("token", [None, "", "not-a-csrf-token"])
def test_a_missing_or_wrong_csrf_token_changes_nothing(app, client, meguro, token):
    form = submit_form(confirm_page(client))
    form.pop("csrf_token")
    if token is not None:
        form["csrf_token"] = token
    before = count_reservations(app)
    response = client.post("/apply", data=form)
    assert response.status_code == 400
    assert "フォームの有効期限が切れたか" in response.get_data(as_text=True)
    assert count_reservations(app) == before


@pytest.mark.parametrize("token", [None, "short", "a" * 65, "bad token with spaces!!!!!!!"])
def test_a_missing_or_malformed_form_token_changes_nothing(app, client, meguro, token):
    form = submit_form(confirm_page(client))
    form.pop("form_token")
    if token is not None:
        form["form_token"] = token
    before = count_reservations(app)
    response = client.post("/apply", data=form)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "申込の受付に必要な情報が正しくありません" in page
    assert re.search(r'name="form_token" value="[A-Za-z0-9_-]{20,}"', page)  # a fresh one to try again
    assert count_reservations(app) == before


def test_an_empty_post_is_refused_clearly(app, client, meguro):
    token = csrf_token_from(confirm_page(client))
    before = count_reservations(app)
    response = client.post("/apply", data={"csrf_token": token})
    assert response.status_code == 422
    assert "時間帯が選択されていません" in response.get_data(as_text=True)
    assert count_reservations(app) == before


def test_forged_answers_in_the_post_are_refused(app, client, meguro):
    form = submit_form(confirm_page(client))
    form["r2-attendees"] = "99"
    before = count_reservations(app)
    response = client.post("/apply", data=form)
    assert response.status_code == 422
    assert "<title>エラー: 詳細申請 | " in response.get_data(as_text=True)
    assert count_reservations(app) == before


def _apply_as(client, auth, number, slots):
    auth.login(number=number)
    form = submit_form(confirm_page(client, slots=slots))
    response = client.post("/apply", data=form)
    assert response.status_code == 303
    auth.logout()


def test_a_slot_taken_before_submit_is_named_and_the_rest_can_still_be_applied_for(app, client, auth):
    auth.login()
    page = confirm_page(client)
    first_token = submit_form(page)["form_token"]
    other = app.test_client()
    from tests.conftest import AuthActions

    _apply_as(other, AuthActions(other), "40676", (FREE_A,))

    response = client.post("/apply", data=submit_form(page))
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert "<title>エラー: 申込確認 | " in html
    assert "他の方が先に申し込みました: 駒場住区センター 202【旧第2会議室】 2026/12/1(火) 9:00~12:00" in html
    form = submit_form(html)
    assert form.getlist("slot") == [FREE_B]
    assert form["form_token"] != first_token
    assert "合計 300円" in html

    done = client.post("/apply", data=form)
    assert done.status_code == 303
    assert [r.resident_id for r in reservations_of(app, FREE_A)] == [2]
    assert [r.resident_id for r in reservations_of(app, FREE_B)] == [1]


def test_when_every_slot_was_taken_the_resident_is_sent_back_to_the_search(app, client, auth):
    auth.login()
    page = confirm_page(client, slots=(FREE_A,))
    other = app.test_client()
    from tests.conftest import AuthActions

    _apply_as(other, AuthActions(other), "40676", (FREE_A,))
    before = count_reservations(app)
    response = client.post("/apply", data=submit_form(page))
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert "他の方が先に申し込みました: 駒場住区センター 202【旧第2会議室】 2026/12/1(火) 9:00~12:00" in html
    assert "選択した時間帯はすべて申込できません" in html
    assert '<a href="/search/facilities">施設の検索へ戻る</a>' in html
    assert count_reservations(app) == before


def test_another_residents_completion_page_is_not_found(app, client, auth):
    auth.login()
    location = client.post("/apply", data=submit_form(confirm_page(client))).headers["Location"]
    assert client.get(location).status_code == 200
    auth.logout()
    auth.login(number="40676")
    response = client.get(location)
    assert response.status_code == 404
    assert "ページが見つかりません" in response.get_data(as_text=True)
    assert client.get("/apply/complete/999999").status_code == 404
    assert client.get("/apply/complete/99999999999999").status_code == 404
    assert client.get("/apply/complete/abc").status_code == 404


def test_reader_mode_completion_says_card_payment_is_not_available_here(client, meguro):
    location = client.post("/apply", data=submit_form(confirm_page(client))).headers["Location"]
    token = csrf_token_from(client.get("/settings/display").get_data(as_text=True))
    client.post("/settings/reader", data={"csrf_token": token, "presentation": "reader", "next": "/"})
    page = client.get(location).get_data(as_text=True)
    assert "<h1>手順 6/6 予約申込 完了</h1>" in page
    assert "※読み上げ用ブラウザモードからはクレジット決済は行えません。" in page


def test_completion_numbers_are_per_fiscal_year(app, client, meguro):
    location = client.post("/apply", data=submit_form(confirm_page(client))).headers["Location"]
    with app.extensions["database"].read_session() as s:
        application = s.get(Application, int(location.rsplit("/", 1)[1]))
        numbers = [r.number for r in application.reservations]
    assert all(re.fullmatch(r"2026-\d{6}", n) for n in numbers)
    assert numbers == ["2026-000016", "2026-000017"]  # after the demo's 12 bookings and its lottery's 3 当選
