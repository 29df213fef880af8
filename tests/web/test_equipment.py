"""備品（付帯品）予約 (guide ch. 5 §(2), DESIGN rule 10) through the test client: the 備品
cell of 予約内容の確認・取消, the card-paid equipment message, 備品（付帯品）予約 as a page and
its totals as an htmx fragment, 再計算, 確認, 予約 and 完了 with the message that follows
the money, the stock counted across overlapping bookings, every bad input, and the
settlement end to end against the served stand-in card company (the guide's worked
example: 700円 + a 500円 projector → void 700, charge 1,200; removed → void 1,200, charge 700).

Demo resident 00040675 (目黒団体) holds, from the frozen today (2026-11-25), 仮予約
2026-000001 and 2026-000002 (区民センター社会教育館 702, 700円, 2026/12/25 9:00~12:00 and
12:30~15:00), 当選 2026-000006 (701, 2027/1/14), and bookings at 駒場住区センター, which lends
nothing online; 00050001 (目黒スポーツクラブ) holds a sports booking 2026-000012."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone
from html import unescape
from urllib.parse import urlencode

import pytest
from sqlalchemy import func, select

from blueprints.apply.operations import RoomAnswers, apply_for_slots
from bookings.slots import SlotRef
from models.account import Resident
from models.equipment import ReservationEquipment
from models.facility import EquipmentItem, Facility, Room
from models.payment import CardCharge, ChargeStatus, Settlement, SettlementStatus, VoidStatus
from models.reservation import CounterPayment, Reservation
from models.reservation_rules import CancelKind, ReservationState
from tests.conftest import DAYS_AHEAD, FROZEN_NOW, HTMX_HEADERS, AuthActions
from tests.pages import main_of, text, words
from tests.web.test_payment import UNREACHABLE, Payer, charges_of, mails, rows_of

FIRST = "2026-000001"  # 仮予約 702, 700円, 2026/12/25(金) 9:00~12:00
SECOND = "2026-000002"  # 仮予約 702, 700円, 2026/12/25(金) 12:30~15:00
WON = "2026-000006"  # 当選 701, 900円, 2027/1/14 15:30~18:00
KOMABA = "2026-000003"  # 仮予約 at 駒場住区センター: no equipment online
CANCELLED = "2026-000008"  # 取消済 at 駒場住区センター
SOMEONE_ELSES = "2026-000010"  # 駒場サークル's 仮予約 702, 2026/12/3 15:30~18:00
SPORTS = "2026-000012"  # 目黒スポーツクラブ's 仮予約 at the gymnasium
LIST = "/mymenu/reservations"
JST = timezone(timedelta(hours=9))


# -- reading pages ---------------------------------------------------------------------------


def form_fields(html: str, action: str) -> list[tuple[str, str]]:
    """The named inputs of the form posting to `action` (hidden and text), in order."""
    start = html.index(f'action="{action}"')
    form = html[start : html.index("</form>", start)]
    fields = []
    for tag in re.findall(r"<input[^>]*>", form):
        name = re.search(r'name="([^"]+)"', tag)
        value = re.search(r'value="([^"]*)"', tag)
        if name:
            fields.append((name.group(1), unescape(value.group(1)) if value else ""))
    return fields


def input_value(html: str, name: str) -> str:
    tag = re.search(rf'<input[^>]*name="{name}"[^>]*>', html).group(0)
    return unescape(re.search(r'value="([^"]*)"', tag).group(1))


def selected(html: str, name: str) -> str:
    select_html = re.search(rf'<select[^>]*name="{name}"[^>]*>(.*?)</select>', html, re.S).group(1)
    return re.search(r'<option selected value="([^"]+)"|<option value="([^"]+)" selected', select_html).group(1) or ""


def item_rows(html: str) -> dict[str, list[str]]:
    """備品（付帯品）予約's rows by item name: [料金, 予約数 (the n / free part), 小計]."""
    body = re.search(r'<table class="equipment-table">.*?<tbody>(.*?)</tbody>', html, re.S).group(1)
    rows = {}
    for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S):
        cells = re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)
        name = (
            words(re.search(r"<label[^>]*>(.*?)</label>", cells[0], re.S).group(1))
            if "<label" in cells[0]
            else words(cells[0])
        )
        rows[name] = [words(cell) for cell in cells[1:]]
    return rows


def error_messages(html: str) -> list[str]:
    summary = re.search(r'<div class="error-summary".*?</ul>', html, re.S)
    return [words(item) for item in re.findall(r"<li>(.*?)</li>", summary.group(0), re.S)] if summary else []


def list_row(html: str, number: str) -> str:
    """A booking's row in 予約内容の確認・取消."""
    return next(r for r in re.findall(r"<tr>(.*?)</tr>", html, re.S) if f">{number}<" in r)


def list_cell(html: str, number: str) -> str:
    """The 備品 cell of a booking's row in 予約内容の確認・取消."""
    return re.search(r'<td class="equipment-cell[^"]*"[^>]*>(.*?)</td>', list_row(html, number), re.S).group(1)


# -- the database ------------------------------------------------------------------------------


def db(app):
    return app.extensions["database"]


def booking(app, number: str) -> Reservation:
    with db(app).read_session() as s:
        r = s.scalar(select(Reservation).where(Reservation.number == number))
        _ = [(line.item, line.quantity) for line in r.equipment_lines], r.card_charges, r.counter_payments
        s.expunge_all()
        return r


def lines_of(app, number: str) -> dict[str, tuple[int, str, str]]:
    """The booking's equipment as {item: (quantity, lending start, end)}."""
    r = booking(app, number)
    return {
        line.item.name_ja: (line.quantity, f"{line.lend_starts_at:%H:%M}", f"{line.lend_ends_at:%H:%M}")
        for line in r.equipment_lines
    }


def item_ids(app) -> dict[str, int]:
    with db(app).read_session() as s:
        return dict(s.execute(select(EquipmentItem.name_ja, EquipmentItem.id)).all())


