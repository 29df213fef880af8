"""予約の取消 (guide ch. 5 §(3), DESIGN rules 5, 11, 12, 13) through the test client: the 取消
column of 予約内容の確認・取消, the card-paid confirmations, 予約の取消 確認, 取消, 予約の取消
完了, every refusal, and the channels. Card-paid bookings are recorded here as the payment
screens leave them (a captured, live card charge); the refunds settled through the served
card company are in test_refund_settlement.py.

Demo resident 00040675 (目黒団体), from the frozen today (Wed 2026-11-25 10:00 JST): 仮予約
2026-000001 and -000002 (区民センター社会教育館 702, 700円, 2026/12/25, 30 days ahead),
-000003 (駒場住区センター 201, 400円, 2026/12/10, 15 days), -000004 (201, 12/3, 8 days),
-000005 (中目黒 第1会議室, 11/28, 3 days), 当選 -000006 (701, 900円, 2027/1/14), counter-paid
本予約 -000007, 取消済 -000008 and -000009; 駒場サークル's 仮予約 -000010."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta, timezone
from html import unescape

import pytest
from sqlalchemy import func, select

from blueprints.apply.operations import RoomAnswers, apply_for_slots
from bookings.slots import SlotRef
from models import errors
from models.account import Resident
from models.payment import CardCharge, ChargeStatus, Settlement, SettlementStatus, VoidStatus
from models.reservation import Reservation
from models.reservation_rules import CancelKind, ReservationState
from tests.conftest import FROZEN_NOW, HTMX_HEADERS, AuthActions, csrf_token_from
from tests.pages import main_of, text
from tests.pages import words_as_read as words

LIST = "/mymenu/reservations"
FIRST, SECOND = "2026-000001", "2026-000002"  # 702, 700円, 2026/12/25 (30 days)
KOMABA = "2026-000003"  # 201, 400円, 2026/12/10 (15 days)
EIGHT_DAYS = "2026-000004"  # 201, 400円, 2026/12/3
SOON = "2026-000005"  # 中目黒, 2026/11/28 (3 days)
WON = "2026-000006"
COUNTER_PAID = "2026-000007"
CANCELLED = "2026-000008"
SOMEONE_ELSES = "2026-000010"
NOW = datetime.fromisoformat(FROZEN_NOW)


# -- reading pages --------------------------------------------------------------------------


def rows_of(html: str) -> list[list[str]]:
    found = []
    for body in re.findall(r"<tbody>(.*?)</tbody>", html, re.S):
        for row in re.findall(r"<tr>(.*?)</tr>", body, re.S):
            found.append([words(cell) for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)])
    return found


def row_for(html: str, number: str) -> list[str]:
    return next(row for row in rows_of(html) if number in row)


def hidden_values(html: str, name: str) -> list[str]:
    values = []
    for tag in re.findall(r"<input[^>]*>", html):
        if 'type="hidden"' in tag and f'name="{name}"' in tag:
            values.append(unescape(re.search(r'value="([^"]*)"', tag).group(1)))
    return values


def error_summary(html: str) -> str:
    match = re.search(r'<div class="error-summary".*?</div>', html, re.S)
    return words(match.group(0)) if match else ""


# -- the database ----------------------------------------------------------------------------


def db(app):
    return app.extensions["database"]


def booking(app, number: str) -> Reservation:
    with db(app).read_session() as s:
        r = s.scalar(select(Reservation).where(Reservation.number == number))
        s.expunge_all()
        return r


def change_booking(app, number: str, **values) -> None:
    with db(app).write() as s:
        r = s.scalar(select(Reservation).where(Reservation.number == number))
        for name, value in values.items():
            setattr(r, name, value)
        r.version += 1


def paid_by_card(
    app, number: str, amount_yen: int | None = None, captured_at: datetime = NOW - timedelta(days=1)
) -> CardCharge:
    """The booking as the payment screens leave it: 本予約 with a live card charge."""
    with db(app).write() as s:
        r = s.scalar(select(Reservation).where(Reservation.number == number))
        amount = amount_yen if amount_yen is not None else r.total_fee_yen
        settlement = Settlement(
            reservation_id=r.id,
            resident_id=r.resident_id,
            reservation_version=r.version,
            charge_yen=amount,
            status=SettlementStatus.COMPLETED,
            created_at=captured_at,
            completed_at=captured_at,
        )
        s.add(settlement)
        s.flush()
        count = s.scalar(select(func.count()).select_from(CardCharge))
        charge = CardCharge(
            reservation_id=r.id,
            settlement_id=settlement.id,
            receipt_number=f"039{captured_at:%Y%m%d}{count + 1:05d}",
            amount_yen=amount,
            status=ChargeStatus.CAPTURED,
            created_at=captured_at,
            captured_at=captured_at,
        )
        s.add(charge)
        s.flush()
        settlement.new_charge_id = charge.id
        r.state = ReservationState.CONFIRMED
        r.confirmed_at = captured_at
        r.version += 1
        s.flush()
        s.expunge_all()
        return charge


def move_clock(app, to: datetime) -> None:
    app.config["FROZEN_NOW"] = to.isoformat()


def jst(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=timezone(timedelta(hours=9)))


# -- a resident cancelling ------------------------------------------------------------------------


class Canceller:
    def __init__(self, client):
        self.client = client

    def start(self, *numbers: str):
        return self.client.get("/cancel/", query_string=[("number", n) for n in numbers])

    def confirm_page(self, *numbers: str) -> str:
        response = self.client.get("/cancel/confirm", query_string=[("number", n) for n in numbers])
        assert response.status_code == 200, words(text(response))[:400]
        return text(response)

    def submit(self, page: str, *, reason: str | None = "", agree: bool = False, **overrides):
        data = {
            "csrf_token": csrf_token_from(page),
            "form_token": hidden_values(page, "form_token")[0],
            "booking": hidden_values(page, "booking"),
            "reason": reason,
        }
        if agree:
            data["agree"] = "y"
        data.update(overrides)
        return self.client.post("/cancel/confirm", data=data)


@pytest.fixture
def resident(client, auth):
    auth.login()
    return Canceller(client)


# -- 予約内容の確認・取消: the 取消 column ------------------------------------------------------------


def test_the_list_offers_a_cancel_box_on_each_row_that_can_be_cancelled_and_says_why_not_elsewhere(resident, app):
    change_booking(app, SOON, use_date=date(2026, 11, 25))  # 9:00 today: started an hour ago
    page = text(resident.client.get(LIST))
    assert re.search(r'<form method="get" action="/cancel/" class="cancel-select-form"', page)
    for number in (FIRST, SECOND, KOMABA, EIGHT_DAYS, WON):
        assert re.search(rf'<input type="checkbox" name="number" value="{number}" id="cancel-{number}">', page), number
        assert row_for(page, number)[-1] == f"取消 予約番号 {number}"  # the label names its booking
    counter = row_for(page, COUNTER_PAID)[-1]
    assert (
        counter
        == "窓口でのお支払いがあるため、オンラインでは取消できません。利用施設（駒場住区会議室 03-3469-2613）までご連絡ください。"
    )
    assert row_for(page, CANCELLED)[-1] == "取消済です。"
    assert row_for(page, SOON)[-1] == "利用開始時刻を過ぎたため、取消できません。"
    for number in (COUNTER_PAID, CANCELLED, SOON):
        assert f'value="{number}"' not in page
    assert '<th scope="col">取消</th>' in page
    assert re.search(
        r'<button type="submit" class="button" aria-describedby="cancel-select-hint">次へ進む</button>', page
    )
    # One form around every table: it closes after the last one.
    form = page.split('class="cancel-select-form"', 1)[1].split("</form>", 1)[0]
    assert form.count("<table>") == page.count("<table>")


def test_the_lists_htmx_fragment_carries_the_cancel_form_too(resident):
    fragment = text(resident.client.get(LIST + "?state=provisional", headers=HTMX_HEADERS))
    assert fragment.startswith("<title>")
    assert 'action="/cancel/"' in fragment and f'value="{FIRST}"' in fragment and "次へ進む" in fragment


def test_without_a_card_paid_row_there_are_no_dialogs(resident):
    page = text(resident.client.get(LIST))
    assert "<dialog" not in page and "cancel.js" not in page and "(※)" not in page


def test_no_next_button_when_nothing_can_be_cancelled(resident):
    page = text(resident.client.get(LIST + "?state=cancelled"))
    assert 'type="checkbox" name="number"' not in page and ">次へ進む</button>" not in page


# -- unpaid bookings: straight to 確認 ----------------------------------------------------------


def test_cancelling_two_unpaid_bookings_all_the_way(resident, app):
    before = {n: booking(app, n) for n in (FIRST, KOMABA)}
    response = resident.start(FIRST, KOMABA)
    assert response.status_code == 303
    assert response.headers["Location"] == f"/cancel/confirm?number={FIRST}&number={KOMABA}"

    page = resident.confirm_page(FIRST, KOMABA)
    assert "<title>予約の取消 確認 | " in page
    assert "<h1>予約の取消 確認</h1>" in page
    assert "以下の予約の取消を行います。内容がよろしければ「取消」ボタンを押してください。" in page
    assert "この予約を取消した場合には、同一コマに再予約できません。" in page
    assert "支払済金額のある予約の取消" not in page  # nothing paid
    assert "注意事項" not in main_of(page) and 'name="agree"' not in page
    assert rows_of(page) == [
        [
            "仮予約 再予約不可",
            FIRST,
            "区民センター社会教育館 702【旧第2研修室】",
            "2026/12/25(金)",
            "9:00~12:00",
            "0円",
        ],
        ["仮予約 再予約不可", KOMABA, "駒場住区センター 201【旧第1会議室】", "2026/12/10(木)", "9:00~12:00", "0円"],
    ]
    assert "メニュー 予約確認 予約取消確認 予約取消完了" in words(page)
    assert '<span aria-current="step">予約取消確認</span>' in page
    # Only 仮予約: 取消事由 is optional.
    assert '<label for="reason">取消事由</label>' in page
    assert hidden_values(page, "booking") == [
        f"{FIRST}:{before[FIRST].version}:100",
        f"{KOMABA}:{before[KOMABA].version}:75",
    ]
    assert booking(app, FIRST).state is ReservationState.PROVISIONAL  # nothing changes before 取消

    response = resident.submit(page, reason="  日程変更のため  ")
    assert response.status_code == 303
    assert response.headers["Location"] == f"/cancel/done?number={FIRST}&number={KOMABA}"
    for number, percent in ((FIRST, 100), (KOMABA, 75)):
        r = booking(app, number)
        assert r.state is ReservationState.CANCELLED
        assert r.cancel_kind is CancelKind.RESIDENT
        assert r.cancelled_at == NOW
        assert r.cancel_reason == "日程変更のため"
        assert (r.refund_percent, r.cancellation_fee_yen) == (percent, 0)  # nothing was paid: no fee
        assert r.version == before[number].version + 1

    done = resident.client.get(response.headers["Location"])
    page = text(done)
    assert done.status_code == 200
    assert "<h1>予約の取消 完了</h1>" in page
    assert "以下の予約を取消しました。" in page and "取消した同一コマには再予約できません。" in page
    assert rows_of(page) == [
        [
            "取消済 −支払なし 再予約不可",
            FIRST,
            "区民センター社会教育館 702【旧第2研修室】",
            "2026/12/25(金)",
            "9:00~12:00",
            "0円",
        ],
        [
            "取消済 −支払なし 再予約不可",
            KOMABA,
            "駒場住区センター 201【旧第1会議室】",
            "2026/12/10(木)",
            "9:00~12:00",
            "0円",
        ],
    ]
    assert "取消事由 日程変更のため" in words(page)
    assert "還付金が発生しています" not in page  # nothing to refund
    assert re.search(r'<button type="button" class="button secondary" data-print hidden>一覧を印刷</button>', page)
    assert '<span aria-current="step">予約取消完了</span>' in page
    # The list shows them 取消済 with no box any more.
    listed = text(resident.client.get(LIST))
    assert row_for(listed, FIRST)[0].startswith("取消済") and row_for(listed, FIRST)[-1] == "取消済です。"


def test_a_won_booking_is_cancelled_like_a_provisional_one(resident, app):
    page = resident.confirm_page(WON)
    assert row_for(page, WON)[0] == "当選 再予約不可"
    assert resident.submit(page).status_code == 303
    r = booking(app, WON)
    assert r.state is ReservationState.CANCELLED and r.cancel_reason is None


def test_rebooking_the_cancelled_slot_is_blocked_for_the_group_only(resident, app):
    assert resident.submit(resident.confirm_page(FIRST)).status_code == 303
    cancelled = booking(app, FIRST)
    with db(app).write() as s:
        meguro = s.scalar(select(Resident).where(Resident.registration_number == "00040675"))
        circle = s.scalar(select(Resident).where(Resident.registration_number == "00040676"))
        slot = SlotRef(cancelled.room_id, cancelled.use_date, cancelled.time_band_id)
        answers = {cancelled.room_id: RoomAnswers(cancelled.purpose_id, 10, False)}
        with pytest.raises(errors.RebookingBlocked):
            apply_for_slots(
                s,
                resident_id=meguro.id,
                slots=[slot],
                answers=answers,
                group_class_id=meguro.group_classes[0].group_class_id,
                now=NOW,
                days_ahead=90,
            )
        other = apply_for_slots(
            s,
            resident_id=circle.id,
            slots=[slot],
            answers=answers,
            group_class_id=circle.group_classes[0].group_class_id,
            now=NOW,
            days_ahead=90,
        )
        assert other.reservations[0].state is ReservationState.PROVISIONAL


# -- card-paid bookings: the guide's two confirmations ------------------------------------------------


def test_card_paid_bookings_go_through_the_two_confirmations_first(resident, app):
    paid_by_card(app, FIRST)
    listed = text(resident.client.get(LIST))
    # With JavaScript the same words are dialogs on the list (static/js/cancel.js).
    assert re.search(
        rf'<input type="checkbox" name="number" value="{FIRST}" id="cancel-{FIRST}" data-card-paid>', listed
    )
    assert f'value="{KOMABA}" id="cancel-{KOMABA}">' in listed
    assert '<dialog class="confirm-dialog" id="cancel-dialog-card-paid"' in listed
    assert re.search(r'<script src="/static/js/cancel\.[0-9a-f]{12}\.js" defer></script>', listed)
    response = resident.start(FIRST, KOMABA)
    assert response.status_code == 303
    assert response.headers["Location"] == f"/cancel/card-paid?number={FIRST}&number={KOMABA}"

    first = text(resident.client.get(response.headers["Location"]))
    assert '<h1 id="card-paid-title">確認</h1>' in first
    assert "対象の予約はクレジットにてお支払い済です。取消を続行しますか？" in first
    assert f"予約番号 {FIRST}（2026/12/25(金) 9:00~12:00）" in words(first)
    assert f"予約番号 {KOMABA}" not in words(main_of(first))  # only the card-paid ones are named
    yes = re.search(r'<a class="button" href="([^"]+)">はい</a>', first).group(1)
    no = re.search(r'<a class="button secondary" href="([^"]+)">いいえ</a>', first).group(1)
    assert unescape(no) == LIST
    assert unescape(yes) == f"/cancel/refund-note?number={FIRST}&number={KOMABA}"

    second = text(resident.client.get(unescape(yes)))
    assert '<h1 id="refund-note-title">メッセージ</h1>' in second
    assert (
        "支払済金額のある予約の取消を行おうとしています。状態に「(※)」が付いている予約については、クレジット決済画面から還付の手続きを行ってください。"
        in second
    )
    yes = re.search(r'<a class="button" href="([^"]+)">はい</a>', second).group(1)
    assert unescape(yes) == f"/cancel/confirm?number={FIRST}&number={KOMABA}"
    assert booking(app, FIRST).state is ReservationState.CONFIRMED  # nothing changed on the way


def test_confirm_for_a_card_paid_booking_shows_the_refund_the_terms_and_when_the_rate_drops(resident, app):
    paid_by_card(app, FIRST)  # 700円, 30 days ahead: 100 %
    page = resident.confirm_page(FIRST, KOMABA)
    assert (
        "支払済金額のある予約の取消を行おうとしています。状態に「(※)」が付いている予約については、クレジット決済画面から還付の手続きを行ってください。"
        in page
    )
    row = row_for(page, FIRST)
    assert row[0] == "本予約 支払あり、再予約不可(※)（還付の手続きが必要）"
    assert row[5].startswith("700円 還付率 100%（本日取消の場合）")
    assert "2026/12/4(金)までに取り消すと全額還付されます。 2026/12/5(土)からは75%還付になります。" in row[5]
    assert row_for(page, KOMABA)[0] == "仮予約 再予約不可"
    # 取消事由 is required with a 本予約 in the batch.
    assert '<label for="reason">取消事由 <span class="required">必須</span></label>' in page
    assert "本予約を取消する場合、取消事由を入力してください。" in page
    # 注意事項 of the paid booking's facility only, with the refund table from the data.
    terms = words(page.split('id="cancel-terms-title">', 1)[1])
    assert terms.startswith("⚠ 注意事項 区民センター社会教育館 ◀使用料の還付について▶")
    assert "駒場住区センター ◀使用料" not in terms
    for sentence in (
        "クレジット決済を行った予約については、オンラインでのみ予約の取消及び還付の手続きが可能です。",
        "その場合は利用施設までご連絡ください。",
        "利用日21日以上前...全額還付 利用日20日前~11日前...75%還付 利用日10日前~6日前...50%還付 利用日5日前~当日...還付不可",
        "◀クレジット決済で支払われた使用料の還付方法について▶ クレジット決済で支払われた使用料を窓口で現金還付することはできません。",
        "◀施設の利用ができなくなった場合の予約取消について▶",
        "災害その他の事故で施設が利用できなくなったとき",
        "内容に同意いただける場合のみクレジットカード決済の取消し手続きに進んでください。",
        "上記内容に同意する場合は「同意します」ボタンを選択してください。",
        "同意します 取消 前に戻る",
    ):
        assert sentence in terms, sentence
    assert re.search(r'<input[^>]*id="agree"[^>]*type="checkbox"|<input[^>]*type="checkbox"[^>]*id="agree"', page)


@pytest.mark.parametrize(
    ("number", "use_date", "amount", "percent", "refund", "fee", "drop"),
    [
        (FIRST, date(2026, 12, 25), 700, 100, 700, 0, "2026/12/4(金)までに取り消すと全額還付されます。"),
        (
            FIRST,
            date(2026, 12, 15),
            700,
            75,
            525,
            175,
            "2026/12/4(金)までに取り消すと75%還付されます。 2026/12/5(土)からは50%還付になります。",
        ),
        (
            KOMABA,
            date(2026, 12, 5),
            400,
            50,
            200,
            200,
            "2026/11/29(日)までに取り消すと50%還付されます。 2026/11/30(月)からは還付されません。",
        ),
        (KOMABA, date(2026, 11, 30), 400, 0, 0, 400, None),
    ],
)
def test_the_refund_is_fixed_on_the_day_of_cancellation(
    resident, app, number, use_date, amount, percent, refund, fee, drop
):
    change_booking(app, number, use_date=use_date)
    charge = paid_by_card(app, number, amount)
    page = resident.confirm_page(number)
    cell = row_for(page, number)[5]
    assert cell.startswith(f"{refund:,}円 還付率 {percent}%")
    if drop:
        assert drop in cell
    else:
        assert "までに取り消すと" not in cell
    assert (row_for(page, number)[0].endswith("(※)（還付の手続きが必要）")) is (refund > 0)

    response = resident.submit(page, reason="会場変更", agree=True)
    assert response.status_code == 303
    r = booking(app, number)
    assert (r.state, r.refund_percent, r.cancellation_fee_yen) == (ReservationState.CANCELLED, percent, fee)
    # Cancelling moves no money: the charge is still live until クレジット決済.
    with db(app).read_session() as s:
        held = s.get(CardCharge, charge.id)
        assert (held.status, held.void_status) == (ChargeStatus.CAPTURED, VoidStatus.NONE)

    done = text(resident.client.get(response.headers["Location"]))
    row = row_for(done, number)
    assert row[5].startswith(f"{refund:,}円 還付率 {percent}%")
    if refund:
        assert row[0] == "取消済 支払あり(※)（還付の手続きが必要） 再予約不可"
        assert "還付の手続き期限: 2027/5/23(日)" in row[5]  # 180 days after 2026/11/24
        for sentence in (
            "状態に「(※)」が付いている予約については、クレジット決済画面から還付の手続きを行ってください。",
            "状態に「(※)」が付いている予約は、還付金が発生しています。",
            "還付を行う場合は、「クレジット決済画面」を押してください。",
            "※還付が生じる場合でも、クレジット決済のお手続きが必要になります。",
            "※クレジットの還付は予約のお支払日から180日以内に手続きする必要があります。必ず期限内にお手続きください。",
            "期限: 2027年5月23日(日)",
            "※還付処理はマイメニューの「クレジット決済」からも可能です",
        ):
            assert sentence in words(done), sentence
        assert re.search(r'<a class="button" href="/payment/">クレジット決済画面</a>', done)
    else:
        assert row[0] == "取消済 支払あり 再予約不可"  # the charge stays as the fee: nothing to refund
        assert "還付金が発生しています" not in done and 'href="/payment/">クレジット決済画面' not in done
    assert "取消事由 会場変更" in words(done)


def test_partly_paid_700_of_1200_cancelled_at_75_percent(resident, app):
    change_booking(app, FIRST, use_date=date(2026, 12, 15))  # 20 days ahead
    paid_by_card(app, FIRST, 700)
    change_booking(app, FIRST, facility_fee_yen=1200)  # as if a 500円 projector were added: 一部支払済
    page = resident.confirm_page(FIRST)
    assert row_for(page, FIRST)[5].startswith("525円 還付率 75%")
    assert resident.submit(page, reason="中止", agree=True).status_code == 303
    r = booking(app, FIRST)
    assert (r.refund_percent, r.cancellation_fee_yen, r.due_yen) == (75, 175, 175)


# -- refusals: a clear message, nothing changed, never a 500 --------------------------------------------


def snapshot(app):
    with db(app).read_session() as s:
        return sorted((r.number, r.state.value, r.version, r.cancel_reason) for r in s.scalars(select(Reservation)))


def test_an_empty_selection_says_what_to_do(resident, app):
    before = snapshot(app)
    response = resident.start()
    assert response.status_code == 422
    page = text(response)
    assert "<title>エラー: 予約の取消 | " in page
    assert "取消する予約の「取消」を選択してから、「次へ進む」を押してください。" in error_summary(page)
    assert f'href="{LIST}"' in page
    assert snapshot(app) == before


@pytest.mark.parametrize(
    "numbers", [[SOMEONE_ELSES], [FIRST, SOMEONE_ELSES], ["2099-999999"], ["nope"], ["' OR 1=1 --"]]
)
@pytest.mark.parametrize(
    "step", ["/cancel/", "/cancel/card-paid", "/cancel/refund-note", "/cancel/confirm", "/cancel/done"]
)
def test_someone_elses_or_an_unknown_booking_is_not_found(resident, app, numbers, step):
    before = snapshot(app)
    response = resident.client.get(step, query_string=[("number", n) for n in numbers])
    assert response.status_code == 404
    assert (
        "選択された予約が見つかりません。予約内容の確認・取消の一覧から、もう一度選択してください。"
        in error_summary(text(response))
    )
    assert SOMEONE_ELSES not in main_of(text(response))
    assert snapshot(app) == before


def test_posting_someone_elses_booking_changes_nothing(resident, app):
    page = resident.confirm_page(FIRST)
    other = booking(app, SOMEONE_ELSES)
    before = snapshot(app)
    response = resident.submit(page, booking=[f"{SOMEONE_ELSES}:{other.version}:100"])
    assert response.status_code == 404
    assert "選択された予約が見つかりません。" in error_summary(text(response))
    assert snapshot(app) == before


@pytest.mark.parametrize(
    ("number", "message"),
    [
        (
            COUNTER_PAID,
            f"予約番号 {COUNTER_PAID} は窓口でのお支払いがあるため、オンラインでは取消できません。利用施設（駒場住区会議室 03-3469-2613）までご連絡ください。",
        ),
        (CANCELLED, f"予約番号 {CANCELLED} は、すでに取消済です。"),
    ],
)
def test_a_booking_that_cannot_be_cancelled_online_says_why(resident, app, number, message):
    before = snapshot(app)
    for step in ("/cancel/", "/cancel/confirm"):
        response = resident.client.get(step, query_string=[("number", FIRST), ("number", number)])
        assert response.status_code == 409
        assert error_summary(text(response)) == f"選択した予約は取消できません {message}"
    assert snapshot(app) == before


def test_a_slot_that_started_cannot_be_cancelled_even_from_a_page_loaded_before(resident, app):
    change_booking(app, SOON, use_date=date(2026, 11, 25), starts_at=time(10, 30))
    page = resident.confirm_page(SOON, FIRST)  # at 10:00, still possible
    before = snapshot(app)
    move_clock(app, jst(date(2026, 11, 25), 10, 30))
    response = resident.submit(page)
    assert response.status_code == 409
    assert f"予約番号 {SOON} は、利用開始時刻を過ぎているため取消できません。" in error_summary(text(response))
    assert snapshot(app) == before  # all or nothing: FIRST is not cancelled either


def test_a_refund_rate_that_drops_at_midnight_between_confirm_and_cancel_is_shown_again(resident, app):
    paid_by_card(app, FIRST)  # 700円 on 2026/12/25: 100 % until 2026/12/4, 75 % from 12/5 (JST)
    move_clock(app, jst(date(2026, 12, 4), 23, 59))
    page = resident.confirm_page(FIRST)
    assert row_for(page, FIRST)[5].startswith("700円 還付率 100%")
    assert hidden_values(page, "booking") == [f"{FIRST}:{booking(app, FIRST).version}:100"]
    before = snapshot(app)
    move_clock(app, jst(date(2026, 12, 5), 0, 1))  # 取消 pressed two minutes later
    response = resident.submit(page, reason="会場変更", agree=True)
    assert response.status_code == 409
    again = text(response)
    assert (
        "日付が変わったため、還付率と還付額が変わりました。新しい還付額を確認して、もう一度「取消」を押してください。"
        in error_summary(again)
    )
    assert snapshot(app) == before  # nothing fixed at a rate the resident never saw
    assert row_for(again, FIRST)[5].startswith("525円 還付率 75%")
    assert resident.submit(again, reason="会場変更", agree=True).status_code == 303
    r = booking(app, FIRST)
    assert (r.state, r.refund_percent, r.cancellation_fee_yen) == (ReservationState.CANCELLED, 75, 175)


def test_a_double_submit_shows_the_first_result_and_cancels_once(resident, app):
    page = resident.confirm_page(FIRST, SECOND)
    version = booking(app, FIRST).version
    first = resident.submit(page, reason="一度だけ")
    after_first = snapshot(app)
    second = resident.submit(page, reason="一度だけ")
    assert first.status_code == second.status_code == 303
    assert second.headers["Location"] == first.headers["Location"]
    assert snapshot(app) == after_first
    assert booking(app, FIRST).version == version + 1


def test_a_stale_page_after_a_change_in_another_tab_changes_nothing(resident, app):
    paid_by_card(app, FIRST)
    page = resident.confirm_page(FIRST, SECOND)
    change_booking(app, FIRST, facility_fee_yen=1200)  # changed in another tab
    before = snapshot(app)
    response = resident.submit(page, reason="変更", agree=True)
    assert response.status_code == 409
    again = text(response)
    assert "予約の内容が変更されています。最新の内容を確認して、もう一度操作してください。" in error_summary(again)
    assert snapshot(app) == before
    # The page shows the booking as it is now, with what was typed, and a fresh token.
    assert f"{FIRST}:{booking(app, FIRST).version}:100" in hidden_values(again, "booking")
    assert hidden_values(again, "form_token") != hidden_values(page, "form_token")
    assert re.search(r"<textarea[^>]*>\s*変更</textarea>", again)
    assert row_for(again, FIRST)[0] == "本予約 支払あり、再予約不可(※)（還付の手続きが必要）"
    assert resident.submit(again, reason="変更", agree=True).status_code == 303
    assert booking(app, FIRST).state is ReservationState.CANCELLED


def test_a_confirmed_booking_needs_a_reason_and_a_paid_one_the_agreement(resident, app):
    paid_by_card(app, FIRST)
    page = resident.confirm_page(FIRST)
    before = snapshot(app)
    response = resident.submit(page, reason="   ", agree=False)
    assert response.status_code == 422
    again = text(response)
    assert "<title>エラー: 予約の取消 確認 | " in again
    summary = re.search(r'<div class="error-summary".*?</ul>', again, re.S).group(0)
    assert re.search(r'<a href="#reason">本予約を取消する場合、取消事由を入力してください。</a>', summary)
    assert re.search(
        r'<a href="#agree">注意事項を確認し、内容に同意する場合は「同意します」を選択してください。</a>', summary
    )
    assert 'aria-invalid="true"' in again and 'id="reason-error"' in again and 'id="agree-error"' in again
    assert hidden_values(again, "form_token") == hidden_values(page, "form_token")  # not used: kept
    assert snapshot(app) == before
    # The agreement alone is not enough, nor the reason alone.
    assert resident.submit(page, reason="", agree=True).status_code == 422
    assert resident.submit(page, reason="理由", agree=False).status_code == 422
    assert snapshot(app) == before
    assert resident.submit(page, reason="理由", agree=True).status_code == 303


def test_a_reason_longer_than_200_characters_is_refused(resident, app):
    page = resident.confirm_page(FIRST)
    before = snapshot(app)
    response = resident.submit(page, reason="あ" * 201)
    assert response.status_code == 422
    assert "取消事由は200文字以内で入力してください。" in error_summary(text(response))
    assert snapshot(app) == before


@pytest.mark.parametrize(
    "overrides",
    [
        {"booking": []},
        {"booking": ["2026-000001"]},
        {"booking": ["2026-000001:abc"]},
        {"booking": ["2026-000001:99999999999"]},
        {"booking": ["2026-000001:1:100", "2026-000001:1:100"]},
        {"booking": ["2026-000001:1:101"]},
        {"booking": ["2026-000001:1:-5"]},
        {"form_token": ""},
        {"form_token": "short"},
        {"csrf_token": "forged"},
    ],
)
def test_a_forged_form_changes_nothing(resident, app, overrides):
    page = resident.confirm_page(FIRST)
    before = snapshot(app)
    response = resident.submit(page, **overrides)
    assert response.status_code == 400
    assert "正しく送信されませんでした" in error_summary(text(response))
    assert snapshot(app) == before


def test_done_is_only_for_the_residents_own_cancelled_bookings(resident, app):
    for numbers in ([FIRST], [CANCELLED, FIRST], [SOMEONE_ELSES]):
        response = resident.client.get("/cancel/done", query_string=[("number", n) for n in numbers])
        assert response.status_code == 404, numbers
    assert resident.client.get("/cancel/done", query_string={"number": CANCELLED}).status_code == 200


def test_every_step_needs_a_login(client):
    for path in (
        "/cancel/?number=2026-000001",
        "/cancel/confirm?number=2026-000001",
        "/cancel/done?number=2026-000008",
    ):
        response = client.get(path)
        assert response.status_code in (302, 303) and "/login" in response.headers["Location"]
    assert client.post("/cancel/confirm", data={}).status_code in (302, 303, 400)


# -- channels: cancelling moves no money, so it works everywhere -------------------------------------------


def test_reader_mode_cancels_and_explains_the_refund_is_settled_in_standard_mode(resident, app):
    paid_by_card(app, FIRST)
    resident.client.set_cookie("pref_presentation", "reader")
    page = resident.confirm_page(FIRST)
    assert 'class="presentation-reader' in page or "presentation-reader" in page
    response = resident.submit(page, reason="読み上げ", agree=True)
    assert response.status_code == 303
    done = text(resident.client.get(response.headers["Location"]))
    assert "※読み上げ用ブラウザモードからはクレジット決済は行えません。" in done
    assert "還付の手続きは、標準の表示に切り替えてから「クレジット決済画面」で行ってください。" in done
    assert booking(app, FIRST).state is ReservationState.CANCELLED


def test_a_kiosk_cancels_and_sends_the_refund_to_the_residents_own_phone(kiosk_app, app):
    paid_by_card(app, FIRST)
    client = kiosk_app.test_client()
    assert AuthActions(client).login().status_code == 303
    kiosk = Canceller(client)
    assert kiosk.start(FIRST).headers["Location"].startswith("/cancel/card-paid")
    page = kiosk.confirm_page(FIRST)
    response = kiosk.submit(page, reason="キオスクから", agree=True)
    assert response.status_code == 303
    done = text(client.get(response.headers["Location"]))
    assert "※施設にあるキオスク端末からはクレジット決済は行えません。" in done
    assert (
        "還付の手続きは、ご自身のスマートフォンやパソコンでログインし、マイメニューの「クレジット決済」から行ってください。"
        in done
    )
    assert booking(kiosk_app, FIRST).state is ReservationState.CANCELLED
    # Its クレジット決済画面 is the kiosk's refusal with the QR code for the resident's phone.
    assert client.get("/payment/").status_code == 403


def test_the_steps_render_in_english(resident, app):
    paid_by_card(app, FIRST)
    resident.client.set_cookie("pref_locale", "en")
    page = resident.confirm_page(FIRST)
    assert '<html lang="en"' in page
    assert "Fri 25 Dec 2026" in page and "¥700" in page
    response = resident.submit(page, reason="reason", agree=True)
    done = text(resident.client.get(response.headers["Location"]))
    assert response.status_code == 303 and "¥700" in done


# -- the operation refuses by itself, whatever the page checked -------------------------------------


@pytest.mark.parametrize(
    ("reason", "agreed", "stale", "raised"),
    [
        (None, True, False, errors.CancelReasonRequired),
        ("理由", False, False, "TermsNotAgreed"),
        ("理由", True, True, errors.StaleBooking),
    ],
)
def test_cancel_reservations_is_all_or_nothing(app, reason, agreed, stale, raised):
    from blueprints.cancel import operations

    paid_by_card(app, FIRST)
    before = snapshot(app)
    versions = {FIRST: booking(app, FIRST).version - (1 if stale else 0), SECOND: booking(app, SECOND).version}
    expected = getattr(errors, raised) if isinstance(raised, str) else raised
    with pytest.raises(expected), db(app).write() as s:
        meguro = s.scalar(select(Resident.id).where(Resident.registration_number == "00040675"))
        operations.cancel_reservations(s, resident_id=meguro, versions=versions, reason=reason, agreed=agreed, now=NOW)
    assert snapshot(app) == before
