"""The payment guard (DESIGN "Architecture" and "Channels", guide L9 and L11): every
settlement screen, by every method, as a page and as an htmx request, refuses the reader
presentation and the kiosk with the guide's sentence, the reason and the way forward, and
nothing is created; return and notify stay reachable in reader mode; the kiosk has no
payment routes at all, only its refusal with a QR code for the resident's own phone."""

from __future__ import annotations

import re
from html import unescape

import pytest
from sqlalchemy import func, select

from blueprints.payment.guard import own_device_qr
from models.account import Resident
from models.payment import CardCharge, Settlement
from models.reservation import Reservation, SubmissionToken
from payments.settlement import open_settlement
from tests.conftest import HTMX_HEADERS, AuthActions, csrf_token_from
from tests.pages import text
from web.clock import now

FIRST = "2026-000001"
READER_SENTENCE = "※読み上げ用ブラウザモードからはクレジット決済は行えません。"
READER_REASON = "読み上げ用ブラウザモードの表示はカード会社の画面には引き継がれないため"
KIOSK_SENTENCE = "※施設にあるキオスク端末からはクレジット決済は行えません。"
KIOSK_REASON = "キオスク端末は多くの方が共用するため"
OWN_URL = "http://127.0.0.1:5000/payment/"  # PUBLIC_BASE_URL + /payment/


def counts(app) -> tuple[int, int, int]:
    with app.extensions["database"].read_session() as s:
        return (
            s.scalar(select(func.count()).select_from(Settlement)),
            s.scalar(select(func.count()).select_from(CardCharge)),
            s.scalar(select(func.count()).select_from(SubmissionToken)),
        )


def quoted_settlement(app) -> int:
    """A settlement at 注意事項 (確定 pressed in standard mode), to aim the later steps at."""
    with app.app_context(), app.extensions["database"].write() as s:
        resident_id = s.scalar(select(Resident.id).where(Resident.registration_number == "00040675"))
        version = s.scalar(select(Reservation.version).where(Reservation.number == FIRST))
        return open_settlement(s, resident_id=resident_id, number=FIRST, expected_version=version, now=now()).id


def switch_presentation(client, presentation: str) -> None:
    token = csrf_token_from(text(client.get("/mymenu/")))
    assert (
        client.post(
            "/settings/reader", data={"csrf_token": token, "presentation": presentation, "next": "/"}
        ).status_code
        == 303
    )


def requests_to_refuse(settlement_id: int, token: str) -> list[tuple[str, str, dict]]:
    """Every settlement screen and the method each answers, with a complete, valid form."""
    return [
        ("GET", "/payment/", {}),
        ("GET", "/payment/?date_from=2026-12-01&state=all", {}),
        ("GET", f"/payment/{FIRST}", {}),
        ("POST", f"/payment/{FIRST}", {"csrf_token": token, "version": "1", "form_token": "t" * 32}),
        ("GET", f"/payment/settlements/{settlement_id}/terms", {}),
        ("POST", f"/payment/settlements/{settlement_id}/terms", {"csrf_token": token, "agree": "y"}),
        ("GET", f"/payment/settlements/{settlement_id}", {}),
    ]


@pytest.fixture
def reader(app):
    """目黒団体 in 読み上げ用ブラウザモード, with a settlement waiting at 注意事項."""
    client = app.test_client()
    AuthActions(client).login()
    settlement_id = quoted_settlement(app)
    switch_presentation(client, "reader")
    return client, settlement_id


@pytest.mark.parametrize("as_htmx", [False, True], ids=["page", "htmx"])
def test_reader_mode_refuses_every_settlement_screen_and_creates_nothing(app, reader, as_htmx):
    client, settlement_id = reader
    token = csrf_token_from(text(client.get("/mymenu/")))
    before = counts(app)
    for method, url, data in requests_to_refuse(settlement_id, token):
        headers = HTMX_HEADERS if as_htmx else {}
        response = client.open(url, method=method, data=data or None, headers=headers)
        page = text(response)
        assert response.status_code == 403, (method, url)
        assert READER_SENTENCE in page and READER_REASON in page, (method, url)
        assert (
            "<title>読み上げ用ブラウザモードからはクレジット決済は行えません | 目黒区施設予約システム</title>" in page
        )
        # The way forward: standard mode, back at the same step (a POST's step is its page).
        form = re.search(r'<form method="post" action="/settings/reader" class="switch-form">(.*?)</form>', page, re.S)
        assert form, (method, url)
        assert 'name="presentation" value="normal"' in form.group(1)
        if not as_htmx:
            assert f'name="next" value="{url}"' in unescape(form.group(1)), (method, url)
        assert "標準の表示に切り替えて続ける" in form.group(1)
        if as_htmx:
            assert response.headers["HX-Redirect"]
    assert counts(app) == before


def test_switching_to_standard_mode_continues_at_the_same_step(app, reader):
    client, settlement_id = reader
    refused = text(client.get(f"/payment/{FIRST}"))
    form = re.search(
        r'<form method="post" action="/settings/reader" class="switch-form">(.*?)</form>', refused, re.S
    ).group(1)
    data = dict(re.findall(r'name="([^"]+)" value="([^"]*)"', form))
    response = client.post("/settings/reader", data=data)
    assert response.status_code == 303 and response.headers["Location"] == f"/payment/{FIRST}"
    page = client.get(f"/payment/{FIRST}")
    assert page.status_code == 200
    assert "<h1>クレジット決済 確認</h1>" in text(page)


