"""The lottery's operations against a real, freshly seeded database (SQLite by default,
PostgreSQL with DATABASE_URL): entering (who, which slots, the caps, all or nothing, under
concurrency), withdrawing, the reads of the screens, and first come in a lottery room's month.

The demo at the frozen clock (Wednesday 2026-11-25 10:00 JST): January 2027 was drawn
yesterday (first come from 11/29 09:00), February 2027 is open for entries until 12/3 00:00
(result 12/7 09:00, first come 12/12 09:00). Lottery rooms: 和室 (3), 701 (4), ホール (7)."""

from __future__ import annotations

import threading
from datetime import date, datetime, time, timedelta

import pytest
from sqlalchemy import func, select

from blueprints.apply.operations import RoomAnswers, apply_for_slots
from bookings.slots import SlotRef
from lottery import (
    EntryConditions,
    EntryProblem,
    announced_months,
    count_entries,
    count_group_entries,
    enter_lottery,
    first_come_windows,
    list_entries,
    load_lottery_application,
    open_lottery_rooms,
    prepare_entries,
    quote_entry_fees,
    read_schedule,
    select_for_withdrawal,
    slot_statuses,
    withdraw_entries,
)
from models import errors
from models.account import ResidentGroupClass
from models.db import Database
from models.facility import ClosedDate
from models.lottery import LotteryApplication, LotteryEntry
from models.lottery_rules import LotteryPhase, LotterySlotStatus
from models.reservation import Reservation
from models.reservation_rules import ReservationState
from models.time_rules import JST
from tests.conftest import DAYS_AHEAD, frozen_now

MEGURO, KOMABA_CIRCLE, SPORTS_CLUB, AOBA, OLD_REGISTRATION = 1, 2, 3, 4, 5
ADULT, WELFARE = 1, 3  # 社成人 (a 社会教育関係団体 class), 福祉団体 (not one)
WASHITSU, ROOM_701, ROOM_702, HALL, GYM_A = 3, 4, 5, 7, 9
JANUARY, FEBRUARY = date(2027, 1, 1), date(2027, 2, 1)
NOW = frozen_now()
CLOSES = datetime(2026, 12, 3, tzinfo=JST)  # February's period ends (exclusive)

HALL_FEB_9 = SlotRef(HALL, date(2027, 2, 9), 25)  # Tue 9:00~12:00, 1,500円
HALL_FEB_10 = SlotRef(HALL, date(2027, 2, 10), 26)  # Wed 12:30~15:00
WASHITSU_FEB_10 = SlotRef(WASHITSU, date(2027, 2, 10), 9)  # 300円
SEMINAR_FEB_12 = SlotRef(ROOM_701, date(2027, 2, 12), 13)  # 900円
HALL_FEB_5 = SlotRef(HALL, date(2027, 2, 5), 25)  # entered by 目黒団体 and 駒場サークル in the demo
HALL_FEB_8 = SlotRef(HALL, date(2027, 2, 8), 25)  # 2nd Monday: 休館日
HALL_FEB_24 = SlotRef(HALL, date(2027, 2, 24), 25)  # after 目黒団体's 団体区分 expires (2/23)
HALL_JAN_20 = SlotRef(HALL, date(2027, 1, 20), 25)  # drawn yesterday, not entered
SEMINAR_702_FEB_9 = SlotRef(ROOM_702, date(2027, 2, 9), 17)  # a first-come room
HALL_DEC_10 = SlotRef(HALL, date(2026, 12, 10), 25)  # December has no lottery
ANSWERS = {
    HALL: RoomAnswers(purpose_id=2, attendees=50, charges_participation_fee=False),
    WASHITSU: RoomAnswers(purpose_id=1, attendees=8, charges_participation_fee=False),
    ROOM_701: RoomAnswers(purpose_id=1, attendees=20, charges_participation_fee=True),
    ROOM_702: RoomAnswers(purpose_id=1, attendees=20, charges_participation_fee=False),
    GYM_A: RoomAnswers(purpose_id=6, attendees=10, charges_participation_fee=False),
}


