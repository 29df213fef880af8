"""Facilities, rooms, time bands, fees and equipment: the catalogue residents search."""

from __future__ import annotations

import secrets
from datetime import date, time

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    Date,
    ForeignKey,
    Integer,
    String,
    Table,
    Text,
    Time,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.db import Base

room_purposes = Table(
    "room_purposes",
    Base.metadata,
    Column("room_id", ForeignKey("rooms.id", ondelete="CASCADE"), primary_key=True),
    Column("purpose_id", ForeignKey("purposes.id", ondelete="CASCADE"), primary_key=True),
)


class FacilityCategory(Base):
    """カテゴリ: スポーツ施設, 住区会議室 … Also the facility type that carries the refund table."""

    __tablename__ = "facility_categories"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name_ja: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(100))
    # Which registration may book here: "assembly" (集会・学校) or "sports" (スポーツ).
    registration_kind: Mapped[str] = mapped_column(String(16))
    lends_equipment: Mapped[bool] = mapped_column(Boolean, default=True)
    ordinal: Mapped[int] = mapped_column(Integer, default=0)
    facilities: Mapped[list[Facility]] = relationship(back_populates="category", order_by="Facility.kana")
    refund_bands: Mapped[list[RefundBand]] = relationship(order_by="RefundBand.min_days_before.desc()")


