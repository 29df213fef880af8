"""The hosted card page as a resident sees it, and what each of its forms does."""

from __future__ import annotations

import re
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from payment_standin.i18n import JST
from payment_standin.models import Notification
from tests.standin.conftest import DECLINED_CARD, GOOD_CARD, Merchant, page_path, returned_session_id, session_path


def text_of(response) -> str:
    """The page's text without tags, whitespace collapsed."""
    html = response.get_data(as_text=True)
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    html = re.sub(r"</?(time|strong|span|a)\b[^>]*>", "", html)  # inline: no word break
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def title_of(response) -> str:
    return re.search(r"<title>(.*?)</title>", response.get_data(as_text=True), re.S).group(1)


def notifications(app, event_type=None) -> int:
    with app.extensions["standin_db"].read() as session:
        query = select(func.count()).select_from(Notification)
        if event_type:
            query = query.where(Notification.event_type == event_type)
        return session.scalar(query)


@pytest.fixture
def session(merchant):
    return merchant.create_session(amount_yen=400)


# What the page shows ---------------------------------------------------------------------
def test_page_shows_amount_brands_fields_and_end_time(browser, session):
    response = browser.get(page_path(session))
    assert response.status_code == 200
    text = text_of(response)
    assert title_of(response).startswith("クレジットカード決済")
    for expected in [
        "クレジットカード決済",
        "お支払い金額 400円",
        "利用ブランド VISA Mastercard JCB Diners Club AMERICAN EXPRESS",
        "クレジットカード番号",
        "ex) 4321987654321234",
        "有効期限 (month / year)",
        "選択ください",
        "セキュリティコード",
        "裏面3桁の番号(AMEXは表面4桁)",
        "セキュリティコードについて",
        "10:15までに処理を完了させてください。",
        "15分以内に処理を完了させてください。",
        "15分以上時間がかかった際は、エラーとなる場合がございます。",
        "あと10回延長できます",
        "延長",
        "お支払い",
        "決済を中止する",
        session["receipt_number"],
    ]:
        assert expected in text, expected
    # The explanation is on the page itself, reachable without JavaScript.
    assert "カード裏面の署名欄に印字されている数字のうち、末尾の3桁です。" in text
    html = response.get_data(as_text=True)
    assert 'href="#about-security-code"' in html and 'id="about-security-code"' in html
    assert '<time datetime="2026-11-25T10:15:00+09:00">10:15</time>' in html


def test_every_control_has_a_label_and_autocomplete(browser, session):
    html = browser.get(page_path(session)).get_data(as_text=True)
    for field_id, autocomplete in [
        ("card_number", "cc-number"),
        ("expiry_month", "cc-exp-month"),
        ("expiry_year", "cc-exp-year"),
        ("security_code", "cc-csc"),
    ]:
        assert f'<label for="{field_id}">' in html
        assert re.search(rf'id="{field_id}"[^>]*autocomplete="{autocomplete}"', html)
    assert "<legend>有効期限 (month / year)" in html


def test_expiry_selects_offer_months_and_years_from_this_year(browser, session):
    html = browser.get(page_path(session)).get_data(as_text=True)
    months = re.search(r'<select id="expiry_month".*?</select>', html, re.S).group(0)
    years = re.search(r'<select id="expiry_year".*?</select>', html, re.S).group(0)
    assert re.findall(r'<option value="(\d+)"', months) == [f"{m:02d}" for m in range(1, 13)]
    assert re.findall(r'<option value="(\d+)"', years)[:2] == ["2026", "2027"]


def test_strict_csp_no_inline_script_or_style_no_store(browser, session):
    response = browser.get(page_path(session))
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "style-src 'self'" in csp and "unsafe-inline" not in csp
    # The card form's redirect goes to the merchant: its origin, and only it, is allowed.
    assert "form-action 'self' http://127.0.0.1:5000;" in csp
    html = response.get_data(as_text=True)
    assert not re.search(r"<script(?![^>]*\bsrc=)", html)
    assert "<style" not in html and " style=" not in html
    assert not re.search(r"\son[a-z]+\s*=", html)  # no inline event handlers
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Referrer-Policy"] == "same-origin"