def jst(y, m, d, hh=0, mm=0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=JST)


@pytest.fixture
def db(database_url):
    database = Database(database_url)
    yield database
    database.dispose()


def enter(db, slots, *, resident_id=MEGURO, group_class_id=ADULT, now=NOW, answers=ANSWERS):
    with db.write() as session:
        application = enter_lottery(
            session,
            resident_id=resident_id,
            slots=list(slots),
            answers=answers,
            group_class_id=group_class_id,
            now=now,
        )
        return application.number, [e.public_id for e in application.entries]


def entries_of(db, resident_id=MEGURO, state=ReservationState.LOTTERY_ENTRY) -> list[LotteryEntry]:
    with db.read_session() as s:
        return list(
            s.scalars(
                select(LotteryEntry)
                .where(LotteryEntry.resident_id == resident_id, LotteryEntry.state == state)
                .order_by(LotteryEntry.id)
            )
        )


def count(db, model) -> int:
    with db.read_session() as s:
        return s.scalar(select(func.count()).select_from(model))


def add_booking(db, slot, *, resident_id=MEGURO, state=ReservationState.PROVISIONAL, number="2026-900000"):
    """A booking made at a counter (staff), whatever the calendar says."""
    with db.write() as s:
        band_start = {25: time(9), 26: time(12, 30), 9: time(9), 13: time(9), 17: time(9)}[slot.time_band_id]
        s.add(
            Reservation(
                number=number,
                resident_id=resident_id,
                room_id=slot.room_id,
                time_band_id=slot.time_band_id,
                use_date=slot.use_date,
                starts_at=band_start,
                ends_at=time(12) if band_start == time(9) else time(15),
                state=state,
                purpose_id=1,
                attendees=5,
                charges_participation_fee=False,
                group_class_id=ADULT,
                facility_fee_yen=700,
                applied_at=NOW - timedelta(days=1),
                cancelled_at=NOW if state is ReservationState.CANCELLED else None,
            )
        )


# -- entering -------------------------------------------------------------------------------


def test_entering_makes_one_application_with_its_number_and_one_entry_per_slot(db):
    number, public_ids = enter(db, [WASHITSU_FEB_10, HALL_FEB_9])
    assert number == "2026-000009"  # its own counter: the demo's lottery made 8 applications
    assert len(public_ids) == 2 and all(len(p) == 20 and int(p, 16) >= 0 for p in public_ids)
    with db.read_session() as s:
        application = s.scalar(select(LotteryApplication).where(LotteryApplication.number == number))
        entries = application.entries
        assert [(e.room_id, e.use_date, e.starts_at) for e in entries] == [
            (HALL, date(2027, 2, 9), time(9)),  # in reading order: date, then time
            (WASHITSU, date(2027, 2, 10), time(9)),
        ]
        assert {e.state for e in entries} == {ReservationState.LOTTERY_ENTRY}
        hall = entries[0]
        assert (hall.purpose_id, hall.attendees, hall.charges_participation_fee) == (2, 50, False)
        assert hall.month.use_month == FEBRUARY and application.group_class_id == ADULT
    assert enter(db, [SEMINAR_FEB_12], resident_id=KOMABA_CIRCLE)[0] == "2026-000010"


