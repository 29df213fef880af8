"""Card-paid demo bookings (DESIGN "Contracts", issue 3 item 10): 目黒団体 applies, then pays
through the provider exactly as a browser does — 確定, 次へ進む, the card page, the return —
with the payment screens' own operations (payments/), so that our ledger and the
provider's agree from the start. Runs after `seed_demo`, with the provider reachable."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import requests
from sqlalchemy import select

from blueprints.apply.operations import RoomAnswers, apply_for_slots
from bookings.slots import SlotRef
from demo.seed import open_day
from models import errors
from models.account import Resident
from models.db import Database
from models.facility import Facility, Purpose, Room
from models.payment import SettlementStatus
from models.reservation import Reservation
from models.time_rules import jst_day
from payments import card_pages
from payments.card_pages import CardPage, CardPageNotOpened, ProviderUrls, charge_by_provider_session, settlement_owner
from payments.provider import ProviderClient, ProviderRefused, ProviderUnavailable
from payments.settlement import CallCentres, open_settlement

DEMO_CARD = {"card_number": "4111111111111111", "security_code": "123", "expiry_month": "12"}


@dataclass(frozen=True)
class CardPaidBooking:
    resident_number: str
    facility_code: str
    room_name_ja: str
    days_ahead: int
    band_index: int
    purpose: str
    attendees: int
    applied_days_ago: int


# 目黒団体's 本予約 支払済 by card, one in each refund band (≥21, 11–20, 6–10, 0–5 days before
# use) so that later issues can cancel and refund them; slots free of every other demo booking.
CARD_PAID = [
    CardPaidBooking("00040675", "039", "702【旧第2研修室】", 35, 2, "lecture", 20, 3),
    CardPaidBooking("00040675", "013", "201【旧第1会議室】", 18, 3, "meeting", 12, 5),
    CardPaidBooking("00040675", "039", "702【旧第2研修室】", 9, 0, "meeting", 15, 2),
    CardPaidBooking("00040675", "013", "201【旧第1会議室】", 4, 0, "hobby", 8, 2),
]


class DemoPaymentFailed(Exception):
    """The provider answered, but not as a successful card payment does."""


class ProviderLedgerNotEmpty(Exception):
    """The provider still holds charges from an earlier seeding: our reset database would
    disagree with it (and reuse its 収納番号). Reset the provider's database first."""


def seed_card_payments(
    database: Database,
    provider: ProviderClient,
    urls: ProviderUrls,
    call_centre: CallCentres,
    now: datetime,
    days_ahead: int,
    bookings: list[CardPaidBooking] = CARD_PAID,
) -> list[str]:
    """Apply for and pay each booking by card; returns their 予約番号. Raises
    ProviderUnavailable / ProviderRefused before anything is written when the provider
    cannot be used, and ProviderLedgerNotEmpty when it holds charges from before."""
    # Reachable, the shared secret accepted and nothing left from before, or nothing is written.
    ledger = provider.ledger()
    if ledger.get("charges"):
        raise ProviderLedgerNotEmpty(f"{len(ledger['charges'])} charges at the provider")
    numbers = []
    for booking in bookings:
        try:
            numbers.append(_apply_and_pay(database, provider, urls, call_centre, now, days_ahead, booking))
        except (ProviderUnavailable, ProviderRefused, CardPageNotOpened, errors.NotFound) as exc:
            raise DemoPaymentFailed(f"after {len(numbers)} paid bookings: {exc}") from exc
    return numbers


