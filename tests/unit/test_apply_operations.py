"""The application operations against a real, freshly seeded database (SQLite by default,
PostgreSQL with DATABASE_URL): what they refuse, what they write, and what they leave alone."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from blueprints.apply import operations
from blueprints.apply.operations import (
    RoomAnswers,
    SlotProblem,
    apply_for_slots,
    load_application,
    prepare_selection,
    quote_fees,
)
from bookings.slots import SlotHoldings, SlotRef
from models import errors
from models.db import Database, violated_constraint
from models.reservation import Counter, Reservation
from models.reservation_rules import ReservationState
from tests.conftest import DAYS_AHEAD, frozen_now

MEGURO, KOMABA_CIRCLE, SPORTS_CLUB, AOBA = 1, 2, 3, 4  # resident ids of the demo data
ADULT = 1  # 団体区分 社成人
ROOM_201, ROOM_202, ROOM_702, GYM_A = 1, 2, 5, 9
FREE_A = SlotRef(ROOM_202, date(2026, 12, 1), 5)  # 9:00~12:00, 300円
FREE_B = SlotRef(ROOM_202, date(2026, 12, 1), 6)  # 12:30~15:00, 300円
FREE_201 = SlotRef(ROOM_201, date(2026, 12, 22), 1)  # 400円
TAKEN_BY_CIRCLE = SlotRef(ROOM_702, date(2026, 12, 3), 19)
CANCELLED_BY_MEGURO = SlotRef(ROOM_201, date(2026, 12, 7), 2)
CLOSED_DAY = SlotRef(ROOM_201, date(2026, 12, 14), 1)
MEGUROS_OWN = SlotRef(ROOM_201, date(2026, 12, 3), 2)  # 目黒団体's 仮予約
ANSWERS = {
    ROOM_202: RoomAnswers(purpose_id=1, attendees=5, charges_participation_fee=False),
    ROOM_201: RoomAnswers(purpose_id=2, attendees=30, charges_participation_fee=True),
    ROOM_702: RoomAnswers(purpose_id=1, attendees=10, charges_participation_fee=False),
}
NOW = frozen_now()


@pytest.fixture
def db(database_url):
    database = Database(database_url)
    yield database
    database.dispose()


def apply(db, slots, *, resident_id=MEGURO, answers=ANSWERS, group_class_id=ADULT, now=NOW, days_ahead=DAYS_AHEAD):
    with db.write() as session:
        application = apply_for_slots(
            session,
            resident_id=resident_id,
            slots=list(slots),
            answers=answers,
            group_class_id=group_class_id,
            now=now,
            days_ahead=days_ahead,
        )
        return application.id, [
            (r.number, SlotRef(r.room_id, r.use_date, r.time_band_id)) for r in application.reservations
        ]


def prepare(db, slots, resident_id=MEGURO, now=NOW):
    session = db.read_session()
    return prepare_selection(session, list(slots), resident_id=resident_id, now=now, days_ahead=DAYS_AHEAD), session


def reservation_count(db) -> int:
    with db.read_session() as s:
        return s.scalar(select(func.count()).select_from(Reservation))


def counter(db, key="reservation:2026") -> int:
    with db.read_session() as s:
        return s.get(Counter, key).value


# -- prepare_selection and quote_fees -------------------------------------------------------


def test_selection_sorts_out_what_cannot_be_applied_for(db):
    selection, session = prepare(
        db, [FREE_B, TAKEN_BY_CIRCLE, CANCELLED_BY_MEGURO, CLOSED_DAY, FREE_A, FREE_201, MEGUROS_OWN]
    )
    try:
        assert selection.slots == [FREE_201, FREE_A, FREE_B]  # by facility, room, date, time
        assert [line.slot for line in selection.refused[SlotProblem.TAKEN]] == [TAKEN_BY_CIRCLE]
        assert [line.slot for line in selection.refused[SlotProblem.ALREADY_BOOKED]] == [MEGUROS_OWN]
        assert [line.slot for line in selection.refused[SlotProblem.REBOOKING_BLOCKED]] == [CANCELLED_BY_MEGURO]
        assert [line.slot for line in selection.refused[SlotProblem.NOT_BOOKABLE]] == [CLOSED_DAY]
        assert [room.id for room in selection.rooms] == [ROOM_201, ROOM_202]
        assert len(selection.chosen) == 7
        assert [gc.group_class_id for gc in selection.group_classes] == [ADULT]
    finally:
        session.close()


def test_the_rooms_read_with_their_days_closing_agree_with_closing_days(db):
    """room_rows(days=…) reads the facilities' 休館日 among those days with the rooms (one
    statement less): the same as closing_days, each band once however many days are closed,
    and the slots' statuses the same as with the rooms read without them."""
    from bookings.chosen import closing_days, room_rows, rooms_by_id

    days = [date(2026, 12, 14), date(2026, 12, 22), date(2026, 12, 28), date(2026, 12, 29), date(2027, 1, 5)]
    slots = [SlotRef(room, day, band) for room, band in ((ROOM_201, 1), (ROOM_202, 5), (ROOM_702, 17)) for day in days]
    session = db.read_session()
    try:
        plain = room_rows(session, [ROOM_201, ROOM_202, ROOM_702])
        rows = room_rows(session, [ROOM_201, ROOM_202, ROOM_702], days=days)
        expected = closing_days(session, {room.facility_id for room in rows.values()}, days)
        assert any(expected.values())  # the data has 休館日 among these days
        for room in rows.values():
            assert room.facility.days_read == frozenset(days)
            assert room.facility.closed_among == expected[room.facility_id]
            assert room.time_bands == plain[room.id].time_bands  # not repeated per closed day
            assert (room.purposes, room.in_lottery) == (plain[room.id].purposes, plain[room.id].in_lottery)
        assert all(room.facility.closed_among == frozenset() for room in plain.values())
        # Bands by start and purposes by ordinal, as the models' relationships order them.
        entities = rooms_by_id(session, rows)
        for room in rows.values():
            entity = entities[room.id]
            assert [(b.id, b.starts_at, b.ends_at) for b in room.time_bands] == [
                (b.id, b.starts_at, b.ends_at) for b in entity.time_bands
            ]
            assert [(p.id, p.name_ja, p.name_en) for p in room.purposes] == [
                (p.id, p.name_ja, p.name_en) for p in entity.purposes
            ]
            assert (room.name_ja, room.capacity, room.facility.code) == (
                entity.name_ja,
                entity.capacity,
                entity.facility.code,
            )
        read_with = operations.slot_statuses(
            session, slots, resident_id=MEGURO, now=NOW, days_ahead=DAYS_AHEAD, rooms=rows
        )
        read_apart = operations.slot_statuses(
            session, slots, resident_id=MEGURO, now=NOW, days_ahead=DAYS_AHEAD, rooms=plain
        )
        assert read_with == read_apart
        assert read_with[CLOSED_DAY].value == "closed"
    finally:
        session.close()