def count(app, model) -> int:
    with db(app).read_session() as s:
        return s.scalar(select(func.count()).select_from(model))


def hold_card_charge(app, number: str, amount_yen: int) -> None:
    """What a completed card settlement leaves: a captured, live charge (the end-to-end
    tests below pay through the stand-in card company instead)."""
    moment = datetime.fromisoformat(FROZEN_NOW)
    with db(app).write() as s:
        r = s.scalar(select(Reservation).where(Reservation.number == number))
        settlement = Settlement(
            reservation_id=r.id,
            resident_id=r.resident_id,
            reservation_version=r.version,
            charge_yen=amount_yen,
            status=SettlementStatus.COMPLETED,
            created_at=moment,
            completed_at=moment,
        )
        s.add(settlement)
        s.flush()
        s.add(
            CardCharge(
                reservation_id=r.id,
                settlement_id=settlement.id,
                receipt_number=f"0392026112599{r.id:03d}",
                amount_yen=amount_yen,
                status=ChargeStatus.CAPTURED,
                created_at=moment,
                captured_at=moment,
            )
        )
        r.state = ReservationState.CONFIRMED
        r.version += 1


def set_lines(app, number: str, items: dict[str, int], starts="09:00", ends="12:00") -> None:
    """Equipment put on a booking directly (as another tab or resident would have)."""
    ids = item_ids(app)
    with db(app).write() as s:
        r = s.scalar(select(Reservation).where(Reservation.number == number))
        for name, quantity in items.items():
            item = s.get(EquipmentItem, ids[name])
            r.equipment_lines.append(
                ReservationEquipment(
                    item_id=item.id,
                    quantity=quantity,
                    price_yen=item.price_yen,
                    lend_starts_at=datetime.strptime(starts, "%H:%M").time(),
                    lend_ends_at=datetime.strptime(ends, "%H:%M").time(),
                )
            )
            r.equipment_fee_yen += item.price_yen * quantity
        r.version += 1


def book_701_at_the_same_time(app, resident_number="00040676") -> str:
    """Another group's booking of 701 in the same building at FIRST's date and time."""
    with db(app).write() as s:
        resident = s.scalar(select(Resident).where(Resident.registration_number == resident_number))
        room = s.scalar(select(Room).join(Facility).where(Facility.code == "039", Room.name_ja == "701【旧第1研修室】"))
        application = apply_for_slots(
            s,
            resident_id=resident.id,
            slots=[SlotRef(room.id, date(2026, 12, 25), room.time_bands[0].id)],
            answers={room.id: RoomAnswers(room.purposes[0].id, 10, False)},
            group_class_id=resident.group_classes[0].group_class_id,
            now=datetime.fromisoformat(FROZEN_NOW),
            days_ahead=DAYS_AHEAD,
        )
        return application.reservations[0].number


# -- a resident's browser -----------------------------------------------------------------------


class EquipmentBrowser:
    """One logged-in browser going through the equipment screens like a person would."""

    def __init__(self, client, number="40675", kind="assembly", *, log_in=True):
        self.client = client
        if log_in:
            assert AuthActions(client).login(number=number, kind=kind).status_code == 303

    def get(self, url, **kwargs):
        return self.client.get(url, **kwargs)

    def edit(self, number=FIRST, **query):
        return self.client.get(f"/equipment/{number}" + (f"?{urlencode(query)}" if query else ""))

    def form_query(self, number=FIRST, page: str | None = None, **changes) -> dict[str, str]:
        """The GET form of 備品（付帯品）予約 as shown, with some fields changed."""
        page = page or text(self.edit(number))
        fields = dict(form_fields(page, f"/equipment/{number}"))
        fields["lend_start"] = selected(page, "lend_start")
        fields["lend_end"] = selected(page, "lend_end")
        fields.update({k: str(v) for k, v in changes.items()})
        return fields

    def confirm(self, number=FIRST, **changes):
        query = self.form_query(number, **changes)
        return self.client.get(f"/equipment/{number}/confirm?{urlencode(query)}")

    def confirm_blind(self, number=FIRST, version=1, **changes):
        """確認 asked for without reading the form first (a page kept open, or typed)."""
        query = {"version": version, "lend_start": "09:00", "lend_end": "12:00", **changes}
        return self.client.get(f"/equipment/{number}/confirm?{urlencode(query)}")

    def reserve(self, number=FIRST, confirm_page: str | None = None, **overrides):
        """予約 on 確認 with the fields the page carries."""
        if confirm_page is None:
            response = self.confirm(number)
            assert response.status_code == 200, words(text(response))[:500]
            confirm_page = text(response)
        data = dict(form_fields(confirm_page, f"/equipment/{number}"))
        data.update({k: str(v) for k, v in overrides.items()})
        return self.client.post(f"/equipment/{number}", data=data)

    def change(self, number=FIRST, **changes):
        """The whole way: 備品（付帯品）予約 → 確認 → 予約; returns the 完了 page."""
        response = self.confirm(number, **changes)
        assert response.status_code == 200, words(text(response))[:500]
        done = self.reserve(number, text(response))
        assert done.status_code == 303, words(text(done))[:500]
        return self.client.get(done.headers["Location"])


@pytest.fixture
def resident(client):
    return EquipmentBrowser(client)


@pytest.fixture
def ids(app):
    return {name: f"item_{i}" for name, i in item_ids(app).items()}


# -- the 備品 cell of 予約内容の確認・取消 ---------------------------------------------------------


