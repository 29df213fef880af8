"""Equipment on a booking (guide §5-2, DESIGN rule 10): the sheet 備品（付帯品）予約 shows
(each item with what is free for the lending time), and the change itself, made under the
stock lock: the booking's row and its facility's items locked (SELECT … FOR UPDATE on
PostgreSQL; SQLite's BEGIN IMMEDIATE holds the whole database), stock counted again, the
lines replaced, 備品使用料 and the version written. Takes the session and `now`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time

from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload, selectinload

from models import errors
from models.equipment import ReservationEquipment
from models.equipment_rules import (
    EquipmentAccess,
    Lending,
    available_rule,
    check_equipment_access,
    check_lending_window,
    check_stock,
    equipment_access_rule,
    holds_card_paid_equipment,
    lending_times_rule,
    subtotal_rule,
    total_rule,
)
from models.facility import EquipmentItem, Facility, FacilityCategory, Room
from models.fee_rules import total_fee_rule
from models.numbering_rules import RESERVATION_NUMBER
from models.reservation import Reservation
from models.reservation_rules import ACTIVE_STATES
from models.settlement_rules import held_charge_of, is_resettlement_due


@dataclass(frozen=True)
class EquipmentRequest:
    """What the resident asks for: a quantity per item (0 for none) and one lending time."""

    quantities: dict[int, int]
    lend_starts: time
    lend_ends: time

    @property
    def chosen(self) -> dict[int, int]:
        return {item_id: q for item_id, q in self.quantities.items() if q > 0}


@dataclass(frozen=True)
class SheetLine:
    """One row of 備品（付帯品）予約: the item, the quantity asked for and what is free."""

    item: EquipmentItem
    quantity: int
    available: int

    @property
    def subtotal_yen(self) -> int:
        return subtotal_rule(self.item.price_yen, self.quantity)

    @property
    def short(self) -> bool:
        return self.quantity > self.available


@dataclass(frozen=True)
class EquipmentSheet:
    """Everything 備品（付帯品）予約 and its 確認 show for one booking."""

    reservation: Reservation
    lines: list[SheetLine]
    lend_starts: time
    lend_ends: time
    lending_times: list[time]

    @property
    def facility(self) -> Facility:
        return self.reservation.room.facility

    @property
    def total_yen(self) -> int:
        return total_rule([(line.item.price_yen, line.quantity) for line in self.lines])

    @property
    def chosen(self) -> list[SheetLine]:
        return [line for line in self.lines if line.quantity > 0]

    @property
    def new_fee_yen(self) -> int:
        """使用料 after the change: the room and this equipment."""
        return total_fee_rule(self.reservation.facility_fee_yen, self.total_yen)

    @property
    def resettlement_due(self) -> bool:
        """After the change, the card charge held differs from the fee: クレジット決済 must
        settle again (the 確認 page says so before 予約)."""
        return is_resettlement_due(held_charge_of(self.reservation.live_charge), self.new_fee_yen)


def load_booking(session: Session, *, resident_id: int, number: str, lock: bool = False) -> Reservation:
    """One of the resident's bookings by 予約番号, with what the equipment screens read.
    Someone else's and an unknown number are the same NotFound."""
    if not RESERVATION_NUMBER.match(number or ""):
        raise errors.NotFound(number=number)
    query = (
        select(Reservation)
        .where(Reservation.number == number, Reservation.resident_id == resident_id)
        .options(
            joinedload(Reservation.room).joinedload(Room.facility).joinedload(Facility.category),
            joinedload(Reservation.room).joinedload(Room.facility).selectinload(Facility.equipment_items),
            selectinload(Reservation.equipment_lines),
            selectinload(Reservation.counter_payments),
            selectinload(Reservation.card_charges),
        )
    )
    if lock:
        # The booking's row only (PostgreSQL refuses FOR UPDATE across outer joins).
        query = query.with_for_update(of=Reservation)
    reservation = session.scalar(query)
    if reservation is None:
        raise errors.NotFound(number=number)
    return reservation