def test_rebooking_is_blocked_only_for_the_group_that_cancelled(db):
    selection, session = prepare(db, [CANCELLED_BY_MEGURO], resident_id=KOMABA_CIRCLE)
    session.close()
    assert selection.slots == [CANCELLED_BY_MEGURO] and not selection.refused


@pytest.mark.parametrize(
    "slots, resident_id, error",
    [
        ([], MEGURO, errors.EmptySelection),
        ([SlotRef(999, date(2026, 12, 1), 1)], MEGURO, errors.NotFound),
        ([SlotRef(ROOM_201, date(2026, 12, 1), 5)], MEGURO, errors.NotFound),  # room 202's band
        ([SlotRef(GYM_A, date(2026, 12, 1), 32)], MEGURO, errors.WrongRegistrationKind),
        ([FREE_A], SPORTS_CLUB, errors.WrongRegistrationKind),
        ([FREE_A], AOBA, errors.GroupClassExpired),
    ],
)
def test_selection_refuses_as_a_whole(db, slots, resident_id, error):
    session = db.read_session()
    try:
        with pytest.raises(error):
            prepare_selection(session, slots, resident_id=resident_id, now=NOW, days_ahead=DAYS_AHEAD)
    finally:
        session.close()


def test_quote_is_the_base_fee_of_each_slot(db):
    selection, session = prepare(db, [FREE_A, FREE_B, FREE_201])
    try:
        fees = quote_fees(session, selection, group_class_id=None)
        assert fees == {FREE_A: 300, FREE_B: 300, FREE_201: 400}
        assert quote_fees(session, selection, group_class_id=ADULT, answers=ANSWERS) == fees
        with pytest.raises(errors.NotFound):
            quote_fees(session, selection, group_class_id=2)  # a class the resident does not hold
    finally:
        session.close()


# -- apply_for_slots ----------------------------------------------------------------------


def test_applying_creates_one_provisional_reservation_per_slot(db):
    before = reservation_count(db)
    application_id, created = apply(db, [FREE_B, FREE_201, FREE_A])
    assert reservation_count(db) == before + 3
    # Numbered in the order they are read: by date, then time.
    # The demo's 12 bookings and its lottery's 3 当選 come first.
    assert created == [("2026-000016", FREE_A), ("2026-000017", FREE_B), ("2026-000018", FREE_201)]
    with db.read_session() as s:
        reservation = s.scalar(select(Reservation).where(Reservation.number == "2026-000018"))
        assert reservation.state is ReservationState.PROVISIONAL
        assert reservation.application_id == application_id
        assert (reservation.purpose_id, reservation.attendees, reservation.charges_participation_fee) == (2, 30, True)
        assert reservation.facility_fee_yen == 400
        assert reservation.applied_at == NOW
        assert (reservation.starts_at.hour, reservation.ends_at.hour) == (9, 12)


def test_a_taken_slot_refuses_the_whole_application_and_writes_nothing(db):
    before, numbers = reservation_count(db), counter(db)
    with pytest.raises(errors.SlotTaken) as caught:
        apply(db, [FREE_A, TAKEN_BY_CIRCLE])
    assert caught.value.facts["slots"] == [TAKEN_BY_CIRCLE]
    assert reservation_count(db) == before and counter(db) == numbers