def test_the_list_offers_equipment_where_the_facility_lends_it_and_says_why_not_elsewhere(resident, app):
    for response in (resident.get(LIST), resident.get(LIST, headers=HTMX_HEADERS)):
        page = text(response)
        assert response.status_code == 200
        assert '<th scope="col">備品</th>' in page
        for number in (FIRST, SECOND, WON):
            cell = list_cell(page, number)
            assert f'href="/equipment/{number}"' in cell
            assert words(cell) == f"備品 予約番号 {number}"
        assert words(list_cell(page, KOMABA)) == "予約できる備品はありません"
        assert words(list_cell(page, CANCELLED)) == "取消済のため変更できません"
    # The guide's order of columns (L329): … 詳細 備品 取消.
    heads = re.findall(r'<th scope="col"[^>]*>(.*?)</th>', text(resident.get(LIST)))
    assert heads.index("詳細") + 1 == heads.index("備品") == heads.index("取消") - 1


def test_a_sports_booking_says_equipment_is_arranged_at_the_counter(client):
    sports = EquipmentBrowser(client, number="50001", kind="sports")
    page = text(sports.get(LIST))
    assert words(list_cell(page, SPORTS)) == "施設窓口にてお申込ください"
    assert (
        "スポーツ施設の場合は備品(付帯設備)の事前受付は行っていません。利用手続きを行う際に施設の窓口でお申込みください。"
        in page
    )
    response = sports.edit(SPORTS)
    assert response.status_code == 409
    assert error_messages(text(response)) == [
        "スポーツの場合、システム上、備品の予約・変更は行えません。施設窓口にてお申込ください。"
    ]
    assert "詳しくは、区民センター体育館（03-3711-1136）までお問い合わせください。" in text(response)


def test_a_counter_paid_booking_says_to_call_the_facility(resident, app):
    with db(app).write() as s:
        r = s.scalar(select(Reservation).where(Reservation.number == FIRST))
        r.counter_payments.append(
            CounterPayment(
                amount_yen=700, paid_at=datetime.fromisoformat(FROZEN_NOW), receipt_number="0392026112500099"
            )
        )
        r.state = ReservationState.CONFIRMED
        r.version += 1
    assert words(list_cell(text(resident.get(LIST)), FIRST)) == "窓口でのお支払いがあるため、利用施設へご連絡ください"
    for response in (
        resident.edit(),
        resident.confirm_blind(version=2, item_1=1),
        resident.get(f"/equipment/{FIRST}/notice"),
    ):
        assert response.status_code == 409
        page = text(response)
        assert error_messages(page) == [
            "窓口でのお支払いがある予約は、オンラインでの決済・変更・取消はできません。利用施設までご連絡ください。"
        ]
        assert "詳しくは、区民センター社会教育館（03-3711-1134）までお問い合わせください。" in page
        assert 'href="/mymenu/reservations"' in main_of(page)


def test_the_detail_page_lists_the_equipment_and_offers_the_change(resident, app):
    set_lines(app, FIRST, {"プロジェクター": 2, "譜面台": 3}, "10:00", "11:30")
    page = text(resident.get(f"/mymenu/reservations/{FIRST}"))
    text_ = words(main_of(page))
    assert "施設使用料 700円 備品使用料 1,000円 合計 1,700円" in text_
    assert "プロジェクター 500円 2台 1,000円 10:00~11:30" in text_
    assert "譜面台 0円 3台 0円 10:00~11:30" in text_
    assert f'href="/equipment/{FIRST}">備品予約/変更</a>' in page
    assert "1,700円" in words(list_row(text(resident.get(LIST)), FIRST))


# -- 備品（付帯品）予約 -----------------------------------------------------------------------------


def test_the_equipment_page_shows_the_guides_screen(resident, ids):
    response = resident.edit()
    page = text(response)
    assert response.status_code == 200
    assert "<title>備品（付帯品）予約 | 目黒区施設予約システム</title>" in page
    assert "<h1>備品（付帯品）予約</h1>" in page
    assert "施設に付随する備品（付帯品）の予約を行います。" in page
    assert "予約したい備品の数量を入力して、「次へ進む」ボタンを押してください。" in page
    assert "利用開始と利用終了の時間を選択して、備品の貸出時間を変更することができます。" in page
    assert "施設 利用日 時間帯 区民センター社会教育館 702【旧第2研修室】 2026/12/25(金) 9:00~12:00" in words(page)
    assert "合計 0円" in words(page)
    rows = item_rows(page)
    assert list(rows)[:2] == ["プロジェクター", "DVDモニターセット"] and len(rows) == 12
    assert rows["プロジェクター"] == ["500円", "/ 9台", "0円"]
    assert rows["DVDモニターセット"] == ["800円", "/ 1台", "0円"]
    assert rows["姿見"] == ["0円", "/ 2枚", "0円"] and rows["囲碁用具"] == ["0円", "/ 13式", "0円"]
    assert "※接続ケーブルは各施設にお問い合わせください" in page
    # Each quantity has its visible label (the item's name) and says what is free.
    assert f'<label for="{ids["プロジェクター"]}">プロジェクター</label>' in page
    tag = re.search(rf'<input[^>]*name="{ids["プロジェクター"]}"[^>]*>', page).group(0)
    assert 'inputmode="numeric"' in tag and 'value="0"' in tag
    assert f'aria-describedby="stock-{ids["プロジェクター"][5:]} {ids["プロジェクター"]}-note"' in tag
    # The lending time: the slot in half hours, the whole slot by default.
    assert selected(page, "lend_start") == "09:00" and selected(page, "lend_end") == "12:00"
    assert re.findall(
        r'<option[^>]*value="([^"]+)"', re.search(r'<select[^>]*name="lend_start".*?</select>', page, re.S).group(0)
    ) == ["09:00", "09:30", "10:00", "10:30", "11:00", "11:30", "12:00"]
    assert input_value(page, "version") == "1"
    # 再計算 (the form's own action), 次へ進む (to 確認), 前に戻る (the list).
    assert f'<form method="get" action="/equipment/{FIRST}"' in page
    assert f'data-hx-get="/equipment/{FIRST}" data-hx-trigger="change" data-hx-target="#equipment-totals"' in page
    assert '<button type="submit" class="button secondary">再計算</button>' in page
    assert f'formaction="/equipment/{FIRST}/confirm">次へ進む</button>' in page
    assert 'href="/mymenu/reservations">前に戻る</a>' in page
    assert "HX-Request" in response.headers["Vary"]