def test_english_page(merchant, browser):
    session = merchant.create_session(locale="en", amount_yen=1200)
    response = browser.get(page_path(session))
    text = text_of(response)
    assert '<html lang="en">' in response.get_data(as_text=True)
    for expected in [
        "Card payment",
        "Amount to pay ¥1,200",
        "Card number",
        "Expiry date (month / year)",
        "Security code",
        "About the security code",
        "Please complete the payment by 10:15 (Japan time).",
        "Extend",
        "Pay",
        "Cancel payment",
    ]:
        assert expected in text, expected
    japanese = browser.get(session_path(session) + "?lang=ja")
    assert "お支払い金額 1,200円" in text_of(japanese)


def test_unknown_session_is_a_page_not_an_error(browser):
    for path in ["/pay/cs_doesnotexistdoesnotexist", "/pay/../../etc/passwd", "/pay/%00"]:
        response = browser.get(path)
        assert response.status_code == 404
        assert "ページが見つかりません" in text_of(response)


# Paying -------------------------------------------------------------------------------
def test_successful_payment_returns_with_the_session_id_only(merchant, browser, session, standin):
    response = browser.post(session_path(session), data=GOOD_CARD)
    assert response.status_code == 303
    assert returned_session_id(response.headers["Location"]) == session["session_id"]
    status = merchant.status(session["session_id"])
    assert status["status"] == "captured" and status["amount_yen"] == 400
    assert notifications(standin, "payment.captured") == 1
    # Coming back to the page later goes straight back to the merchant.
    again = browser.get(page_path(session))
    assert again.status_code == 303 and returned_session_id(again.headers["Location"]) == session["session_id"]


def test_amex_with_four_digit_code(merchant, browser, session):
    response = browser.post(
        session_path(session), data=dict(GOOD_CARD, card_number="3782 8224 6310 005", security_code="1234")
    )
    assert response.status_code == 303
    status = merchant.status(session["session_id"])
    assert (status["status"], status["card_brand"], status["card_last4"]) == ("captured", "AMERICAN EXPRESS", "0005")


def test_declined_card_can_be_replaced_by_another(merchant, browser, session, standin):
    response = browser.post(session_path(session), data=DECLINED_CARD)
    assert response.status_code == 422
    text = text_of(response)
    assert title_of(response).startswith("エラー: ")
    assert "このカードはご利用いただけませんでした(カード会社が決済を承認しませんでした)。" in text
    assert "別のカードの番号を入力するか、「決済を中止する」を押してください。" in text
    assert 'value="4000000000000002"' not in response.get_data(as_text=True)
    assert merchant.status(session["session_id"])["status"] == "declined"
    assert notifications(standin) == 0

    retry = browser.post(session_path(session), data=GOOD_CARD)
    assert retry.status_code == 303
    status = merchant.status(session["session_id"])
    assert status["status"] == "captured" and status["decline_count"] == 1


@pytest.mark.parametrize(
    "change, field_id, message",
    [
        ({"card_number": ""}, "card_number", "クレジットカード番号を入力してください。"),
        (
            {"card_number": "4111111111111112"},
            "card_number",
            "クレジットカード番号が正しくありません。番号をお確かめください。",
        ),
        ({"card_number": "4321987654321234"}, "card_number", "クレジットカード番号が正しくありません。"),
        ({"card_number": "6011111111111117"}, "card_number", "このカードはご利用いただけません。"),
        ({"card_number": "4111 abcd"}, "card_number", "クレジットカード番号は数字で入力してください"),
        ({"card_number": "9" * 5000}, "card_number", "このカードはご利用いただけません。"),
        ({"expiry_month": ""}, "expiry_month", "有効期限の月を選択してください。"),
        ({"expiry_year": "abc"}, "expiry_year", "有効期限の年を選択してください。"),
        ({"expiry_month": "10", "expiry_year": "2026"}, "expiry_month", "有効期限が過ぎています。"),
        ({"security_code": ""}, "security_code", "セキュリティコードを入力してください。"),
        ({"security_code": "1234"}, "security_code", "セキュリティコードは、カード裏面の3桁の数字で入力してください。"),
        (
            {"card_number": "378282246310005", "security_code": "123"},
            "security_code",
            "AMERICAN EXPRESSのセキュリティコードは、カード表面の4桁の数字で入力してください。",
        ),
    ],
)
def test_invalid_input_is_explained_and_charges_nothing(merchant, browser, session, change, field_id, message):
    response = browser.post(session_path(session), data=dict(GOOD_CARD, **change))
    assert response.status_code == 422
    assert title_of(response).startswith("エラー: クレジットカード決済")
    html = response.get_data(as_text=True)
    summary = re.search(r'<div class="error-summary".*?</div>', html, re.S).group(0)
    assert 'role="alert"' in summary and "data-autofocus" in summary
    assert re.search(rf'<a href="#{field_id}">[^<]*{re.escape(message)}', summary), summary
    assert re.search(rf'id="{field_id}"[^>]*aria-invalid="true"', html)
    assert re.search(rf'id="{field_id}"[^>]*aria-describedby="[^"]*{field_id}-error', html)
    assert 'name="security_code"' in html and not re.search(r'name="security_code"[^>]*value="\d', html)
    assert merchant.status(session["session_id"])["status"] == "open"
    assert merchant.ledger()["charges"] == []


