"""Issue 3's failures, each end to end against the served processes: our app and the
stand-in card company over real HTTP, the resident's browser following the real forms and
redirects (ours → the card page → ours), the card company's notifications arriving over
HTTP, the worker run with its real jobs, mail read from a real SMTP server.

Each case ends with what the resident sees, what our database holds, the card company's
ledger, and `flask reconcile` reporting agreement. None charges twice, loses a payment or
answers 5xx (the `site` fixture fails the test on any server error).

Demo resident 00040675 (目黒団体) holds, from the frozen today (2026-11-25), 仮予約
2026-000001 (区民センター社会教育館 702, 700円, 2026/12/25 9:00~12:00)."""

from __future__ import annotations

import re
import time
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from sqlalchemy import func, select

from mail.delivery import RETRY_BASE
from models.notice import Message
from models.payment import ChargeStatus, Settlement, SettlementStatus, VoidStatus
from models.reservation_rules import ReservationState
from payments.voids import VOID_RETRY_BASE
from tests.e2e.conftest import Browser, Page, Site, at_once
from tests.web.card_support import move_clock
from tests.web.test_payment import (
    DECLINED_CARD,
    FIRST,
    GOOD_CARD,
    booking,
    change_booking,
    charges_of,
    count,
    mails,
    rows_of,
    wait_for,
)
from worker.jobs import STALE_SESSION_AFTER

CAPTURE_SUBJECT = "目黒区施設予約システム 使用料の決済完了通知"
VOID_SUBJECT = "目黒区施設予約システム 使用料の決済取消通知"
MEGURO_EMAIL = "meguro-dantai@example.jp"
RECEIPT = re.compile(r"収納番号 (\d{16})")


# -- the resident's way through the screens ------------------------------------------------


def to_card_page(site: Site, browser: Browser, number: str = FIRST) -> Page:
    """マイメニュー → クレジット決済 → 決済 → 確定 → 同意します, 次へ進む: the browser lands on
    the card company's page."""
    menu = browser.get("/mymenu/")
    chooser = browser.get(menu.link("クレジット決済"))
    assert chooser.h1 == "クレジット決済 選択", chooser.text[:300]
    return from_confirm(site, browser, browser.get(chooser.link(f"決済 予約番号 {number}")))


def from_confirm(site: Site, browser: Browser, confirm: Page) -> Page:
    """確定 on クレジット決済 確認, then 同意します and 次へ進む on 注意事項."""
    assert confirm.h1 == "クレジット決済 確認", confirm.text[:300]
    terms = browser.submit(confirm, "確定")
    assert terms.h1 == "クレジット決済 注意事項", terms.text[:300]
    card = browser.submit(terms, "次へ進む", {"agree": "y"})
    assert card.status == 200 and card.url.startswith(site.provider.url("/pay/cs_")), (card.status, card.url)
    assert card.h1 == "クレジットカード決済"
    return card


def card_details(card: Page, number: str = GOOD_CARD) -> dict[str, str]:
    """The card number and security code typed, the expiry chosen from the page's selects."""
    years = [v for v, _ in next(c for c in card.form("お支払い").controls if c.name == "expiry_year").options if v]
    return {"card_number": number, "expiry_month": "12", "expiry_year": years[3], "security_code": "123"}


def pay(browser: Browser, card: Page, number: str = GOOD_CARD, *, follow: bool = True) -> Page:
    """お支払い on the card page (follow=False: the browser is closed before the redirect)."""
    return browser.submit(card, "お支払い", card_details(card, number), follow=follow)


def receipt_on(page: Page) -> str:
    match = RECEIPT.search(page.text)
    assert match, f"no 収納番号 on {page.url}: {page.text[:400]}"
    return match.group(1)


def state_listed(browser: Browser, number: str) -> str:
    """The 状態 cell of the booking's row in マイメニュー's 予約内容の確認・取消."""
    listed = browser.get("/mymenu/reservations")
    return next(row[0] for row in rows_of(listed.html) if row[1] == number)


def settlement_statuses(site: Site) -> list[SettlementStatus]:
    with site.app.extensions["database"].read_session() as s:
        return list(s.scalars(select(Settlement.status).order_by(Settlement.id)))


def messages_count(site: Site) -> int:
    with site.app.extensions["database"].read_session() as s:
        return s.scalar(select(func.count()).select_from(Message))