def test_the_page_starts_from_the_bookings_own_equipment(resident, app, ids):
    set_lines(app, FIRST, {"プロジェクター": 1}, "09:30", "11:00")
    page = text(resident.edit())
    assert input_value(page, ids["プロジェクター"]) == "1" and input_value(page, ids["DVDモニターセット"]) == "0"
    assert (selected(page, "lend_start"), selected(page, "lend_end")) == ("09:30", "11:00")
    assert "合計 500円" in words(page) and item_rows(page)["プロジェクター"][2] == "500円"
    assert input_value(page, "version") == "2"


def test_recalculate_without_javascript_shows_the_new_totals(resident, ids):
    query = resident.form_query(**{ids["プロジェクター"]: 2, ids["DVDモニターセット"]: "１"})  # full-width 1 counts
    response = resident.edit(**query)
    page = text(response)
    assert response.status_code == 200
    assert "合計 1,800円" in words(page)
    assert item_rows(page)["プロジェクター"] == ["500円", "/ 9台", "1,000円"]
    assert item_rows(page)["DVDモニターセット"][2] == "800円"
    assert input_value(page, ids["プロジェクター"]) == "2"
    # An address typed without the version: the booking as it stands is the one shown.
    page = text(resident.edit(**{ids["プロジェクター"]: 1}))
    assert "合計 500円" in words(page) and input_value(page, "version") == "1"


def test_the_totals_follow_the_quantities_as_an_htmx_fragment(resident, ids):
    query = resident.form_query(**{ids["プロジェクター"]: 1, ids["DVDモニターセット"]: 1})
    response = resident.client.get(f"/equipment/{FIRST}?{urlencode(query)}", headers=HTMX_HEADERS)
    fragment = text(response)
    assert response.status_code == 200
    assert "HX-Request" in response.headers["Vary"]
    assert "<html" not in fragment and "<main" not in fragment and "<form" not in fragment
    assert fragment.startswith("<title>備品（付帯品）予約 | 目黒区施設予約システム</title>")
    totals = re.search(r'<div id="equipment-totals".*?</div>', fragment, re.S).group(0)
    assert "data-keep-focus" in totals and 'data-announce="合計 1,300円"' in totals
    assert words(totals) == "合計 1,300円"
    # The subtotals and what is free, out of band.
    project = ids["プロジェクター"][5:]
    assert f'<span id="subtotal-{project}" data-hx-swap-oob="true">500円</span>' in fragment
    assert f'<span id="stock-{project}" class="stock" data-hx-swap-oob="true">/ 9台</span>' in fragment
    assert fragment.count('data-hx-swap-oob="true"') == 24


def test_the_htmx_fragment_reports_a_bad_quantity_without_moving_on(resident, ids):
    query = resident.form_query(**{ids["プロジェクター"]: "abc", ids["DVDモニターセット"]: 1})
    response = resident.client.get(f"/equipment/{FIRST}?{urlencode(query)}", headers=HTMX_HEADERS)
    fragment = text(response)
    assert response.status_code == 422
    assert fragment.startswith("<title>エラー: 備品（付帯品）予約")
    assert error_messages(fragment) == ["プロジェクターの予約数は、0以上の数字で入力してください。"]
    assert f'<a href="#{ids["プロジェクター"]}">' in fragment
    assert 'role="alert"' in fragment and "data-announce" not in fragment
    assert "合計 800円" in words(fragment)


def test_a_history_restore_gets_the_whole_page(resident):
    response = resident.client.get(
        f"/equipment/{FIRST}", headers={**HTMX_HEADERS, "HX-History-Restore-Request": "true"}
    )
    assert "<h1>備品（付帯品）予約</h1>" in text(response)


def test_what_is_free_counts_other_bookings_whose_lending_overlaps(resident, app, ids):
    other = book_701_at_the_same_time(app)
    set_lines(app, other, {"DVDモニターセット": 1, "プロジェクター": 3}, "09:00", "10:30")
    rows = item_rows(text(resident.edit()))
    assert rows["DVDモニターセット"][1] == "/ 0台 （全1台）"
    assert rows["プロジェクター"][1] == "/ 6台 （全9台）"
    # From 10:30 (touching, not overlapping) everything is free again.
    rows = item_rows(text(resident.edit(**resident.form_query(lend_start="10:30", lend_end="12:00"))))
    assert rows["DVDモニターセット"][1] == "/ 1台" and rows["プロジェクター"][1] == "/ 9台"
    # Another day's or another slot's bookings take nothing from this one.
    assert item_rows(text(resident.edit(SECOND)))["DVDモニターセット"][1] == "/ 1台"
    # Taking the DVD set anyway is refused with what is free.
    response = resident.confirm(**{ids["DVDモニターセット"]: 1})
    assert response.status_code == 422
    assert error_messages(text(response)) == [
        "DVDモニターセットの予約数は、貸出できる数（0台）以下で入力してください。"
    ]
    # A cancelled booking's equipment is free again.
    with db(app).write() as s:
        r = s.scalar(select(Reservation).where(Reservation.number == other))
        r.state, r.cancel_kind, r.cancelled_at = (
            ReservationState.CANCELLED,
            CancelKind.RESIDENT,
            datetime.fromisoformat(FROZEN_NOW),
        )
    assert item_rows(text(resident.edit()))["DVDモニターセット"][1] == "/ 1台"


# -- 確認, 予約, 完了 -------------------------------------------------------------------------------