def test_entered_number_and_expiry_are_kept_for_correction(browser, session):
    response = browser.post(session_path(session), data=dict(GOOD_CARD, security_code=""))
    html = response.get_data(as_text=True)
    assert 'value="4111111111111111"' in html
    assert '<option value="12" selected>' in html and '<option value="2027" selected>' in html


def test_missing_form_fields_are_errors_not_crashes(browser, session):
    response = browser.post(session_path(session), data={})
    assert response.status_code == 422
    assert "クレジットカード番号を入力してください。" in text_of(response)


def test_paying_twice_captures_once(merchant, browser, session, standin):
    first = browser.post(session_path(session), data=GOOD_CARD)
    second = browser.post(session_path(session), data=dict(GOOD_CARD, card_number="5555555555554444"))
    assert first.status_code == second.status_code == 303
    assert first.headers["Location"] == second.headers["Location"]
    status = merchant.status(session["session_id"])
    assert status["card_brand"] == "VISA"
    assert merchant.ledger()["captured_yen"] == 400
    assert notifications(standin, "payment.captured") == 1


def test_simultaneous_submits_capture_once(merchant, session, standin):
    barrier = threading.Barrier(4)
    results = []

    def submit():
        client = standin.test_client()
        barrier.wait()
        results.append(client.post(session_path(session), data=GOOD_CARD).status_code)

    threads = [threading.Thread(target=submit) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert results == [303] * 4
    assert len(merchant.ledger()["charges"]) == 1
    assert notifications(standin, "payment.captured") == 1


def test_post_from_another_site_is_refused(merchant, browser, session):
    for headers in [{"Origin": "http://evil.example"}, {"Origin": "null"}, {"Sec-Fetch-Site": "cross-site"}]:
        response = browser.post(session_path(session), data=GOOD_CARD, headers=headers)
        assert response.status_code == 403
        assert "この操作は受け付けられません" in text_of(response)
        assert browser.post(session_path(session) + "/cancel", headers=headers).status_code == 403
    assert merchant.status(session["session_id"])["status"] == "open"
    same_site = browser.post(
        session_path(session), data=GOOD_CARD, headers={"Origin": "http://localhost", "Sec-Fetch-Site": "same-origin"}
    )
    assert same_site.status_code == 303


# Cancel -----------------------------------------------------------------------------------
def test_cancel_returns_and_charges_nothing(merchant, browser, session, standin):
    response = browser.post(session_path(session) + "/cancel")
    assert response.status_code == 303
    assert returned_session_id(response.headers["Location"]) == session["session_id"]
    assert merchant.status(session["session_id"])["status"] == "cancelled"
    assert notifications(standin, "payment.cancelled") == 1
    # Paying afterwards (another tab, the back button) charges nothing.
    late = browser.post(session_path(session), data=GOOD_CARD)
    assert late.status_code == 303 and returned_session_id(late.headers["Location"]) == session["session_id"]
    assert merchant.status(session["session_id"])["status"] == "cancelled"
    assert merchant.ledger()["charges"] == []
    # Cancelling again changes nothing.
    assert browser.post(session_path(session) + "/cancel").status_code == 303
    assert notifications(standin, "payment.cancelled") == 1


def test_cancel_after_capture_does_not_undo_the_payment(merchant, browser, session):
    browser.post(session_path(session), data=GOOD_CARD)
    browser.post(session_path(session) + "/cancel")
    assert merchant.status(session["session_id"])["status"] == "captured"


# Time limit -------------------------------------------------------------------------------
def test_warning_is_shown_before_the_end_time(browser, session, clock):
    clock.advance(12 * 60)
    assert "まもなく終了時刻です。" not in text_of(browser.get(page_path(session)))
    clock.advance(60 + 1)
    text = text_of(browser.get(page_path(session)))
    assert "まもなく終了時刻です。 10:15までに「お支払い」を押してください。" in text


def test_page_carries_what_the_script_needs_for_the_live_warning(browser, session):
    html = browser.get(page_path(session)).get_data(as_text=True)
    assert 'data-expires-at="2026-11-25T01:15:00+00:00"' in html
    assert 'data-server-now="2026-11-25T01:00:00+00:00"' in html
    assert 'data-warning-seconds="120"' in html
    assert 'data-msg-warning="まもなく終了時刻(10:15)です。' in html
    assert '<div id="time-alert" class="time-alert" role="alert" aria-atomic="true"></div>' in html


def test_paying_after_the_end_time_is_refused_and_returns(merchant, browser, session, clock, standin):
    browser.get(page_path(session))
    clock.advance(15 * 60)
    response = browser.post(session_path(session), data=GOOD_CARD)
    assert response.status_code == 303
    assert returned_session_id(response.headers["Location"]) == session["session_id"]
    status = merchant.status(session["session_id"])
    assert status["status"] == "expired" and status["captured_at"] is None
    assert merchant.ledger()["charges"] == []
    assert notifications(standin, "payment.expired") == 1


def test_short_time_limit_from_settings_expires_in_real_time(make_standin):
    app = make_standin(PAYMENT_SESSION_SECONDS=1, CLOCK=lambda: datetime.now(UTC))
    merchant = Merchant(app, lambda: datetime.now(UTC))
    session = merchant.create_session()
    time.sleep(1.1)
    response = app.test_client().post(session_path(session), data=GOOD_CARD)
    assert response.status_code == 303
    assert merchant.status(session["session_id"])["status"] == "expired"
    assert merchant.ledger()["charges"] == []


def test_extending_ten_times(merchant, browser, session, clock):
    for number in range(1, 11):
        clock.advance(14 * 60)  # each time just before the end
        response = browser.post(session_path(session) + "/extend")
        assert response.status_code == 303, number
        assert response.headers["Location"] == f"{session_path(session)}?extended=1#time-limit-title"
        page = browser.get(response.headers["Location"].split("#")[0])
        end = clock().astimezone(JST) + timedelta(minutes=15)
        assert f"終了時刻を{end.hour}:{end.minute:02d}に延長しました。" in text_of(page)
        left = 10 - number
        if left:
            assert f"あと{left}回延長できます" in text_of(page)
    # 140 minutes after the start, the session is still open and can be paid.
    assert merchant.status(session["session_id"])["status"] == "open"
    assert merchant.status(session["session_id"])["extensions_used"] == 10
    eleventh = browser.post(session_path(session) + "/extend")
    assert eleventh.status_code == 422
    assert "延長できる回数(10回)を超えたため、これ以上延長できません。" in text_of(eleventh)
    assert "延長できる回数の上限に達したため、これ以上延長できません。" in text_of(eleventh)
    assert browser.post(session_path(session), data=GOOD_CARD).status_code == 303
    assert merchant.status(session["session_id"])["status"] == "captured"


def test_extending_after_the_end_time_returns_without_charging(merchant, browser, session, clock):
    clock.advance(15 * 60 + 1)
    response = browser.post(session_path(session) + "/extend")
    assert response.status_code == 303
    assert returned_session_id(response.headers["Location"]) == session["session_id"]
    assert merchant.status(session["session_id"])["status"] == "expired"


def test_english_choice_survives_the_forms(merchant, browser):
    session = merchant.create_session()
    response = browser.post(session_path(session) + "/extend", data={"lang": "en"})
    assert response.headers["Location"].startswith(f"{session_path(session)}?extended=1&lang=en")
    page = browser.get(response.headers["Location"].split("#")[0])
    assert "The end time has been extended to 10:15." in text_of(page)
    error = browser.post(session_path(session), data=dict(GOOD_CARD, security_code="", lang="en"))
    assert title_of(error).startswith("Error: Card payment")
    assert "Enter the security code." in text_of(error)
