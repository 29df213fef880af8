"""Queue a notice: the mail in the outbox and the same text in メッセージ, in the caller's
transaction, once per event."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
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