@pytest.mark.parametrize(
    ("slots", "refusal"),
    [
        ([SEMINAR_702_FEB_9], errors.NotLotterySlot),  # 702 stays first come
        ([HALL_DEC_10], errors.NotLotterySlot),  # no lottery in December
        ([HALL_JAN_20], errors.LotteryPeriodClosed),  # drawn yesterday
        ([HALL_FEB_8], errors.SlotNotBookable),  # 休館日
        ([HALL_FEB_24], errors.NotRegisteredGroup),  # after 目黒団体's 社成人 expires
        ([HALL_FEB_5], errors.AlreadyEntered),  # entered in the demo
        ([HALL_FEB_9, HALL_FEB_5], errors.AlreadyEntered),  # all or nothing
        ([SlotRef(HALL, date(2027, 2, 9), 13)], errors.NotFound),  # 701's band
        ([SlotRef(99, date(2027, 2, 9), 25)], errors.NotFound),
        ([], errors.EmptySelection),
    ],
)
def test_a_refused_entry_names_its_rule_and_changes_nothing(db, slots, refusal):
    before = (count(db, LotteryEntry), count(db, LotteryApplication))
    with pytest.raises(refusal) as refused:
        enter(db, slots)
    assert (count(db, LotteryEntry), count(db, LotteryApplication)) == before
    if "slots" in refused.value.facts:
        assert refused.value.facts["slots"] == [s for s in slots if s not in (HALL_FEB_9,)]


def test_the_period_closes_at_its_exclusive_end(db):
    just_before = CLOSES - timedelta(seconds=1)
    enter(db, [HALL_FEB_9], now=just_before)
    with pytest.raises(errors.LotteryPeriodClosed) as refused:
        enter(db, [HALL_FEB_10], now=CLOSES)
    assert refused.value.facts["closes_at"] == CLOSES
    with pytest.raises(errors.LotteryPeriodClosed):
        enter(db, [HALL_FEB_10], now=jst(2026, 11, 23, 8, 59))  # before it opened at 9:00


@pytest.mark.parametrize(
    ("resident_id", "group_class_id", "refusal"),
    [
        (AOBA, ADULT, errors.GroupClassExpired),  # 社成人 expired ten days ago
        (OLD_REGISTRATION, ADULT, errors.RegistrationExpired),
        (SPORTS_CLUB, ADULT, errors.WrongRegistrationKind),
        (KOMABA_CIRCLE, WELFARE, errors.NotFound),  # a class it does not hold
    ],
)
def test_only_a_registered_group_may_enter(db, resident_id, group_class_id, refusal):
    with pytest.raises(refusal):
        enter(db, [HALL_FEB_9], resident_id=resident_id, group_class_id=group_class_id)


def test_a_class_that_is_not_a_social_education_class_cannot_enter(db):
    with db.write() as s:
        held = s.scalar(select(ResidentGroupClass).where(ResidentGroupClass.resident_id == KOMABA_CIRCLE))
        held.group_class_id = WELFARE
    with pytest.raises(errors.NotRegisteredGroup):
        enter(db, [HALL_FEB_9], resident_id=KOMABA_CIRCLE, group_class_id=WELFARE)


def test_a_slot_held_by_a_booking_or_cancelled_by_the_group_cannot_be_entered(db):
    add_booking(db, HALL_FEB_9, resident_id=KOMABA_CIRCLE)
    with pytest.raises(errors.SlotTaken) as taken:
        enter(db, [HALL_FEB_9, WASHITSU_FEB_10])
    assert taken.value.facts["slots"] == [HALL_FEB_9]
    add_booking(db, HALL_FEB_10, state=ReservationState.CANCELLED, number="2026-900001")
    with pytest.raises(errors.RebookingBlocked):
        enter(db, [HALL_FEB_10])
    enter(db, [HALL_FEB_10], resident_id=KOMABA_CIRCLE)  # another group may


def test_purpose_and_attendees_are_checked_per_room(db):
    with pytest.raises(errors.PurposeNotAllowed):
        enter(db, [HALL_FEB_9], answers={HALL: RoomAnswers(1, 10, False)})  # 会議 is not a hall purpose
    with pytest.raises(errors.AttendeesOutOfRange) as refused:
        enter(db, [WASHITSU_FEB_10], answers={WASHITSU: RoomAnswers(1, 16, False)})
    assert refused.value.facts["capacity"] == 15
    with pytest.raises(errors.EmptySelection):
        enter(db, [HALL_FEB_9], answers={})


