"""`flask seed-scale`: the ward-scale data on top of the demo data, at a small factor. The
command runs, what its bulk inserts write is what the site's operations write, the data
keeps the rules (bookings ahead only inside the window, never on a closed day, every
state), and the site serves its pages on it."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from blueprints.apply.operations import RoomAnswers, apply_for_slots
from bookings.slots import SlotRef
from demo.seed import _cancel, _pay_at_counter
from models.account import Resident
from models.availability_rules import is_closed_day_rule
from models.facility import Facility, Room
from models.lottery import LotteryEntry
from models.reservation import CounterPayment, Reservation
from models.reservation_rules import ACTIVE_STATES, CancelKind, ReservationState
from models.time_rules import jst_day
from scale.seed import FIRST_NUMBER, Booking, booking_row
from tests.conftest import DAYS_AHEAD, HTMX_HEADERS, frozen_now
from tests.web.card_support import database

FACTOR = "0.05"


def seed(app, factor=FACTOR):
    return app.test_cli_runner().invoke(args=["seed-scale", "--factor", factor])


def scale_facilities(session):
    return session.scalars(select(Facility).where(Facility.code >= "100").order_by(Facility.code)).all()


def test_seed_scale_adds_facilities_registrations_bookings_and_entries(app):
    with database(app).read_session() as s:
        bookings_before = s.scalar(select(func.count()).select_from(Reservation))
        entries_before = s.scalar(select(func.count()).select_from(LotteryEntry))
    result = seed(app)
    assert result.exit_code == 0, result.output
    assert "facilities" in result.output and "registrations" in result.output
    today = jst_day(frozen_now())
    with database(app).read_session() as s:
        facilities = scale_facilities(s)
        assert len(facilities) == 2
        assert all(2 <= len(f.rooms) <= 6 for f in facilities)
        assert (
            s.scalar(
                select(func.count()).select_from(Resident).where(Resident.registration_number >= f"{FIRST_NUMBER:08d}")
            )
            == 100
        )
        scale = s.scalars(select(Reservation).join(Room).where(Room.facility_id.in_([f.id for f in facilities]))).all()
        assert len(scale) > 500
        assert s.scalar(select(func.count()).select_from(Reservation)) == bookings_before + len(scale)
        assert s.scalar(select(func.count()).select_from(LotteryEntry)) > entries_before
        states = {r.state for r in scale}
        assert {ReservationState.PROVISIONAL, ReservationState.CONFIRMED, ReservationState.CANCELLED} <= states
        assert {r.cancel_kind for r in scale if r.state is ReservationState.CANCELLED} == {
            CancelKind.RESIDENT,
            CancelKind.EXPIRY,
        }
        # A year: the past, and ahead only inside the first-come window; never on a closed day.
        assert min(r.use_date for r in scale) <= today - timedelta(days=250)
        assert max(r.use_date for r in scale) <= today + timedelta(days=DAYS_AHEAD)
        for r in scale:
            facility = r.room.facility
            assert not is_closed_day_rule(
                r.use_date, facility.closed_weekday_set, frozenset(c.day for c in facility.closed_dates)
            )
            if r.state is ReservationState.CONFIRMED:
                assert sum(p.amount_yen for p in r.counter_payments) == r.total_fee_yen
            if r.state is ReservationState.PROVISIONAL:
                assert r.use_date > today
        # 目黒団体 has bookings ahead at the scale facilities too.
        meguro = s.scalar(select(Resident).where(Resident.registration_number == "00040675"))
        assert any(r.resident_id == meguro.id and r.use_date > today for r in scale)


def test_bulk_rows_are_what_the_operations_write(app):
    """A 仮予約 made by apply_for_slots, then paid at the counter or cancelled as the demo does,
    against booking_row for the same booking: the same columns, value for value."""
    assert seed(app).exit_code == 0
    today = jst_day(frozen_now())
    now = frozen_now()
    with database(app).write() as s:
        resident = s.scalar(select(Resident).where(Resident.registration_number == f"{FIRST_NUMBER:08d}"))
        room = next(r for f in scale_facilities(s) for r in f.rooms if f.category.registration_kind == "assembly")
        band = room.time_bands[0]
        taken = set(
            s.execute(
                select(Reservation.use_date, Reservation.time_band_id).where(
                    Reservation.room_id == room.id, Reservation.state.in_(ACTIVE_STATES)
                )
            )
        )
        facility = room.facility
        closing = (facility.closed_weekday_set, frozenset(c.day for c in facility.closed_dates))
        free = [
            today + timedelta(days=d)
            for d in range(2, DAYS_AHEAD)
            if (today + timedelta(days=d), band.id) not in taken
            and not is_closed_day_rule(today + timedelta(days=d), *closing)
        ][:3]
        assert len(free) == 3
        class_id = resident.group_classes[0].group_class_id
        purpose = room.purposes[0].id
        made = []
        for day in free:
            application = apply_for_slots(
                s,
                resident_id=resident.id,
                slots=[SlotRef(room.id, day, band.id)],
                answers={room.id: RoomAnswers(purpose, 5, False)},
                group_class_id=class_id,
                now=now,
                days_ahead=DAYS_AHEAD,
            )
            made.append(application.reservations[0])
        paid_at = now + timedelta(minutes=30)
        _pay_at_counter(s, made[1], paid_at)
        _cancel(made[2], paid_at, CancelKind.EXPIRY, None)
        s.flush()
        columns = [c.name for c in Reservation.__table__.columns if c.name != "id"]
        for reservation, state, extra in (
            (made[0], ReservationState.PROVISIONAL, {}),
            (made[1], ReservationState.CONFIRMED, {"paid_at": paid_at}),
            (made[2], ReservationState.CANCELLED, {"cancelled_at": paid_at, "cancel_kind": CancelKind.EXPIRY}),
        ):
            s.refresh(reservation)
            booking = Booking(
                resident.id,
                class_id,
                room.id,
                band,
                reservation.use_date,
                purpose,
                5,
                reservation.facility_fee_yen,
                now,
                state,
                **extra,
            )
            expected = booking_row(booking, number=reservation.number, application_id=reservation.application_id)
            assert {c: getattr(reservation, c) for c in columns} == {c: expected[c] for c in columns}
        # The scale data's fee is the fee table's, as the operation computed it.
        assert made[0].facility_fee_yen == 200 * (room.capacity // 12 + 1)
        assert (
            s.scalar(select(CounterPayment.amount_yen).where(CounterPayment.reservation_id == made[1].id))
            == made[1].total_fee_yen
        )


def test_the_site_serves_its_pages_on_the_scale_data(app, client, auth):
    assert seed(app).exit_code == 0
    with database(app).read_session() as s:
        code = scale_facilities(s)[0].code
    assert client.get("/").status_code == 200
    page = client.get(f"/availability?facility={code}&period=1m")
    assert page.status_code == 200 and "空きなし" in page.get_data(as_text=True)
    assert client.get(f"/availability?facility={code}&period=1m", headers=HTMX_HEADERS).status_code == 200
    # A scale registration logs in with the demo's password.
    assert auth.login(number=f"{FIRST_NUMBER + 1:08d}").status_code == 303
    assert client.get("/mymenu/reservations").status_code == 200
    auth.logout()
    auth.login()
    listing = client.get("/mymenu/reservations")
    assert listing.status_code == 200


def test_seed_scale_refuses_a_second_run_and_a_bad_factor_changing_nothing(app):
    assert seed(app).exit_code == 0
    with database(app).read_session() as s:
        count = s.scalar(select(func.count()).select_from(Reservation))
    again = seed(app)
    assert again.exit_code != 0 and "already loaded" in again.output
    bad = seed(app, "0")
    assert bad.exit_code != 0 and "factor" in bad.output
    with database(app).read_session() as s:
        assert s.scalar(select(func.count()).select_from(Reservation)) == count