def ledger_of(site: Site) -> tuple[dict[str, tuple[int, bool]], int]:
    """The card company's charges (receipt → (amount, voided)) and what it holds."""
    ledger = site.ledger()
    return {c["receipt_number"]: (c["amount_yen"], c["voided"]) for c in ledger["charges"]}, ledger["held_yen"]


def delivered(site: Site, subject: str) -> list[str]:
    """Bodies of the mails the SMTP server received with `subject`."""
    return [m.get_content() for m in site.mail_messages if m["Subject"] == subject]


def assert_paid_once(site: Site, browser: Browser, done: Page) -> str:
    """The whole outcome of one good payment of FIRST: 完了 with its 16-digit 収納番号, the
    booking 本予約 支払済, one capture in each ledger (any other attempt charged nothing),
    the mail with the same 収納番号, and both ledgers agreeing. Returns the 収納番号."""
    assert done.status == 200 and done.h1 == "クレジット決済 完了", (done.status, done.text[:400])
    receipt = receipt_on(done)
    assert receipt.startswith("039") and receipt[3:11] == "20261125"
    assert "決済予定額 700円 収納番号 " + receipt in done.text
    charges = charges_of(site.app, FIRST)
    [charge] = [c for c in charges if c.status is ChargeStatus.CAPTURED]
    assert (charge.receipt_number, charge.void_status) == (receipt, VoidStatus.NONE)
    assert all(c.status is ChargeStatus.FAILED for c in charges if c is not charge)
    assert booking(site.app, FIRST).state is ReservationState.CONFIRMED
    assert ledger_of(site) == ({receipt: (700, False)}, 700)
    assert state_listed(browser, FIRST).startswith("本予約 支払済")

    site.worker()
    [body] = delivered(site, CAPTURE_SUBJECT)
    assert f"収納番号：{receipt}" in body and "決済額：700円" in body
    assert [m["To"] for m in site.mail_messages] == [MEGURO_EMAIL]
    assert "Result: the ledgers agree." in site.reconcile()
    return receipt


# -- at the card company ---------------------------------------------------------------------


def test_a_declined_card_then_a_good_one(site):
    browser = site.resident()
    card = to_card_page(site, browser)

    declined = pay(browser, card, DECLINED_CARD)

    # Still on the card company's page, told why, the card number cleared for another.
    assert declined.status == 422 and declined.url == card.url
    assert declined.title.startswith("エラー: ")
    assert "このカードはご利用いただけませんでした(カード会社が決済を承認しませんでした)。" in declined.text
    assert booking(site.app, FIRST).state is ReservationState.PROVISIONAL
    assert site.ledger()["charges"] == []
    assert site.reconcile()

    done = pay(browser, declined)

    # The browser went back through our return URL with the session id only.
    assert any(urlsplit(u).path == "/payment/return" for u in done.visited)
    assert_paid_once(site, browser, done)


def test_cancelling_on_the_card_page_charges_nothing_and_the_way_back_pays(site):
    browser = site.resident()
    card = to_card_page(site, browser)

    ended = browser.submit(card, "決済を中止する")

    assert ended.status == 200 and urlsplit(ended.url).netloc == urlsplit(site.base_url).netloc
    assert ended.h1 == "クレジット決済は行われませんでした"
    assert "お支払い画面で「決済を中止する」が押されたため、クレジット決済は行われませんでした。" in ended.text
    assert "料金は請求されていません。" in ended.text
    [charge] = charges_of(site.app, FIRST)
    assert charge.status is ChargeStatus.FAILED
    assert settlement_statuses(site) == [SettlementStatus.ABANDONED]
    assert booking(site.app, FIRST).state is ReservationState.PROVISIONAL
    assert site.ledger()["charges"] == []
    # The card company's notification of the cancel arrives as well and changes nothing.
    wait_for(lambda: [a.status for a in site.requests.notifications()] == [200])
    assert settlement_statuses(site) == [SettlementStatus.ABANDONED]
    assert "mail: sent 0, failed 0" in site.worker()
    assert site.mail_messages == [] and mails(site.app) == []
    site.reconcile()

    # もう一度クレジット決済を行う: 確認 again, a new 収納番号, paid.
    again = browser.get(ended.link(f"もう一度クレジット決済を行う 予約番号 {FIRST}"))
    done = pay(browser, from_confirm(site, browser, again))
    assert receipt_on(done) != charge.receipt_number
    assert_paid_once(site, browser, done)