def test_at_most_four_entries_per_group_and_use_month(db):
    # 目黒団体 has two February entries from the demo.
    with pytest.raises(errors.EntryCapReached) as refused:
        enter(db, [HALL_FEB_9, HALL_FEB_10, WASHITSU_FEB_10])
    assert refused.value.facts == {"month": FEBRUARY, "limit": 4, "current": 2}
    enter(db, [HALL_FEB_9, HALL_FEB_10])
    with pytest.raises(errors.EntryCapReached):
        enter(db, [WASHITSU_FEB_10])
    # A withdrawn entry no longer counts.
    with db.write() as s:
        withdraw_entries(s, resident_id=MEGURO, public_ids=[entries_of(db)[0].public_id], now=NOW)
    enter(db, [WASHITSU_FEB_10])


def test_at_most_eight_entries_and_active_bookings_per_group_and_use_month(db):
    for i, day in enumerate((1, 2, 3, 4, 15)):  # five 仮予約 in February (first come, 702)
        add_booking(db, SlotRef(ROOM_702, date(2027, 2, day), 17), number=f"2026-9000{i:02d}")
    add_booking(db, SlotRef(ROOM_702, date(2027, 2, 16), 17), state=ReservationState.CANCELLED, number="2026-900099")
    with pytest.raises(errors.EntryAndBookingCapReached) as refused:
        enter(db, [HALL_FEB_9, HALL_FEB_10])  # 2 entries + 5 bookings + 2 > 8
    assert refused.value.facts == {"month": FEBRUARY, "limit": 8, "current": 7}
    enter(db, [HALL_FEB_9])  # 8 exactly


def test_one_group_cannot_enter_a_slot_twice_but_may_again_after_withdrawing(db):
    _, (public_id,) = enter(db, [HALL_FEB_9])
    with pytest.raises(errors.AlreadyEntered):
        enter(db, [HALL_FEB_9])
    with db.write() as s:
        withdraw_entries(s, resident_id=MEGURO, public_ids=[public_id], now=NOW)
    enter(db, [HALL_FEB_9])
    enter(db, [HALL_FEB_9], resident_id=KOMABA_CIRCLE)  # other groups enter the same slot


