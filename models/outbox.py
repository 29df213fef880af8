"""Mail written in the same transaction as its event; the worker delivers it (DESIGN "Email")."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from models.db import Base, UTCDateTime

# What the worker still has to send: a small part of the table once years of sent mail are
# in it, so the claim reads partial indexes of these rows only (mail.delivery.claim_next).
_UNSENT_SQL = "sent_at IS NULL AND undeliverable_at IS NULL"


class OutboxMail(Base):
    __tablename__ = "outbox_mails"
    __table_args__ = (
        Index("ix_outbox_mails_queue", "sent_at", "next_attempt_at"),
        # The queue in its order (the oldest due first).
        Index("ix_outbox_mails_unsent", "id", sqlite_where=text(_UNSENT_SQL), postgresql_where=text(_UNSENT_SQL)),
        # "An earlier mail to the same address is not sent yet" (it goes first).
        Index(
            "ix_outbox_mails_unsent_address",
            "to_address",
            "id",
            sqlite_where=text(_UNSENT_SQL),
            postgresql_where=text(_UNSENT_SQL),
        ),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    # Unique per event so that a replayed event (a duplicate notification) queues nothing new.
    dedupe_key: Mapped[str] = mapped_column(String(120), unique=True)
    resident_id: Mapped[int | None] = mapped_column(ForeignKey("residents.id"), nullable=True)
    # None when the resident has no address: the notice is then only in メッセージ.
    to_address: Mapped[str | None] = mapped_column(String(254), nullable=True)
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    # The first time the receiving server refused this message (not our server being
    # unusable): a message refused for GIVE_UP_AFTER from then is given up.
    first_refused_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # Set when the mail will never be sent: the receiving server refused the address or the
    # message for good (5xx), or kept refusing it past the retry period. Later mails to the
    # address no longer wait for it; the notice stays in メッセージ, which says so.
    undeliverable_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # delivery.Refusal: address, content or temporary.
    undeliverable_reason: Mapped[str | None] = mapped_column(String(20), nullable=True)