def test_the_time_limit_running_out_charges_nothing(site):
    site.provider_config(PAYMENT_SESSION_SECONDS=4)  # the guide's 15 minutes, shortened
    browser = site.resident()
    card = to_card_page(site, browser)
    assert "までに処理を完了させてください。" in card.text

    # The card details typed only after the end time the page shows.
    # (Counted on the card company's clock, as its page script does: it runs on another day.)
    ends = datetime.fromisoformat(re.search(r'data-expires-at="([^"]+)"', card.html).group(1))
    shown = datetime.fromisoformat(re.search(r'data-server-now="([^"]+)"', card.html).group(1))
    time.sleep(max(0.0, (ends - shown).total_seconds()) + 0.5)
    late = pay(browser, card)

    # Back on our site: what happened, that nothing was charged, and the way to try again.
    assert late.status == 200 and late.h1 == "クレジット決済は行われませんでした"
    assert "お支払い画面の制限時間を過ぎたため、クレジット決済は行われませんでした。" in late.text
    assert "料金は請求されていません。" in late.text
    assert late.link(f"もう一度クレジット決済を行う 予約番号 {FIRST}").endswith(f"/payment/{FIRST}")
    [charge] = charges_of(site.app, FIRST)
    assert charge.status is ChargeStatus.FAILED
    assert settlement_statuses(site) == [SettlementStatus.ABANDONED]
    assert booking(site.app, FIRST).state is ReservationState.PROVISIONAL
    assert site.ledger()["charges"] == []
    site.worker()
    assert site.mail_messages == []
    site.reconcile()


def test_the_browser_closed_on_the_card_page_and_the_notification_arriving_later(site):
    site.faults(delay_notifications_seconds=4)
    browser = site.resident()
    card = to_card_page(site, browser)

    paid = pay(browser, card, follow=False)  # paid, and the browser closed before coming back

    assert paid.status == 303 and urlsplit(paid.location).path == "/payment/return"
    assert booking(site.app, FIRST).state is ReservationState.PROVISIONAL  # nothing known here yet
    assert settlement_statuses(site) == [SettlementStatus.PAYING]
    pending = site.reconcile()  # captured there, not recorded here yet: not a mismatch
    assert "Capture pending (not a mismatch: the return, the notification or the worker records it): 1" in pending

    wait_for(lambda: booking(site.app, FIRST).state is ReservationState.CONFIRMED)

    assert [a.status for a in site.requests.notifications()] == [200]
    assert settlement_statuses(site) == [SettlementStatus.COMPLETED]
    # The resident comes back later through マイメニュー: paid, with the 収納番号 in 詳細.
    [charge] = charges_of(site.app, FIRST)
    detail = browser.get(f"/mymenu/reservations/{FIRST}")
    assert "本予約 支払済" in detail.text and charge.receipt_number in detail.text
    # …and the return URL, opened again from the history, shows 完了.
    assert_paid_once(site, browser, browser.follow(paid))
    assert len(mails(site.app)) == 1


def test_the_browser_never_returning_and_no_notification_the_worker_records_the_payment(site):
    site.faults(delay_notifications_seconds=3600)  # no notification within the test
    browser = site.resident()
    paid = pay(browser, to_card_page(site, browser), follow=False)

    early = site.worker()  # the browser may still come back: not asked yet
    assert "card sessions: settled 0, still open 0" in early
    assert booking(site.app, FIRST).state is ReservationState.PROVISIONAL

    move_clock(site.app, STALE_SESSION_AFTER)
    late = site.worker()

    assert "card sessions: settled 1" in late
    assert booking(site.app, FIRST).state is ReservationState.CONFIRMED
    assert site.requests.notifications() == []
    [charge] = charges_of(site.app, FIRST)
    assert [f"収納番号：{charge.receipt_number}" in body for body in delivered(site, CAPTURE_SUBJECT)] == [True]
    # Whenever the browser does come back, it shows the same 完了 and changes nothing.
    done = browser.follow(paid)
    assert done.h1 == "クレジット決済 完了" and receipt_on(done) == charge.receipt_number
    assert_paid_once_more(site)


def assert_paid_once_more(site: Site) -> None:
    """After everything: still one capture of 700円 on both sides, one mail, agreement."""
    site.worker()
    [charge] = [c for c in charges_of(site.app, FIRST) if c.status is ChargeStatus.CAPTURED]
    assert charge.is_live
    assert ledger_of(site) == ({charge.receipt_number: (700, False)}, 700)
    assert len(delivered(site, CAPTURE_SUBJECT)) == 1 and len(mails(site.app)) == 1
    site.reconcile()