def test_confirm_shows_only_the_items_with_a_quantity_and_posts_them_once(resident, app, ids):
    response = resident.confirm(
        **{ids["プロジェクター"]: 1, ids["譜面台"]: 2, "lend_start": "09:30", "lend_end": "11:00"}
    )
    page = text(response)
    assert response.status_code == 200
    assert "<h1>備品（付帯品）予約確認</h1>" in page
    assert "予約内容を確認して、よろしければ「予約」ボタンを押してください。" in page
    assert "合計 500円" in words(page)
    body = words(re.search(r"<tbody>(.*?)</tbody>", page.split('id="equipment-chosen-caption"')[1], re.S).group(1))
    assert body == "プロジェクター 500円 1台 500円 譜面台 0円 2台 0円"
    assert "備品の貸出時間 9:30~11:00" in words(page)
    assert "施設使用料 700円 備品使用料 500円 使用料 1,200円" in words(page)
    fields = dict(form_fields(page, f"/equipment/{FIRST}"))
    assert fields["csrf_token"] and len(fields["form_token"]) >= 20
    assert (fields[ids["プロジェクター"]], fields[ids["譜面台"]], fields[ids["DVDモニターセット"]]) == ("1", "2", "0")
    assert (fields["lend_start"], fields["lend_end"], fields["version"]) == ("09:30", "11:00", "1")
    assert '<button type="submit" class="button">予約</button>' in page
    # 前に戻る returns to the form as it was filled in.
    back = unescape(re.search(r'<a class="button secondary" href="([^"]+)">前に戻る</a>', page).group(1))
    again = text(resident.get(back))
    assert input_value(again, ids["プロジェクター"]) == "1" and selected(again, "lend_start") == "09:30"

    done = resident.reserve(confirm_page=page)
    assert done.status_code == 303 and done.headers["Location"] == f"/equipment/{FIRST}/done"
    assert lines_of(app, FIRST) == {"プロジェクター": (1, "09:30", "11:00"), "譜面台": (2, "09:30", "11:00")}
    r = booking(app, FIRST)
    assert (r.equipment_fee_yen, r.total_fee_yen, r.version) == (500, 1200, 2)


def test_completion_of_an_unpaid_booking_says_it_can_be_paid_by_card(resident, app, ids):
    page = text(resident.change(**{ids["プロジェクター"]: 1}))
    assert "<h1>備品（付帯品）予約の完了</h1>" in page
    assert (
        "備品（付帯品）予約を完了しました。 クレジット決済にてお支払いが可能です。 クレジット決済する場合は、一覧に戻り、クレジット決済メニューからお手続きを行ってください。"
        in words(page)
    )
    assert '<a class="button" href="/mymenu/reservations">一覧に戻る</a>' in page
    assert "1,200円" in words(list_row(text(resident.get(LIST)), FIRST))


def test_the_completion_message_follows_the_money(resident, app, ids):
    hold_card_charge(app, FIRST, 700)  # 本予約 支払済 700円
    # A free item: what is held is what is due.
    page = text(resident.change(**{ids["CDラジカセ"]: 1}))
    assert "備品（付帯品）予約を完了しました。" in page
    assert "クレジット決済にてお支払いが可能です。" not in page and "還付が発生しているため" not in page
    # A projector: more is due than is held.
    page = text(resident.change(**{ids["プロジェクター"]: 1}))
    assert "クレジット決済にてお支払いが可能です。" in page
    assert "本予約 一部支払済" in words(list_row(text(resident.get(LIST)), FIRST))


def test_removing_paid_equipment_says_a_refund_needs_a_card_settlement(resident, app, ids):
    set_lines(app, FIRST, {"プロジェクター": 1})
    hold_card_charge(app, FIRST, 1200)  # paid with the projector
    listing = text(resident.get(LIST))
    assert f'href="/equipment/{FIRST}/notice"' in list_cell(listing, FIRST)
    notice = resident.get(f"/equipment/{FIRST}/notice")
    page = text(notice)
    assert notice.status_code == 200
    assert "<h1>メッセージ</h1>" in page
    assert "対象の予約はクレジットにてお支払済の備品(付帯品)が含まれています。" in page
    assert f'<a class="button" href="/equipment/{FIRST}">はい</a>' in page

    page = text(resident.change(**{ids["プロジェクター"]: 0}))
    assert (
        "備品（付帯品）予約を完了しました。 還付が発生しているため、再度クレジット決済を行う必要があります。 一覧に戻り、クレジット決済メニューからクレジット決済を行ってください。"
        in words(page)
    )
    assert lines_of(app, FIRST) == {}
    assert booking(app, FIRST).equipment_fee_yen == 0


def test_the_notice_is_skipped_when_no_equipment_was_paid_by_card(resident, app):
    hold_card_charge(app, FIRST, 700)
    assert f'href="/equipment/{FIRST}"' in list_cell(text(resident.get(LIST)), FIRST)
    response = resident.get(f"/equipment/{FIRST}/notice")
    assert response.status_code == 303 and response.headers["Location"] == f"/equipment/{FIRST}"


def test_sending_the_same_equipment_again_changes_nothing(resident, app, ids):
    resident.change(**{ids["プロジェクター"]: 1})
    version = booking(app, FIRST).version
    page = text(resident.change())  # the form as it stands
    assert "備品（付帯品）予約を完了しました。" in page
    assert booking(app, FIRST).version == version


def test_a_won_booking_can_take_equipment_too(resident, app, ids):
    resident.change(WON, **{ids["マイクセット"]: 1})
    assert lines_of(app, WON) == {"マイクセット": (1, "15:30", "18:00")}


# -- bad input ---------------------------------------------------------------------------------------

BAD_QUANTITIES = [
    ("-1", "プロジェクターの予約数は、0以上の数字で入力してください。"),
    ("abc", "プロジェクターの予約数は、0以上の数字で入力してください。"),
    ("1.5", "プロジェクターの予約数は、0以上の数字で入力してください。"),
    ("10", "プロジェクターの予約数は、貸出できる数（9台）以下で入力してください。"),
    ("99999999999999999999", "プロジェクターの予約数は、貸出できる数（9台）以下で入力してください。"),
]


