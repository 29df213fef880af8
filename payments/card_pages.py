"""The card company's page, whole sequences (DESIGN "Settlement", "The payment provider"):
open it after 注意事項, apply the browser's return and the signed notification, and ask
about pages whose browser never came back. Each takes the Database and a provider client,
runs short transactions and talks HTTP between them, never inside one. The payment
screens, the worker and the demo data all call these, so that the provider's protocol is
followed in one place."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import cast

from sqlalchemy import CursorResult, or_, select, update
from sqlalchemy.orm import Session

from models import errors
from models.db import Database
from models.payment import CardCharge, Settlement, SettlementStatus
from models.reservation import Reservation
from payments.provider import ProviderClient, ProviderRefused, ProviderUnavailable
from payments.settlement import (
    CallCentres,
    Recorded,
    attach_provider_session,
    record_provider_outcome,
    start_settlement,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ProviderUrls:
    """Where the provider sends the browser back and its notifications: PUBLIC_BASE_URL +
    the payment screens' paths."""

    return_url: str
    notify_url: str


@dataclass(frozen=True)
class CardPage:
    """A settlement waiting on the provider's card page."""

    settlement_id: int
    charge_id: int
    receipt_number: str
    amount_yen: int
    session_id: str
    payment_url: str


@dataclass(frozen=True)
class CompletedWithoutCardPage:
    """A void only (nothing to charge): the settlement completed on 次へ進む (DESIGN rule 9)."""

    settlement_id: int


class CardPageNotOpened(Exception):
    """The provider could not open the card page (unreachable, or it refused the session):
    nothing is charged, and 次へ進む again retries with the same 収納番号. The settlement is
    the one the page was for (another tab's, when its card page was being opened)."""

    def __init__(self, settlement_id: int, receipt_number: str, cause: ProviderUnavailable | ProviderRefused):
        super().__init__(f"settlement {settlement_id}, receipt {receipt_number}: {cause}")
        self.settlement_id = settlement_id
        self.receipt_number = receipt_number


def open_card_page(
    database: Database,
    provider: ProviderClient,
    *,
    resident_id: int,
    settlement_id: int,
    urls: ProviderUrls,
    locale: str,
    call_centre: CallCentres,
    now: datetime,
) -> CardPage | CompletedWithoutCardPage:
    """次へ進む on 注意事項: the charge with its 収納番号 (written), the provider's session for
    it (HTTP, outside any transaction), bound to the charge (written). Pressed twice, or
    from a second tab while a card page for the same booking and amount is open, the same
    card page. `locale` is the card page's language.

    Raises errors.StaleBooking once the settlement has ended because the booking changed
    since 確定 (that ending is committed first), errors.NotFound for another resident's
    settlement, and CardPageNotOpened when the provider cannot open the page."""
    with database.write() as session:
        started = start_settlement(
            session, resident_id=resident_id, settlement_id=settlement_id, call_centre=call_centre, now=now
        )
        opened_for = started.settlement.id  # another tab's settlement, if its card page was open
        charge = started.charge
        if charge is not None:
            receipt, amount_yen, charge_id = charge.receipt_number, charge.amount_yen, charge.id
            reference = started.settlement.reservation.number
            known_session, known_url = charge.provider_session_id, charge.payment_url
    if started.stale:
        raise errors.StaleBooking(settlement=settlement_id)
    if charge is None:
        return CompletedWithoutCardPage(opened_for)
    if known_session and known_url:
        return CardPage(opened_for, charge_id, receipt, amount_yen, known_session, known_url)
    try:
        created = provider.create_session(
            reference=reference,
            receipt_number=receipt,
            amount_yen=amount_yen,
            return_url=urls.return_url,
            notify_url=urls.notify_url,
            locale=locale,
        )
    except (ProviderUnavailable, ProviderRefused) as exc:
        raise CardPageNotOpened(opened_for, receipt, exc) from exc
    with database.write() as session:
        attach_provider_session(
            session, charge_id=charge_id, provider_session_id=created["session_id"], payment_url=created["payment_url"]
        )
    return CardPage(opened_for, charge_id, receipt, amount_yen, created["session_id"], created["payment_url"])


def apply_return(
    database: Database,
    provider: ProviderClient,
    *,
    session_id: str,
    resident_id: int,
    call_centre: CallCentres,
    now: datetime,
) -> Recorded:
    """The browser back from the card page with the session id only: ask the provider what
    happened and record it. Raises errors.NotFound (nothing changes) for a session that is
    unknown, or not this resident's, and ProviderUnavailable when the provider cannot be
    asked."""
    with database.read_session() as session:
        charge = charge_by_provider_session(session, session_id)
        if charge is not None and settlement_owner(session, charge) != resident_id:
            raise errors.NotFound(session_id=session_id)
        attached = charge is not None
    try:
        document = provider.get_session(session_id)
    except ProviderRefused:
        raise errors.NotFound(session_id=session_id) from None
    if document.get("session_id") != session_id:
        raise errors.NotFound(session_id=session_id)
    if not attached:
        # Known to the card company but not yet attached here (the attach was lost).
        with database.read_session() as session:
            charge = charge_by_receipt(session, str(document.get("receipt_number")))
            if charge is None or settlement_owner(session, charge) != resident_id:
                raise errors.NotFound(session_id=session_id)
    with database.write() as session:
        return record_provider_outcome(session, document, call_centre, now)