def _apply_and_pay(database, provider, urls, call_centre, now, days_ahead, booking: CardPaidBooking) -> str:
    with database.write() as session:  # 申込, some days ago
        resident = session.scalar(select(Resident).where(Resident.registration_number == booking.resident_number))
        room = session.scalar(
            select(Room)
            .join(Facility)
            .where(Facility.code == booking.facility_code, Room.name_ja == booking.room_name_ja)
        )
        purpose = session.scalar(select(Purpose).where(Purpose.code == booking.purpose))
        day = open_day(room, jst_day(now) + timedelta(days=booking.days_ahead))
        application = apply_for_slots(
            session,
            resident_id=resident.id,
            slots=[SlotRef(room.id, day, room.time_bands[booking.band_index].id)],
            answers={room.id: RoomAnswers(purpose.id, booking.attendees, False)},
            group_class_id=resident.group_classes[0].group_class_id,
            now=now - timedelta(days=booking.applied_days_ago),
            days_ahead=days_ahead + booking.applied_days_ago,
        )
        resident_id, number = resident.id, application.reservations[0].number
    page = confirm_and_open_card_page(
        database, provider, urls, call_centre, now, resident_id=resident_id, number=number
    )
    session_id = pay_on_card_page(page, urls.return_url)
    status = record_return(database, provider, call_centre, now, session_id)
    if status is not SettlementStatus.COMPLETED:
        raise DemoPaymentFailed(f"{page.receipt_number}: the settlement ended {status.value}")
    return number


def confirm_and_open_card_page(
    database: Database,
    provider: ProviderClient,
    urls: ProviderUrls,
    call_centre: CallCentres,
    now: datetime,
    *,
    resident_id: int,
    number: str,
) -> CardPage:
    """確定 on 確認, then 次へ進む on 注意事項 (payments.card_pages.open_card_page): the card
    page for what the booking owes, in the resident's language."""
    with database.write() as session:
        reservation = session.scalar(select(Reservation).where(Reservation.number == number))
        locale = reservation.resident.preferred_locale
        settlement_id = open_settlement(
            session, resident_id=resident_id, number=number, expected_version=reservation.version, now=now
        ).id
    page = card_pages.open_card_page(
        database,
        provider,
        resident_id=resident_id,
        settlement_id=settlement_id,
        urls=urls,
        locale=locale,
        call_centre=call_centre,
        now=now,
    )
    if not isinstance(page, CardPage):
        raise DemoPaymentFailed(f"{number}: nothing to charge, so no card page")
    return page


def _follow_form(url: str, data: dict, return_url: str) -> str:
    """POST a form of the card page as the browser does; the answer sends the browser back
    to the return URL with the session id only, which is returned."""
    try:
        answer = requests.post(url, data=data, allow_redirects=False, timeout=10)
    except requests.RequestException as exc:
        raise ProviderUnavailable(str(exc)) from exc
    location = answer.headers.get("Location", "")
    if answer.status_code != 303 or not location.startswith(return_url):
        raise DemoPaymentFailed(f"{url} answered {answer.status_code} {location or answer.text[:200]}")
    return parse_qs(urlsplit(location).query).get("session_id", [""])[0]


def pay_on_card_page(page: CardPage, return_url: str, card_number: str = DEMO_CARD["card_number"]) -> str:
    """お支払い with a test card; returns the session id the browser comes back with."""
    form = dict(DEMO_CARD, card_number=card_number, expiry_year=str(datetime.now(UTC).year + 3))
    return _follow_form(page.payment_url, form, return_url)


def cancel_on_card_page(page: CardPage, return_url: str) -> str:
    """決済を中止する."""
    return _follow_form(page.payment_url.split("?")[0] + "/cancel", {}, return_url)


def record_return(
    database: Database, provider: ProviderClient, call_centre: CallCentres, now: datetime, session_id: str
) -> SettlementStatus:
    """The browser's return (payments.card_pages.apply_return): only the session id arrives;
    the provider is asked for the outcome, which is recorded. The browser is the one of the
    resident who opened the card page."""
    with database.read_session() as session:
        charge = charge_by_provider_session(session, session_id)
        if charge is None:
            raise DemoPaymentFailed(f"no card page of ours has the session {session_id!r}")
        resident_id = settlement_owner(session, charge)
    recorded = card_pages.apply_return(
        database, provider, session_id=session_id, resident_id=resident_id, call_centre=call_centre, now=now
    )
    return recorded.settlement_status