# -- notifications and the return URL ----------------------------------------------------------


def test_the_notification_twice_and_before_the_return_records_once(site):
    site.faults(duplicate_notifications=True)
    browser = site.resident()
    paid = pay(browser, to_card_page(site, browser), follow=False)

    wait_for(lambda: [a.status for a in site.requests.notifications()] == [200, 200])

    assert booking(site.app, FIRST).state is ReservationState.CONFIRMED
    assert len(mails(site.app)) == 1 and messages_count(site) == 1
    assert settlement_statuses(site) == [SettlementStatus.COMPLETED]
    # The browser's return, after both, shows 完了 and records nothing more.
    receipt = assert_paid_once(site, browser, browser.follow(paid))
    assert len(mails(site.app)) == 1 and messages_count(site) == 1
    assert ledger_of(site) == ({receipt: (700, False)}, 700)


def test_the_return_url_replayed_forged_or_someone_elses_changes_nothing(site):
    site.faults(delay_notifications_seconds=3600)  # only the return can record the payment
    browser = site.resident()
    paid = pay(browser, to_card_page(site, browser), follow=False)
    back = paid.location

    # 駒場サークル registers a mail address at the gate, then opens 目黒団体's return URL.
    komaba = site.browser()
    komaba.log_in("40676")
    gate = komaba.get("/payment/")
    assert gate.h1 == "メールアドレスの変更"
    chooser = komaba.submit(gate, "次へ進む", {"email": "komaba@example.jp", "email_confirm": "komaba@example.jp"})
    assert chooser.h1 == "クレジット決済 選択"
    theirs = komaba.get(back)
    assert theirs.status == 404
    assert "決済の手続きが見つかりません。" in theirs.text and FIRST not in theirs.html
    # Forged: not the shape of a session id, or one the card company does not know.
    for forged, status in [
        ("/payment/return", 400),
        ("/payment/return?session_id=%3Cscript%3E", 400),
        ("/payment/return?session_id=%00", 400),
        ("/payment/return?session_id=cs_" + "A" * 40, 404),
    ]:
        answer = komaba.get(forged)
        assert answer.status == status, forged
        assert "決済の手続きが見つかりません。" in answer.text, forged
    # Someone not logged in is asked to log in, and nothing is recorded.
    stranger = site.browser().get(back)
    assert stranger.path == "/login"
    assert booking(site.app, FIRST).state is ReservationState.PROVISIONAL
    assert settlement_statuses(site) == [SettlementStatus.PAYING]
    assert mails(site.app) == []

    # Its owner's return records it; the same return again shows the same page, once.
    done = browser.follow(paid)
    replayed = browser.get(back)
    assert replayed.url == done.url
    receipt = assert_paid_once(site, browser, done)
    assert receipt_on(replayed) == receipt
    assert len(mails(site.app)) == 1 and messages_count(site) == 1


# -- voids and mail ------------------------------------------------------------------------------


def test_a_failing_void_is_retried_by_the_worker_and_nothing_is_lost(site):
    browser = site.resident()
    first = receipt_on(pay(browser, to_card_page(site, browser)))
    change_booking(site.app, FIRST, facility_fee_yen=1200)  # as if a 500円 projector were added
    site.faults(fail_next_voids=2)

    confirm = browser.get(f"/payment/{FIRST}")
    assert f"クレジット取消予定額 700円 取消収納番号 {first}" in confirm.text
    done = pay(browser, from_confirm(site, browser, confirm))

    assert done.h1 == "クレジット決済 完了"
    second = receipt_on(done)
    assert f"決済予定額 1,200円 収納番号 {second}" in done.text
    assert f"クレジット取消予定額 700円 取消収納番号 {first}" in done.text
    # Captured first: for a moment the card company holds both; ours has the old one pending.
    assert ledger_of(site) == ({first: (700, False), second: (1200, False)}, 1900)
    site.reconcile()

    failed = site.worker()
    assert "voids: voided 0, failed 1" in failed
    old, new = charges_of(site.app, FIRST)
    assert (old.void_status, old.void_attempts, new.is_live) == (VoidStatus.PENDING, 1, True)
    assert "void_failed" in old.void_last_error
    assert ledger_of(site)[1] == 1900
    site.reconcile()  # a pending void is not a mismatch
    detail = browser.get(f"/mymenu/reservations/{FIRST}")
    assert f"{first} 2026/11/25(水) 700円 取消処理中" in detail.text

    move_clock(site.app, VOID_RETRY_BASE)
    assert "voids: voided 0, failed 1" in site.worker()
    move_clock(site.app, 2 * VOID_RETRY_BASE)
    assert "voids: voided 1, failed 0" in site.worker()

    old, new = charges_of(site.app, FIRST)
    assert (old.void_status, old.void_attempts) == (VoidStatus.VOIDED, 2) and new.is_live
    assert ledger_of(site) == ({first: (700, True), second: (1200, False)}, 1200)
    assert "voids: voided 0, failed 0" in site.worker()  # voided once, never again
    assert ledger_of(site)[1] == 1200
    # Every mail once, 取消通知 before the second 完了通知.
    assert [m["Subject"] for m in site.mail_messages] == [CAPTURE_SUBJECT, VOID_SUBJECT, CAPTURE_SUBJECT]
    assert f"収納番号：{first}" in delivered(site, VOID_SUBJECT)[0]
    assert f"収納番号：{second}" in delivered(site, CAPTURE_SUBJECT)[1]
    detail = browser.get(f"/mymenu/reservations/{FIRST}")
    assert f"{first} 2026/11/25(水) 700円 取消済（2026/11/25(水)）" in detail.text
    assert f"{second} 2026/11/25(水) 1,200円 決済済" in detail.text
    assert state_listed(browser, FIRST).startswith("本予約 支払済")
    site.reconcile()