def test_return_and_notify_stay_reachable_in_reader_mode(app, reader):
    client, _settlement_id = reader
    returned = client.get("/payment/return?session_id=cs_" + "A" * 40)
    # Its own answer (no card company runs here, so it cannot confirm the id), not the guard's.
    assert returned.status_code == 503
    assert "<h1>決済の結果を確認できません</h1>" in text(returned) and READER_SENTENCE not in text(returned)
    notified = client.post("/payment/notify", data=b"{}", headers={"Content-Type": "application/json"})
    assert notified.status_code == 401  # its own check (the signature), not the guard


def test_the_completion_page_and_menus_say_it_in_reader_mode_too(app, reader):
    client, _settlement_id = reader
    # マイメニュー still offers the way; the guard explains when it is taken.
    assert 'href="/payment/">クレジット決済</a>' in text(client.get("/mymenu/"))


# -- the kiosk ------------------------------------------------------------------------------


def kiosk_requests(token: str) -> list[tuple[str, str, dict]]:
    return [
        ("GET", "/payment/", {}),
        ("POST", "/payment/", {}),
        ("GET", f"/payment/{FIRST}", {}),
        ("POST", f"/payment/{FIRST}", {"csrf_token": token, "version": "1", "form_token": "t" * 32}),
        ("GET", "/payment/settlements/1/terms", {}),
        ("POST", "/payment/settlements/1/terms", {"csrf_token": token, "agree": "y"}),
        ("GET", "/payment/settlements/1", {}),
        ("GET", "/payment/return?session_id=cs_" + "A" * 40, {}),
        ("POST", "/payment/notify", {}),
        ("DELETE", "/payment/anything/else", {}),
    ]


@pytest.mark.parametrize("presentation", ["normal", "reader"])
@pytest.mark.parametrize("as_htmx", [False, True], ids=["page", "htmx"])
@pytest.mark.parametrize("logged_in", [True, False], ids=["logged-in", "logged-out"])
def test_the_kiosk_refuses_everything_under_payment_with_a_qr_code(kiosk_app, presentation, as_htmx, logged_in):
    client = kiosk_app.test_client()
    if logged_in:
        assert AuthActions(client).login().status_code == 303
    if presentation == "reader":
        token = csrf_token_from(text(client.get("/settings/display")))
        client.post("/settings/reader", data={"csrf_token": token, "presentation": "reader", "next": "/"})
    token = csrf_token_from(text(client.get("/settings/display")))
    before = counts(kiosk_app)
    for method, url, data in kiosk_requests(token):
        response = client.open(url, method=method, data=data or None, headers=HTMX_HEADERS if as_htmx else {})
        page = text(response)
        assert response.status_code == 403, (method, url)
        assert KIOSK_SENTENCE in page and KIOSK_REASON in page, (method, url)
        assert f'<img src="{own_device_qr(OWN_URL)}"' in page
        assert f'アドレス: <span class="url-text">{OWN_URL}</span>' in page
        assert "のQRコード" in page  # a text alternative naming what it opens
        if as_htmx:
            assert response.headers["HX-Redirect"]
    assert counts(kiosk_app) == before


def test_the_kiosk_has_no_payment_routes(kiosk_app):
    endpoints = {
        rule.endpoint: rule.rule for rule in kiosk_app.url_map.iter_rules() if rule.rule.startswith("/payment")
    }
    assert endpoints == {"payment.select": "/payment/", "payment.refused": "/payment/<path:rest>"}


def test_the_qr_code_carries_no_credential(kiosk_app):
    client = kiosk_app.test_client()
    AuthActions(client).login()
    page = text(client.get("/payment/"))
    src = re.search(r'<img src="([^"]+)"', page).group(1)
    assert src == own_device_qr(OWN_URL)  # exactly the public page, nothing of this session
    assert src.startswith("data:image/svg+xml")


def test_the_kiosks_menus_link_to_the_refusal(kiosk_app):
    client = kiosk_app.test_client()
    AuthActions(client).login()
    assert 'href="/payment/">クレジット決済</a>' in text(client.get("/mymenu/"))


@pytest.mark.parametrize("presentation", ["normal", "reader"])
def test_a_non_ascii_address_under_payment_is_refused_with_an_encoded_hx_redirect(kiosk_app, presentation):
    """A server may send only ASCII (latin-1) in a header; gunicorn refused the decoded
    path in HX-Redirect and the kiosk answered 500 (found by fuzzing)."""
    client = kiosk_app.test_client()
    if presentation == "reader":
        token = csrf_token_from(text(client.get("/settings/display")))
        client.post("/settings/reader", data={"csrf_token": token, "presentation": "reader", "next": "/"})
    response = client.get("/payment/%E3%81%82?q=%E3%81%84", headers=HTMX_HEADERS)
    assert response.status_code == 403
    assert response.headers["HX-Redirect"] == "/payment/%E3%81%82?q=%E3%81%84"
    for name, value in response.headers.items():
        assert value.isascii(), (name, value)


def test_reader_mode_refuses_a_non_ascii_address_with_an_encoded_hx_redirect(app, reader):
    client, _settlement_id = reader
    response = client.get("/payment/%E3%81%82", headers=HTMX_HEADERS)
    assert response.status_code == 403
    assert response.headers["HX-Redirect"] == "/payment/%E3%81%82"
    for name, value in response.headers.items():
        assert value.isascii(), (name, value)