def access_of(reservation: Reservation, now: datetime) -> EquipmentAccess:
    facility = reservation.room.facility
    return equipment_access_rule(
        state=reservation.state,
        lends_equipment=facility.category.lends_equipment,
        has_items=bool(facility.equipment_items),
        counter_paid=reservation.is_counter_paid,
        use_date=reservation.use_date,
        starts_at=reservation.starts_at,
        now=now,
    )


def check_access(reservation: Reservation, now: datetime) -> None:
    """Raises the rule that keeps this booking's equipment from changing now, if any."""
    check_equipment_access(access_of(reservation, now), number=reservation.number, facility=reservation.room.facility)


def holds_paid_equipment(reservation: Reservation) -> bool:
    """Part of the live card charge paid for equipment (the guide's message first, L345)."""
    return holds_card_paid_equipment(reservation.card_held_yen, reservation.facility_fee_yen)


def current_request(reservation: Reservation) -> EquipmentRequest:
    """The booking's equipment as it stands; a booking without any lends for the whole slot."""
    lines = reservation.equipment_lines
    if lines:
        return EquipmentRequest(
            {line.item_id: line.quantity for line in lines}, lines[0].lend_starts_at, lines[0].lend_ends_at
        )
    return EquipmentRequest({}, reservation.starts_at, reservation.ends_at)


def available_items(session: Session, reservation: Reservation, lend_starts: time, lend_ends: time) -> dict[int, int]:
    """Units of each of the facility's items free for this booking's lending: the stock
    less the peak held by other active bookings of the same day whose lending overlaps."""
    items = reservation.room.facility.equipment_items
    others: dict[int, list[Lending]] = {item.id: [] for item in items}
    if items:
        rows = session.execute(
            select(
                ReservationEquipment.item_id,
                ReservationEquipment.lend_starts_at,
                ReservationEquipment.lend_ends_at,
                ReservationEquipment.quantity,
            )
            .join(Reservation, Reservation.id == ReservationEquipment.reservation_id)
            .where(
                ReservationEquipment.item_id.in_(list(others)),
                Reservation.use_date == reservation.use_date,
                Reservation.state.in_(ACTIVE_STATES),
                Reservation.id != reservation.id,
            )
        ).all()
        for item_id, starts, ends, quantity in rows:
            others[item_id].append(Lending(starts, ends, quantity))
    return {item.id: available_rule(item.stock, lend_starts, lend_ends, others[item.id]) for item in items}


def equipment_sheet(session: Session, reservation: Reservation, request: EquipmentRequest | None) -> EquipmentSheet:
    """The sheet for `request` (the booking's own equipment when None). Quantities are shown
    as asked, even above what is free: the page says which."""
    request = request or current_request(reservation)
    times = lending_times_rule(reservation.starts_at, reservation.ends_at)
    try:
        check_lending_window(reservation.starts_at, reservation.ends_at, request.lend_starts, request.lend_ends)
        starts, ends = request.lend_starts, request.lend_ends
    except (errors.LendingTimeOutsideSlot, errors.LendingTimeReversed):
        starts, ends = reservation.starts_at, reservation.ends_at  # what is free for the whole slot
    available = available_items(session, reservation, starts, ends)
    lines = [
        SheetLine(item, request.quantities.get(item.id, 0), available[item.id])
        for item in reservation.room.facility.equipment_items
    ]
    return EquipmentSheet(reservation, lines, request.lend_starts, request.lend_ends, times)


