"""Tables of the provider: payment sessions (one per receipt number, the charge lives on
it), the notification outbox and the test-only fault settings."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from payment_standin.db import Base, UTCDateTime
from payment_standin.status import SessionStatus

STATUS_VALUES = ", ".join(f"'{s.value}'" for s in SessionStatus)


class PaymentSession(Base):
    __tablename__ = "payment_sessions"
    __table_args__ = (
        CheckConstraint("amount_yen > 0", name="amount_positive"),
        CheckConstraint(f"status IN ({STATUS_VALUES})", name="status_known"),
        CheckConstraint("(status = 'captured') = (captured_at IS NOT NULL)", name="captured_has_time"),
        CheckConstraint("voided_at IS NULL OR captured_at IS NOT NULL", name="void_needs_capture"),
        CheckConstraint("extensions_used >= 0", name="extensions_not_negative"),
    )

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    merchant_reference: Mapped[str] = mapped_column(String(64))
    receipt_number: Mapped[str] = mapped_column(String(16), unique=True)
    amount_yen: Mapped[int] = mapped_column(Integer)
    return_url: Mapped[str] = mapped_column(Text)
    notify_url: Mapped[str] = mapped_column(Text)
    locale: Mapped[str] = mapped_column(String(2), default="ja")
    status: Mapped[str] = mapped_column(String(16), default=SessionStatus.OPEN.value)
    limit_seconds: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    extensions_used: Mapped[int] = mapped_column(Integer, default=0)
    decline_count: Mapped[int] = mapped_column(Integer, default=0)
    card_brand: Mapped[str | None] = mapped_column(String(32))
    card_last4: Mapped[str | None] = mapped_column(String(4))
    captured_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    voided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def state(self) -> SessionStatus:
        return SessionStatus(self.status)


class Notification(Base):
    """Outbox: one row per delivery to send; a duplicated notification (fault control) is
    two rows with the same event_id. Signed at send time, so retries carry a fresh
    timestamp."""

    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_pending", "delivered_at", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    event_id: Mapped[str] = mapped_column(String(64), index=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("payment_sessions.id"), index=True)
    event_type: Mapped[str] = mapped_column(String(32))
    url: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_status: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)


class FaultSettings(Base):
    """Single row (id 1), read only when PAYMENT_STANDIN_FAULTS=1 enabled the control."""

    __tablename__ = "fault_settings"
    __table_args__ = (
        CheckConstraint("fail_next_voids >= 0", name="voids_not_negative"),
        CheckConstraint("delay_notifications_seconds >= 0", name="delay_not_negative"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    fail_next_voids: Mapped[int] = mapped_column(Integer, default=0)
    delay_notifications_seconds: Mapped[int] = mapped_column(Integer, default=0)
    duplicate_notifications: Mapped[bool] = mapped_column(Boolean, default=False)
