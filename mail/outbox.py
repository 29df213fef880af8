"""Queue a notice: the mail in the outbox and the same text in メッセージ, in the caller's
transaction, once per event."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import cast

from sqlalchemy import Table, insert, select
from sqlalchemy.orm import Session

from mail.compose import Mail
from models.account import Resident
from models.notice import Message
from models.outbox import OutboxMail


def queue_notice(session: Session, *, resident: Resident, dedupe_key: str, mail: Mail, now: datetime) -> bool:
    """False (and nothing written) when this event's notice was queued before."""
    if session.scalar(select(OutboxMail.id).where(OutboxMail.dedupe_key == dedupe_key)) is not None:
        return False
    mail_row = OutboxMail(
        dedupe_key=dedupe_key,
        resident_id=resident.id,
        to_address=resident.email,
        subject=mail.subject,
        body=mail.body,
        created_at=now,
        next_attempt_at=now,
        # Without an address there is nothing to send: the notice is in メッセージ.
        sent_at=None if resident.email else now,
        last_error=None if resident.email else "no email address",
    )
    session.add(mail_row)
    session.flush()
    session.add(
        Message(
            resident_id=resident.id, created_at=now, subject=mail.subject, body=mail.body, outbox_mail_id=mail_row.id
        )
    )
    session.flush()
    return True


def queue_notices(session: Session, notices: Sequence[tuple[Resident, str, Mail]], *, now: datetime) -> int:
    """queue_notice for many events at once — (resident, dedupe key, mail) each — in a few
    statements whatever their number (the lottery draw writes one per group). Returns how many
    were queued; those queued before are skipped."""
    keys = [key for _, key, _ in notices]
    queued = set()
    for start in range(0, len(keys), 500):
        chunk = keys[start : start + 500]
        queued |= set(session.scalars(select(OutboxMail.dedupe_key).where(OutboxMail.dedupe_key.in_(chunk))))
    fresh = [(resident, key, mail) for resident, key, mail in notices if key not in queued]
    if not fresh:
        return 0
    outbox, messages = cast(Table, OutboxMail.__table__), cast(Table, Message.__table__)
    # A plain executemany, then the ids by key (RETURNING in order would insert row by row on
    # SQLite).
    session.execute(
        insert(outbox),
        [
            dict(
                dedupe_key=key,
                resident_id=resident.id,
                to_address=resident.email,
                subject=mail.subject,
                body=mail.body,
                created_at=now,
                next_attempt_at=now,
                attempts=0,
                sent_at=None if resident.email else now,
                last_error=None if resident.email else "no email address",
            )
            for resident, key, mail in fresh
        ],
    )
    ids_by_key: dict[str, int] = {}
    for start in range(0, len(fresh), 500):
        chunk = [key for _, key, _ in fresh[start : start + 500]]
        ids_by_key.update(
            session.execute(select(OutboxMail.dedupe_key, OutboxMail.id).where(OutboxMail.dedupe_key.in_(chunk))).all()
        )
    mail_ids = [ids_by_key[key] for _, key, _ in fresh]
    session.execute(
        insert(messages),
        [
            dict(
                resident_id=resident.id,
                created_at=now,
                subject=mail.subject,
                body=mail.body,
                outbox_mail_id=mail_id,
            )
            for (resident, _, mail), mail_id in zip(fresh, mail_ids, strict=True)
        ],
    )
    return len(fresh)
