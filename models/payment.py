"""Card payments: each settlement attempt and each card charge (収納番号), with its void."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import CheckConstraint, Enum, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.db import Base, UTCDateTime


def _enum(cls):
    return Enum(
        cls, native_enum=False, length=32, values_callable=lambda e: [m.value for m in e], validate_strings=True
    )


class SettlementStatus(str, enum.Enum):
    QUOTED = "quoted"  # 確定 pressed: bound to the booking's version, awaiting 注意事項
    PAYING = "paying"  # the card page is open at the provider
    COMPLETED = "completed"  # captured (if anything was due) and the old charge void-pending
    ABANDONED = "abandoned"  # cancelled, expired or never started: nothing charged
    SUPERSEDED = "superseded"  # the booking changed while the card page was open: capture voided


class ChargeStatus(str, enum.Enum):
    OPEN = "open"  # a session exists at the provider; nothing captured yet
    CAPTURED = "captured"
    FAILED = "failed"  # cancelled or expired at the provider: nothing was charged


class VoidStatus(str, enum.Enum):
    NONE = "none"
    PENDING = "pending"  # decided, sent to the provider until it succeeds
    VOIDED = "voided"


class Settlement(Base):
    """One pass through 確認 → 注意事項 → card page → 完了 for one booking."""

    __tablename__ = "settlements"
    __table_args__ = (CheckConstraint("charge_yen >= 0", name="charge_nonnegative"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    reservation_id: Mapped[int] = mapped_column(ForeignKey("reservations.id"), index=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id"))
    reservation_version: Mapped[int] = mapped_column(Integer)
    charge_yen: Mapped[int] = mapped_column(Integer)  # 決済予定額
    void_charge_id: Mapped[int | None] = mapped_column(ForeignKey("card_charges.id", use_alter=True), nullable=True)
    new_charge_id: Mapped[int | None] = mapped_column(ForeignKey("card_charges.id", use_alter=True), nullable=True)
    status: Mapped[SettlementStatus] = mapped_column(_enum(SettlementStatus))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # Why it ended without completing (provider status, or "booking_changed").
    outcome: Mapped[str | None] = mapped_column(String(32), nullable=True)

    reservation = relationship("Reservation", back_populates="settlements")
    void_charge: Mapped[CardCharge | None] = relationship(foreign_keys=[void_charge_id])
    new_charge: Mapped[CardCharge | None] = relationship(foreign_keys=[new_charge_id])


class CardCharge(Base):
    """One payment attempt at the provider, under its own 収納番号 (rule 14)."""

    __tablename__ = "card_charges"
    __table_args__ = (
        CheckConstraint("amount_yen > 0", name="amount_positive"),
        # Never more than one live charge per booking (DESIGN "Settlement").
        Index(
            "uq_card_charges_live",
            "reservation_id",
            unique=True,
            sqlite_where=text("status = 'captured' AND void_status = 'none'"),
            postgresql_where=text("status = 'captured' AND void_status = 'none'"),
        ),
        Index("ix_card_charges_void_queue", "void_status", "next_void_at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    # Indexed: every list of bookings loads their charges by booking (the partial unique
    # index above covers live charges only).
    reservation_id: Mapped[int] = mapped_column(ForeignKey("reservations.id"), index=True)
    settlement_id: Mapped[int] = mapped_column(ForeignKey("settlements.id"))
    receipt_number: Mapped[str] = mapped_column(String(16), unique=True)
    amount_yen: Mapped[int] = mapped_column(Integer)
    status: Mapped[ChargeStatus] = mapped_column(_enum(ChargeStatus))
    provider_session_id: Mapped[str | None] = mapped_column(String(100), unique=True, nullable=True)
    payment_url: Mapped[str | None] = mapped_column(String(500), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    captured_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # When the worker last asked the provider about this card page, still open then: it
    # asks again a while later, not at every pass, and the least recently asked first.
    provider_checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    void_status: Mapped[VoidStatus] = mapped_column(_enum(VoidStatus), default=VoidStatus.NONE)
    void_requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    voided_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    void_attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_void_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    void_last_error: Mapped[str | None] = mapped_column(Text, nullable=True)

    reservation = relationship("Reservation", back_populates="card_charges")

    @property
    def is_live(self) -> bool:
        return self.status is ChargeStatus.CAPTURED and self.void_status is VoidStatus.NONE