@pytest.mark.parametrize(("quantity", "message"), BAD_QUANTITIES)
def test_a_bad_quantity_is_refused_in_words_and_nothing_changes(resident, app, ids, quantity, message):
    field = ids["プロジェクター"]
    for response in (resident.edit(**resident.form_query(**{field: quantity})), resident.confirm(**{field: quantity})):
        page = text(response)
        assert response.status_code == 422
        assert page.count('class="error-summary"') == 1
        assert error_messages(page) == [message]
        assert f'<a href="#{field}">' in page
        assert re.search(
            rf'<input[^>]*aria-invalid="true"[^>]*name="{field}"|<input[^>]*name="{field}"[^>]*aria-invalid="true"',
            page,
        )
        assert "<title>エラー: 備品（付帯品）予約" in page
        assert input_value(page, field) == quantity  # as typed, to be corrected
    # A forged 予約 with the same quantity.
    page = text(resident.confirm())
    response = resident.reserve(confirm_page=page, **{field: quantity})
    assert response.status_code in (409, 422)
    assert message in error_messages(text(response))
    assert lines_of(app, FIRST) == {} and booking(app, FIRST).version == 1


def test_more_than_the_only_unit_is_refused(resident, app, ids):
    response = resident.confirm(**{ids["DVDモニターセット"]: 2})
    assert error_messages(text(response)) == [
        "DVDモニターセットの予約数は、貸出できる数（1台）以下で入力してください。"
    ]


@pytest.mark.parametrize(
    ("start", "end", "message", "field"),
    [
        ("08:00", "12:00", "利用開始と利用終了は、時間帯 9:00~12:00 の中から選択してください。", "lend_start"),
        ("09:00", "12:30", "利用開始と利用終了は、時間帯 9:00~12:00 の中から選択してください。", "lend_end"),
        ("09:15", "12:00", "利用開始と利用終了は、時間帯 9:00~12:00 の中から選択してください。", "lend_start"),
        ("25:99", "x", "利用開始と利用終了は、時間帯 9:00~12:00 の中から選択してください。", "lend_start"),
        ("11:00", "10:00", "利用終了は、利用開始より後の時刻を選択してください。", "lend_end"),
        ("10:00", "10:00", "利用終了は、利用開始より後の時刻を選択してください。", "lend_end"),
    ],
)
def test_a_lending_time_outside_the_slot_or_reversed_is_refused(resident, app, ids, start, end, message, field):
    response = resident.confirm(**{ids["プロジェクター"]: 1, "lend_start": start, "lend_end": end})
    page = text(response)
    assert response.status_code == 422
    assert message in error_messages(page)
    assert f'<a href="#{field}">' in page
    confirm_page = text(resident.confirm(**{ids["プロジェクター"]: 1}))
    forged = resident.reserve(confirm_page=confirm_page, lend_start=start, lend_end=end)
    assert forged.status_code == 422 and message in error_messages(text(forged))
    assert lines_of(app, FIRST) == {}


def test_another_residents_booking_is_not_found_and_stays_as_it_was(resident, app, ids):
    for url in (
        f"/equipment/{SOMEONE_ELSES}",
        f"/equipment/{SOMEONE_ELSES}/confirm?{ids['プロジェクター']}=1&version=1",
        f"/equipment/{SOMEONE_ELSES}/notice",
        f"/equipment/{SOMEONE_ELSES}/done",
        "/equipment/nope",
        "/equipment/0000-000000",
    ):
        response = resident.get(url)
        assert response.status_code == 404, url
        assert error_messages(text(response)) == [
            "指定された予約は見つかりません。予約内容の確認・取消の一覧から、もう一度選択してください。"
        ]
        assert "区民センター社会教育館" not in main_of(text(response))
    page = text(resident.confirm(**{ids["プロジェクター"]: 1}))
    data = dict(form_fields(page, f"/equipment/{FIRST}"))
    response = resident.client.post(f"/equipment/{SOMEONE_ELSES}", data=data)
    assert response.status_code == 404
    assert lines_of(app, SOMEONE_ELSES) == {} and booking(app, SOMEONE_ELSES).version == 1


def test_nothing_can_change_once_the_slot_has_started(resident, app, ids):
    page = text(resident.confirm(**{ids["プロジェクター"]: 1}))
    app.config["FROZEN_NOW"] = datetime(2026, 12, 25, 9, 0, tzinfo=JST).isoformat()
    for response in (resident.edit(), resident.reserve(confirm_page=page)):
        assert response.status_code == 409
        assert error_messages(text(response)) == [
            "利用開始時刻を過ぎたため、この予約の備品（付帯品）は変更できません。"
        ]
    assert lines_of(app, FIRST) == {}
    listing = text(resident.get(LIST + "?date_from=2026-12-25"))
    assert words(list_cell(listing, FIRST)) == "利用開始時刻を過ぎたため変更できません"
    # The completion stays readable once the slot has started (a reload).
    assert resident.get(f"/equipment/{FIRST}/done").status_code == 200
    # A second earlier it was still open.
    app.config["FROZEN_NOW"] = datetime(2026, 12, 25, 8, 59, 59, tzinfo=JST).isoformat()
    assert resident.edit().status_code == 200


def test_a_cancelled_booking_cannot_change(resident, app, ids):
    with db(app).write() as s:
        r = s.scalar(select(Reservation).where(Reservation.number == FIRST))
        r.state, r.cancel_kind, r.cancelled_at, r.cancellation_fee_yen = (
            ReservationState.CANCELLED,
            CancelKind.RESIDENT,
            datetime.fromisoformat(FROZEN_NOW),
            0,
        )
        r.version += 1
    for response in (resident.edit(), resident.confirm_blind(version=2, **{ids["プロジェクター"]: 1})):
        assert response.status_code == 409
        assert error_messages(text(response)) == ["取消済の予約の備品（付帯品）は変更できません。"]
    assert words(list_cell(text(resident.get(LIST)), FIRST)) == "取消済のため変更できません"
    # Nor does it show a completion of its own.
    assert resident.get(f"/equipment/{FIRST}/done").status_code == 409
    assert resident.get(f"/equipment/{KOMABA}/done").status_code == 409


