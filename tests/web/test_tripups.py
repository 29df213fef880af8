"""What a resident trips over (issue 11): refusals whose heading names what happened, the
Japanese name on English pages, the favicon and description, the kiosk's top page, the past
tense once paid."""

from __future__ import annotations

import re
from urllib.parse import urlencode

import pytest

from tests.conftest import AuthActions


def text(response) -> str:
    return response.get_data(as_text=True)


def summary_heading(page: str) -> str:
    found = re.search(r'<h2 id="error-summary-title">(.*?)</h2>', page, re.S)
    assert found, "no error summary"
    return found.group(1).strip()


@pytest.mark.parametrize(
    ("visitor", "url", "status", "heading"),
    [
        (None, "/no-such-page", 404, "ページが見つかりません"),
        (("40675", "assembly"), "/mymenu/reservations/2026-999999", 404, "予約が見つかりません"),
        (("50001", "sports"), "/equipment/2026-000012", 409, "この予約の備品（付帯品）は変更できません"),
        (("40675", "assembly"), "/payment/2026-000008", 409, "この予約は今はクレジット決済できません"),
        (("40677", "assembly"), "/apply/details?slot=4%3A2026-11-26%3A13", 403, "選択した時間帯は申込できません"),
        (("40675", "assembly"), "/cancel/confirm?number=2026-000008", 409, "選択した予約は取消できません"),
    ],
)
def test_a_refusal_names_what_happened_not_a_typing_mistake(client, visitor, url, status, heading):
    """Nothing was typed on these pages: 「入力内容に誤りがあります」 was the wrong heading."""
    if visitor:
        assert AuthActions(client).login(number=visitor[0], kind=visitor[1]).status_code == 303
    response = client.get(url)
    assert response.status_code == status, text(response)[:300]
    assert summary_heading(text(response)) == heading


def test_a_form_with_mistakes_still_says_so(client, auth):
    response = auth.login(password="not-the-password")
    assert summary_heading(text(response)) == "入力内容に誤りがあります"


def test_the_residents_japanese_name_is_marked_japanese_on_english_pages(client, auth):
    auth.login()
    assert '<p class="resident-name">目黒団体 さん</p>' in text(client.get("/mymenu/"))
    client.set_cookie("pref_locale", "en")
    page = text(client.get("/mymenu/"))
    assert '<html lang="en"' in page
    assert re.search(r'<p class="resident-name">[^<]*<span lang="ja">目黒団体</span>', page), re.findall(
        r'<p class="resident-name">.*?</p>', page
    )


def test_every_page_has_a_favicon_and_a_description(client):
    page = text(client.get("/"))
    icon = re.search(r'<link rel="icon" href="([^"]+)" type="image/svg\+xml">', page)
    assert icon and client.get(icon.group(1)).status_code == 200
    assert re.search(r'<meta name="description" content="[^"]{20,}">', page)


def test_the_kiosk_top_page_does_not_lead_off_the_kiosk(kiosk_app):
    page = text(kiosk_app.test_client().get("/"))
    assert "目黒区施設予約システム へようこそ" in page
    assert not re.findall(r'href="(?:https?:)?//', page)


def test_the_standard_top_page_still_links_the_city_site(client):
    assert 'href="https://www.city.meguro.tokyo.jp/"' in text(client.get("/"))


def test_an_error_summary_that_takes_the_focus_is_not_also_an_alert(client, auth):
    """Announced once (issue 11): focused (data-autofocus), so no role=alert to say it twice.
    Where the focus stays in the field (備品's totals) the summary is the alert instead
    (tests/web/test_equipment.py)."""
    page = text(auth.login(password="not-the-password"))
    summary = re.search(r'<div class="error-summary" id="error-summary"[^>]*>', page).group(0)
    assert "data-autofocus" in summary and 'role="group"' in summary


def test_a_search_category_without_facilities_says_so_before_the_click(client):
    page = text(client.get("/"))
    linked = re.findall(r'<li><a href="/search/facilities\?category=([^"]+)">', page)
    empty = re.findall(
        r'<li class="empty-choice">([^<]+)<span class="empty-note">（該当する施設はありません）</span>', page
    )
    assert linked and empty, (linked, empty)
    for code in linked:  # every link leads to at least one facility
        assert 'class="facility-item"' in text(client.get(f"/search/facilities?category={code}")), code


def test_the_guide_page_covers_equipment_and_cancelling_and_refunds(client):
    page = text(client.get("/guide"))
    assert "<h2>備品（付帯品）の予約・変更</h2>" in page and "<h2>予約の取消と還付</h2>" in page
    assert "クレジット決済画面から還付の手続き" in page


def test_a_slot_the_group_cancelled_shows_as_not_bookable_again_on_the_grid(app, client, auth):
    """Issue 11: 空き on the grid, refused only at 詳細申請; now 再予約不可 where it is chosen,
    for that group only."""
    from sqlalchemy import select

    from models.account import Resident
    from models.reservation import Reservation
    from models.reservation_rules import ReservationState

    with app.app_context():
        session = app.extensions["database"].read_session()
        try:
            meguro = session.scalar(select(Resident).where(Resident.registration_number == "00040675"))
            cancelled = session.scalars(
                select(Reservation)
                .where(Reservation.resident_id == meguro.id, Reservation.state == ReservationState.CANCELLED)
                .order_by(Reservation.use_date.desc())
            ).first()
            slot = f"{cancelled.room_id}:{cancelled.use_date.isoformat()}:{cancelled.time_band_id}"
            url = "/availability/slots?" + urlencode(
                {
                    "facility": cancelled.room.facility.code,
                    "cell": f"{cancelled.room_id}:{cancelled.use_date.isoformat()}",
                }
            )
        finally:
            session.close()

    logged_out = text(client.get(url))
    assert f'value="{slot}"' in logged_out  # another group may book it
    auth.login()
    page = text(client.get(url))
    assert f'value="{slot}"' not in page
    assert "再予約不可" in page
