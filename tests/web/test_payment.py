"""クレジット決済 (guide ch. 5 §(1)) through the test client and the stand-in card company
served over HTTP: 選択 → 確認 → 注意事項 → the card page → return → 完了, the email gate,
every refusal, and the failures of issue 3 (declined card, 決済を中止する, forged or
someone else's return, notifications twice or before the return, 確定 and 次へ進む twice,
the booking changed while the card page was open).

The browser's part at the card company is played with `requests` (the form fields of
payment_standin/README.md); our return URL is then requested with the Flask test client.
Demo resident 00040675 (目黒団体) holds, from the frozen today (2026-11-25), 仮予約
2026-000001 (区民センター社会教育館 702, 700円, 2026/12/25), a 当選, a counter-paid 本予約
2026-000007 and two 取消済 with nothing paid; 00040676 (駒場サークル) has no mail address."""

from __future__ import annotations

import json
import re
import time
from datetime import UTC, date, datetime, timedelta, timezone
from datetime import time as wall_time
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from sqlalchemy import func, select

from app import create_app
from models.account import Resident
from models.facility import Room
from models.notice import Message
from models.outbox import OutboxMail
from models.payment import CardCharge, ChargeStatus, Settlement, SettlementStatus, VoidStatus
from models.reservation import Reservation
from models.reservation_rules import CancelKind, ReservationState
from payments.provider import sign
from tests.conftest import (
    FROZEN_NOW,
    HTMX_HEADERS,
    PAYMENT_SECRET,
    AuthActions,
    csrf_token_from,
    make_config,
    nobody_answers_url,
)
from tests.pages import text, words

FIRST = "2026-000001"  # 仮予約, 区民センター社会教育館 (039) 702, 700円, 2026/12/25 9:00~12:00
SECOND = "2026-000002"  # 仮予約, the same room, 12:30~15:00
WON = "2026-000006"  # 当選, 900円
DRAWN_WON = "2026-000013"  # 当選 in the demo's lottery drawn yesterday, 701, 900円
COUNTER_PAID = "2026-000007"  # 本予約 paid at 駒場住区センター's counter
CANCELLED_UNPAID = "2026-000008"  # 取消済, nothing paid
SOMEONE_ELSES = "2026-000010"  # 駒場サークル's 仮予約
GOOD_CARD = "4111111111111111"
DECLINED_CARD = "4000000000000002"
# Nothing listens on port 9: the card company's notifications to us fail and are retried,
# so only the browser's return records an outcome (unless a test serves the app).
UNREACHABLE = nobody_answers_url()


# -- reading pages ------------------------------------------------------------------------


def hidden(html: str, name: str) -> str:
    match = re.search(rf'name="{name}"[^>]*value="([^"]*)"|value="([^"]*)"[^>]*name="{name}"', html)
    assert match, f"no field {name}"
    return unescape(match.group(1) or match.group(2))


def rows_of(html: str) -> list[list[str]]:
    """Each body row of every table, as the words of its cells."""
    found = []
    for body in re.findall(r"<tbody>(.*?)</tbody>", html, re.S):
        for row in re.findall(r"<tr>(.*?)</tr>", body, re.S):
            found.append([words(cell) for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)])
    return found


def listed_numbers(html: str) -> list[str]:
    return [row[1] for row in rows_of(html)]


# -- the database --------------------------------------------------------------------------


def db(app):
    return app.extensions["database"]


def booking(app, number: str) -> Reservation:
    with db(app).read_session() as s:
        r = s.scalar(select(Reservation).where(Reservation.number == number))
        _ = (r.card_charges, r.counter_payments, r.settlements, r.room.facility)
        s.expunge_all()
        return r


def count(app, model) -> int:
    with db(app).read_session() as s:
        return s.scalar(select(func.count()).select_from(model))


def charges_of(app, number: str) -> list[CardCharge]:
    with db(app).read_session() as s:
        found = s.scalars(
            select(CardCharge).join(Reservation).where(Reservation.number == number).order_by(CardCharge.id)
        ).all()
        s.expunge_all()
        return found


def mails(app) -> list[OutboxMail]:
    with db(app).read_session() as s:
        found = s.scalars(select(OutboxMail).order_by(OutboxMail.id)).all()
        s.expunge_all()
        return found


def change_booking(app, number: str, **values) -> None:
    """What a later issue's screens (equipment, cancellation) or staff would do: change
    the booking and bump its version."""
    with db(app).write() as s:
        r = s.scalar(select(Reservation).where(Reservation.number == number))
        for name, value in values.items():
            setattr(r, name, value)
        r.version += 1


def cancel_booking(app, number: str, fee_yen: int = 0) -> None:
    change_booking(
        app,
        number,
        state=ReservationState.CANCELLED,
        cancelled_at=datetime.fromisoformat(FROZEN_NOW),
        cancel_kind=CancelKind.RESIDENT,
        cancellation_fee_yen=fee_yen,
        refund_percent=100 if fee_yen == 0 else 75,
    )


# -- a resident paying like a browser -------------------------------------------------------


class Payer:
    """One resident's browser: our pages through the test client, the card company's page
    through `requests` (it is another site)."""

    def __init__(self, app, number="40675"):
        self.app = app
        self.client = app.test_client()
        assert AuthActions(self.client).login(number=number).status_code == 303

    def get(self, url, **kwargs):
        return self.client.get(url, **kwargs)

    def confirm_page(self, number=FIRST) -> str:
        response = self.client.get(f"/payment/{number}")
        assert response.status_code == 200, words(text(response))[:400]
        return text(response)

    def kakutei(self, number=FIRST, page: str | None = None, **overrides):
        """確定 on 確認, with the fields the page carries."""
        page = page or self.confirm_page(number)
        data = {
            "csrf_token": csrf_token_from(page),
            "version": hidden(page, "version"),
            "form_token": hidden(page, "form_token"),
        }
        data.update(overrides)
        return self.client.post(f"/payment/{number}", data=data)

    def to_terms(self, number=FIRST) -> str:
        response = self.kakutei(number)
        assert response.status_code == 303, words(text(response))[:400]
        return response.headers["Location"]

    def next_step(self, terms_url: str, agree=True):
        """同意します and 次へ進む on 注意事項."""
        page = text(self.client.get(terms_url))
        data = {"csrf_token": csrf_token_from(page)}
        if agree:
            data["agree"] = "y"
        return self.client.post(terms_url, data=data)

    def to_card_page(self, number=FIRST) -> str:
        response = self.next_step(self.to_terms(number))
        assert response.status_code == 303, words(text(response))[:400]
        return response.headers["Location"]

    def pay_at_card_company(self, payment_url: str, card=GOOD_CARD, code="123"):
        return requests.post(
            payment_url,
            data={"card_number": card, "expiry_month": "12", "expiry_year": "2030", "security_code": code},
            allow_redirects=False,
            timeout=10,
        )

    def cancel_at_card_company(self, payment_url: str):
        return requests.post(payment_url + "/cancel", allow_redirects=False, timeout=10)

    def come_back(self, provider_answer) -> object:
        """Follow the card company's redirect to our return URL (path and query only)."""
        assert provider_answer.status_code == 303, provider_answer.text[:400]
        location = urlsplit(provider_answer.headers["Location"])
        assert location.path == "/payment/return"
        assert set(parse_qs(location.query)) == {"session_id"}  # the session id and nothing else
        return self.client.get(f"{location.path}?{location.query}")

    def pay(self, number=FIRST, card=GOOD_CARD):
        """The whole way from 確認 to our result page; returns the 完了 page's response."""
        back = self.come_back(self.pay_at_card_company(self.to_card_page(number), card=card))
        assert back.status_code == 303, words(text(back))[:400]
        return self.client.get(back.headers["Location"])