def race(n: int, action) -> list[object]:
    """`action(i)` in n threads released together; each outcome or exception, by i."""
    barrier = threading.Barrier(n)
    outcomes: list[object] = [None] * n

    def run(i):
        barrier.wait()
        try:
            outcomes[i] = action(i)
        except Exception as exc:  # the outcome under test
            outcomes[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return outcomes


def test_concurrent_applications_of_one_group_hold_the_cap(db):
    """Six applications of 目黒団体 at once, one slot each, with two entries already: exactly
    two are taken, the other four are told the cap is reached."""
    slots = [SlotRef(HALL, date(2027, 2, day), 25) for day in (9, 10, 11, 12, 15, 16)]
    outcomes = race(6, lambda i: enter(db, [slots[i]]))
    refused = [o for o in outcomes if isinstance(o, Exception)]
    assert len(refused) == 4 and all(isinstance(o, errors.EntryCapReached) for o in refused), outcomes
    assert len(entries_of(db)) == 4


def test_concurrent_entries_for_the_same_slot_by_one_group_make_one(db):
    outcomes = race(4, lambda i: enter(db, [HALL_FEB_9]))
    assert sum(not isinstance(o, Exception) for o in outcomes) == 1
    assert all(isinstance(o, errors.AlreadyEntered) for o in outcomes if isinstance(o, Exception)), outcomes
    assert len([e for e in entries_of(db) if e.use_date == HALL_FEB_9.use_date]) == 1


# -- 詳細申請 / 抽選申込確認 --------------------------------------------------------------------------


def test_prepare_sorts_out_what_cannot_be_entered_and_counts_entries_so_far(db):
    with db.read_session() as s:
        selection = prepare_entries(
            s,
            [HALL_FEB_9, HALL_FEB_5, SEMINAR_702_FEB_9, HALL_FEB_8, HALL_JAN_20, HALL_FEB_24],
            resident_id=MEGURO,
            now=NOW,
        )
        assert [line.slot for line in selection.lines] == [HALL_FEB_9]
        assert {problem: [line.slot for line in lines] for problem, lines in selection.refused.items()} == {
            EntryProblem.ALREADY_ENTERED: [HALL_FEB_5],
            EntryProblem.NOT_LOTTERY: [SEMINAR_702_FEB_9],
            EntryProblem.NOT_BOOKABLE: [HALL_FEB_8],
            EntryProblem.PERIOD_CLOSED: [HALL_JAN_20],
            EntryProblem.NOT_ELIGIBLE: [HALL_FEB_24],
        }
        assert selection.refused[EntryProblem.ALREADY_ENTERED][0].entries_so_far == 2
        standing = selection.standings[FEBRUARY]
        assert (standing.entries, standing.active_bookings, standing.entries_left) == (2, 0, 2)
        assert selection.over_cap == []
        assert [gc.group_class_id for gc in selection.group_classes] == [ADULT]
        fees = quote_entry_fees(s, selection, group_class_id=None)
        assert fees == {HALL_FEB_9: 1500}


def test_prepare_refuses_a_group_that_may_not_enter_at_all(db):
    with db.read_session() as s:
        with pytest.raises(errors.GroupClassExpired):
            prepare_entries(s, [HALL_FEB_9], resident_id=AOBA, now=NOW)
        with pytest.raises(errors.RegistrationExpired):
            prepare_entries(s, [HALL_FEB_9], resident_id=OLD_REGISTRATION, now=NOW)
        with pytest.raises(errors.WrongRegistrationKind):
            prepare_entries(s, [HALL_FEB_9], resident_id=SPORTS_CLUB, now=NOW)
        with pytest.raises(errors.EmptySelection):
            prepare_entries(s, [], resident_id=MEGURO, now=NOW)


def test_the_completion_page_reads_its_application_and_no_one_elses(db):
    number, _ = enter(db, [HALL_FEB_9, WASHITSU_FEB_10])
    with db.read_session() as s:
        application_id = s.scalar(select(LotteryApplication.id).where(LotteryApplication.number == number))
        applied = load_lottery_application(s, application_id, resident_id=MEGURO)
        assert applied.application.number == number
        assert [e.room.name_ja for e in applied.entries] == ["ホール", "和室"]
        assert applied.result_dates == [jst(2026, 12, 7, 9)]
        for forged in (application_id + 1000, 0, 2**40):
            with pytest.raises(errors.NotFound):
                load_lottery_application(s, forged, resident_id=MEGURO)
        with pytest.raises(errors.NotFound):
            load_lottery_application(s, application_id, resident_id=KOMABA_CIRCLE)


# -- withdrawing ------------------------------------------------------------------------------


def test_withdrawing_while_the_period_is_open(db):
    _, (first, second) = enter(db, [HALL_FEB_9, HALL_FEB_10])
    with db.write() as s:
        rows = withdraw_entries(s, resident_id=MEGURO, public_ids=[second, first], now=NOW)
    assert [r.entry.public_id for r in rows] == [second, first]
    with db.read_session() as s:
        withdrawn = s.scalars(select(LotteryEntry).where(LotteryEntry.public_id.in_([first, second]))).all()
        assert {(e.state, e.version, e.withdrawn_at) for e in withdrawn} == {(ReservationState.WITHDRAWN, 2, NOW)}
    with db.write() as s, pytest.raises(errors.EntryAlreadyWithdrawn) as again:
        withdraw_entries(s, resident_id=MEGURO, public_ids=[first], now=NOW)
    assert again.value.facts == {"entries": [first]}


def test_withdrawing_is_refused_after_the_period_and_for_drawn_entries_all_or_nothing(db):
    _, (open_entry,) = enter(db, [HALL_FEB_9])
    drawn = entries_of(db, state=ReservationState.WON)[0].public_id  # January, drawn yesterday
    with db.write() as s, pytest.raises(errors.WithdrawalClosed) as refused:
        withdraw_entries(s, resident_id=MEGURO, public_ids=[open_entry, drawn], now=NOW)
    assert refused.value.facts["entries"] == [drawn]
    with db.write() as s, pytest.raises(errors.WithdrawalClosed) as refused:
        withdraw_entries(s, resident_id=MEGURO, public_ids=[open_entry], now=CLOSES)
    assert refused.value.facts["closes_at"] == CLOSES
    assert entries_of(db)[-1].public_id == open_entry  # still 抽選申込中


@pytest.mark.parametrize(
    "public_ids",
    [["0" * 20], ["not-an-id"], ["A" * 20], ["0" * 19], ["0" * 21], ["１" * 20]],
)
def test_forged_or_unknown_ids_are_not_found(db, public_ids):
    with db.write() as s, pytest.raises(errors.NotFound):
        withdraw_entries(s, resident_id=MEGURO, public_ids=public_ids, now=NOW)


def test_another_groups_entry_is_not_found_and_nothing_is_an_empty_selection(db):
    theirs = entries_of(db, KOMABA_CIRCLE)[0].public_id
    with db.write() as s, pytest.raises(errors.NotFound):
        withdraw_entries(s, resident_id=MEGURO, public_ids=[theirs], now=NOW)
    with db.write() as s, pytest.raises(errors.EmptySelection):
        withdraw_entries(s, resident_id=MEGURO, public_ids=["", "  "], now=NOW)
    with db.read_session() as s, pytest.raises(errors.NotFound):
        select_for_withdrawal(s, resident_id=MEGURO, public_ids=[theirs], now=NOW)


def test_two_tabs_withdrawing_the_same_entry_one_withdraws_the_other_is_told(db):
    _, (public_id,) = enter(db, [HALL_FEB_9])

    def withdraw(_):
        with db.write() as s:
            return withdraw_entries(s, resident_id=MEGURO, public_ids=[public_id], now=NOW)

    outcomes = race(2, withdraw)
    assert sum(isinstance(o, errors.EntryAlreadyWithdrawn) for o in outcomes) == 1, outcomes
    assert sum(isinstance(o, list) for o in outcomes) == 1
    with db.read_session() as s:
        entry = s.scalar(select(LotteryEntry).where(LotteryEntry.public_id == public_id))
        assert (entry.state, entry.version) == (ReservationState.WITHDRAWN, 2)


# -- マイメニュー: 抽選申込の確認・取消 ------------------------------------------------------------------


def test_the_groups_entries_with_their_state_filter_and_top_twenty(db):
    with db.read_session() as s:
        listing = list_entries(s, resident_id=MEGURO, conditions=EntryConditions(), now=NOW)
        assert [(r.entry.use_date, r.entry.state, r.withdrawable) for r in listing.rows] == [
            (date(2027, 1, 7), ReservationState.WON, False),
            (date(2027, 1, 10), ReservationState.LOST, False),
            (date(2027, 2, 5), ReservationState.LOTTERY_ENTRY, True),
            (date(2027, 2, 6), ReservationState.LOTTERY_ENTRY, True),
        ]
        won = listing.rows[0].entry
        assert won.reservation.number == "2026-000013" and won.application.number == "2026-000001"
        assert listing.rows[2].month.phase(NOW) is LotteryPhase.OPEN and not listing.truncated
        only_won = list_entries(s, resident_id=MEGURO, conditions=EntryConditions(state=ReservationState.WON), now=NOW)
        assert [r.entry.state for r in only_won.rows] == [ReservationState.WON]
        february = list_entries(
            s,
            resident_id=MEGURO,
            conditions=EntryConditions(date_from=date(2027, 2, 1), date_to=date(2027, 2, 5)),
            now=NOW,
        )
        assert [r.entry.use_date for r in february.rows] == [date(2027, 2, 5)]
        top = list_entries(s, resident_id=MEGURO, conditions=EntryConditions(), now=NOW, limit=3)
        assert top.count == 3 and top.truncated
        after = list_entries(s, resident_id=MEGURO, conditions=EntryConditions(), now=CLOSES)
        assert [r.withdrawal_closed for r in after.rows] == [False, False, True, True]
        with pytest.raises(errors.NotFound):
            list_entries(s, resident_id=MEGURO, conditions=EntryConditions(state=ReservationState.CONFIRMED), now=NOW)
        assert count_group_entries(s, resident_id=MEGURO) == {
            ReservationState.WON: 1,
            ReservationState.LOST: 1,
            ReservationState.LOTTERY_ENTRY: 2,
        }


# -- the grids and the top page ------------------------------------------------------------------


def test_slot_statuses_of_lottery_rooms_through_the_months(db):
    slots = [HALL_FEB_9, HALL_FEB_8, SEMINAR_702_FEB_9, HALL_DEC_10, HALL_JAN_20]
    won_by_circle = SlotRef(HALL, date(2027, 1, 10), 26)
    with db.read_session() as s:
        statuses = slot_statuses(s, [*slots, won_by_circle], now=NOW)
        assert statuses == {
            HALL_FEB_9: LotterySlotStatus.LOTTERY_OPEN,
            HALL_FEB_8: LotterySlotStatus.CLOSED,
            HALL_JAN_20: LotterySlotStatus.BEFORE_FIRST_COME,
            won_by_circle: LotterySlotStatus.TAKEN,
        }  # 702 and December are first come: not lottery slots
        later = slot_statuses(s, [HALL_FEB_9, HALL_JAN_20], now=jst(2026, 11, 29, 9))
        assert later == {HALL_FEB_9: LotterySlotStatus.LOTTERY_OPEN, HALL_JAN_20: LotterySlotStatus.FREE}
        closed = slot_statuses(s, [HALL_FEB_9], now=CLOSES)
        assert closed == {HALL_FEB_9: LotterySlotStatus.AWAITING_DRAW}
        before = slot_statuses(s, [HALL_FEB_9], now=jst(2026, 11, 20))
        assert before == {HALL_FEB_9: LotterySlotStatus.OUT_OF_WINDOW}


def test_entries_so_far_are_counted_per_slot_in_one_query(db):
    enter(db, [HALL_FEB_9], resident_id=KOMABA_CIRCLE)
    with db.read_session() as s:
        counts = count_entries(s, room_ids=[HALL, WASHITSU, ROOM_702], first_day=FEBRUARY, last_day=date(2027, 2, 28))
        assert counts == {
            (HALL, date(2027, 2, 5), 25): 2,
            (WASHITSU, date(2027, 2, 5), 11): 1,
            (HALL, date(2027, 2, 9), 25): 1,
        }


def test_the_schedule_the_top_page_and_the_facility_list_read(db):
    with db.read_session() as s:
        schedule = read_schedule(s, first_day=date(2026, 12, 1), last_day=date(2027, 3, 31))
        assert sorted(schedule.months) == [JANUARY, FEBRUARY]
        assert schedule.is_lottery_slot(HALL, date(2027, 2, 9)) and not schedule.is_lottery_slot(ROOM_702, FEBRUARY)
        assert schedule.phase(HALL, date(2027, 1, 20), NOW) is LotteryPhase.BEFORE_FIRST_COME
        months = announced_months(s, now=NOW)
        assert [(m.use_month, m.phase(NOW)) for m in months] == [
            (JANUARY, LotteryPhase.BEFORE_FIRST_COME),
            (FEBRUARY, LotteryPhase.OPEN),
        ]
        assert len(months[1].seed_sha256) == 64
        assert sorted(open_lottery_rooms(s, now=NOW)) == [WASHITSU, ROOM_701, HALL]
        assert open_lottery_rooms(s, now=CLOSES) == {}


# -- first come in a lottery room's month (DESIGN "Lottery", Calendar) --------------------------


def apply(db, slots, *, resident_id=MEGURO, now=NOW, days_ahead=DAYS_AHEAD):
    with db.write() as s:
        return (
            apply_for_slots(
                s,
                resident_id=resident_id,
                slots=slots,
                answers=ANSWERS,
                group_class_id=ADULT,
                now=now,
                days_ahead=days_ahead,
            )
            .reservations[0]
            .number
        )


def test_a_lottery_rooms_month_opens_to_first_come_at_its_first_come_date_only(db):
    with pytest.raises(errors.SlotNotBookable):
        apply(db, [HALL_JAN_20])  # 先着受付前
    with pytest.raises(errors.SlotNotBookable):
        apply(db, [HALL_FEB_9])  # 抽選受付中
    opened = jst(2026, 11, 29, 9)
    # From 一般空き申込 to the end of the month, whatever FIRST_COME_DAYS_AHEAD says.
    assert apply(db, [SlotRef(HALL, date(2027, 1, 29), 25)], now=opened, days_ahead=10)
    with db.read_session() as s:
        windows = first_come_windows(s, [HALL_JAN_20, SEMINAR_702_FEB_9, HALL_DEC_10], now=opened)
        assert list(windows) == [HALL_JAN_20]
        assert (windows[HALL_JAN_20].first, windows[HALL_JAN_20].last) == (JANUARY, date(2027, 1, 31))
    # First-come rooms, and months without a lottery, keep the rolling window.
    assert apply(db, [SEMINAR_702_FEB_9])
    assert apply(db, [HALL_DEC_10])


def test_first_comes_own_reading_of_the_lottery_months_answers_as_the_schedule_does(db):
    """bookings.chosen.first_come_windows (先着申込's one statement of plain columns) gives
    lottery.schedule.first_come_windows' answer in every phase, for lottery and first-come
    rooms, months with and without a lottery, drawn or not."""
    from bookings.chosen import first_come_windows as plain_windows
    from bookings.chosen import room_rows

    slots = [
        HALL_JAN_20,
        HALL_FEB_9,
        HALL_FEB_10,
        WASHITSU_FEB_10,
        SEMINAR_FEB_12,
        SEMINAR_702_FEB_9,
        HALL_DEC_10,
        SlotRef(HALL, date(2027, 3, 3), 25),
        SlotRef(99999, date(2027, 1, 20), 1),
    ]
    moments = [
        jst(2026, 11, 1),  # before February's period
        NOW,  # January before first come, February open
        jst(2026, 11, 29, 8, 59),
        jst(2026, 11, 29, 9),  # January open to first come
        CLOSES,  # February awaiting its draw
        jst(2026, 12, 12, 9),  # February still not drawn: never first come
        jst(2027, 1, 25),
    ]
    with db.read_session() as s:
        for now in moments:
            expected = first_come_windows(s, slots, now=now)
            assert plain_windows(s, slots, now=now) == expected, now
            assert plain_windows(s, [], now=now) == {}
        assert plain_windows(s, [HALL_JAN_20, SEMINAR_702_FEB_9], now=jst(2026, 11, 29, 9)) == {
            HALL_JAN_20: first_come_windows(s, [HALL_JAN_20], now=jst(2026, 11, 29, 9))[HALL_JAN_20]
        }
        # 先着申込 asks only about rooms ever drawn by lottery, as room_rows reads them.
        rooms = room_rows(s, [WASHITSU, ROOM_701, ROOM_702, HALL, GYM_A])
        assert {room_id: room.in_lottery for room_id, room in rooms.items()} == {
            WASHITSU: True,
            ROOM_701: True,
            ROOM_702: False,
            HALL: True,
            GYM_A: False,
        }


def test_a_closed_date_added_after_the_period_opened_makes_the_slot_unbookable(db):
    with db.write() as s:
        s.add(ClosedDate(facility_id=4, day=date(2027, 2, 9)))
    with pytest.raises(errors.SlotNotBookable):
        enter(db, [HALL_FEB_9])
