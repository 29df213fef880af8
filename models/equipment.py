"""Equipment lines of a booking: which item, how many, lent from when to when, at what price."""

from __future__ import annotations

from datetime import time

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, Time, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.db import Base
from models.equipment_rules import subtotal_rule
from models.facility import EquipmentItem


class ReservationEquipment(Base):
    """備品（付帯品）予約: `quantity` units of one item for one booking. The price is the one
    the resident confirmed, kept so that the booking's fee does not move if the
    catalogue's does."""

    __tablename__ = "reservation_equipment"
    __table_args__ = (
        UniqueConstraint("reservation_id", "item_id"),
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("price_yen >= 0", name="price_nonnegative"),
        CheckConstraint("lend_ends_at > lend_starts_at", name="lend_ends_after_start"),
        # Stock is counted per item across the bookings of a day (models.equipment_rules).
        Index("ix_reservation_equipment_item", "item_id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    reservation_id: Mapped[int] = mapped_column(ForeignKey("reservations.id", ondelete="CASCADE"))
    item_id: Mapped[int] = mapped_column(ForeignKey("equipment_items.id"))
    quantity: Mapped[int] = mapped_column(Integer)
    price_yen: Mapped[int] = mapped_column(Integer)
    lend_starts_at: Mapped[time] = mapped_column(Time)
    lend_ends_at: Mapped[time] = mapped_column(Time)

    reservation = relationship("Reservation", back_populates="equipment_lines")
    item: Mapped[EquipmentItem] = relationship()

    @property
    def subtotal_yen(self) -> int:
        return subtotal_rule(self.price_yen, self.quantity)