def change_equipment(
    session: Session, *, resident_id: int, number: str, request: EquipmentRequest, expected_version: int, now: datetime
) -> Reservation:
    """予約: replace the booking's equipment by `request`, all or nothing. Under the stock
    lock, so two bookings cannot both take the last unit however close their submits."""
    reservation = load_booking(session, resident_id=resident_id, number=number, lock=True)
    if reservation.version != expected_version:
        raise errors.StaleBooking(number=number)
    check_access(reservation, now)
    check_lending_window(reservation.starts_at, reservation.ends_at, request.lend_starts, request.lend_ends)
    # The stock lock: every item of the facility, in id order (SQLite: already serialised).
    items = {
        item.id: item
        for item in session.scalars(
            select(EquipmentItem)
            .where(EquipmentItem.facility_id == reservation.room.facility_id)
            .order_by(EquipmentItem.id)
            .with_for_update()
        )
    }
    unknown = set(request.quantities) - set(items)
    if unknown or any(q < 0 for q in request.quantities.values()):
        raise errors.NotFound(items=sorted(unknown))
    chosen = request.chosen
    check_stock(chosen, available_items(session, reservation, request.lend_starts, request.lend_ends))

    wanted = {
        item_id: (quantity, items[item_id].price_yen, request.lend_starts, request.lend_ends)
        for item_id, quantity in chosen.items()
    }
    held = {
        line.item_id: (line.quantity, line.price_yen, line.lend_starts_at, line.lend_ends_at)
        for line in reservation.equipment_lines
    }
    if wanted == held:
        return reservation  # nothing changes: the version stays, an open card page stays valid
    for line in list(reservation.equipment_lines):
        if line.item_id not in wanted:
            reservation.equipment_lines.remove(line)
    by_item = {line.item_id: line for line in reservation.equipment_lines}
    for item_id, (quantity, price, starts, ends) in sorted(wanted.items()):
        line = by_item.get(item_id)
        if line is None:
            reservation.equipment_lines.append(
                ReservationEquipment(
                    item_id=item_id, quantity=quantity, price_yen=price, lend_starts_at=starts, lend_ends_at=ends
                )
            )
        else:
            line.quantity, line.price_yen, line.lend_starts_at, line.lend_ends_at = quantity, price, starts, ends
    reservation.equipment_fee_yen = total_rule([(price, quantity) for quantity, price, _s, _e in wanted.values()])
    reservation.version += 1
    session.flush()
    return reservation


@dataclass(frozen=True)
class EquipmentOffer:
    """The 備品 cell of a booking in 予約内容の確認・取消: the way in, or why there is none."""

    access: EquipmentAccess
    paid_equipment: bool  # the guide's message comes first (L345-L351)

    @property
    def allowed(self) -> bool:
        return self.access is EquipmentAccess.ALLOWED


def facilities_lending(session: Session) -> dict[int, tuple[bool, bool]]:
    """For each facility: whether its category lends equipment and whether it has items
    to lend. One query, whatever the number of facilities."""
    item_count = select(func.count(EquipmentItem.id)).where(EquipmentItem.facility_id == Facility.id).scalar_subquery()
    rows = session.execute(
        select(Facility.id, FacilityCategory.lends_equipment, item_count).join(
            FacilityCategory, FacilityCategory.id == Facility.category_id
        )
    )
    return {facility_id: (lends, count > 0) for facility_id, lends, count in rows}


def equipment_offers(
    lending: dict[int, tuple[bool, bool]], reservations: list[Reservation], now: datetime
) -> dict[int, EquipmentOffer]:
    """The 備品 cell of each booking, from `facilities_lending` and the loaded rows (their
    counter payments and card charges): no query of its own."""
    offers = {}
    for r in reservations:
        lends_equipment, has_items = lending.get(r.room.facility_id, (False, False))
        access = equipment_access_rule(
            state=r.state,
            lends_equipment=lends_equipment,
            has_items=has_items,
            counter_paid=r.is_counter_paid,
            use_date=r.use_date,
            starts_at=r.starts_at,
            now=now,
        )
        offers[r.id] = EquipmentOffer(access, holds_paid_equipment(r))
    return offers
