"""Refunds end to end (guide §(3) ⑦-⑪ and ⑫-⑲, DESIGN rules 9, 12, 13 and "Settlement"):
a booking paid through the served stand-in card company is cancelled on our screens, then
settled in クレジット決済 — a void only at 100 %, the cancellation fee charged on the card
page otherwise — with both mails, the worker's void, and both ledgers agreeing. Past the 180
days the settlement is refused before anything is charged."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from models.payment import CardCharge, ChargeStatus, Settlement, VoidStatus
from models.reservation_rules import ReservationState
from payments.provider import provider_client
from payments.voids import due_voids
from tests.web.test_cancel import Canceller, error_summary, row_for, rows_of, words
from tests.web.test_payment import (
    FIRST,
    Payer,
    booking,
    change_booking,
    charges_of,
    count,
    db,
    mails,
    text,
)
from worker.jobs import WorkerSettings, send_voids


@pytest.fixture
def card_app(paying_app):
    """Our app wired to the served card company; our own address unreachable to it, so that
    only the browser's return records an outcome."""
    paying_app.config["PUBLIC_BASE_URL"] = "http://127.0.0.1:9"
    return paying_app


@pytest.fixture
def payer(card_app):
    return Payer(card_app)


def cancel_on_screen(payer: Payer, number: str, reason: str = "行事の中止") -> str:
    """次へ進む, はい, はい, 取消事由, 同意します, 取消: the 完了 page."""
    canceller = Canceller(payer.client)
    start = canceller.start(number)
    assert urlsplit(start.headers["Location"]).path == "/cancel/card-paid"
    response = canceller.submit(canceller.confirm_page(number), reason=reason, agree=True)
    assert response.status_code == 303, words(text(response))[:400]
    done = payer.get(response.headers["Location"])
    assert done.status_code == 200
    return text(done)


def run_voids(app) -> list[str]:
    with app.app_context():
        settings = WorkerSettings.from_config(app.config)
        result = send_voids(
            db(app), provider_client(app.config), settings, datetime.fromisoformat(app.config["FROZEN_NOW"])
        )
    return result.voided


def ledgers(app) -> tuple[dict, dict]:
    """(ours, the provider's): captured, voided and held yen."""
    with db(app).read_session() as s:
        charges = s.scalars(select(CardCharge).where(CardCharge.status == ChargeStatus.CAPTURED)).all()
        ours = {
            "captured_yen": sum(c.amount_yen for c in charges),
            "voided_yen": sum(c.amount_yen for c in charges if c.void_status is VoidStatus.VOIDED),
            "held_yen": sum(c.amount_yen for c in charges if c.is_live),
        }
    theirs = provider_client(app.config).ledger()
    return ours, {k: theirs[k] for k in ("captured_yen", "voided_yen", "held_yen")}


def select_row(payer, number):
    return next(r for r in rows_of(text(payer.get("/payment/"))) if r[1] == number)


def test_the_180_days_count_from_the_card_companys_capture_day(payer, card_app, payment_provider):
    """Our clock and the card company's may straddle midnight in Tokyo: we issue the 収納番号
    on the 25th, the card company captures on the 26th. The charge's date and the refund
    period (the card company's rule) follow its capture day."""
    jst = timezone(timedelta(hours=9))
    card_app.config["FROZEN_NOW"] = datetime(2026, 11, 25, 23, 59, 50, tzinfo=jst).isoformat()
    payment_provider.app.config["CLOCK"].set(datetime(2026, 11, 26, 0, 0, 5, tzinfo=jst))
    payer.pay(FIRST)
    [held] = charges_of(card_app, FIRST)
    assert held.receipt_number[3:11] == "20261125"
    assert [held.receipt_number, "2026/11/26(木)", "700円", "決済済"] in rows_of(
        text(payer.get(f"/mymenu/reservations/{FIRST}"))
    )

    done = cancel_on_screen(payer, FIRST)

    assert "期限: 2027年5月25日(火)" in words(done)  # 180 days after the 26th, not the 25th


