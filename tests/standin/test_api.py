"""The server-to-server API: signing, session creation and its idempotency, status
query, void and ledger."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from payment_standin.signing import SIGNATURE_HEADER, TIMESTAMP_HEADER, SignatureRejected, signature, verify
from tests.standin.conftest import GOOD_CARD, SECRET, Merchant, session_path


# Signing ------------------------------------------------------------------------------
def test_signature_binds_timestamp_method_target_and_body(clock):
    stamp = str(int(clock().timestamp()))
    good = signature(SECRET, stamp, "POST", "/api/sessions", b"{}")
    verify(SECRET, stamp, good, "POST", "/api/sessions", b"{}", clock())
    for other_stamp, method, target, body in [
        (str(int(stamp) + 1), "POST", "/api/sessions", b"{}"),
        (stamp, "GET", "/api/sessions", b"{}"),
        (stamp, "POST", "/api/ledger", b"{}"),
        (stamp, "POST", "/api/sessions", b"{ }"),
    ]:
        with pytest.raises(SignatureRejected) as caught:
            verify(SECRET, other_stamp, good, method, target, body, clock())
        assert caught.value.reason == "bad_signature"


def test_unsigned_request_is_refused(merchant):
    response = merchant.client.post("/api/sessions", json=merchant.session_request())
    assert response.status_code == 401
    assert response.get_json()["error"] == "missing_signature"


def test_wrong_secret_is_refused(merchant):
    response = merchant.call("POST", "/api/sessions", merchant.session_request(), secret="not-the-secret")
    assert response.status_code == 401
    assert response.get_json()["error"] == "bad_signature"


def test_body_changed_after_signing_is_refused(merchant, clock):
    body = json.dumps(merchant.session_request()).encode()
    headers = {TIMESTAMP_HEADER: str(int(clock().timestamp()))}
    headers[SIGNATURE_HEADER] = signature(SECRET, headers[TIMESTAMP_HEADER], "POST", "/api/sessions", body)
    tampered = body.replace(b'"amount_yen": 400', b'"amount_yen": 4')
    response = merchant.client.post("/api/sessions", data=tampered, headers=headers, content_type="application/json")
    assert response.status_code == 401


@pytest.mark.parametrize("age_seconds", [301, -301])
def test_stale_or_future_timestamp_is_refused(merchant, clock, age_seconds):
    response = merchant.call(
        "POST", "/api/sessions", merchant.session_request(), at=clock() - timedelta(seconds=age_seconds)
    )
    assert response.status_code == 401
    assert response.get_json()["error"] == "stale_timestamp"


@pytest.mark.parametrize("stamp", ["\u00b2", "\u00b3\u00b9", "12a"])
def test_a_timestamp_that_is_not_ascii_digits_is_refused_not_an_error(merchant, stamp):
    body = json.dumps(merchant.session_request()).encode()
    headers = {TIMESTAMP_HEADER: stamp, SIGNATURE_HEADER: "sha256=" + "0" * 64}
    response = merchant.client.post("/api/sessions", data=body, headers=headers, content_type="application/json")
    assert response.status_code == 401


def test_timestamp_within_five_minutes_is_accepted(merchant, clock):
    response = merchant.call("POST", "/api/sessions", merchant.session_request(), at=clock() - timedelta(seconds=299))
    assert response.status_code == 201


def test_signature_for_a_status_query_cannot_void(merchant, browser, clock):
    session = merchant.create_session()
    browser.post(session_path(session), data=GOOD_CARD)
    status_headers = {TIMESTAMP_HEADER: str(int(clock().timestamp()))}
    status_headers[SIGNATURE_HEADER] = signature(
        SECRET, status_headers[TIMESTAMP_HEADER], "GET", f"/api/sessions/{session['session_id']}", b""
    )
    replay = merchant.client.post(f"/api/receipts/{session['receipt_number']}/void", headers=status_headers)
    assert replay.status_code == 401
    assert merchant.status(session["session_id"])["voided"] is False


@pytest.mark.parametrize(
    "path", ["/api/ledger", "/api/sessions/cs_aaaaaaaaaaaaaaaaaaaaaaaa", "/api/receipts/0132026112500001"]
)
def test_every_api_endpoint_needs_a_signature(merchant, path):
    assert merchant.client.get(path).status_code == 401


# Sessions -------------------------------------------------------------------------------
def test_create_session_answers_id_payment_url_and_end_time(merchant, clock):
    session = merchant.create_session(amount_yen=700)
    assert session["session_id"].startswith("cs_")
    assert session["payment_url"] == f"http://localhost/pay/{session['session_id']}"
    assert session["expires_at"] == "2026-11-25T01:15:00+00:00"  # 15 minutes after 10:00 JST
    assert session["status"] == "open"
    assert session["amount_yen"] == 700


def test_english_session_gets_an_english_payment_url(merchant):
    session = merchant.create_session(locale="en")
    assert session["payment_url"].endswith("?lang=en")


def test_public_url_setting_is_the_base_of_payment_url(make_standin, clock):
    merchant = Merchant(make_standin(PAYMENT_STANDIN_PUBLIC_URL="https://pay.example.test"), clock)
    session = merchant.create_session()
    assert session["payment_url"] == f"https://pay.example.test/pay/{session['session_id']}"


def test_same_receipt_same_amount_is_the_same_session(merchant):
    request = merchant.session_request()
    first = merchant.call("POST", "/api/sessions", request)
    again = merchant.call("POST", "/api/sessions", request)
    assert first.status_code == 201 and again.status_code == 200
    assert again.get_json()["session_id"] == first.get_json()["session_id"]
    assert again.get_json()["payment_url"] == first.get_json()["payment_url"]


def test_same_receipt_other_amount_is_a_conflict(merchant):
    request = merchant.session_request()
    first = merchant.call("POST", "/api/sessions", request)
    conflict = merchant.call("POST", "/api/sessions", dict(request, amount_yen=401))
    assert conflict.status_code == 409
    assert conflict.get_json()["error"] == "receipt_conflict"
    other_reference = merchant.call("POST", "/api/sessions", dict(request, merchant_reference="2026-999999"))
    assert other_reference.status_code == 409
    assert merchant.status(first.get_json()["session_id"])["amount_yen"] == 400


@pytest.mark.parametrize(
    "change, field",
    [
        ({"receipt_number": "013202611250001"}, "receipt_number"),
        ({"receipt_number": "０１３２０２６１１２５０００１"}, "receipt_number"),
        ({"receipt_number": 132026112500001}, "receipt_number"),
        ({"amount_yen": 0}, "amount_yen"),
        ({"amount_yen": -400}, "amount_yen"),
        ({"amount_yen": "400"}, "amount_yen"),
        ({"amount_yen": 400.5}, "amount_yen"),
        ({"amount_yen": True}, "amount_yen"),
        ({"merchant_reference": ""}, "merchant_reference"),
        ({"merchant_reference": "予約"}, "merchant_reference"),
        ({"return_url": "javascript:alert(1)"}, "return_url"),
        ({"return_url": "/payments/return"}, "return_url"),
        ({"return_url": "http://127.0.0.1:5000/payments/return?status=paid"}, "return_url"),
        ({"notify_url": "ftp://127.0.0.1/notify"}, "notify_url"),
        ({"expires_in_seconds": 0}, "expires_in_seconds"),
        ({"expires_in_seconds": "900"}, "expires_in_seconds"),
        ({"locale": "fr"}, "locale"),
    ],
)
def test_invalid_session_request_is_refused_and_creates_nothing(merchant, change, field):
    request = merchant.session_request(**change)
    response = merchant.call("POST", "/api/sessions", request)
    assert response.status_code == 400
    assert response.get_json()["field"] == field
    assert merchant.ledger()["charges"] == []


@pytest.mark.parametrize("body", [b"not json", b"[1, 2]", b""])
def test_body_that_is_not_a_json_object_is_refused(merchant, body):
    response = merchant.call("POST", "/api/sessions", body or b" ")
    assert response.status_code == 400


def test_expires_in_seconds_sets_the_time_limit(merchant):
    session = merchant.create_session(expires_in_seconds=120)
    assert session["expires_at"] == "2026-11-25T01:02:00+00:00"


# Status ---------------------------------------------------------------------------------
def test_status_of_an_unknown_session_is_404(merchant):
    response = merchant.call("GET", "/api/sessions/cs_doesnotexistdoesnotexist")
    assert response.status_code == 404
    assert merchant.call("GET", "/api/sessions/nonsense").status_code == 404


def test_status_after_capture(merchant, browser):
    session = merchant.create_session()
    browser.post(session_path(session), data=GOOD_CARD)
    status = merchant.status(session["session_id"])
    assert status["status"] == "captured"
    assert status["captured_at"] == "2026-11-25T01:00:00+00:00"
    assert status["amount_yen"] == 400
    assert status["receipt_number"] == session["receipt_number"]
    assert status["voided"] is False
    assert status["card_brand"] == "VISA" and status["card_last4"] == "1111"
    by_receipt = merchant.call("GET", f"/api/receipts/{session['receipt_number']}").get_json()
    assert by_receipt == status


def test_status_reports_expiry_once_the_time_is_up(merchant, clock):
    session = merchant.create_session()
    clock.advance(15 * 60)
    status = merchant.status(session["session_id"])
    assert status["status"] == "expired"
    assert status["captured_at"] is None


# Void and ledger ------------------------------------------------------------------------
def test_void_is_idempotent(merchant, browser, clock):
    session = merchant.create_session(amount_yen=700)
    browser.post(session_path(session), data=GOOD_CARD)
    clock.advance(60)
    first = merchant.void(session["receipt_number"])
    clock.advance(60)
    second = merchant.void(session["receipt_number"])
    assert first.status_code == second.status_code == 200
    assert first.get_json() == second.get_json()
    assert first.get_json()["voided"] is True
    assert first.get_json()["voided_at"] == "2026-11-25T01:01:00+00:00"
    ledger = merchant.ledger()
    assert (ledger["captured_yen"], ledger["voided_yen"], ledger["held_yen"]) == (700, 700, 0)


def test_void_of_an_uncaptured_or_unknown_receipt_is_refused(merchant):
    session = merchant.create_session()
    not_captured = merchant.void(session["receipt_number"])
    assert not_captured.status_code == 409 and not_captured.get_json()["error"] == "not_captured"
    assert merchant.void("9999999999999999").status_code == 404
    assert merchant.void("123").status_code == 404
    assert merchant.status(session["session_id"])["status"] == "open"


def test_ledger_lists_every_charge_captured_minus_voided(merchant, browser, clock):
    paid = [merchant.create_session(amount_yen=amount) for amount in (400, 700, 175)]
    merchant.create_session(amount_yen=9999)  # never paid: not a charge
    for session in paid:
        browser.post(session_path(session), data=GOOD_CARD)
        clock.advance(10)
    merchant.void(paid[1]["receipt_number"])
    ledger = merchant.ledger()
    assert [(c["receipt_number"], c["amount_yen"], c["voided"]) for c in ledger["charges"]] == [
        (paid[0]["receipt_number"], 400, False),
        (paid[1]["receipt_number"], 700, True),
        (paid[2]["receipt_number"], 175, False),
    ]
    assert ledger["charges"][1]["voided_at"] == "2026-11-25T01:00:30+00:00"
    assert ledger["charges"][0]["captured_at"] == "2026-11-25T01:00:00+00:00"
    assert (ledger["captured_yen"], ledger["voided_yen"], ledger["held_yen"]) == (1275, 700, 575)