def test_smtp_down_at_the_first_send_delivers_the_mail_later_and_once(site):
    site.smtp.stop()
    browser = site.resident()
    done = pay(browser, to_card_page(site, browser))
    receipt = receipt_on(done)

    down = site.worker()

    assert "mail: sent 0, failed 1" in down
    [mail] = mails(site.app)
    assert mail.sent_at is None and mail.attempts == 1 and mail.last_error

    site.smtp.start()
    assert "mail: sent 0, failed 0" in site.worker()  # not before its retry time
    move_clock(site.app, RETRY_BASE)
    assert "mail: sent 1, failed 0" in site.worker()

    [body] = delivered(site, CAPTURE_SUBJECT)
    assert f"収納番号：{receipt}" in body  # the 収納番号 the screen showed
    move_clock(site.app, timedelta(hours=2))
    site.worker()
    assert len(site.mail_messages) == 1
    # メッセージの確認 had it all along.
    inbox = browser.get("/mymenu/messages")
    assert CAPTURE_SUBJECT in inbox.text
    assert ledger_of(site) == ({receipt: (700, False)}, 700)
    site.reconcile()


# -- pressed twice -----------------------------------------------------------------------------


def test_kakutei_next_and_oshiharai_each_pressed_twice_at_once_charge_once(site):
    browser = site.resident()
    tab = browser.another_tab()
    confirm = browser.get(f"/payment/{FIRST}")

    terms, terms_again = at_once(lambda: browser.submit(confirm, "確定"), lambda: tab.submit(confirm, "確定"))

    assert terms.h1 == terms_again.h1 == "クレジット決済 注意事項" and terms.url == terms_again.url
    assert count(site.app, Settlement) == 1

    card, card_again = at_once(
        lambda: browser.submit(terms, "次へ進む", {"agree": "y"}),
        lambda: tab.submit(terms_again, "次へ進む", {"agree": "y"}),
    )

    assert card.url == card_again.url and card.url.startswith(site.provider.url("/pay/"))
    [charge] = charges_of(site.app, FIRST)  # one 収納番号, one card page
    assert card.url.endswith(charge.provider_session_id)

    done, done_again = at_once(lambda: pay(browser, card), lambda: pay(tab, card_again))

    assert done.url == done_again.url
    assert receipt_on(done_again) == charge.receipt_number
    assert_paid_once(site, browser, done)
    assert len(mails(site.app)) == 1 and messages_count(site) == 1


# -- the booking changed in another tab ----------------------------------------------------------