@pytest.mark.parametrize(
    "slots, error",
    [
        ([CANCELLED_BY_MEGURO], errors.RebookingBlocked),
        ([CLOSED_DAY], errors.SlotNotBookable),
        ([SlotRef(ROOM_201, date(2026, 11, 25), 4)], errors.SlotNotBookable),  # today: the window opens tomorrow
        ([SlotRef(ROOM_201, date(2027, 2, 24), 1)], errors.SlotNotBookable),  # one day past 90 days
        ([SlotRef(GYM_A, date(2026, 12, 1), 32)], errors.WrongRegistrationKind),
        ([SlotRef(ROOM_201, date(2026, 12, 1), 999)], errors.NotFound),
        ([], errors.EmptySelection),
    ],
)
def test_applying_refuses_with_the_named_problem(db, slots, error):
    before = reservation_count(db)
    with pytest.raises(error):
        apply(db, slots)
    assert reservation_count(db) == before


def test_the_last_day_of_the_window_can_be_booked(db):
    apply(db, [SlotRef(ROOM_201, date(2027, 2, 23), 1)])


@pytest.mark.parametrize(
    "answers, error",
    [
        ({ROOM_202: RoomAnswers(2, 5, False)}, errors.PurposeNotAllowed),  # 大会・式典 is not for 202
        ({ROOM_202: RoomAnswers(1, 0, False)}, errors.AttendeesOutOfRange),
        ({ROOM_202: RoomAnswers(1, 19, False)}, errors.AttendeesOutOfRange),
        ({}, errors.EmptySelection),
    ],
)
def test_answers_are_checked_again(db, answers, error):
    with pytest.raises(error):
        apply(db, [FREE_A], answers=answers)


def test_exactly_the_capacity_is_allowed(db):
    apply(db, [FREE_A], answers={ROOM_202: RoomAnswers(1, 18, False)})


@pytest.mark.parametrize(
    "resident_id, group_class_id, error",
    [(AOBA, ADULT, errors.GroupClassExpired), (MEGURO, 2, errors.NotFound), (999, ADULT, errors.NotFound)],
)
def test_the_applicant_is_checked(db, resident_id, group_class_id, error):
    with pytest.raises(error):
        apply(db, [FREE_A], resident_id=resident_id, group_class_id=group_class_id)


def test_the_unique_index_is_the_backstop_and_names_the_taken_slot(db, monkeypatch):
    """If a concurrent writer slipped past the checks, the database still refuses the
    second booking, and the resident is told which slot it was."""
    monkeypatch.setattr(operations, "slot_holdings", lambda session, resident_id, slots: SlotHoldings({}, set()))
    before, numbers = reservation_count(db), counter(db)
    with pytest.raises(errors.SlotTaken) as caught:
        apply(db, [FREE_A, TAKEN_BY_CIRCLE])
    assert caught.value.facts["slots"] == [TAKEN_BY_CIRCLE]
    assert reservation_count(db) == before and counter(db) == numbers


def test_a_refusal_by_another_constraint_is_a_fault_not_a_taken_slot(db):
    """A counter out of step with the numbers already issued (as a broken id sequence
    would be) makes the database refuse the insert; that is our fault, not another group's
    booking, so it is not reported as 他の方が先に申し込みました."""
    with db.write() as session:
        session.get(Counter, "reservation:2026").value = 0  # the next number exists already
    before = reservation_count(db)
    with pytest.raises(IntegrityError) as caught:
        apply(db, [FREE_A])
    assert violated_constraint(caught.value) == "uq_reservations_number"
    assert reservation_count(db) == before


@pytest.mark.parametrize(
    "moment, number",
    [
        (datetime(2027, 3, 31, 23, 30, tzinfo=timezone(timedelta(hours=9))), "2026-000016"),
        (datetime(2027, 4, 1, 0, 30, tzinfo=timezone(timedelta(hours=9))), "2027-000001"),
    ],
)
def test_reservation_numbers_count_per_fiscal_year_of_the_application(db, moment, number):
    slot = SlotRef(ROOM_202, date(2027, 4, 6), 5)
    # 駒場サークル: its 団体区分 is still valid in April 2027.
    _, created = apply(db, [slot], resident_id=KOMABA_CIRCLE, now=moment.astimezone(UTC), days_ahead=30)
    assert created == [(number, slot)]


# -- load_application ---------------------------------------------------------------------


def test_an_application_is_shown_only_to_its_resident(db):
    application_id, _ = apply(db, [FREE_A])
    with db.read_session() as s:
        application = load_application(s, application_id, resident_id=MEGURO)
        assert [r.room.facility.code for r in application.reservations] == ["013"]
        for resident_id, app_id in ((KOMABA_CIRCLE, application_id), (MEGURO, 999_999), (MEGURO, 2**40)):
            with pytest.raises(errors.NotFound):
                load_application(s, app_id, resident_id=resident_id)
