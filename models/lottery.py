"""The lottery's data (DESIGN "Lottery"): a calendar row per use month, the rooms it draws,
applications (抽選申込番号) with their entries, and the audit record of staff commands."""

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
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.account import GroupClass, Resident
from models.db import Base, UTCDateTime
from models.facility import Purpose, Room, TimeBand
from models.lottery_rules import Caps, LostReason, LotteryDates
from models.reservation import Reservation
from models.reservation_rules import ReservationState

ENTRY_STATES = (
    ReservationState.LOTTERY_ENTRY,
    ReservationState.WON,
    ReservationState.LOST,
    ReservationState.WITHDRAWN,
)
_OPEN_ENTRY_SQL = f"state = '{ReservationState.LOTTERY_ENTRY.value}'"
_ENTRY_STATES_SQL = "state IN ({})".format(", ".join(f"'{s.value}'" for s in ENTRY_STATES))


def _enum(cls):
    return Enum(
        cls, native_enum=False, length=32, values_callable=lambda e: [m.value for m in e], validate_strings=True
    )


class LotteryMonth(Base):
    """One use month's lottery calendar (抽選申込, 抽選結果の発表日, 一般空き申込), its caps, its
    seed (secret until the draw; its SHA-256 published from the start) and, once drawn, the
    published document."""

    __tablename__ = "lottery_months"
    __table_args__ = (
        CheckConstraint("applications_open_at < applications_close_at", name="period_in_order"),
        CheckConstraint("applications_close_at <= result_at", name="result_after_period"),
        CheckConstraint("result_at <= first_come_opens_at", name="first_come_after_result"),
        CheckConstraint("entry_cap > 0 AND total_cap >= entry_cap", name="caps_positive"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    use_month: Mapped[date] = mapped_column(Date, unique=True)  # its first day
    applications_open_at: Mapped[datetime] = mapped_column(UTCDateTime)
    applications_close_at: Mapped[datetime] = mapped_column(UTCDateTime)  # exclusive
    result_at: Mapped[datetime] = mapped_column(UTCDateTime)
    first_come_opens_at: Mapped[datetime] = mapped_column(UTCDateTime)
    entry_cap: Mapped[int] = mapped_column(Integer)
    total_cap: Mapped[int] = mapped_column(Integer)
    seed_hex: Mapped[str] = mapped_column(String(64))  # secret until drawn_at
    seed_sha256: Mapped[str] = mapped_column(String(64))
    group_key_hex: Mapped[str] = mapped_column(String(64))  # never published
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    drawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    publication: Mapped[str | None] = mapped_column(Text, nullable=True)  # JSON, from drawn_at
    version: Mapped[int] = mapped_column(Integer, default=1)
    rooms: Mapped[list[LotteryRoom]] = relationship(
        back_populates="month", order_by="LotteryRoom.room_id", cascade="all, delete-orphan"
    )

    @property
    def dates(self) -> LotteryDates:
        return LotteryDates(
            self.applications_open_at, self.applications_close_at, self.result_at, self.first_come_opens_at
        )

    @property
    def caps(self) -> Caps:
        return Caps(entries=self.entry_cap, total=self.total_cap)

    @property
    def drawn(self) -> bool:
        return self.drawn_at is not None

    @property
    def seed(self) -> bytes:
        return bytes.fromhex(self.seed_hex)

    @property
    def group_key(self) -> bytes:
        return bytes.fromhex(self.group_key_hex)


# A month's schedule as plain columns, in LotteryDates' order after the month (use month,
# applications open and close, result, first come opens, drawn): the statements that read
# lottery months without their entities select these.
SCHEDULE_COLUMNS = (
    LotteryMonth.use_month,
    LotteryMonth.applications_open_at,
    LotteryMonth.applications_close_at,
    LotteryMonth.result_at,
    LotteryMonth.first_come_opens_at,
    LotteryMonth.drawn_at,
)


class LotteryRoom(Base):
    """A room drawn by lottery in a use month; fixed once the month's period opens."""

    __tablename__ = "lottery_rooms"
    __table_args__ = (
        UniqueConstraint("lottery_month_id", "room_id"),
        Index("ix_lottery_rooms_room", "room_id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    lottery_month_id: Mapped[int] = mapped_column(ForeignKey("lottery_months.id", ondelete="CASCADE"))
    room_id: Mapped[int] = mapped_column(ForeignKey("rooms.id"))
    month: Mapped[LotteryMonth] = relationship(back_populates="rooms")
    room: Mapped[Room] = relationship()


class LotteryApplication(Base):
    """One press of 抽選申込: its 抽選申込番号 and the entries it made, all or nothing."""

    __tablename__ = "lottery_applications"
    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(11), unique=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id"), index=True)
    group_class_id: Mapped[int] = mapped_column(ForeignKey("group_classes.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    resident: Mapped[Resident] = relationship()
    group_class: Mapped[GroupClass] = relationship()
    entries: Mapped[list[LotteryEntry]] = relationship(
        back_populates="application", order_by="(LotteryEntry.use_date, LotteryEntry.starts_at, LotteryEntry.id)"
    )


class LotteryEntry(Base):
    """One entry: room × date × slot with the application's answers, a random public id (its
    name in the published draw) and its state: 抽選申込中 → 当選 / 落選 / 取下げ. A 当選 links
    the booking it became."""

    __tablename__ = "lottery_entries"
    __table_args__ = (
        # One open entry per group and room × date × slot (a withdrawn one may be entered again).
        Index(
            "uq_lottery_entries_open_slot",
            "resident_id",
            "room_id",
            "use_date",
            "time_band_id",
            unique=True,
            sqlite_where=text(_OPEN_ENTRY_SQL),
            postgresql_where=text(_OPEN_ENTRY_SQL),
        ),
        Index("ix_lottery_entries_slot", "room_id", "use_date", "time_band_id"),
        Index("ix_lottery_entries_month_state", "lottery_month_id", "state"),
        Index("ix_lottery_entries_resident_month", "resident_id", "lottery_month_id"),
        CheckConstraint(_ENTRY_STATES_SQL, name="entry_state"),
        CheckConstraint("attendees > 0", name="attendees_positive"),
        CheckConstraint(
            "(state = 'won') = (reservation_id IS NOT NULL)",
            name="won_has_booking",
        ),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("lottery_applications.id"))
    lottery_month_id: Mapped[int] = mapped_column(ForeignKey("lottery_months.id"))
    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id"))
    room_id: Mapped[int] = mapped_column(ForeignKey("rooms.id"))
    time_band_id: Mapped[int] = mapped_column(ForeignKey("time_bands.id"))
    use_date: Mapped[date] = mapped_column(Date)
    # Copied from the band, as a booking does.
    starts_at: Mapped[time] = mapped_column(Time)
    ends_at: Mapped[time] = mapped_column(Time)
    purpose_id: Mapped[int] = mapped_column(ForeignKey("purposes.id"))
    attendees: Mapped[int] = mapped_column(Integer)
    charges_participation_fee: Mapped[bool] = mapped_column(Boolean)
    state: Mapped[ReservationState] = mapped_column(_enum(ReservationState))
    lost_reason: Mapped[LostReason | None] = mapped_column(_enum(LostReason), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    drawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    reservation_id: Mapped[int | None] = mapped_column(ForeignKey("reservations.id"), nullable=True, unique=True)
    # Bumped on every state change.
    version: Mapped[int] = mapped_column(Integer, default=1)

    application: Mapped[LotteryApplication] = relationship(back_populates="entries")
    month: Mapped[LotteryMonth] = relationship()
    resident: Mapped[Resident] = relationship()
    room: Mapped[Room] = relationship()
    time_band: Mapped[TimeBand] = relationship()
    purpose: Mapped[Purpose] = relationship()
    reservation: Mapped[Reservation | None] = relationship()


class LotteryAudit(Base):
    """Who changed what in the lottery, and when: calendar moves, rooms, months created, draws."""

    __tablename__ = "lottery_audit"
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    operator: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(32))
    lottery_month_id: Mapped[int | None] = mapped_column(ForeignKey("lottery_months.id"), nullable=True, index=True)
    details: Mapped[str] = mapped_column(Text)  # JSON: what changed, from what to what