def test_the_fee_changed_while_the_card_page_was_open_voids_the_capture_at_once(site):
    browser = site.resident()
    card = to_card_page(site, browser)
    change_booking(site.app, FIRST, facility_fee_yen=1200)  # another tab added equipment

    told = pay(browser, card)

    assert told.status == 200 and told.h1 == "予約の内容が変更されたため、クレジット決済を取り消します"
    [charge] = charges_of(site.app, FIRST)
    assert (
        f"このお支払い（収納番号 {charge.receipt_number}、700円）は取り消しますので、料金は請求されません。"
        in told.text
    )
    # Voided at once: due now, sent by the worker's next pass.
    assert (charge.status, charge.void_status) == (ChargeStatus.CAPTURED, VoidStatus.PENDING)
    assert charge.next_void_at == charge.void_requested_at
    assert settlement_statuses(site) == [SettlementStatus.SUPERSEDED]
    assert booking(site.app, FIRST).state is ReservationState.PROVISIONAL
    site.reconcile()

    assert "voids: voided 1, failed 0" in site.worker()

    assert ledger_of(site) == ({charge.receipt_number: (700, True)}, 0)
    [body] = delivered(site, VOID_SUBJECT)
    assert "予約の内容が変更されたため、この決済は取り消します。請求は発生しません。" in body
    assert charge.receipt_number in body
    assert VOID_SUBJECT in browser.get("/mymenu/messages").text  # メッセージの確認 too
    site.reconcile()
    # The booking still waits for its new fee: 選択 offers 1,200円, and it can be paid.
    row = next(r for r in rows_of(browser.get("/payment/").html) if r[1] == FIRST)
    assert row[4:6] == ["0円", "1,200円"] and f"決済 予約番号 {FIRST}" in row[6]
    done = pay(browser, to_card_page(site, browser))
    receipt = receipt_on(done)
    assert f"決済予定額 1,200円 収納番号 {receipt}" in done.text
    assert ledger_of(site) == ({charge.receipt_number: (700, True), receipt: (1200, False)}, 1200)
    assert booking(site.app, FIRST).state is ReservationState.CONFIRMED
    site.reconcile()


def test_the_booking_cancelled_while_the_card_page_was_open_voids_the_capture_at_once(site):
    browser = site.resident()
    card = to_card_page(site, browser)
    # Another tab: 予約内容の確認・取消 → 取消 ticked, 次へ進む → 予約の取消 確認 → 取消.
    tab = browser.another_tab()
    chosen = tab.submit(tab.get("/mymenu/reservations"), "次へ進む", {"number": FIRST})
    assert chosen.h1 == "予約の取消 確認", chosen.text[:300]
    cancelled = tab.submit(chosen, "取消")
    assert cancelled.h1 == "予約の取消 完了" and FIRST in cancelled.text

    told = pay(browser, card)

    assert told.h1 == "予約の内容が変更されたため、クレジット決済を取り消します"
    [charge] = charges_of(site.app, FIRST)
    assert (
        f"このお支払い（収納番号 {charge.receipt_number}、700円）は取り消しますので、料金は請求されません。"
        in told.text
    )
    assert charge.void_status is VoidStatus.PENDING
    assert booking(site.app, FIRST).state is ReservationState.CANCELLED

    assert "voids: voided 1, failed 0" in site.worker()

    assert ledger_of(site) == ({charge.receipt_number: (700, True)}, 0)
    assert [m["Subject"] for m in site.mail_messages] == [VOID_SUBJECT]
    # Nothing is left to settle: 選択 (all states) offers no 決済 for it.
    row = next(r for r in rows_of(browser.get("/payment/?state=all").html) if r[1] == FIRST)
    assert row[0].startswith("取消済") and row[4:6] == ["0円", "0円"] and "決済 予約番号" not in row[6]
    site.reconcile()


def test_two_tabs_paying_the_same_booking_share_one_card_page_and_charge_once(site):
    browser = site.resident()
    tab = browser.another_tab()
    # Each tab has its own 確認 (its own one-time token) and its own settlement, but the
    # second 次へ進む goes to the card page the first opened: one 収納番号, one card session.
    card = to_card_page(site, browser)
    other_card = to_card_page(site, tab)
    assert other_card.url == card.url
    [charge] = charges_of(site.app, FIRST)

    done = pay(browser, card)
    again = pay(tab, other_card)  # the same page, already paid: nothing more is charged

    assert done.h1 == again.h1 == "クレジット決済 完了"
    assert receipt_on(done) == receipt_on(again) == charge.receipt_number
    assert settlement_statuses(site) == [SettlementStatus.COMPLETED, SettlementStatus.ABANDONED]
    assert ledger_of(site) == ({charge.receipt_number: (700, False)}, 700)
    assert booking(site.app, FIRST).state is ReservationState.CONFIRMED
    site.worker()
    assert [m["Subject"] for m in site.mail_messages] == [CAPTURE_SUBJECT]
    site.reconcile()
