"""Retention of the outbox: the delivery records of mail sent long ago are deleted in
batches, so that the table (and a backup) does not grow for ever. What stays: every notice's
text in メッセージの確認 (its own row, only unlinked from the record), every mail not sent
yet or given up, and a 決済完了通知 until its booking's use date has passed — it is the
利用承認書 the resident may be asked to show."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import and_, delete, exists, func, select, update

from models.db import Database
from models.notice import Message
from models.outbox import OutboxMail
from models.payment import CardCharge
from models.reservation import Reservation
from models.time_rules import jst_day

# The dedupe key of a 決済完了通知 (blueprints/payment/operations.py): capture:<収納番号>.
PAYMENT_COMPLETION_PREFIX = "capture:"
BATCH = 5000


def _permit_still_needed(today):
    """A 決済完了通知 whose booking's use date is today or later."""
    return exists().where(
        OutboxMail.dedupe_key.startswith(PAYMENT_COMPLETION_PREFIX),
        CardCharge.receipt_number == func.substr(OutboxMail.dedupe_key, len(PAYMENT_COMPLETION_PREFIX) + 1),
        Reservation.id == CardCharge.reservation_id,
        Reservation.use_date >= today,
    )


def trim_sent_mail(database: Database, now: datetime, older_than: timedelta, batch: int = BATCH) -> int:
    """Delete the records of mail sent before now − `older_than`; returns how many."""
    cutoff = now - older_than
    removable = and_(OutboxMail.sent_at.is_not(None), OutboxMail.sent_at < cutoff, ~_permit_still_needed(jst_day(now)))
    removed = 0
    while True:
        with database.write() as session:
            ids = list(session.scalars(select(OutboxMail.id).where(removable).order_by(OutboxMail.id).limit(batch)))
            if not ids:
                return removed
            session.execute(
                update(Message)
                .where(Message.outbox_mail_id.in_(ids))
                .values(outbox_mail_id=None)
                .execution_options(synchronize_session=False)
            )
            session.execute(
                delete(OutboxMail).where(OutboxMail.id.in_(ids)).execution_options(synchronize_session=False)
            )
        removed += len(ids)