def test_a_double_submit_changes_once_and_shows_the_first_result(resident, app, ids):
    page = text(resident.confirm(**{ids["プロジェクター"]: 1}))
    first = resident.reserve(confirm_page=page)
    second = resident.reserve(confirm_page=page)
    assert first.status_code == second.status_code == 303
    assert first.headers["Location"] == second.headers["Location"] == f"/equipment/{FIRST}/done"
    r = booking(app, FIRST)
    assert (r.version, r.equipment_fee_yen) == (2, 500)
    assert count(app, ReservationEquipment) == 1


def test_a_stale_page_after_a_change_in_another_tab_is_refused_with_the_fresh_page(resident, app, ids):
    old_confirm = text(resident.confirm(**{ids["プロジェクター"]: 1}))
    old_form = resident.form_query(**{ids["プロジェクター"]: 2})
    resident.change(**{ids["DVDモニターセット"]: 1})  # the other tab
    assert booking(app, FIRST).version == 2
    stale_message = "予約の内容が変更されています。最新の内容を確認して、もう一度操作してください。"

    response = resident.reserve(confirm_page=old_confirm)
    page = text(response)
    assert response.status_code == 409
    assert error_messages(page) == [stale_message]
    assert "<h1>備品（付帯品）予約</h1>" in page
    # The fresh page: the booking as it is now, with its new version.
    assert input_value(page, ids["DVDモニターセット"]) == "1" and input_value(page, ids["プロジェクター"]) == "0"
    assert input_value(page, "version") == "2"
    assert lines_of(app, FIRST) == {"DVDモニターセット": (1, "09:00", "12:00")}

    for response in (
        resident.client.get(f"/equipment/{FIRST}/confirm?{urlencode(old_form)}"),
        resident.edit(**old_form),
    ):
        assert response.status_code == 409
        assert error_messages(text(response)) == [stale_message]
        assert input_value(text(response), "version") == "2"
    junk = dict(old_form, version="abc")
    assert resident.client.get(f"/equipment/{FIRST}/confirm?{urlencode(junk)}").status_code == 409


def test_a_malformed_token_or_missing_csrf_changes_nothing(resident, app, ids):
    page = text(resident.confirm(**{ids["プロジェクター"]: 1}))
    response = resident.reserve(confirm_page=page, form_token="short")
    assert response.status_code == 400
    assert error_messages(text(response)) == [
        "画面の情報が正しく送信されませんでした。内容を確認して、もう一度「予約」を押してください。"
    ]
    assert "<h1>備品（付帯品）予約確認</h1>" in text(response)
    data = dict(form_fields(page, f"/equipment/{FIRST}"))
    del data["csrf_token"]
    assert resident.client.post(f"/equipment/{FIRST}", data=data).status_code == 400
    assert resident.reserve(confirm_page=page, version="").status_code == 422
    assert lines_of(app, FIRST) == {} and booking(app, FIRST).version == 1


def test_forged_item_fields_are_ignored(resident, app, ids):
    page = text(resident.confirm(**{ids["プロジェクター"]: 1}))
    response = resident.reserve(confirm_page=page, item_999999="5", **{"item_-1": "2"})
    assert response.status_code == 303
    assert lines_of(app, FIRST) == {"プロジェクター": (1, "09:00", "12:00")}


def test_junk_in_the_query_is_never_a_server_error(resident):
    for query in ("version=99999999999999999999", "lend_start=%00", "item_1=%E3%81%82", "version=-5&item_2=-0"):
        for url in (f"/equipment/{FIRST}?{query}", f"/equipment/{FIRST}/confirm?{query}"):
            assert resident.get(url).status_code < 500, url
            assert resident.get(url, headers=HTMX_HEADERS).status_code < 500, url


def test_logged_out_visitors_are_sent_to_log_in(client):
    response = client.get(f"/equipment/{FIRST}")
    assert response.status_code in (302, 303) and "/login" in response.headers["Location"]


def test_the_equipment_pages_show_english_data_in_english(resident, ids):
    resident.client.set_cookie("pref_locale", "en")
    page = text(resident.edit())
    assert '<html lang="en"' in page
    rows = item_rows(page)
    assert rows["Projector"] == ["¥500", "/ 9 units", "¥0"]
    assert rows["Full-length mirror"][1] == "/ 2 pieces"
    assert "Ask the facility about connection cables" in page
    assert "Kumin Centre Community Education Hall 702 (former Seminar Room 2)" in words(page)


def test_reader_mode_puts_the_step_in_the_title_and_loads_whole_pages(resident, ids):
    resident.client.set_cookie("pref_presentation", "reader")
    response = resident.client.get(f"/equipment/{FIRST}", headers=HTMX_HEADERS)
    page = text(response)
    assert "<h1>手順 1/3 備品（付帯品）予約</h1>" in page
    assert "<title>手順 1/3 備品（付帯品）予約 | 目黒区施設予約システム</title>" in page
    confirm = text(resident.confirm(**{ids["プロジェクター"]: 1}))
    assert "<h1>手順 2/3 備品（付帯品）予約確認</h1>" in confirm


def test_the_kiosk_changes_equipment_too(kiosk_app, ids):
    client = kiosk_app.test_client()
    kiosk = EquipmentBrowser(client)
    page = text(kiosk.change(**{ids["プロジェクター"]: 1}))
    assert "備品（付帯品）予約を完了しました。" in page
    assert lines_of(kiosk_app, FIRST) == {"プロジェクター": (1, "09:00", "12:00")}


