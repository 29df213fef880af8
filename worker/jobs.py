"""The worker's jobs (Procfile `worker`): deliver mail, send voids, expire unpaid bookings
past their payment deadline, and settle card sessions whose browser never came back. Each
takes the database, the provider client, the settings and `now`; none imports Flask. The
card-payment jobs are payments/'s operations, given the worker's settings."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

from mail.compose import CallCentre, ExpiryFacts, call_centre_for, expiry_mail
from mail.delivery import CLAIM_LEASE, DeliveryResult, FileTransport, SmtpTransport, deliver_due_mail
from mail.outbox import queue_notice
from models.availability_version import bump_availability
from models.db import Database
from models.deadline_rules import PAYMENT_DAYS, payment_closes_at, payment_deadline_day
from models.reservation import Reservation
from models.reservation_rules import UNPAID_STATES, Action, CancelKind, next_state
from models.time_rules import jst_day
from payments import voids
from payments.card_pages import SessionResult, check_open_card_pages
from payments.provider import ProviderClient
from payments.settlement import has_open_card_session

log = logging.getLogger("worker")

# A card session is looked up at the provider once its charge is this old: by then the
# browser's return or the provider's notification would normally have arrived.
STALE_SESSION_AFTER = timedelta(minutes=5)
# A card page still open when asked is asked about again this much later (the card
# company's status API is not polled at every pass for every open page).
RECHECK_OPEN_SESSION_AFTER = timedelta(minutes=1)


@dataclass(frozen=True)
class WorkerSettings:
    smtp_host: str | None
    smtp_port: int
    mail_from: str
    mail_dir: Path
    # CALL_CENTRE_PHONE, CALL_CENTRE_HOURS_JA, CALL_CENTRE_HOURS_EN
    call_centre_config: Mapping[str, str]
    smtp_timeout: float = 30.0
    stale_session_after: timedelta = STALE_SESSION_AFTER
    recheck_open_session_after: timedelta = RECHECK_OPEN_SESSION_AFTER
    batch_size: int = 50
    mail_claim_lease: timedelta = CLAIM_LEASE

    @classmethod
    def from_config(cls, config: Mapping, **overrides) -> WorkerSettings:
        values = dict(
            smtp_host=config.get("SMTP_HOST") or None,
            smtp_port=int(config.get("SMTP_PORT") or 25),
            mail_from=config["MAIL_FROM"],
            mail_dir=Path(config["INSTANCE_PATH"]) / "mail",
            call_centre_config={
                key: config[key] for key in ("CALL_CENTRE_PHONE", "CALL_CENTRE_HOURS_JA", "CALL_CENTRE_HOURS_EN")
            },
            mail_claim_lease=timedelta(seconds=config.get("MAIL_CLAIM_LEASE_SECONDS") or CLAIM_LEASE.total_seconds()),
        )
        values.update(overrides)
        return cls(**values)

    def call_centre(self, locale: str) -> CallCentre:
        return call_centre_for(self.call_centre_config, locale)

    def mail_transport(self):
        if self.smtp_host:
            return SmtpTransport(self.smtp_host, self.smtp_port, self.smtp_timeout)
        return FileTransport(self.mail_dir)


# 1. Mail ------------------------------------------------------------------------------


def deliver_mail(
    database: Database, provider: ProviderClient | None, settings: WorkerSettings, now: datetime
) -> DeliveryResult:
    """Send every due outbox mail over SMTP, or write it under <instance>/mail/ without
    SMTP_HOST; failures are retried later with backoff, a mail the receiving server refuses
    for good is marked undeliverable (メッセージ then says so)."""
    result = deliver_due_mail(
        database,
        settings.mail_transport(),
        settings.mail_from,
        now,
        limit=settings.batch_size * 2,
        lease=settings.mail_claim_lease,
    )
    if result.failed or result.undeliverable:
        log.warning(
            "mail: %d sent, %d failed (kept for a retry), %d undeliverable",
            result.sent,
            result.failed,
            result.undeliverable,
        )
    return result


# 2. Voids -----------------------------------------------------------------------------


def send_voids(
    database: Database, provider: ProviderClient, settings: WorkerSettings, now: datetime
) -> voids.VoidResult:
    """Send every due void to the provider and record the answer; a failure stays pending
    and is retried with backoff."""
    return voids.send_voids(database, provider, now=now, limit=settings.batch_size)


# 3. Payment deadline -------------------------------------------------------------------


@dataclass
class ExpiryResult:
    cancelled: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)  # overdue, but a card page is open or money is held


def expire_overdue_bookings(
    database: Database, provider: ProviderClient | None, settings: WorkerSettings, now: datetime
) -> ExpiryResult:
    """DESIGN rule 4: a 仮予約 or 当選 not paid by its deadline is cancelled (期限切れ) and the
    resident told; never one whose card page is open or that holds money."""
    # Overdue needs the use date reached or the basis more than PAYMENT_DAYS ago; the rule
    # itself decides below, under the row lock.
    with database.read_session() as session:
        candidates = session.scalars(
            select(Reservation.id)
            .where(
                Reservation.state.in_(UNPAID_STATES),
                or_(
                    Reservation.use_date <= jst_day(now),
                    func.coalesce(Reservation.lottery_result_at, Reservation.applied_at)
                    <= now - timedelta(days=PAYMENT_DAYS - 1),
                ),
            )
            .order_by(Reservation.id)
        ).all()
    result = ExpiryResult()
    for reservation_id in candidates:
        with database.write() as session:
            reservation = session.scalar(
                select(Reservation)
                .where(Reservation.id == reservation_id)
                .options(
                    selectinload(Reservation.settlements),
                    selectinload(Reservation.card_charges),
                    selectinload(Reservation.counter_payments),
                )
                .with_for_update()
            )
            if reservation is None or reservation.state not in UNPAID_STATES:
                continue
            closes_at = payment_closes_at(reservation.payment_basis, reservation.use_date, reservation.starts_at)
            if now <= closes_at:
                continue
            if has_open_card_session(reservation) or reservation.held_yen > 0:
                result.kept.append(reservation.number)
                continue
            _cancel_by_expiry(session, reservation, settings, now)
            result.cancelled.append(reservation.number)
    if result.cancelled:
        log.info("expired %d unpaid bookings: %s", len(result.cancelled), ", ".join(result.cancelled))
    return result


def _cancel_by_expiry(session, reservation: Reservation, settings: WorkerSettings, now: datetime) -> None:
    reservation.state = next_state(reservation.state, Action.CANCEL)
    reservation.cancelled_at = now
    reservation.cancel_kind = CancelKind.EXPIRY
    reservation.cancel_reason = None
    reservation.refund_percent = None
    reservation.cancellation_fee_yen = 0
    reservation.version += 1
    resident = reservation.resident
    locale = resident.preferred_locale
    room = reservation.room
    place = f"{room.facility.name_en} {room.name_en}" if locale == "en" else f"{room.facility.name_ja} {room.name_ja}"
    facts = ExpiryFacts(
        resident_name=resident.name,
        reservation_number=reservation.number,
        use_date=reservation.use_date,
        starts_at=reservation.starts_at,
        ends_at=reservation.ends_at,
        place=place,
        deadline=payment_deadline_day(reservation.payment_basis, reservation.use_date),
    )
    queue_notice(
        session,
        resident=resident,
        dedupe_key=f"expiry:{reservation.number}",
        mail=expiry_mail(facts, settings.call_centre(locale), locale),
        now=now,
    )
    session.flush()
    bump_availability(session, room_ids=[reservation.room_id])  # the last write: rows locked in order


# 4. Card sessions whose browser never came back --------------------------------------


def settle_stale_sessions(
    database: Database, provider: ProviderClient, settings: WorkerSettings, now: datetime
) -> SessionResult:
    """Card pages still open a while after they opened: ask the provider what happened and
    record it as the browser's return would (payments.card_pages.check_open_card_pages)."""
    return check_open_card_pages(
        database,
        provider,
        call_centre=settings.call_centre,
        now=now,
        stale_after=settings.stale_session_after,
        recheck_after=settings.recheck_open_session_after,
        limit=settings.batch_size,
    )


# 5. The lottery (DESIGN "Lottery") ---------------------------------------------------


def draw_lotteries(database: Database, provider: ProviderClient | None, settings: WorkerSettings, now: datetime):
    """Draw every month whose 抽選結果の発表日 has come (and make the coming months' rows)."""
    from lottery.draw import draw_due_months  # here, so that this job is one function to merge

    return draw_due_months(database, now=now, centre=settings.call_centre)


# The jobs that call the card company, and the others: the worker's loop runs each group
# in its own thread (worker.commands.run_loops), so that a hung card company never delays
# mail; `--once` runs them all in this order.
PROVIDER_JOBS = (
    ("card sessions", settle_stale_sessions),
    ("voids", send_voids),
)
LOCAL_JOBS = (
    ("payment deadline", expire_overdue_bookings),
    ("lottery", draw_lotteries),
    ("mail", deliver_mail),
)
JOBS = PROVIDER_JOBS + LOCAL_JOBS