def test_a_full_refund_voids_the_charge_without_a_card_page(payer, card_app):
    """Guide ⑦-⑪: 400円 at 100 % — 取消済 400円 / 0円, 確定, 注意事項 without the external
    site line, 完了 at once, and the 取消通知 mail only."""
    payer.pay(FIRST)  # 700円, 2026/12/25: 30 days ahead
    [held] = charges_of(card_app, FIRST)
    done = cancel_on_screen(payer, FIRST)
    assert row_for(done, FIRST)[5].startswith("700円 還付率 100%")
    assert "期限: 2027年5月24日(月)" in words(done)  # 180 days after today's capture
    r = booking(card_app, FIRST)
    assert (r.state, r.refund_percent, r.cancellation_fee_yen) == (ReservationState.CANCELLED, 100, 0)

    row = select_row(payer, FIRST)
    assert row[0].startswith("取消済 支払あり(※)") and row[4:6] == ["700円", "0円"]
    assert "決済 予約番号 2026-000001" in row[6] and "クレジット取消の期限: 2027/5/24(月)" in row[6]

    confirm = payer.confirm_page(FIRST)
    assert f"クレジット取消予定額 700円 取消収納番号 {held.receipt_number}" in words(confirm)
    assert "決済処理を行う予定" not in confirm
    terms_url = payer.to_terms(FIRST)
    terms = text(payer.get(terms_url))
    assert "外部サイトに移動します" not in terms
    response = payer.next_step(terms_url)
    assert response.status_code == 303 and urlsplit(response.headers["Location"]).path.startswith(
        "/payment/settlements/"
    )
    complete = text(payer.get(response.headers["Location"]))
    assert "<h1>クレジット決済 完了</h1>" in complete
    assert f"クレジット取消予定額 700円 取消収納番号 {held.receipt_number}" in words(complete)
    assert "決済処理を行ったクレジット決済" not in complete

    [charge] = charges_of(card_app, FIRST)
    assert charge.void_status is VoidStatus.PENDING
    assert [m.subject for m in mails(card_app)] == [
        "目黒区施設予約システム 使用料の決済完了通知",  # the first payment
        "目黒区施設予約システム 使用料の決済取消通知",
    ]
    void_mail = mails(card_app)[-1].body
    assert f"収納番号：{held.receipt_number}" in void_mail and "決済取消額：700円" in void_mail
    assert "ご予約は取り消されていません。" not in void_mail  # it was cancelled: no such sentence

    assert run_voids(card_app) == [held.receipt_number]
    ours, theirs = ledgers(card_app)
    assert ours == theirs == {"captured_yen": 700, "voided_yen": 700, "held_yen": 0}
    # Settled: − in マイメニュー, 0円 / 0円 in 選択.
    listed = text(payer.get("/mymenu/reservations?state=cancelled"))
    assert row_for(listed, FIRST)[0] == "取消済 −支払なし"
    assert select_row(payer, FIRST)[4:6] == ["0円", "0円"]


def test_a_partial_refund_charges_the_cancellation_fee_on_the_card_page(payer, card_app):
    """Guide ⑫-⑲: 700円 at 75 % — void 700円, charge キャンセル料(不還付額) 175円; 取消通知
    then 完了通知 with the fee and no usage-permit paragraph."""
    change_booking(card_app, FIRST, use_date=date(2026, 12, 15))  # 20 days ahead
    payer.pay(FIRST)
    [held] = charges_of(card_app, FIRST)
    done = cancel_on_screen(payer, FIRST)
    assert row_for(done, FIRST)[5].startswith("525円 還付率 75%")
    assert (booking(card_app, FIRST).refund_percent, booking(card_app, FIRST).cancellation_fee_yen) == (75, 175)

    row = select_row(payer, FIRST)
    assert row[0].startswith("取消済 支払あり(※)") and row[4:6] == ["700円", "175円"]
    confirm = payer.confirm_page(FIRST)
    assert "決済予定額 175円" in words(confirm)
    assert f"クレジット取消予定額 700円 取消収納番号 {held.receipt_number}" in words(confirm)
    terms = text(payer.get(payer.to_terms(FIRST)))
    assert "「次へ進む」ボタンを押すと外部サイトに移動します" in terms

    complete = text(payer.pay(FIRST))
    old, new = charges_of(card_app, FIRST)
    assert f"決済予定額 175円 収納番号 {new.receipt_number}" in words(complete)
    assert f"クレジット取消予定額 700円 取消収納番号 {old.receipt_number}" in words(complete)
    assert (old.void_status, new.is_live, new.amount_yen) == (VoidStatus.PENDING, True, 175)

    subjects = [m.subject for m in mails(card_app)]
    assert subjects[1:] == [
        "目黒区施設予約システム 使用料の決済取消通知",
        "目黒区施設予約システム 使用料の決済完了通知",
    ]
    fee_mail = mails(card_app)[-1].body
    assert f"収納番号：{new.receipt_number}" in fee_mail and "決済額：175円" in fee_mail
    assert "キャンセル料(不還付額)：175円" in fee_mail
    assert "利用承認書" not in fee_mail and "使用料：" not in fee_mail

    run_voids(card_app)
    ours, theirs = ledgers(card_app)
    assert ours == theirs == {"captured_yen": 875, "voided_yen": 700, "held_yen": 175}
    r = booking(card_app, FIRST)
    assert (r.held_yen, r.due_yen) == (175, 175)
    listed = text(payer.get("/mymenu/reservations?state=cancelled"))
    assert row_for(listed, FIRST)[0] == "取消済 支払あり"  # the fee stays charged: no (※)


