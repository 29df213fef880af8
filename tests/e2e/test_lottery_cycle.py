"""The lottery's whole cycle over real HTTP (issue 9): a resident enters a slot through the
grid, 詳細申請 and 抽選申込確認; the result date comes and the worker draws the month by
itself; the entry is 当選 in 抽選申込の確認・取消, the notice is in メッセージの確認 and one mail
arrives; the 当選 is paid by card through クレジット決済 (the stand-in card company served)."""

from __future__ import annotations

import re
from datetime import date, datetime

from sqlalchemy import select

from models.lottery import LotteryEntry, LotteryMonth
from models.reservation_rules import ReservationState
from tests.e2e.test_payment_failures import MEGURO_EMAIL, from_confirm, pay, receipt_on

WASHITSU = 3  # 駒場住区センター 和室, a lottery room
DAY = date(2027, 2, 5)
SLOT = f"{WASHITSU}:{DAY.isoformat()}:9"  # no other group entered it


def test_apply_draw_win_and_pay_by_card(site):
    browser = site.resident()
    slots = browser.get(f"/availability/slots?cell={WASHITSU}:2027-02-05&facility=013")
    assert "抽選受付中" in slots.text
    details = browser.submit(slots, "抽選申込へ進む ›", {"slot": SLOT})
    assert details.h1 == "詳細申請" and "/lottery/details" in details.url, details.text[:300]
    purpose = re.search(r'<option value="(\d+)">', details.html).group(1)
    confirm = browser.submit(details, "次へ進む", {"r3-purpose": purpose, "r3-attendees": "8", "r3-charges_fee": "no"})
    assert confirm.h1 == "抽選申込確認", confirm.text[:300]
    done = browser.submit(confirm, "抽選に申込む")
    assert done.h1 == "抽選申込完了", done.text[:300]
    assert re.search(r"抽選申込番号 2026-\d{6}", done.text)
    assert "抽選結果の発表日: 2026/12/7(月) 09:00" in done.text

    # The result date comes: the worker draws the month by itself and sends the notices.
    with site.app.extensions["database"].read_session() as s:
        month = s.scalar(select(LotteryMonth).where(LotteryMonth.use_month == datetime(2027, 2, 1).date()))
        result_at = month.result_at
    site.app.config["FROZEN_NOW"] = result_at.isoformat()
    site.worker()
    with site.app.extensions["database"].read_session() as s:
        entry = s.scalar(
            select(LotteryEntry).where(
                LotteryEntry.room_id == WASHITSU, LotteryEntry.use_date == DAY, LotteryEntry.time_band_id == 9
            )
        )
        assert entry.state is ReservationState.WON
        number = entry.reservation.number

    listed = browser.get("/mymenu/lottery?state=won")
    assert f"予約番号 {number}" in listed.text and "支払期限: 2026/12/21(月)" in listed.text
    messages = browser.get("/mymenu/messages")
    assert "抽選結果" in messages.text
    lottery_mails = [m for m in site.mail_messages if "抽選" in m["Subject"]]
    assert [m["To"] for m in lottery_mails] == [MEGURO_EMAIL]
    body = lottery_mails[0].get_content()
    assert "【当選】" in body and number in body

    # Paid by card: クレジット決済 lists the 当選 with its deadline, and the payment completes.
    chooser = browser.get("/payment/")
    assert number in chooser.text
    card = from_confirm(site, browser, browser.get(chooser.link(f"決済 予約番号 {number}")))
    paid = pay(browser, card)
    assert paid.h1 == "クレジット決済 完了", paid.text[:400]
    receipt_on(paid)
    with site.app.extensions["database"].read_session() as s:
        entry = s.scalar(
            select(LotteryEntry).where(
                LotteryEntry.room_id == WASHITSU, LotteryEntry.use_date == DAY, LotteryEntry.time_band_id == 9
            )
        )
        assert entry.reservation.state is ReservationState.CONFIRMED
    assert "Result: the ledgers agree." in site.reconcile()
