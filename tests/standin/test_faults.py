"""The test-only fault control: absent unless PAYMENT_STANDIN_FAULTS=1; failing voids,
delayed and duplicated notifications."""

from __future__ import annotations

import pytest

from payment_standin.app import create_app
from tests.standin.conftest import GOOD_CARD, Merchant, session_path


@pytest.fixture
def faulty(make_standin):
    return make_standin(PAYMENT_STANDIN_FAULTS=True)


def set_faults(app, **values):
    response = app.test_client().post("/_test/faults", json=values)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def paid_session(app, clock, notify_url="http://127.0.0.1:9/notify", amount_yen=700):
    merchant = Merchant(app, clock, notify_url)
    session = merchant.create_session(amount_yen=amount_yen)
    assert app.test_client().post(session_path(session), data=GOOD_CARD).status_code == 303
    return merchant, session


def test_fault_control_is_absent_by_default(standin):
    client = standin.test_client()
    assert client.post("/_test/faults", json={"fail_next_voids": 1}).status_code == 404
    assert client.get("/_test/faults").status_code == 404


def test_fault_control_follows_the_environment(monkeypatch, standin_database_url, tmp_path, clock):
    common = dict(
        TESTING=True,
        PAYMENTS_DATABASE_URL=standin_database_url,
        INSTANCE_PATH=str(tmp_path / "i"),
        PAYMENT_STANDIN_BACKGROUND=False,
        CLOCK=clock,
    )
    monkeypatch.setenv("PAYMENT_STANDIN_FAULTS", "1")
    enabled = create_app(common)
    monkeypatch.setenv("PAYMENT_STANDIN_FAULTS", "0")
    disabled = create_app(common)
    try:
        assert enabled.test_client().get("/_test/faults").status_code == 200
        assert disabled.test_client().get("/_test/faults").status_code == 404
    finally:
        enabled.extensions["standin_db"].dispose()
        disabled.extensions["standin_db"].dispose()


def test_next_n_voids_fail_then_succeed(faulty, clock):
    merchant, session = paid_session(faulty, clock)
    assert set_faults(faulty, fail_next_voids=2)["fail_next_voids"] == 2
    for _ in range(2):
        failed = merchant.void(session["receipt_number"])
        assert failed.status_code == 503 and failed.get_json()["error"] == "void_failed"
        assert merchant.ledger()["held_yen"] == 700  # nothing changed
    done = merchant.void(session["receipt_number"])
    assert done.status_code == 200 and done.get_json()["voided"] is True
    assert merchant.void(session["receipt_number"]).get_json() == done.get_json()
    assert merchant.ledger()["held_yen"] == 0
    assert faulty.test_client().get("/_test/faults").get_json()["fail_next_voids"] == 0


def test_delayed_notifications(faulty, clock, receiver):
    set_faults(faulty, delay_notifications_seconds=30)
    paid_session(faulty, clock, receiver.url)
    notifier = faulty.extensions["standin_notifier"]
    assert notifier.run_pass().delivered == 0
    clock.advance(29)
    assert notifier.run_pass().delivered == 0
    clock.advance(1)
    assert notifier.run_pass().delivered == 1
    assert receiver.received[0].json["type"] == "payment.captured"


def test_duplicated_notifications_carry_the_same_event(faulty, clock, receiver):
    set_faults(faulty, duplicate_notifications=True)
    paid_session(faulty, clock, receiver.url)
    assert faulty.extensions["standin_notifier"].run_pass().delivered == 2
    first, second = receiver.received
    assert first.json == second.json
    assert first.json["event_id"] == second.json["event_id"]


def test_reset_clears_every_fault(faulty):
    set_faults(faulty, fail_next_voids=3, delay_notifications_seconds=10, duplicate_notifications=True)
    assert set_faults(faulty, reset=True) == {
        "fail_next_voids": 0,
        "delay_notifications_seconds": 0,
        "duplicate_notifications": False,
    }


@pytest.mark.parametrize(
    "body",
    [
        {"fail_next_voids": -1},
        {"fail_next_voids": "2"},
        {"duplicate_notifications": "yes"},
        {"delay_notifications_seconds": 10**9},
        [1],
    ],
)
def test_bad_fault_settings_are_refused(faulty, body):
    response = faulty.test_client().post("/_test/faults", json=body)
    assert response.status_code == 400
    assert faulty.test_client().get("/_test/faults").get_json()["fail_next_voids"] == 0