class RefundBand(Base):
    """Refund rate by days before the use date, as data per facility type (DESIGN rule 12)."""

    __tablename__ = "refund_bands"
    __table_args__ = (
        CheckConstraint("percent BETWEEN 0 AND 100", name="percent_range"),
        CheckConstraint("min_days_before >= 0", name="days_nonnegative"),
        UniqueConstraint("category_id", "min_days_before"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    category_id: Mapped[int] = mapped_column(ForeignKey("facility_categories.id"))
    min_days_before: Mapped[int] = mapped_column(Integer)
    percent: Mapped[int] = mapped_column(Integer)


class Facility(Base):
    __tablename__ = "facilities"
    __table_args__ = (CheckConstraint("length(code) = 3", name="code_length"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(3), unique=True)
    name_ja: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(100))
    kana: Mapped[str] = mapped_column(String(100))  # reading, for 施設名から探す (kana rows)
    category_id: Mapped[int] = mapped_column(ForeignKey("facility_categories.id"))
    phone: Mapped[str] = mapped_column(String(20))
    contact_name_ja: Mapped[str] = mapped_column(String(100))  # e.g. 駒場住区会議室
    contact_name_en: Mapped[str] = mapped_column(String(100))
    address_ja: Mapped[str] = mapped_column(String(200))
    address_en: Mapped[str] = mapped_column(String(200))
    access_ja: Mapped[str] = mapped_column(Text, default="")
    access_en: Mapped[str] = mapped_column(Text, default="")
    # Weekly closing days as weekday numbers (Monday = 0), comma-separated, e.g. "0".
    closed_weekdays: Mapped[str] = mapped_column(String(20), default="")
    # Bumped (models.availability_version) in the same transaction as every write that can
    # change a slot of its rooms: booking, cancellation, expiry, lottery entry, withdrawal,
    # draw. Cached grid statuses are keyed by it. A new facility starts at a random value, so
    # that a database seeded again never meets the entries cached for the one before.
    availability_version: Mapped[int] = mapped_column(
        Integer, default=lambda: secrets.randbelow(2**30), server_default="0"
    )
    category: Mapped[FacilityCategory] = relationship(back_populates="facilities")
    rooms: Mapped[list[Room]] = relationship(back_populates="facility", order_by="Room.ordinal")
    closed_dates: Mapped[list[ClosedDate]] = relationship(back_populates="facility")
    equipment_items: Mapped[list[EquipmentItem]] = relationship(order_by="EquipmentItem.ordinal")

    @property
    def closed_weekday_set(self) -> frozenset[int]:
        return frozenset(int(x) for x in self.closed_weekdays.split(",") if x.strip())


class ClosedDate(Base):
    """休館日 beyond the weekly closing day (year end, inspections)."""

    __tablename__ = "closed_dates"
    __table_args__ = (UniqueConstraint("facility_id", "day"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    facility_id: Mapped[int] = mapped_column(ForeignKey("facilities.id"))
    day: Mapped[date] = mapped_column(Date)
    facility: Mapped[Facility] = relationship(back_populates="closed_dates")


class RoomType(Base):
    """施設種類: 会議室, 研修室, 体育館 …"""

    __tablename__ = "room_types"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name_ja: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(100))
    ordinal: Mapped[int] = mapped_column(Integer, default=0)


class Purpose(Base):
    """使用目的 / 利用目的: 会議, 大会・式典, 球技 …"""

    __tablename__ = "purposes"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name_ja: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(100))
    ordinal: Mapped[int] = mapped_column(Integer, default=0)


class Room(Base):
    """室場 / 面: the bookable space, e.g. 201【旧第1会議室】."""

    __tablename__ = "rooms"
    __table_args__ = (CheckConstraint("capacity > 0", name="capacity_positive"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    facility_id: Mapped[int] = mapped_column(ForeignKey("facilities.id"))
    room_type_id: Mapped[int] = mapped_column(ForeignKey("room_types.id"))
    name_ja: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(100))
    capacity: Mapped[int] = mapped_column(Integer)
    ordinal: Mapped[int] = mapped_column(Integer, default=0)
    facility: Mapped[Facility] = relationship(back_populates="rooms")
    room_type: Mapped[RoomType] = relationship()
    purposes: Mapped[list[Purpose]] = relationship(secondary=room_purposes, order_by="Purpose.ordinal")
    time_bands: Mapped[list[TimeBand]] = relationship(back_populates="room", order_by="TimeBand.starts_at")


class TimeBand(Base):
    """時間帯 / コマ of a room, e.g. 9:00~12:00."""

    __tablename__ = "time_bands"
    __table_args__ = (
        UniqueConstraint("room_id", "starts_at"),
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    room_id: Mapped[int] = mapped_column(ForeignKey("rooms.id"))
    starts_at: Mapped[time] = mapped_column(Time)
    ends_at: Mapped[time] = mapped_column(Time)
    room: Mapped[Room] = relationship(back_populates="time_bands")


class FeeRate(Base):
    """One row of the fee table; a NULL column matches any value (models.fee_rules)."""

    __tablename__ = "fee_rates"
    __table_args__ = (CheckConstraint("amount_yen >= 0", name="amount_nonnegative"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    room_id: Mapped[int] = mapped_column(ForeignKey("rooms.id"))
    time_band_id: Mapped[int] = mapped_column(ForeignKey("time_bands.id"))
    day_type: Mapped[str | None] = mapped_column(String(16), nullable=True)
    group_class_code: Mapped[str | None] = mapped_column(String(32), nullable=True)
    charges_participation_fee: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    amount_yen: Mapped[int] = mapped_column(Integer)


class EquipmentItem(Base):
    """備品（付帯品）lent by a facility: price, stock and unit (DESIGN rule 10)."""

    __tablename__ = "equipment_items"
    __table_args__ = (
        CheckConstraint("price_yen >= 0", name="price_nonnegative"),
        CheckConstraint("stock >= 0", name="stock_nonnegative"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    facility_id: Mapped[int] = mapped_column(ForeignKey("facilities.id"))
    name_ja: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(100))
    note_ja: Mapped[str] = mapped_column(String(200), default="")
    note_en: Mapped[str] = mapped_column(String(200), default="")
    price_yen: Mapped[int] = mapped_column(Integer)
    stock: Mapped[int] = mapped_column(Integer)
    unit_ja: Mapped[str] = mapped_column(String(8))  # 台, 式, 枚, 面
    unit_en: Mapped[str] = mapped_column(String(16))
    ordinal: Mapped[int] = mapped_column(Integer, default=0)
