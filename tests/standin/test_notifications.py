"""Signed notifications to the merchant's notify_url, delivered over real HTTP, retried
with backoff until the merchant answers 2xx."""

from __future__ import annotations

from payment_standin.signing import SIGNATURE_HEADER, TIMESTAMP_HEADER, verify
from tests.standin.conftest import GOOD_CARD, SECRET, Merchant, session_path


def run_pass(app):
    return app.extensions["standin_notifier"].run_pass()


def assert_signed(received, clock):
    verify(
        SECRET,
        received.headers[TIMESTAMP_HEADER],
        received.headers[SIGNATURE_HEADER],
        "POST",
        received.path,
        received.body,
        clock(),
    )


def test_capture_is_notified_signed(standin, browser, clock, receiver):
    merchant = Merchant(standin, clock, receiver.url)
    session = merchant.create_session(amount_yen=700)
    browser.post(session_path(session), data=GOOD_CARD)
    result = run_pass(standin)
    assert (result.delivered, result.failed) == (1, 0)
    [received] = receiver.received
    assert received.path == "/payments/notify"
    assert received.headers["Content-Type"].startswith("application/json")
    assert_signed(received, clock)
    body = received.json
    assert body["type"] == "payment.captured" and body["event_id"].startswith("evt_")
    assert body["session"]["session_id"] == session["session_id"]
    assert body["session"]["status"] == "captured"
    assert body["session"]["amount_yen"] == 700
    assert body["session"]["receipt_number"] == session["receipt_number"]
    # Delivered once: the next pass sends nothing.
    assert run_pass(standin).delivered == 0
    assert len(receiver.received) == 1


def test_failed_delivery_is_retried_with_backoff(standin, browser, clock, receiver):
    merchant = Merchant(standin, clock, receiver.url)
    session = merchant.create_session()
    browser.post(session_path(session), data=GOOD_CARD)
    receiver.statuses = [500, 503]
    assert run_pass(standin).failed == 1
    assert run_pass(standin).failed == 0  # not due yet
    clock.advance(2)  # first retry after 2 s
    assert run_pass(standin).failed == 1
    clock.advance(2)
    assert len(receiver.received) == 2 and run_pass(standin).delivered == 0  # next after 4 s
    clock.advance(2)
    assert run_pass(standin).delivered == 1
    first, second, third = receiver.received
    assert first.json == second.json == third.json  # same event each time
    # Each attempt is signed afresh, so a late retry is not refused as stale.
    assert int(third.headers[TIMESTAMP_HEADER]) - int(first.headers[TIMESTAMP_HEADER]) == 6
    assert_signed(third, clock)


def test_unreachable_merchant_loses_nothing(standin, browser, clock, receiver):
    merchant = Merchant(standin, clock, "http://127.0.0.1:9/payments/notify")  # nothing listens there
    session = merchant.create_session()
    browser.post(session_path(session), data=GOOD_CARD)
    assert run_pass(standin).failed == 1
    from payment_standin.models import Notification

    with standin.extensions["standin_db"].write() as db:
        row = db.query(Notification).one()
        assert row.delivered_at is None and row.attempts == 1 and "ConnectionError" in row.last_error
        row.url = receiver.url  # the merchant comes back at the address
    clock.advance(2)
    assert run_pass(standin).delivered == 1
    assert receiver.received[0].json["session"]["session_id"] == session["session_id"]


def test_cancel_is_notified(standin, browser, clock, receiver):
    merchant = Merchant(standin, clock, receiver.url)
    session = merchant.create_session()
    browser.post(session_path(session) + "/cancel")
    run_pass(standin)
    assert [r.json["type"] for r in receiver.received] == ["payment.cancelled"]
    assert receiver.received[0].json["session"]["status"] == "cancelled"


def test_expiry_is_notified_even_when_nobody_looks(standin, clock, receiver):
    merchant = Merchant(standin, clock, receiver.url)
    session = merchant.create_session()
    assert run_pass(standin).expired == 0
    clock.advance(15 * 60)
    result = run_pass(standin)
    assert (result.expired, result.delivered) == (1, 1)
    assert receiver.received[0].json["type"] == "payment.expired"
    assert receiver.received[0].json["session"]["captured_at"] is None
    assert merchant.status(session["session_id"])["status"] == "expired"


def test_background_thread_delivers_without_being_asked(make_standin, clock, receiver):
    app = make_standin(PAYMENT_STANDIN_BACKGROUND=True, NOTIFY_POLL_SECONDS=1)
    merchant = Merchant(app, clock, receiver.url)
    session = merchant.create_session()
    app.test_client().post(session_path(session), data=GOOD_CARD)
    received = receiver.wait_for(1, timeout=10)
    assert [r.json["type"] for r in received] == ["payment.captured"]


def test_notify_pending_command(standin, browser, clock, receiver):
    merchant = Merchant(standin, clock, receiver.url)
    session = merchant.create_session()
    browser.post(session_path(session), data=GOOD_CARD)
    result = standin.test_cli_runner().invoke(args=["notify-pending"])
    assert result.exit_code == 0, result.output
    assert "delivered 1" in result.output
    assert len(receiver.received) == 1
