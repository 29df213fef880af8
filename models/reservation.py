"""Applications, reservations, counter payments, one-time form tokens and counters."""

from __future__ import annotations

from datetime import date, datetime, time

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    Enum,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    Time,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.account import GroupClass, Resident
from models.db import Base, UTCDateTime
from models.equipment import ReservationEquipment
from models.facility import Purpose, Room, TimeBand
from models.fee_rules import total_fee_rule
from models.reservation_rules import ACTIVE_STATES, CancelKind, ReservationState
from models.settlement_rules import due_rule

_ACTIVE_SQL = "state IN ({})".format(", ".join(f"'{s.value}'" for s in sorted(ACTIVE_STATES)))


def _enum(cls):
    return Enum(
        cls, native_enum=False, length=32, values_callable=lambda e: [m.value for m in e], validate_strings=True
    )


class Application(Base):
    """One press of 申込: the batch of reservations it created, with its one-time token."""

    __tablename__ = "applications"
    id: Mapped[int] = mapped_column(primary_key=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    reservations: Mapped[list[Reservation]] = relationship(
        back_populates="application", order_by="(Reservation.use_date, Reservation.starts_at, Reservation.id)"
    )


class Reservation(Base):
    """One 予約番号: one room × date × slot of one group."""

    __tablename__ = "reservations"
    __table_args__ = (
        # At most one active booking per room × date × slot, on SQLite and PostgreSQL.
        Index(
            "uq_reservations_active_slot",
            "room_id",
            "use_date",
            "time_band_id",
            unique=True,
            sqlite_where=text(_ACTIVE_SQL),
            postgresql_where=text(_ACTIVE_SQL),
        ),
        Index("ix_reservations_resident_use_date", "resident_id", "use_date"),
        Index("ix_reservations_room_use_date", "room_id", "use_date"),
        CheckConstraint("facility_fee_yen >= 0", name="fee_nonnegative"),
        CheckConstraint("equipment_fee_yen >= 0", name="equipment_fee_nonnegative"),
        CheckConstraint("attendees > 0", name="attendees_positive"),
        CheckConstraint("refund_percent IS NULL OR refund_percent BETWEEN 0 AND 100", name="refund_percent_range"),
        CheckConstraint(
            "cancellation_fee_yen IS NULL OR cancellation_fee_yen >= 0", name="cancellation_fee_nonnegative"
        ),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(11), unique=True)
    application_id: Mapped[int | None] = mapped_column(ForeignKey("applications.id"), nullable=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id"))
    room_id: Mapped[int] = mapped_column(ForeignKey("rooms.id"))
    time_band_id: Mapped[int] = mapped_column(ForeignKey("time_bands.id"))
    use_date: Mapped[date] = mapped_column(Date)
    # Copied from the band so that the booking keeps its hours if the timetable changes.
    starts_at: Mapped[time] = mapped_column(Time)
    ends_at: Mapped[time] = mapped_column(Time)
    state: Mapped[ReservationState] = mapped_column(_enum(ReservationState))
    purpose_id: Mapped[int] = mapped_column(ForeignKey("purposes.id"))
    attendees: Mapped[int] = mapped_column(Integer)
    charges_participation_fee: Mapped[bool] = mapped_column(Boolean)
    group_class_id: Mapped[int] = mapped_column(ForeignKey("group_classes.id"))
    facility_fee_yen: Mapped[int] = mapped_column(Integer)
    # 備品使用料: the sum of the equipment lines, written with them under the stock lock
    # (blueprints.equipment.operations), so that lists and payments read it without the lines.
    equipment_fee_yen: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    applied_at: Mapped[datetime] = mapped_column(UTCDateTime)
    lottery_result_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    cancel_kind: Mapped[CancelKind | None] = mapped_column(_enum(CancelKind), nullable=True)
    cancel_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    refund_percent: Mapped[int | None] = mapped_column(Integer, nullable=True)
    cancellation_fee_yen: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # Bumped on every change a payment session must notice (fee, state).
    version: Mapped[int] = mapped_column(Integer, default=1)

    application: Mapped[Application | None] = relationship(back_populates="reservations")
    resident: Mapped[Resident] = relationship()
    room: Mapped[Room] = relationship()
    time_band: Mapped[TimeBand] = relationship()
    purpose: Mapped[Purpose] = relationship()
    group_class: Mapped[GroupClass] = relationship()
    counter_payments: Mapped[list[CounterPayment]] = relationship(
        back_populates="reservation", order_by="CounterPayment.paid_at"
    )
    card_charges = relationship("CardCharge", back_populates="reservation", order_by="CardCharge.id")
    settlements = relationship("Settlement", back_populates="reservation", order_by="Settlement.id")
    equipment_lines: Mapped[list[ReservationEquipment]] = relationship(
        back_populates="reservation",
        order_by="ReservationEquipment.id",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )

    @property
    def payment_basis(self) -> datetime:
        """The moment the payment deadline counts from: lottery result, else application."""
        return self.lottery_result_at or self.applied_at

    @property
    def total_fee_yen(self) -> int:
        return total_fee_rule(self.facility_fee_yen, self.equipment_fee_yen)

    @property
    def counter_paid_yen(self) -> int:
        return sum(p.amount_yen for p in self.counter_payments)

    @property
    def live_charge(self):
        """The card charge the city holds (captured, not voided nor void-pending), if any."""
        return next((c for c in self.card_charges if c.is_live), None)

    @property
    def card_held_yen(self) -> int:
        live = self.live_charge
        return live.amount_yen if live else 0

    @property
    def held_yen(self) -> int:
        """What the city holds for this booking: counter payments and the live card charge."""
        return self.counter_paid_yen + self.card_held_yen

    @property
    def due_yen(self) -> int:
        """`due` of DESIGN "Settlement" (settlement_rules.due_rule)."""
        return due_rule(self.state, total_fee_yen=self.total_fee_yen, cancellation_fee_yen=self.cancellation_fee_yen)

    @property
    def is_counter_paid(self) -> bool:
        return bool(self.counter_payments)


class CounterPayment(Base):
    """A payment taken at a facility's counter (窓口), recorded by staff."""

    __tablename__ = "counter_payments"
    __table_args__ = (CheckConstraint("amount_yen > 0", name="amount_positive"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    # Indexed: every list of bookings loads their payments by booking (at a ward's scale a
    # scan of every counter payment ever made cost 0.3 s per page).
    reservation_id: Mapped[int] = mapped_column(ForeignKey("reservations.id"), index=True)
    amount_yen: Mapped[int] = mapped_column(Integer)
    paid_at: Mapped[datetime] = mapped_column(UTCDateTime)
    receipt_number: Mapped[str] = mapped_column(String(16), unique=True)
    reservation: Mapped[Reservation] = relationship(back_populates="counter_payments")


class SubmissionToken(Base):
    """A used one-time form token and where its first result lives (replays go there)."""

    __tablename__ = "submission_tokens"
    token: Mapped[str] = mapped_column(String(64), primary_key=True)
    resident_id: Mapped[int | None] = mapped_column(ForeignKey("residents.id"), nullable=True)
    used_at: Mapped[datetime] = mapped_column(UTCDateTime)
    result_url: Mapped[str] = mapped_column(String(500))


class Counter(Base):
    """Sequences (予約番号 per fiscal year, 収納番号 per facility and day), taken under lock."""

    __tablename__ = "counters"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[int] = mapped_column(Integer, default=0)