@pytest.fixture
def card_app(paying_app):
    """Our app wired to the served card company; our own address unreachable to it."""
    paying_app.config["PUBLIC_BASE_URL"] = UNREACHABLE
    return paying_app


@pytest.fixture
def payer(card_app):
    return Payer(card_app)


@pytest.fixture
def served_app(database_url, tmp_path, payment_provider):
    """Our app served over HTTP as well, at the address it gives the card company, so that
    the card company's notifications arrive."""
    from tests.browser.live_server import LiveServer

    application = create_app(
        "standard",
        make_config(
            database_url,
            tmp_path,
            PAYMENT_PROVIDER_URL=payment_provider.base_url,
            PAYMENT_PROVIDER_SECRET=PAYMENT_SECRET,
        ),
    )
    server = LiveServer(application)
    application.config["PUBLIC_BASE_URL"] = server.base_url
    server.start()
    yield application
    server.stop()
    assert not server.server_errors, server.server_errors
    application.extensions["database"].dispose()


def wait_for(condition, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError("timed out waiting")


def faults(provider_url: str, **settings) -> None:
    assert requests.post(provider_url + "/_test/faults", json=settings, timeout=10).status_code == 200


# -- the whole §(1) flow ---------------------------------------------------------------------


def test_the_guides_flow_pays_a_provisional_booking(payer, card_app):
    select_page = text(payer.get("/payment/"))
    assert "<h1>クレジット決済 選択</h1>" in select_page
    assert "※金額の変更または還付が発生している場合、もう一度決済のお手続きが必要です。" in select_page
    assert (
        "一度クレジットでお支払い済の予約は全額返金処理され、必要な金額を差し引いた金額で再度決済処理が行われます。"
        in select_page
    )
    row = next(r for r in rows_of(select_page) if r[1] == FIRST)
    assert row[:6] == ["仮予約 − 支払なし", FIRST, "2026/12/25(金) 9:00~12:00", "702【旧第2研修室】", "0円", "700円"]
    assert "決済 予約番号 2026-000001" in row[6] and "支払期限: 2026/12/8(火)" in row[6]

    confirm = payer.confirm_page(FIRST)
    assert "選択された予約のクレジット決済を行います。よろしければ「確定」ボタンを押してください。" in confirm
    assert "※金額の変更または還付が発生している場合" in confirm
    assert rows_of(confirm) == [[FIRST, "2026/12/25(金)", "9:00~12:00", "702【旧第2研修室】"]]
    assert "決済処理を行う予定のクレジット決済は以下の通りです。" in confirm
    assert "決済予定額 700円" in words(confirm)
    assert "取消処理を行う予定" not in confirm  # nothing held: nothing to void
    assert "メニュー クレジット決済 選択 クレジット決済 確認 クレジット決済 注意事項 クレジット決済 完了" in words(
        confirm
    )
    assert '<span aria-current="step">クレジット決済 確認</span>' in confirm

    terms_url = payer.to_terms(FIRST)
    terms = text(payer.get(terms_url))
    for sentence in (
        "「クレジット決済可能期間について」",
        "「使用料の還付について」",
        "利用日21日以上前...全額還付",
        "利用日20日前～11日前...75%還付",
        "利用日10日前～6日前...50%還付",
        "利用日5日前～当日...還付不可",
        "「利用承認書及び領収書の発行について」",
        "内容に同意いただける場合のみクレジットカード決済の手続きに進んでください。",
        "上記内容に同意する場合は「同意します」ボタンを選択してください。",
        "「次へ進む」ボタンを押すと外部サイトに移動します",
    ):
        assert sentence in terms, sentence
    assert re.search(r'<input[^>]*type="checkbox"[^>]*name="agree"|<input[^>]*name="agree"[^>]*type="checkbox"', terms)

    payment_url = payer.next_step(terms_url).headers["Location"]
    assert payment_url.startswith(card_app.config["PAYMENT_PROVIDER_URL"] + "/pay/cs_")
    card_page = requests.get(payment_url, timeout=10).text
    assert "700円" in card_page

    back = payer.come_back(payer.pay_at_card_company(payment_url))
    assert back.status_code == 303
    done = payer.get(back.headers["Location"])
    page = text(done)
    assert done.status_code == 200
    assert "<h1>クレジット決済 完了</h1>" in page
    assert "選択された予約のクレジット決済の受付が完了しました。" in page
    # Done, so the booking is the one paid, not one to pay (issue 11).
    assert '-caption">決済した予約</caption>' in page and "決済する予約" not in page
    assert "結果が反映されるまで時間がかかる場合があります。" in page
    assert "必要な金額を差し引いた金額で再度決済処理が行われました。" not in page  # nothing was voided
    assert "決済処理を行ったクレジット決済は以下の通りです。" in page
    [charge] = charges_of(card_app, FIRST)
    assert re.fullmatch(r"039\d{13}", charge.receipt_number)  # 16 digits, the facility's code first
    assert charge.receipt_number[3:11] == "20261125"
    assert f"決済予定額 700円 収納番号 {charge.receipt_number}" in words(page)
    assert '<span aria-current="step">クレジット決済 完了</span>' in page

    paid = booking(card_app, FIRST)
    assert paid.state is ReservationState.CONFIRMED
    assert (charge.status, charge.void_status) == (ChargeStatus.CAPTURED, VoidStatus.NONE)
    [mail] = mails(card_app)
    assert mail.subject == "目黒区施設予約システム 使用料の決済完了通知"
    assert mail.to_address == "meguro-dantai@example.jp"
    assert f"収納番号：{charge.receipt_number}" in mail.body and "決済額：700円" in mail.body

    # マイメニュー now shows it 本予約 支払済, and 詳細 shows the card charge.
    listed = text(payer.get("/mymenu/reservations"))
    assert any(r[1] == FIRST and r[0].startswith("本予約 支払済") for r in rows_of(listed))
    detail = text(payer.get(f"/mymenu/reservations/{FIRST}"))
    assert "本予約 支払済" in words(detail)
    assert [charge.receipt_number, "2026/11/25(水)", "700円", "決済済"] in rows_of(detail)
    # 選択 now shows it settled: 0円 / 0円 and no 決済.
    row = next(r for r in rows_of(text(payer.get("/payment/"))) if r[1] == FIRST)
    assert row[4:6] == ["0円", "0円"] and "決済 予約番号" not in row[6]
    assert "クレジット取消の期限: 2027/5/24(月)" in row[6]  # 180 days after the capture


def test_a_fee_change_charges_the_new_total_then_voids_the_old_charge(payer, card_app):
    payer.pay(FIRST)
    [old] = charges_of(card_app, FIRST)
    change_booking(card_app, FIRST, facility_fee_yen=1200)  # as if a 500円 projector were added

    row = next(r for r in rows_of(text(payer.get("/payment/"))) if r[1] == FIRST)
    assert row[0].startswith("本予約 一部支払済") and row[4:6] == ["700円", "1,200円"]
    # Waiting for a settlement, it comes before the counter-paid 本予約 of an earlier day.
    assert listed_numbers(text(payer.get("/payment/?state=confirmed"))) == [FIRST, COUNTER_PAID]

    confirm = payer.confirm_page(FIRST)
    assert "決済予定額 1,200円" in words(confirm)
    assert "取消処理を行う予定のクレジット決済は以下の通りです。" in confirm
    assert "窓口還付予定額については、お支払いした施設にて還付受付を行っていただく必要があります。" in confirm
    assert f"クレジット取消予定額 700円 取消収納番号 {old.receipt_number}" in words(confirm)

    done = text(payer.pay(FIRST))
    old, new = charges_of(card_app, FIRST)
    assert (
        "※一度クレジットでお支払い済の予約は全額返金処理され、必要な金額を差し引いた金額で再度決済処理が行われました。"
        in done
    )
    assert f"決済予定額 1,200円 収納番号 {new.receipt_number}" in words(done)
    assert "取消処理を行ったクレジット決済は以下の通りです。" in done
    assert f"クレジット取消予定額 700円 取消収納番号 {old.receipt_number}" in words(done)
    assert old.void_status is VoidStatus.PENDING and new.is_live
    assert new.receipt_number != old.receipt_number
    # 取消通知 first, then 完了通知.
    subjects = [m.subject for m in mails(card_app)]
    assert subjects == [
        "目黒区施設予約システム 使用料の決済完了通知",
        "目黒区施設予約システム 使用料の決済取消通知",
        "目黒区施設予約システム 使用料の決済完了通知",
    ]
    detail = rows_of(text(payer.get(f"/mymenu/reservations/{FIRST}")))
    assert [old.receipt_number, "2026/11/25(水)", "700円", "取消処理中"] in detail
    assert [new.receipt_number, "2026/11/25(水)", "1,200円", "決済済"] in detail


def test_a_full_refund_is_a_void_only_with_no_card_page(payer, card_app):
    payer.pay(FIRST)
    [held] = charges_of(card_app, FIRST)
    cancel_booking(card_app, FIRST, fee_yen=0)  # cancelled 30 days ahead: 100 % back

    row = next(r for r in rows_of(text(payer.get("/payment/"))) if r[1] == FIRST)
    assert row[0].startswith("取消済 支払あり") and row[4:6] == ["700円", "0円"]
    confirm = payer.confirm_page(FIRST)
    assert "決済処理を行う予定" not in confirm
    assert f"クレジット取消予定額 700円 取消収納番号 {held.receipt_number}" in words(confirm)
    assert "窓口還付予定額については、お支払いした施設にて還付受付を行っていただく必要があります。" in confirm

    terms_url = payer.to_terms(FIRST)
    terms = text(payer.get(terms_url))
    assert "外部サイトに移動します" not in terms  # DESIGN rule 9
    assert "同意します" in terms
    response = payer.next_step(terms_url)
    assert response.status_code == 303 and urlsplit(response.headers["Location"]).path.startswith(
        "/payment/settlements/"
    )
    done = text(payer.get(response.headers["Location"]))
    assert "<h1>クレジット決済 完了</h1>" in done
    assert "決済処理を行ったクレジット決済" not in done
    assert "再度決済処理が行われました" not in done
    assert f"クレジット取消予定額 700円 取消収納番号 {held.receipt_number}" in words(done)
    [held] = charges_of(card_app, FIRST)
    assert held.void_status is VoidStatus.PENDING
    assert [m.subject for m in mails(card_app)][-1] == "目黒区施設予約システム 使用料の決済取消通知"


# -- the email gate (rule 7) -----------------------------------------------------------------


def test_a_resident_without_a_mail_address_registers_one_first_and_comes_back(card_app):
    komaba = Payer(card_app, number="40676")
    response = komaba.get("/payment/")
    assert response.status_code == 302  # after a GET (web.rendering.redirect_whole_page)
    assert response.headers["Location"] == "/mymenu/email?next=/payment/"
    page = text(komaba.get(response.headers["Location"]))
    assert "<h1>メールアドレスの変更</h1>" in page
    assert "クレジット決済を行うには、メールアドレスの登録が必須となります。" in page
    assert "項目を変更して、「次へ進む」ボタンを押してください。" in page
    assert "確認のため同じメールアドレスを入力してください。" in page
    assert "メールアドレスは、クレジット決済、仮パスワード発行を行う際にも必要です。" in page
    assert "noreply@yoyaku.city.meguro.example からのメールを受信できるように設定してください。" in page
    assert '<label for="email">メールアドレス' in page and '<label for="email_confirm">確認用' in page

    def send(email, confirm):
        return komaba.client.post(
            "/mymenu/email",
            data={"csrf_token": csrf_token_from(page), "email": email, "email_confirm": confirm, "next": "/payment/"},
        )

    for email, confirm, message in [
        ("", "", "メールアドレスを入力してください。"),
        ("komaba@example.jp", "komaba@example.co.jp", "確認用のメールアドレスが一致しません。"),
        ("komaba＠example.jp", "komaba＠example.jp", "メールアドレスの形式が正しくありません。"),
        ("komaba@example", "komaba@example", "メールアドレスの形式が正しくありません。"),
    ]:
        refused = send(email, confirm)
        assert refused.status_code == 422
        assert message in text(refused)
        assert "<title>エラー: メールアドレスの変更" in text(refused)
        with db(card_app).read_session() as s:
            assert s.scalar(select(Resident.email).where(Resident.registration_number == "00040676")) is None

    done = send("  komaba@example.jp ", "komaba@example.jp")
    assert done.status_code == 303 and done.headers["Location"] == "/payment/"
    with db(card_app).read_session() as s:
        assert s.scalar(select(Resident.email).where(Resident.registration_number == "00040676")) == "komaba@example.jp"
    assert "<h1>クレジット決済 選択</h1>" in text(komaba.get("/payment/"))


def test_the_email_gate_keeps_the_step_and_answers_htmx_with_a_whole_page(card_app):
    komaba = Payer(card_app, number="40676")
    assert komaba.get("/payment/2026-000010").headers["Location"] == "/mymenu/email?next=/payment/2026-000010"
    posted = komaba.client.post(
        "/payment/2026-000010", data={"csrf_token": csrf_token_from(text(komaba.get("/mymenu/")))}
    )
    assert posted.status_code == 303 and posted.headers["Location"] == "/mymenu/email?next=/payment/2026-000010"
    assert count(card_app, Settlement) == 0
    fragment = komaba.get(
        "/payment/?state=all", headers={**HTMX_HEADERS, "HX-Current-URL": "http://localhost/payment/?state=all"}
    )
    assert fragment.status_code == 204
    assert fragment.headers["HX-Redirect"] == "/mymenu/email?next=/payment/?state%3Dall"
    # A next= that leaves the site is not followed.
    page = text(komaba.get("/mymenu/email?next=//evil.example/"))
    assert 'value="/mymenu/"' in page


# -- 選択: order, limit, filters -------------------------------------------------------------


def test_select_lists_pending_rows_first_then_by_date_and_says_why_others_have_no_button(payer):
    page = text(payer.get("/payment/"))
    numbers = listed_numbers(page)
    rows = {r[1]: r for r in rows_of(page)}
    # Grouped by facility, in the order of each facility's first row; within a facility,
    # those waiting for a settlement by 利用日 and start, then those with nothing to settle.
    captions = re.findall(r'<h2 id="payment-group-\d+" class="group-heading">([^<]+)</h2>', page)
    assert captions == ["中目黒住区センター", "駒場住区センター", "区民センター社会教育館"]
    assert numbers == [
        "2026-000005",  # 11/28
        "2026-000004",
        "2026-000003",  # 12/3, 12/10
        CANCELLED_UNPAID,
        "2026-000009",
        COUNTER_PAID,  # 12/7, 12/15, 12/20: nothing to settle
        FIRST,
        SECOND,
        DRAWN_WON,
        WON,  # 12/25 9:00, 12/25 12:30, 2027/1/7 (the demo lottery's 当選), 2027/1/14
    ]
    pending = ["2026-000005", "2026-000004", "2026-000003", FIRST, SECOND, DRAWN_WON, WON]
    assert SOMEONE_ELSES not in numbers
    counter = rows[COUNTER_PAID]
    assert counter[4:6] == ["0円", "0円"]
    assert "決済 予約番号" not in counter[6]
    assert "利用施設（駒場住区会議室 03-3469-2613）までご連絡ください。" in counter[6]
    assert rows[CANCELLED_UNPAID][4:] == ["0円", "0円", "決済が必要な金額はありません。"]
    assert "支払期限: 2026/12/6(日)" in rows[WON][6]  # 14 days after the lottery result
    for number in pending:
        assert "支払期限:" in rows[number][6]
        assert f'href="/payment/{number}">決済<span class="visually-hidden"> 予約番号 {number}</span></a>' in page


def test_an_unpaid_row_past_its_deadline_says_so_and_offers_no_payment(payer, card_app):
    change_booking(card_app, SECOND, applied_at=datetime(2026, 11, 1, 1, tzinfo=UTC))  # due 2026/11/15
    row = next(r for r in rows_of(text(payer.get("/payment/"))) if r[1] == SECOND)
    assert "支払期限を過ぎているため、クレジット決済は行えません。" in row[6]
    assert "支払期限: 2026/11/15(日)" in row[6]
    assert "決済 予約番号" not in row[6]


def test_select_shows_at_most_twenty_with_the_guides_message(payer, card_app):
    with db(card_app).write() as s:
        template = s.scalar(select(Reservation).where(Reservation.number == FIRST))
        hall = s.scalar(select(Room).where(Room.name_ja == "ホール"))
        for day in range(1, 9):
            for i, band in enumerate(hall.time_bands):
                s.add(
                    Reservation(
                        number=f"2026-{500000 + day * 10 + i:06d}",
                        resident_id=template.resident_id,
                        room_id=hall.id,
                        time_band_id=band.id,
                        use_date=date(2026, 12, 1) + timedelta(days=day),
                        starts_at=band.starts_at,
                        ends_at=band.ends_at,
                        state=ReservationState.PROVISIONAL,
                        purpose_id=template.purpose_id,
                        attendees=5,
                        charges_participation_fee=False,
                        group_class_id=template.group_class_id,
                        facility_fee_yen=1500,
                        applied_at=datetime(2026, 11, 24, 1, tzinfo=UTC),
                    )
                )
    page = text(payer.get("/payment/"))
    assert len(listed_numbers(page)) == 20
    assert "該当する予約数が多いため、上位20件のみ表示します。" in page
    assert "処理したい予約が表示されない場合は、表示条件の指定を行ってください。" in page
    # Narrowed, the message goes.
    narrowed = text(payer.get("/payment/?date_from=2026-11-25&date_to=2026-12-05&state=all"))
    assert "上位20件" not in narrowed and len(listed_numbers(narrowed)) < 20


def test_the_filter_works_as_a_page_and_as_an_htmx_fragment(payer):
    query = "/payment/?date_from=2026-12-01&date_to=2026-12-31&state=cancelled"
    page = payer.get(query)
    assert page.status_code == 200 and "HX-Request" in page.headers["Vary"]
    assert set(listed_numbers(text(page))) == {CANCELLED_UNPAID, "2026-000009"}
    assert "<html" in text(page) and '<details class="filter-panel no-print" open>' in text(page)
    fragment = payer.get(query, headers=HTMX_HEADERS)
    assert fragment.status_code == 200 and "HX-Request" in fragment.headers["Vary"]
    body = text(fragment)
    assert "<html" not in body and body.count('id="payment-list"') == 1
    assert "<title>クレジット決済 選択 | 目黒区施設予約システム</title>" in body
    assert set(listed_numbers(body)) == {CANCELLED_UNPAID, "2026-000009"}
    assert 'data-announce="2件の予約を表示しています"' in body
    assert 'data-hx-get="/payment/"' in body and 'data-hx-target="#payment-list"' in body
    confirmed = text(payer.get("/payment/?date_from=&date_to=&state=confirmed", headers=HTMX_HEADERS))
    assert listed_numbers(confirmed) == [COUNTER_PAID]


@pytest.mark.parametrize("fragment", [False, True])
def test_bad_filter_input_says_what_is_wrong_and_keeps_the_default_list(payer, fragment):
    response = payer.get(
        "/payment/?date_from=2026-13-45&date_to=yesterday&state=everything", headers=HTMX_HEADERS if fragment else {}
    )
    assert response.status_code == 422
    body = text(response)
    assert "利用日（開始）は「2026-11-25」のように" in body
    assert "状態は一覧から選択してください。" in body
    assert "表示条件に誤りがあるため、本日以降のすべての予約を表示しています。" in body
    assert FIRST in listed_numbers(body)
    assert "エラー: クレジット決済 選択" in body


# -- refusals on 確認 and 確定 ------------------------------------------------------------------


def test_a_counter_paid_booking_cannot_be_paid_online(payer, card_app):
    response = payer.get(f"/payment/{COUNTER_PAID}")
    assert response.status_code == 409
    page = text(response)
    assert (
        "窓口でのお支払いがある予約は、オンラインでの決済・変更・取消はできません。利用施設までご連絡ください。" in page
    )
    assert "詳しくは、駒場住区会議室（03-3469-2613）までお問い合わせください。" in page
    assert 'name="form_token"' not in page
    posted = payer.client.post(
        f"/payment/{COUNTER_PAID}",
        data={"csrf_token": csrf_token_from(page), "version": "2", "form_token": "x" * 32},
    )
    assert posted.status_code == 409
    assert count(card_app, Settlement) == 0


def test_nothing_to_settle(payer, card_app):
    response = payer.get(f"/payment/{CANCELLED_UNPAID}")
    assert response.status_code == 409
    assert "この予約には、クレジット決済が必要な金額はありません（決済済みです）。" in text(response)


def test_the_deadline_passed(payer, card_app):
    page = payer.confirm_page(SECOND)
    change_booking(card_app, SECOND, applied_at=datetime(2026, 11, 1, 1, tzinfo=UTC))
    response = payer.get(f"/payment/{SECOND}")
    assert response.status_code == 409
    assert "支払期限（2026/11/15(日)）を過ぎたため、クレジット決済は行えません。" in text(response)
    # 確定 from a page shown before: the version changed, and the deadline refuses anyway.
    posted = payer.kakutei(SECOND, page=page)
    assert posted.status_code == 409
    assert count(card_app, Settlement) == 0


def test_a_charge_older_than_180_days_cannot_be_voided_online(payer, card_app):
    payer.pay(FIRST)
    with db(card_app).write() as s:
        charge = s.scalar(select(CardCharge))
        charge.captured_at = datetime(2026, 5, 1, 1, tzinfo=UTC)
    change_booking(card_app, FIRST, facility_fee_yen=1200)
    row = next(r for r in rows_of(text(payer.get("/payment/"))) if r[1] == FIRST)
    assert "お支払いから180日を過ぎたため、オンラインではクレジット取消が行えません。" in row[6]
    assert "決済 予約番号" not in row[6]
    response = payer.get(f"/payment/{FIRST}")
    assert response.status_code == 409
    page = text(response)
    assert "クレジットでのお支払いから180日を過ぎたため（期限: 2026/10/28(水)）" in page
    assert "区民センター社会教育館" in page and "までお問い合わせください。" in page
    assert count(card_app, Settlement) == 1


def test_a_stale_version_refuses_and_shows_the_booking_as_it_is_now(payer, card_app):
    page = payer.confirm_page(FIRST)
    change_booking(card_app, FIRST, facility_fee_yen=900)
    response = payer.kakutei(FIRST, page=page)
    assert response.status_code == 409
    body = text(response)
    assert "予約の内容が変更されています。最新の内容を確認して、もう一度操作してください。" in body
    assert "決済予定額 900円" in words(body)  # as it is now, ready to confirm again
    assert count(card_app, Settlement) == 0
    again = payer.kakutei(FIRST, page=body)
    assert again.status_code == 303


def test_someone_elses_or_an_unknown_number_is_not_found(payer, card_app):
    for number in (SOMEONE_ELSES, "2026-999999", "nope", "2026-00001%00"):
        response = payer.get(f"/payment/{number}")
        assert response.status_code == 404, number
        assert "指定された情報が見つかりません。" in text(response)
        assert "駒場サークル" not in text(response)
    page = payer.confirm_page(FIRST)
    posted = payer.client.post(
        f"/payment/{SOMEONE_ELSES}",
        data={"csrf_token": csrf_token_from(page), "version": "1", "form_token": hidden(page, "form_token")},
    )
    assert posted.status_code == 404
    assert count(card_app, Settlement) == 0


def test_a_forged_confirmation_form_changes_nothing(payer, card_app):
    for overrides in ({"version": "abc"}, {"version": "99999999999"}, {"form_token": "short"}, {"form_token": ""}):
        response = payer.kakutei(FIRST, **overrides)
        assert response.status_code == 400, overrides
        assert "画面の情報が正しく送信されませんでした。" in text(response)
    no_csrf = payer.client.post(f"/payment/{FIRST}", data={"version": "1", "form_token": "x" * 32})
    assert no_csrf.status_code == 400
    assert count(card_app, Settlement) == 0


def test_a_booking_changed_between_kakutei_and_next_is_refused_before_the_card_page(payer, card_app):
    terms_url = payer.to_terms(FIRST)
    change_booking(card_app, FIRST, facility_fee_yen=900)
    response = payer.next_step(terms_url)
    assert response.status_code == 409
    page = text(response)
    assert "予約の内容が変更されています。最新の内容を確認して、もう一度操作してください。" in page
    assert f'href="/payment/{FIRST}">最新の内容を確認する' in page
    assert count(card_app, CardCharge) == 0
    # The old settlement has ended for good: its 注意事項 now leads to the page saying so.
    again = payer.get(terms_url)
    assert again.status_code == 303
    ended = payer.get(again.headers["Location"])
    assert "予約の内容が変更されたため、このクレジット決済の手続きは終了しました。" in text(ended)
    assert "料金は請求されていません。" in text(ended) and "同意します" not in text(ended)
    database = card_app.extensions["database"]
    with database.read_session() as session:
        assert session.scalar(select(Settlement.status)) is SettlementStatus.ABANDONED


def test_a_deadline_passed_between_kakutei_and_next_says_so(payer, card_app):
    terms_url = payer.to_terms(SECOND)
    card_app.config["FROZEN_NOW"] = "2026-12-08T15:00:00+00:00"  # 2026/12/9 0:00 JST: past 12/8
    response = payer.next_step(terms_url)
    assert response.status_code == 409
    assert "支払期限（2026/12/8(火)）を過ぎたため、クレジット決済は行えません。" in text(response)
    assert count(card_app, CardCharge) == 0


def test_confirm_mentions_a_card_page_still_open_for_the_booking(payer, card_app):
    payer.to_card_page(FIRST)
    page = payer.confirm_page(FIRST)
    assert "この予約には、カード会社のお支払い画面を開いたままの手続きがあります。" in page
    with db(card_app).read_session() as s:
        settlement_id = s.scalar(select(Settlement.id))
    assert f'href="/payment/settlements/{settlement_id}">開いている手続きの結果を確認する' in page


# -- pressed twice ---------------------------------------------------------------------------


def test_kakutei_twice_opens_one_settlement(payer, card_app):
    page = payer.confirm_page(FIRST)
    first = payer.kakutei(FIRST, page=page)
    second = payer.kakutei(FIRST, page=page)
    assert first.status_code == second.status_code == 303
    assert first.headers["Location"] == second.headers["Location"]
    assert count(card_app, Settlement) == 1


def test_next_twice_opens_the_same_card_page_under_the_same_receipt(payer, card_app):
    terms_url = payer.to_terms(FIRST)
    first = payer.next_step(terms_url)
    second = payer.next_step(terms_url)
    assert first.status_code == second.status_code == 303
    assert first.headers["Location"] == second.headers["Location"]
    [charge] = charges_of(card_app, FIRST)
    assert charge.provider_session_id and first.headers["Location"].endswith(charge.provider_session_id)
    # Paying twice at the card company captures once.
    payer.pay_at_card_company(first.headers["Location"])
    again = payer.pay_at_card_company(first.headers["Location"])
    payer.come_back(again)
    ledger = requests.get(
        card_app.config["PAYMENT_PROVIDER_URL"] + "/api/ledger",
        headers=sign(PAYMENT_SECRET, "GET", "/api/ledger", b""),
        timeout=10,
    ).json()
    assert ledger["captured_yen"] == 700 and len(ledger["charges"]) == 1
    assert len(charges_of(card_app, FIRST)) == 1


def test_two_tabs_past_kakutei_share_one_card_page(payer, card_app):
    """Both tabs loaded 確認 before either opened the card page: the second 次へ進む goes to
    the card page the first opened, so the card can be charged only once."""
    tab_a, tab_b = payer.confirm_page(FIRST), payer.confirm_page(FIRST)
    terms_a = payer.kakutei(FIRST, page=tab_a).headers["Location"]
    terms_b = payer.kakutei(FIRST, page=tab_b).headers["Location"]
    assert terms_a != terms_b and count(card_app, Settlement) == 2
    card_a = payer.next_step(terms_a)
    card_b = payer.next_step(terms_b)
    assert card_a.status_code == card_b.status_code == 303
    assert card_b.headers["Location"] == card_a.headers["Location"]
    [charge] = charges_of(card_app, FIRST)  # one 収納番号, one card session
    with db(card_app).read_session() as s:
        ended = s.get(Settlement, int(terms_b.rstrip("/").split("/")[-2]))
        assert (ended.status, ended.outcome) == (SettlementStatus.ABANDONED, "another_open")
    page = words(text(payer.get(f"/payment/settlements/{ended.id}")))
    assert (
        "同じ予約のお支払い画面が別の画面ですでに開いていたため、この手続きは終了し、そのお支払い画面に移動しました。"
        in page
    )
    assert "料金は請求されていません。" in page
    done = payer.come_back(payer.pay_at_card_company(card_b.headers["Location"]))
    assert done.status_code == 303
    assert booking(card_app, FIRST).state is ReservationState.CONFIRMED
    assert [c.amount_yen for c in charges_of(card_app, FIRST)] == [700]


def test_next_needs_agreement(payer, card_app):
    terms_url = payer.to_terms(FIRST)
    response = payer.next_step(terms_url, agree=False)
    assert response.status_code == 422
    page = text(response)
    assert "<title>エラー: クレジット決済 注意事項" in page
    assert 'class="error-summary"' in page and 'href="#agree"' in page
    assert "注意事項を確認し、内容に同意する場合は「同意します」を選択してください。" in page
    assert 'aria-invalid="true"' in page
    assert count(card_app, CardCharge) == 0


def test_an_unreachable_card_company_charges_nothing_and_the_resident_can_try_again(payer, card_app):
    terms_url = payer.to_terms(FIRST)
    provider = card_app.config["PAYMENT_PROVIDER_URL"]
    card_app.config["PAYMENT_PROVIDER_URL"] = UNREACHABLE
    response = payer.next_step(terms_url)
    assert response.status_code == 503
    assert "カード会社のお支払い画面を開けませんでした。決済は行われていません。" in text(response)
    [charge] = charges_of(card_app, FIRST)
    assert charge.status is ChargeStatus.OPEN and charge.provider_session_id is None
    assert booking(card_app, FIRST).state is ReservationState.PROVISIONAL
    card_app.config["PAYMENT_PROVIDER_URL"] = provider
    retried = payer.next_step(terms_url)
    assert retried.status_code == 303 and retried.headers["Location"].startswith(provider + "/pay/")
    assert [c.receipt_number for c in charges_of(card_app, FIRST)] == [charge.receipt_number]


# -- at the card company ---------------------------------------------------------------------


def test_a_declined_card_then_a_good_one(payer, card_app):
    payment_url = payer.to_card_page(FIRST)
    declined = payer.pay_at_card_company(payment_url, card=DECLINED_CARD)
    assert declined.status_code == 422
    assert booking(card_app, FIRST).state is ReservationState.PROVISIONAL
    done = text(payer.get(payer.come_back(payer.pay_at_card_company(payment_url)).headers["Location"]))
    assert "<h1>クレジット決済 完了</h1>" in done
    assert booking(card_app, FIRST).state is ReservationState.CONFIRMED


def test_cancelling_at_the_card_company_charges_nothing_and_offers_another_try(payer, card_app):
    payment_url = payer.to_card_page(FIRST)
    back = payer.come_back(payer.cancel_at_card_company(payment_url))
    result = payer.get(back.headers["Location"])
    page = text(result)
    assert result.status_code == 200
    assert "<h1>クレジット決済は行われませんでした</h1>" in page
    assert "お支払い画面で「決済を中止する」が押されたため、クレジット決済は行われませんでした。" in page
    assert "料金は請求されていません。" in page
    assert f'href="/payment/{FIRST}">もう一度クレジット決済を行う' in page
    [charge] = charges_of(card_app, FIRST)
    assert charge.status is ChargeStatus.FAILED
    with db(card_app).read_session() as s:
        assert s.scalar(select(Settlement.status)) is SettlementStatus.ABANDONED
    assert booking(card_app, FIRST).state is ReservationState.PROVISIONAL
    assert mails(card_app) == []
    assert "<h1>クレジット決済 完了</h1>" in text(payer.pay(FIRST))  # the way back works


def test_while_the_card_page_is_open_the_result_page_says_it_is_checking(payer, card_app):
    payment_url = payer.to_card_page(FIRST)
    with db(card_app).read_session() as s:
        settlement_id = s.scalar(select(Settlement.id))
        session_id = s.scalar(select(CardCharge.provider_session_id))
    page = text(payer.get(f"/payment/settlements/{settlement_id}"))
    assert "<h1>決済の結果を確認しています</h1>" in page
    assert f'href="/payment/return?session_id={session_id}">結果を確認する' in page
    assert f'href="{payment_url}">お支払い画面に戻る' in page
    # Checking while still open changes nothing.
    assert payer.get(f"/payment/return?session_id={session_id}").status_code == 303
    assert booking(card_app, FIRST).state is ReservationState.PROVISIONAL


def test_the_booking_changed_while_the_card_page_was_open(payer, card_app):
    payment_url = payer.to_card_page(FIRST)
    change_booking(card_app, FIRST, facility_fee_yen=1200)  # another tab added equipment
    back = payer.come_back(payer.pay_at_card_company(payment_url))
    page = text(payer.get(back.headers["Location"]))
    assert "<h1>予約の内容が変更されたため、クレジット決済を取り消します</h1>" in page
    [charge] = charges_of(card_app, FIRST)
    assert f"このお支払い（収納番号 {charge.receipt_number}、700円）は取り消しますので、料金は請求されません。" in page
    assert 'href="/payment/">クレジット決済 選択' in page
    assert charge.status is ChargeStatus.CAPTURED and charge.void_status is VoidStatus.PENDING
    assert booking(card_app, FIRST).state is ReservationState.PROVISIONAL
    with db(card_app).read_session() as s:
        assert s.scalar(select(Settlement.status)) is SettlementStatus.SUPERSEDED


def test_a_first_payment_completed_after_the_slot_started_is_voided(payer, card_app, payment_provider):
    """DESIGN rule 4: never after the slot starts, however long the card page was kept
    open (延長)."""
    change_booking(card_app, FIRST, use_date=date(2026, 11, 25), starts_at=wall_time(10, 30), ends_at=wall_time(12, 0))
    jst = timezone(timedelta(hours=9))
    payment_provider.app.config["CLOCK"].set(datetime(2026, 11, 25, 10, 20, tzinfo=jst))  # its page open until 10:35
    payment_url = payer.to_card_page(FIRST)  # at 10:00 JST by our clock, in time
    late = datetime(2026, 11, 25, 10, 31, tzinfo=jst)
    card_app.config["FROZEN_NOW"] = late.isoformat()
    payment_provider.app.config["CLOCK"].set(late)  # both clocks: the card company captures at 10:31 too
    back = payer.come_back(payer.pay_at_card_company(payment_url))
    page = text(payer.get(back.headers["Location"]))
    assert "<h1>利用開始時刻を過ぎたため、クレジット決済を取り消します</h1>" in page
    [charge] = charges_of(card_app, FIRST)
    assert f"このお支払い（収納番号 {charge.receipt_number}、700円）は取り消しますので、料金は請求されません。" in page
    assert "ご利用については、利用施設までお問い合わせください。" in page
    assert charge.status is ChargeStatus.CAPTURED and charge.void_status is VoidStatus.PENDING
    assert booking(card_app, FIRST).state is ReservationState.PROVISIONAL
    [mail] = [m for m in mails(card_app) if m.dedupe_key == f"superseded:{charge.receipt_number}"]
    assert "利用開始時刻を過ぎてからお支払いが完了したため、この決済は取り消します。請求は発生しません。" in mail.body


# -- return and notify -----------------------------------------------------------------------


def test_a_forged_return_changes_nothing(payer, card_app):
    payer.to_card_page(FIRST)
    for query, status in [
        ("", 400),
        ("?session_id=", 400),
        ("?session_id=<script>", 400),
        ("?session_id=%00", 400),
        ("?session_id=cs_" + "A" * 40, 404),  # the shape of one, unknown to the card company
    ]:
        response = payer.get("/payment/return" + query)
        assert response.status_code == status, query
        assert "決済の手続きが見つかりません。" in text(response)
    with db(card_app).read_session() as s:
        assert s.scalar(select(Settlement.status)) is SettlementStatus.PAYING


def test_a_return_with_someone_elses_session_changes_nothing(payer, card_app):
    payment_url = payer.to_card_page(FIRST)
    back = urlsplit(payer.pay_at_card_company(payment_url).headers["Location"])
    with db(card_app).write() as s:
        s.scalar(select(Resident).where(Resident.registration_number == "00040676")).email = "komaba@example.jp"
    komaba = Payer(card_app, number="40676")
    response = komaba.get(f"{back.path}?{back.query}")
    assert response.status_code == 404
    assert "決済の手続きが見つかりません。" in text(response)
    assert FIRST not in text(response)
    with db(card_app).read_session() as s:
        assert s.scalar(select(Settlement.status)) is SettlementStatus.PAYING
    assert booking(card_app, FIRST).state is ReservationState.PROVISIONAL
    # Its owner's return still records it.
    assert payer.get(f"{back.path}?{back.query}").status_code == 303
    assert booking(card_app, FIRST).state is ReservationState.CONFIRMED


def test_the_same_return_twice_records_once(payer, card_app):
    payment_url = payer.to_card_page(FIRST)
    back = urlsplit(payer.pay_at_card_company(payment_url).headers["Location"])
    first = payer.get(f"{back.path}?{back.query}")
    second = payer.get(f"{back.path}?{back.query}")
    assert first.headers["Location"] == second.headers["Location"]
    assert len(mails(card_app)) == 1 and len(charges_of(card_app, FIRST)) == 1


def notification(document: dict, *, event_id="evt_test", kind="payment.captured") -> bytes:
    return json.dumps(
        {"event_id": event_id, "type": kind, "occurred_at": document.get("captured_at"), "session": document}
    ).encode()


def signed_post(client, body: bytes, secret=PAYMENT_SECRET, path="/payment/notify"):
    return client.post(
        path, data=body, headers={"Content-Type": "application/json", **sign(secret, "POST", path, body)}
    )


def provider_document(card_app, session_id: str) -> dict:
    target = f"/api/sessions/{session_id}"
    return requests.get(
        card_app.config["PAYMENT_PROVIDER_URL"] + target, headers=sign(PAYMENT_SECRET, "GET", target, b""), timeout=10
    ).json()


def test_a_notification_with_a_bad_signature_is_refused(payer, card_app):
    payment_url = payer.to_card_page(FIRST)
    payer.pay_at_card_company(payment_url)
    document = provider_document(card_app, payment_url.rsplit("/", 1)[1])
    body = notification(document)
    anonymous = card_app.test_client()
    assert signed_post(anonymous, body, secret="not-the-secret").status_code == 401
    assert anonymous.post("/payment/notify", data=body, headers={"Content-Type": "application/json"}).status_code == 401
    tampered = notification({**document, "amount_yen": 1})
    headers = sign(PAYMENT_SECRET, "POST", "/payment/notify", body)
    assert anonymous.post("/payment/notify", data=tampered, headers=headers).status_code == 401
    assert booking(card_app, FIRST).state is ReservationState.PROVISIONAL
    assert signed_post(anonymous, b"not json").status_code == 400
    for stamp in ("\u00b2", "\u00b3\u00b9"):  # digits to str.isdigit(), not to int()
        forged = {"X-Timestamp": stamp, "X-Signature": "sha256=" + "0" * 64, "Content-Type": "application/json"}
        assert anonymous.post("/payment/notify", data=body, headers=forged).status_code == 401


def test_a_notification_twice_records_once_and_answers_200_both_times(payer, card_app):
    payment_url = payer.to_card_page(FIRST)
    payer.pay_at_card_company(payment_url)
    document = provider_document(card_app, payment_url.rsplit("/", 1)[1])
    anonymous = card_app.test_client()  # the card company has no session with us
    assert signed_post(anonymous, notification(document)).status_code == 200
    assert signed_post(anonymous, notification(document)).status_code == 200
    assert booking(card_app, FIRST).state is ReservationState.CONFIRMED
    assert len(mails(card_app)) == 1
    with db(card_app).read_session() as s:
        assert s.scalar(select(func.count()).select_from(Message).where(Message.outbox_mail_id.is_not(None))) == 1
    # The browser's return afterwards shows 完了.
    back = urlsplit(f"/payment/return?session_id={document['session_id']}")
    done = payer.get(payer.get(f"{back.path}?{back.query}").headers["Location"])
    assert "<h1>クレジット決済 完了</h1>" in text(done)


def test_a_notification_for_another_reference_changes_nothing_and_a_time_without_offset_is_utc(payer, card_app):
    payment_url = payer.to_card_page(FIRST)
    payer.pay_at_card_company(payment_url)
    document = provider_document(card_app, payment_url.rsplit("/", 1)[1])
    anonymous = card_app.test_client()
    answer = signed_post(anonymous, notification({**document, "merchant_reference": SECOND}))
    assert answer.status_code == 200 and answer.get_json()["known"] is False
    assert booking(card_app, FIRST).state is ReservationState.PROVISIONAL and mails(card_app) == []
    naive = {**document, "captured_at": "2026-11-25T01:05:00"}
    assert signed_post(anonymous, notification(naive)).status_code == 200
    [charge] = charges_of(card_app, FIRST)
    assert charge.captured_at == datetime(2026, 11, 25, 1, 5, tzinfo=UTC)
    assert booking(card_app, FIRST).state is ReservationState.CONFIRMED


def test_notifications_from_the_served_card_company_arrive_before_the_return(served_app, payment_provider):
    faults(payment_provider.base_url, reset=True, duplicate_notifications=True)
    payer = Payer(served_app)
    payment_url = payer.to_card_page(FIRST)
    back = payer.pay_at_card_company(payment_url)

    def settled():
        return booking(served_app, FIRST).state is ReservationState.CONFIRMED

    wait_for(settled)
    time.sleep(1.5)  # the duplicate too
    assert len(mails(served_app)) == 1
    location = urlsplit(back.headers["Location"])
    assert location.netloc == urlsplit(served_app.config["PUBLIC_BASE_URL"]).netloc
    done = payer.get(payer.come_back(back).headers["Location"])
    assert "<h1>クレジット決済 完了</h1>" in text(done)
    assert len(mails(served_app)) == 1


def test_result_pages_belong_to_their_owner(payer, card_app):
    payer.to_terms(FIRST)
    with db(card_app).write() as s:
        s.scalar(select(Resident).where(Resident.registration_number == "00040676")).email = "komaba@example.jp"
        settlement_id = s.scalar(select(Settlement.id))
    komaba = Payer(card_app, number="40676")
    for url in (f"/payment/settlements/{settlement_id}", f"/payment/settlements/{settlement_id}/terms"):
        response = komaba.get(url)
        assert response.status_code == 404 and "指定された情報が見つかりません。" in text(response)
    page = text(komaba.get("/mymenu/"))
    posted = komaba.client.post(
        f"/payment/settlements/{settlement_id}/terms", data={"csrf_token": csrf_token_from(page), "agree": "y"}
    )
    assert posted.status_code == 404
    assert count(card_app, CardCharge) == 0
    assert payer.get("/payment/settlements/2147483648").status_code == 404


def test_the_screens_render_in_english(payer, card_app):
    page = text(payer.get("/"))
    payer.client.post("/settings/language", data={"csrf_token": csrf_token_from(page), "locale": "en", "next": "/"})
    for url in ("/payment/", f"/payment/{FIRST}", payer.to_terms(FIRST)):
        response = payer.get(url)
        assert response.status_code == 200
        assert '<html lang="en"' in text(response)