# -- the settlement, end to end with the served stand-in card company ---------------------------


@pytest.fixture
def card_app(paying_app):
    """Our app wired to the served card company; our own address unreachable to it, so
    only the browser's return records an outcome."""
    paying_app.config["PUBLIC_BASE_URL"] = UNREACHABLE
    return paying_app


def test_the_guides_worked_example_adding_then_removing_a_projector(card_app):
    """L414-L850: 700円 paid; a 500円 projector added → 一部支払済 1,200円, void 700 (取消収納番号
    = the old receipt) and charge 1,200; removed → void 1,200 and charge 700. Each time both
    mails, 取消通知 first, and the new 使用料 in the capture mail."""
    payer = Payer(card_app)
    browser = EquipmentBrowser(payer.client, log_in=False)
    ids = {name: f"item_{i}" for name, i in item_ids(card_app).items()}
    payer.pay(FIRST)
    [first_charge] = charges_of(card_app, FIRST)
    assert first_charge.amount_yen == 700

    # ⑤-⑥ add a projector: the completion says to pay by card.
    done = text(browser.change(**{ids["プロジェクター"]: 1}))
    assert "クレジット決済にてお支払いが可能です。" in done
    # ⑦ the list: 一部支払済 and the new 使用料.
    row = words(list_row(text(payer.get(LIST)), FIRST))
    assert row.startswith(f"本予約 一部支払済 {FIRST}") and "1,200円" in row
    # ⑧ クレジット決済 選択 offers the settlement: 取消予定額 700円, 決済予定額 1,200円.
    select_row = next(r for r in rows_of(text(payer.get("/payment/"))) if r[1] == FIRST)
    assert select_row[4:6] == ["700円", "1,200円"] and "決済" in select_row[6]
    # ⑨ 確認: the void with the old receipt number, the new total to charge.
    confirm = words(payer.confirm_page(FIRST))
    assert "決済予定額 1,200円" in confirm
    assert f"クレジット取消予定額 700円 取消収納番号 {first_charge.receipt_number}" in confirm
    # ⑩-⑫ 注意事項, the card page, 完了.
    complete = words(text(payer.pay(FIRST)))
    old, added = charges_of(card_app, FIRST)
    assert f"決済予定額 1,200円 収納番号 {added.receipt_number}" in complete
    assert f"クレジット取消予定額 700円 取消収納番号 {old.receipt_number}" in complete
    assert old.void_status is VoidStatus.PENDING and added.is_live and added.amount_yen == 1200
    # ⑬ two mails, 取消通知 first; the capture mail's 使用料 is the new total.
    void_notice, capture_notice = mails(card_app)[-2:]
    assert void_notice.subject == "目黒区施設予約システム 使用料の決済取消通知"
    assert f"収納番号：{old.receipt_number}" in void_notice.body and "決済取消額：700円" in void_notice.body
    # The guide's words read as the room cancelled: one sentence says it stands (issue 11).
    assert "施設予約取消について、支払い済み使用料のクレジット決済を取消しました。" in void_notice.body
    assert "ご予約は取り消されていません。" in void_notice.body
    assert capture_notice.subject == "目黒区施設予約システム 使用料の決済完了通知"
    assert f"収納番号：{added.receipt_number}" in capture_notice.body
    assert "決済額：1,200円" in capture_notice.body and "使用料：1,200円" in capture_notice.body
    assert words(list_row(text(payer.get(LIST)), FIRST)).startswith(f"本予約 支払済 {FIRST}")

    # Removing it: the guide's message first, then the refund completion.
    assert f'href="/equipment/{FIRST}/notice"' in list_cell(text(payer.get(LIST)), FIRST)
    assert "対象の予約はクレジットにてお支払済の備品(付帯品)が含まれています。" in text(
        payer.get(f"/equipment/{FIRST}/notice")
    )
    done = text(browser.change(**{ids["プロジェクター"]: 0}))
    assert "還付が発生しているため、再度クレジット決済を行う必要があります。" in done
    row = words(list_row(text(payer.get(LIST)), FIRST))
    assert row.startswith(f"本予約 一部支払済 {FIRST}") and "700円" in row
    confirm = words(payer.confirm_page(FIRST))
    assert "決済予定額 700円" in confirm
    assert f"クレジット取消予定額 1,200円 取消収納番号 {added.receipt_number}" in confirm
    payer.pay(FIRST)
    _old, voided, final = charges_of(card_app, FIRST)
    assert voided.void_status is VoidStatus.PENDING and final.is_live and final.amount_yen == 700
    void_notice, capture_notice = mails(card_app)[-2:]
    assert void_notice.subject.endswith("使用料の決済取消通知") and "決済取消額：1,200円" in void_notice.body
    assert capture_notice.subject.endswith("使用料の決済完了通知") and "使用料：700円" in capture_notice.body
    r = booking(card_app, FIRST)
    assert (r.held_yen, r.due_yen, r.equipment_fee_yen) == (700, 700, 0)


def test_a_change_while_the_card_page_is_open_voids_the_late_capture(card_app):
    """The equipment changes the booking (its version) while the card page is open: the
    capture that follows is voided at once and the resident told (DESIGN "Settlement")."""
    payer = Payer(card_app)
    browser = EquipmentBrowser(payer.client, log_in=False)
    ids = {name: f"item_{i}" for name, i in item_ids(card_app).items()}
    card_page = payer.to_card_page(FIRST)
    browser.change(**{ids["プロジェクター"]: 1})
    back = payer.come_back(payer.pay_at_card_company(card_page))
    result = text(payer.get(back.headers["Location"]))
    assert "予約の内容が変更されたため" in result
    [charge] = charges_of(card_app, FIRST)
    assert charge.void_status is VoidStatus.PENDING
    r = booking(card_app, FIRST)
    assert (r.held_yen, r.total_fee_yen) == (0, 1200)