def test_partly_paid_then_cancelled_charges_the_fee_on_what_was_paid(payer, card_app):
    """一部支払済 (held 700円 of 1,200円) cancelled at 75 %: base 700円, fee 175円."""
    change_booking(card_app, FIRST, use_date=date(2026, 12, 15))
    payer.pay(FIRST)
    change_booking(card_app, FIRST, facility_fee_yen=1200)  # a 500円 projector added, not paid yet
    done = cancel_on_screen(payer, FIRST)
    assert row_for(done, FIRST)[5].startswith("525円 還付率 75%")
    assert booking(card_app, FIRST).cancellation_fee_yen == 175
    assert select_row(payer, FIRST)[4:6] == ["700円", "175円"]
    payer.pay(FIRST)
    run_voids(card_app)
    ours, theirs = ledgers(card_app)
    assert ours == theirs == {"captured_yen": 875, "voided_yen": 700, "held_yen": 175}


def test_no_refund_in_the_last_five_days_leaves_nothing_to_settle(payer, card_app):
    change_booking(card_app, FIRST, use_date=date(2026, 11, 30))
    payer.pay(FIRST)
    done = cancel_on_screen(payer, FIRST)
    assert row_for(done, FIRST)[5].startswith("0円 還付率 0%")
    assert "還付金が発生しています" not in done
    row = select_row(payer, FIRST)
    assert row[4:6] == ["0円", "0円"] and "決済が必要な金額はありません。" in row[6]
    assert payer.get(f"/payment/{FIRST}").status_code == 409
    assert count(card_app, Settlement) == 1  # the first payment only


def test_past_180_days_the_refund_is_refused_before_anything_is_charged(payer, card_app):
    change_booking(card_app, FIRST, use_date=date(2026, 12, 25))
    payer.pay(FIRST)
    with db(card_app).write() as s:
        charge = s.scalar(select(CardCharge))
        charge.captured_at = datetime(2026, 5, 1, 1, tzinfo=UTC)  # last void day 2026/10/28
    done = cancel_on_screen(payer, FIRST)  # cancelling itself moves no money: allowed
    assert (
        "お支払いから180日を過ぎたため（期限: 2026/10/28(水)）、オンラインでは還付できません。利用施設（区民センター社会教育館 "
        in row_for(done, FIRST)[5]
    )
    row = select_row(payer, FIRST)
    assert "お支払いから180日を過ぎたため、オンラインではクレジット取消が行えません。" in row[6]
    response = payer.get(f"/payment/{FIRST}")
    assert response.status_code == 409
    assert "クレジットでのお支払いから180日を過ぎたため（期限: 2026/10/28(水)）" in error_summary(text(response))
    assert count(card_app, Settlement) == 1
    with db(card_app).read_session() as s:
        assert [c.is_live for c in s.scalars(select(CardCharge))] == [True]
    assert due_voids_now(card_app) == []


def due_voids_now(app):
    with db(app).read_session() as s:
        return due_voids(s, datetime.fromisoformat(app.config["FROZEN_NOW"]))


def test_cancelling_while_the_card_page_is_open_voids_the_late_capture(payer, card_app):
    """The booking cancelled (unpaid) in one tab while its card page is open in another: the
    capture that then arrives is voided at once and nothing stays held."""
    payment_url = payer.to_card_page(FIRST)
    canceller = Canceller(payer.client)
    assert canceller.submit(canceller.confirm_page(FIRST)).status_code == 303
    r = booking(card_app, FIRST)
    assert (r.state, r.cancellation_fee_yen) == (ReservationState.CANCELLED, 0)
    back = payer.come_back(payer.pay_at_card_company(payment_url))
    assert back.status_code == 303
    [charge] = charges_of(card_app, FIRST)
    assert charge.void_status is VoidStatus.PENDING
    run_voids(card_app)
    ours, theirs = ledgers(card_app)
    assert ours == theirs == {"captured_yen": 700, "voided_yen": 700, "held_yen": 0}
    assert [m.subject for m in mails(card_app)] == ["目黒区施設予約システム 使用料の決済取消通知"]


def test_a_waiting_refund_is_named_on_confirm_and_terms_and_reminded_on_mymenu(payer, card_app):
    """Issue 11: the refund goes through 確認 → 注意事項 → 同意します, whose guide words are
    about paying; a line says this settlement is the 還付, and マイメニュー reminds while
    it waits, with its last day."""
    assert "取消した予約の還付です" not in payer.confirm_page(FIRST)  # paying, not refunding
    payer.pay(FIRST)
    assert "還付の手続きが済んでいない予約があります" not in text(payer.get("/mymenu/"))
    cancel_on_screen(payer, FIRST)

    menu = words(text(payer.get("/mymenu/")))
    assert "還付の手続きが済んでいない予約があります" in menu
    assert f"予約番号 {FIRST}（2026/12/25(金) 区民センター社会教育館）: 2027/5/24(月)までに" in menu, menu
    assert "この手続きが、取消した予約の還付です。" in payer.confirm_page(FIRST)
    terms_url = payer.to_terms(FIRST)
    terms = text(payer.get(terms_url))
    assert "この手続きが、取消した予約の還付です。" in terms and "還付の手続きへの同意です。" in terms
    assert payer.next_step(terms_url).status_code == 303
    assert "還付の手続きが済んでいない予約があります" not in text(payer.get("/mymenu/"))
