"""Voids of captured card charges (DESIGN "Settlement"): a charge turns void-pending in the
transaction that supersedes it, and the void is then sent to the provider and retried with
backoff until the provider takes it."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from models.db import Database
from models.payment import CardCharge, VoidStatus
from payments.provider import ProviderClient, ProviderRefused, ProviderUnavailable

log = logging.getLogger(__name__)

VOID_RETRY_BASE = timedelta(seconds=10)
VOID_RETRY_MAX = timedelta(hours=1)


def request_void(charge: CardCharge, now: datetime) -> None:
    """The charge stops being live: its void is to be sent now (inside the caller's transaction)."""
    charge.void_status = VoidStatus.PENDING
    charge.void_requested_at = now
    charge.next_void_at = now


def due_voids(session: Session, now: datetime, limit: int = 50) -> list[CardCharge]:
    return list(
        session.scalars(
            select(CardCharge)
            .where(CardCharge.void_status == VoidStatus.PENDING, CardCharge.next_void_at <= now)
            .order_by(CardCharge.next_void_at, CardCharge.id)
            .limit(limit)
        )
    )


def record_void(session: Session, charge_id: int, *, ok: bool, error: str | None, now: datetime) -> CardCharge:
    """After the provider's answer to a void: voided, or retried later with backoff."""
    charge = session.get_one(CardCharge, charge_id, with_for_update=True)
    if charge.void_status is not VoidStatus.PENDING:
        return charge
    if ok:
        charge.void_status = VoidStatus.VOIDED
        charge.voided_at = now
        charge.next_void_at = None
        charge.void_last_error = None
    else:
        charge.void_attempts += 1
        delay = min(VOID_RETRY_BASE * (2 ** min(charge.void_attempts - 1, 16)), VOID_RETRY_MAX)
        charge.next_void_at = now + delay
        charge.void_last_error = (error or "")[:1000]
    session.flush()
    return charge


@dataclass
class VoidResult:
    voided: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)


def send_voids(database: Database, provider: ProviderClient, *, now: datetime, limit: int = 50) -> VoidResult:
    """Send every due void to the provider (idempotent there) and record the answer: read →
    HTTP outside any transaction → write. A failure stays pending and is retried with
    record_void's backoff."""
    with database.read_session() as session:
        due = [(c.id, c.receipt_number) for c in due_voids(session, now, limit=limit)]
    result = VoidResult()
    for charge_id, receipt in due:
        try:
            provider.void(receipt)
        except (ProviderUnavailable, ProviderRefused) as exc:
            if isinstance(exc, ProviderRefused):
                # Not a passing fault: the provider does not know this capture. Reconcile shows it.
                log.error("void %s refused by the provider: %s", receipt, exc)
            with database.write() as session:
                charge = record_void(session, charge_id, ok=False, error=str(exc), now=now)
                log.warning(
                    "void %s failed (attempt %d), next at %s", receipt, charge.void_attempts, charge.next_void_at
                )
            result.failed.append(receipt)
            continue
        with database.write() as session:
            record_void(session, charge_id, ok=True, error=None, now=now)
        result.voided.append(receipt)
    return result