def apply_notification(database: Database, document: dict, *, call_centre: CallCentres, now: datetime) -> Recorded:
    """The provider's signed notification (its session document, provider.read_notification):
    applied as the return is, idempotently. Raises errors.UnknownCardSession for a document
    about no card page of ours."""
    with database.write() as session:
        return record_provider_outcome(session, document, call_centre, now)


# -- card pages whose browser never came back ------------------------------------------------


@dataclass
class SessionResult:
    settled: list[str] = field(default_factory=list)  # captured, cancelled or expired: recorded
    still_open: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)  # the provider could not be asked


def check_open_card_pages(
    database: Database,
    provider: ProviderClient,
    *,
    call_centre: CallCentres,
    now: datetime,
    stale_after: timedelta,
    recheck_after: timedelta,
    limit: int,
) -> SessionResult:
    """Settlements still PAYING `stale_after` after their card page opened: ask the provider
    what happened and record it as the browser's return would, so that a capture is never
    lost (the notification may be late or lost) and an abandoned session ends (and the
    booking can expire). A page still open is asked about again after `recheck_after`, the
    least recently asked first, so that a batch of long-open pages (延長) does not keep the
    others waiting."""
    with database.read_session() as session:
        rows = session.execute(
            select(CardCharge.receipt_number, CardCharge.amount_yen, CardCharge.provider_session_id, Reservation.number)
            .join(Settlement, Settlement.new_charge_id == CardCharge.id)
            .join(Reservation, Reservation.id == CardCharge.reservation_id)
            .where(
                Settlement.status == SettlementStatus.PAYING,
                CardCharge.created_at <= now - stale_after,
                or_(
                    CardCharge.provider_checked_at.is_(None),
                    CardCharge.provider_checked_at <= now - recheck_after,
                ),
            )
            .order_by(CardCharge.provider_checked_at.asc().nulls_first(), CardCharge.id)
            .limit(limit)
        ).all()
    result = SessionResult()
    for receipt, amount_yen, session_id, reference in rows:
        if not _claim_check(database, receipt, now, recheck_after):
            continue  # another worker is asking about it
        try:
            document = provider.get_receipt(receipt)
        except ProviderRefused as exc:
            if exc.status != 404:
                log.error("receipt %s: the provider refused the status query: %s", receipt, exc)
                result.failed.append(receipt)
                continue
            # The provider never opened a session for this receipt (the call failed and the
            # resident did not retry): nothing can be charged on it any more.
            document = {
                "receipt_number": receipt,
                "amount_yen": amount_yen,
                "session_id": session_id,
                "merchant_reference": reference,
                "status": "expired",
            }
        except ProviderUnavailable as exc:
            log.warning("card sessions: the provider cannot be reached (%s); asking again next pass", exc)
            result.failed.append(receipt)
            break  # the others would fail the same way
        if document.get("status") not in ("captured", "cancelled", "expired"):
            result.still_open.append(receipt)
            continue
        try:
            with database.write() as session:
                record_provider_outcome(session, document, call_centre, now)
        except errors.UnknownCardSession as exc:
            log.error("receipt %s: the provider's status is about another card page: %s", receipt, exc.facts)
            result.failed.append(receipt)
            continue
        result.settled.append(receipt)
        log.info("card session %s settled from the provider's status: %s", receipt, document.get("status"))
    return result


def _claim_check(database: Database, receipt: str, now: datetime, recheck_after: timedelta) -> bool:
    """Note that this receipt is being asked about now, unless it was asked about within
    `recheck_after` (by another worker meanwhile): a conditional UPDATE, as claim_next
    does for mail. Marked before asking, so a page whose answer changes nothing here is
    not asked about again at the next pass either."""
    with database.write() as session:
        claimed = cast(
            CursorResult,
            session.execute(
                update(CardCharge)
                .where(
                    CardCharge.receipt_number == receipt,
                    or_(
                        CardCharge.provider_checked_at.is_(None), CardCharge.provider_checked_at <= now - recheck_after
                    ),
                )
                .values(provider_checked_at=now)
                .execution_options(synchronize_session=False)
            ),
        )
        return claimed.rowcount == 1


# -- reads ---------------------------------------------------------------------------------


def charge_by_provider_session(session: Session, provider_session_id: str) -> CardCharge | None:
    return session.scalar(select(CardCharge).where(CardCharge.provider_session_id == provider_session_id))


def charge_by_receipt(session: Session, receipt_number: str) -> CardCharge | None:
    return session.scalar(select(CardCharge).where(CardCharge.receipt_number == receipt_number))


def settlement_owner(session: Session, charge: CardCharge) -> int | None:
    return session.scalar(select(Settlement.resident_id).where(Settlement.id == charge.settlement_id))
