"""クレジット決済 選択 reads what it can list, not a group's history (issue 12): the database
picks the bookings waiting for a settlement (payments.settlement.pending_clause), and its
choice agrees with the rule's (pending_plan) for every state, counter payment, card charge,
cancellation fee and equipment fee; the list reads at most 21 bookings however long the
group's history, and still shows a refund owed on a booking whose 利用日 has passed.

Demo resident 00040675 (目黒団体) holds 仮予約 2026-000001 (700円, 2026/12/25); today is
2026-11-25 (tests/conftest.py)."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from blueprints.payment.listing import list_payment_rows
from bookings.conditions import ListConditions
from models.account import Resident
from models.facility import Room
from models.payment import CardCharge, ChargeStatus, Settlement, SettlementStatus, VoidStatus
from models.reservation import CounterPayment, Reservation
from models.reservation_rules import CancelKind, ReservationState
from payments.settlement import pending_clause, pending_plan
from tests.conftest import FROZEN_NOW, AuthActions
from tests.pages import text
from tests.web.test_payment import FIRST, listed_numbers, rows_of

NOW = datetime.fromisoformat(FROZEN_NOW)
TODAY = date(2026, 11, 25)

# The booking's live or dead card charge: (status, void status, amount as due + delta).
CHARGES = {
    "none": None,
    "live, as due": (ChargeStatus.CAPTURED, VoidStatus.NONE, 0),
    "live, less": (ChargeStatus.CAPTURED, VoidStatus.NONE, -100),
    "live, more": (ChargeStatus.CAPTURED, VoidStatus.NONE, 300),
    "void pending": (ChargeStatus.CAPTURED, VoidStatus.PENDING, 0),
    "voided": (ChargeStatus.CAPTURED, VoidStatus.VOIDED, 0),
    "open": (ChargeStatus.OPEN, VoidStatus.NONE, 0),
    "failed": (ChargeStatus.FAILED, VoidStatus.NONE, 0),
}


def db(app):
    return app.extensions["database"]


def test_the_databases_choice_of_pending_bookings_agrees_with_the_rule(app):
    """Every combination, written and read back in one transaction that is rolled back (a
    plain session: a read session may not write on PostgreSQL)."""
    checked = 0
    with Session(db(app).engine) as s:
        r = s.scalar(select(Reservation).where(Reservation.number == FIRST))
        for state, counter_paid, charge, fee, equipment in itertools.product(
            list(ReservationState), (False, True), CHARGES, (None, 0, 250), (0, 400)
        ):
            r = s.scalar(select(Reservation).where(Reservation.number == FIRST))
            r.state, r.cancellation_fee_yen, r.equipment_fee_yen = state, fee, equipment
            s.flush()
            due = r.due_yen
            if counter_paid:
                s.add(CounterPayment(reservation_id=r.id, amount_yen=700, paid_at=NOW, receipt_number="C-TEST"))
            if CHARGES[charge] is not None:
                status, void_status, delta = CHARGES[charge]
                if due + delta <= 0:
                    s.rollback()
                    continue
                settlement = Settlement(
                    reservation_id=r.id,
                    resident_id=r.resident_id,
                    reservation_version=r.version,
                    charge_yen=due + delta,
                    status=SettlementStatus.COMPLETED,
                    created_at=NOW,
                )
                s.add(settlement)
                s.flush()
                s.add(
                    CardCharge(
                        reservation_id=r.id,
                        settlement_id=settlement.id,
                        receipt_number="R-TEST",
                        amount_yen=due + delta,
                        status=status,
                        void_status=void_status,
                        created_at=NOW,
                        captured_at=NOW if status is ChargeStatus.CAPTURED else None,
                    )
                )
            s.flush()
            s.expire(r)
            by_rule = pending_plan(r) is not None
            by_database = bool(s.scalar(select(pending_clause()).where(Reservation.id == r.id)))
            assert by_database == by_rule, (state, counter_paid, charge, fee, equipment)
            checked += 1
            s.rollback()
    assert checked > 300


def add_history(app, *, past: int, upcoming: int) -> None:
    """目黒団体's years of history (本予約 paid at the counter, 取消済 with nothing paid, both
    settled) and `upcoming` 仮予約 in the hall, as bulk rows."""
    with db(app).write() as s:
        template = s.scalar(select(Reservation).where(Reservation.number == FIRST))
        hall = s.scalar(select(Room).where(Room.name_ja == "ホール"))
        bands = hall.time_bands

        def row(number: int, day: date, band, state: ReservationState) -> Reservation:
            return Reservation(
                number=f"2026-{number:06d}",
                resident_id=template.resident_id,
                room_id=hall.id,
                time_band_id=band.id,
                use_date=day,
                starts_at=band.starts_at,
                ends_at=band.ends_at,
                state=state,
                purpose_id=template.purpose_id,
                attendees=5,
                charges_participation_fee=False,
                group_class_id=template.group_class_id,
                facility_fee_yen=1500,
                applied_at=datetime.combine(day - timedelta(days=30), datetime.min.time(), UTC),
            )

        for i in range(past):
            day = TODAY - timedelta(days=400 - i * 3)
            if i % 2:
                booking = row(600000 + i, day, bands[i % len(bands)], ReservationState.CONFIRMED)
                booking.counter_payments.append(
                    CounterPayment(amount_yen=1500, paid_at=booking.applied_at, receipt_number=f"H-{i:06d}")
                )
            else:
                booking = row(600000 + i, day, bands[i % len(bands)], ReservationState.CANCELLED)
                booking.cancelled_at, booking.cancel_kind, booking.cancellation_fee_yen = (
                    booking.applied_at,
                    CancelKind.EXPIRY,
                    0,
                )
            s.add(booking)
        for i in range(upcoming):
            s.add(
                row(
                    700000 + i,
                    TODAY + timedelta(days=150 + i // len(bands)),
                    bands[i % len(bands)],
                    ReservationState.PROVISIONAL,
                )
            )


def test_the_list_reads_at_most_one_more_booking_than_it_shows_however_long_the_history(app):
    add_history(app, past=120, upcoming=40)
    read: list[str] = []
    with db(app).read_session() as s:
        resident_id = s.scalar(select(Resident.id).where(Resident.registration_number == "00040675"))
        event.listen(
            s, "loaded_as_persistent", lambda _s, o: read.append(o.number) if isinstance(o, Reservation) else None
        )
        listing = list_payment_rows(
            s, resident_id=resident_id, conditions=ListConditions.from_day(TODAY), now=NOW, earlier_pending=True
        )
    assert listing.count == 20 and listing.truncated
    assert len(read) <= 21


def test_a_refund_owed_on_a_past_booking_stays_first_among_a_long_history(app, client):
    """A 取消済 card-paid booking whose 利用日 passed, the refund not yet settled: listed
    first (before the period, said so), while none of the settled history is."""
    add_history(app, past=60, upcoming=0)
    with db(app).write() as s:
        r = s.scalar(select(Reservation).where(Reservation.number == FIRST))
        r.use_date, r.state, r.cancelled_at = TODAY - timedelta(days=10), ReservationState.CANCELLED, NOW
        r.cancel_kind, r.refund_percent, r.cancellation_fee_yen = CancelKind.RESIDENT, 100, 0
        settlement = Settlement(
            reservation_id=r.id,
            resident_id=r.resident_id,
            reservation_version=r.version,
            charge_yen=700,
            status=SettlementStatus.COMPLETED,
            created_at=NOW - timedelta(days=20),
        )
        s.add(settlement)
        s.flush()
        s.add(
            CardCharge(
                reservation_id=r.id,
                settlement_id=settlement.id,
                receipt_number="R-REFUND",
                amount_yen=700,
                status=ChargeStatus.CAPTURED,
                created_at=NOW - timedelta(days=20),
                captured_at=NOW - timedelta(days=20),
            )
        )
    assert AuthActions(client).login().status_code == 303
    page = text(client.get("/payment/"))
    numbers = listed_numbers(page)
    assert numbers[0] == FIRST
    assert not any(n.startswith("2026-6") for n in numbers)
    assert "このほか、利用日が過ぎていても決済の手続きが必要な予約を1件表示しています。" in page
    row = next(r for r in rows_of(page) if r[1] == FIRST)
    assert row[4:6] == ["700円", "0円"]
    # A period chosen by the resident lists what is in it, and nothing before it.
    chosen = text(client.get(f"/payment/?date_from={TODAY}&state=all"))
    assert FIRST not in listed_numbers(chosen)
