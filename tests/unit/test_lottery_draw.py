"""The draw against a real, freshly seeded database (SQLite by default, PostgreSQL with
DATABASE_URL): results, bookings, notices and the publication; eligibility and caps checked
again; once per month; all or nothing; two draws at once.

The demo's February 2027 (see test_lottery_operations) is drawn here at its result date,
2026-12-07 09:00 JST: 目黒団体 and 駒場サークル both entered the hall on 2/5 9:00; 目黒団体
also 701 on 2/6 18:30, 駒場サークル the 和室 on 2/5 15:30."""

from __future__ import annotations

import json
import threading
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import func, select

import lottery.draw
from lottery import draw_due_months, draw_month, own_group_id, publication_of, verify_month, withdraw_entries
from mail.compose import CallCentre
from models import errors
from models.account import Resident, ResidentGroupClass
from models.db import Database
from models.deadline_rules import payment_deadline_day
from models.facility import ClosedDate
from models.lottery import LotteryAudit, LotteryEntry, LotteryMonth
from models.lottery_rules import LostReason, draw_key, opaque_group_id, verify_publication
from models.notice import Message
from models.outbox import OutboxMail
from models.reservation import Counter, Reservation
from models.reservation_rules import ReservationState
from models.time_rules import JST
from tests.unit.test_lottery_operations import (
    FEBRUARY,
    HALL,
    KOMABA_CIRCLE,
    MEGURO,
    ROOM_702,
    SlotRef,
    add_booking,
)

RESULT = datetime(2026, 12, 7, 9, tzinfo=JST)
CENTRES = {"ja": CallCentre("03-5431-5932", "平日9:00~21:00"), "en": CallCentre("03-5431-5932", "weekdays 9:00–21:00")}


@pytest.fixture
def db(database_url):
    database = Database(database_url)
    yield database
    database.dispose()


def draw(db, *, now=RESULT, month=FEBRUARY):
    with db.write() as s:
        return draw_month(s, use_month=month, now=now, centre=CENTRES.__getitem__)


def entries(db, month=FEBRUARY) -> dict[tuple[int, int, date], LotteryEntry]:
    """(resident, room, date) → entry, for the month."""
    with db.read_session() as s:
        found = s.scalars(
            select(LotteryEntry).join(LotteryMonth).where(LotteryMonth.use_month == month).order_by(LotteryEntry.id)
        ).all()
        return {(e.resident_id, e.room_id, e.use_date): e for e in found}


def snapshot(db) -> tuple:
    with db.read_session() as s:
        return (
            s.scalar(select(func.count()).select_from(Reservation)),
            s.scalar(select(func.count()).select_from(Message)),
            s.scalar(select(func.count()).select_from(OutboxMail)),
            tuple(s.execute(select(LotteryEntry.id, LotteryEntry.state, LotteryEntry.version)).all()),
            s.scalar(select(LotteryMonth.drawn_at).where(LotteryMonth.use_month == FEBRUARY)),
            s.scalar(select(Counter.value).where(Counter.key == "reservation:2026")),
        )


def test_the_draw_awards_each_slot_once_and_makes_every_entry_won_or_lost(db):
    outcome = draw(db)
    assert (outcome.already_drawn, outcome.entries, outcome.won, outcome.lost, outcome.notices) == (
        False,
        4,
        3,
        1,
        2,
    )
    drawn = entries(db)
    contested = [drawn[(MEGURO, HALL, date(2027, 2, 5))], drawn[(KOMABA_CIRCLE, HALL, date(2027, 2, 5))]]
    assert sorted(e.state.value for e in contested) == ["lost", "won"]
    loser = next(e for e in contested if e.state is ReservationState.LOST)
    assert loser.lost_reason is LostReason.DRAW
    with db.read_session() as s:
        month = s.scalar(select(LotteryMonth).where(LotteryMonth.use_month == FEBRUARY))
        seed = month.seed
    # The winner is the entry drawn first.
    assert min(contested, key=lambda e: draw_key(seed, e.public_id)).state is ReservationState.WON
    assert all(e.drawn_at == RESULT and e.version == 2 for e in drawn.values())


def test_a_win_is_a_payable_won_booking_with_a_number_and_the_deadline_from_the_result_date(db):
    draw(db, now=RESULT + timedelta(days=2))  # the worker ran late
    won = entries(db)[(MEGURO, 4, date(2027, 2, 6))]
    with db.read_session() as s:
        booking = s.get(Reservation, won.reservation_id)
        assert booking.state is ReservationState.WON and booking.number.startswith("2026-")
        assert (booking.room_id, booking.use_date, booking.time_band_id) == (4, date(2027, 2, 6), 16)
        assert booking.facility_fee_yen == 1100  # 701, 18:30~21:30
        assert (booking.purpose_id, booking.attendees, booking.group_class_id) == (1, 20, 1)
        assert booking.lottery_result_at == RESULT  # the announced date, not the late run
        assert booking.payment_basis == RESULT
        assert payment_deadline_day(booking.payment_basis, booking.use_date) == date(2026, 12, 21)
        assert booking.applied_at == won.created_at


def test_every_group_gets_one_notice_listing_its_results_in_its_language(db):
    with db.write() as s:
        s.get(Resident, KOMABA_CIRCLE).preferred_locale = "en"
    draw(db)
    with db.read_session() as s:
        mails = {
            m.resident_id: m
            for m in s.scalars(select(OutboxMail).where(OutboxMail.dedupe_key.like("lottery:2027-02:%")))
        }
        messages = {
            m.resident_id: m
            for m in s.scalars(select(Message).where(Message.outbox_mail_id.in_([m.id for m in mails.values()])))
        }
    assert sorted(mails) == sorted(messages) == [MEGURO, KOMABA_CIRCLE]
    meguro, circle = mails[MEGURO], mails[KOMABA_CIRCLE]
    assert meguro.subject == "目黒区施設予約システム 抽選結果のお知らせ" and meguro.to_address
    assert "2027年2月分の抽選結果をお知らせします（抽選結果の発表日：2026年12月7日）。" in meguro.body
    assert meguro.body.count("【当選】") + meguro.body.count("【落選】") == 2
    assert "支払期限：2026年12月21日" in meguro.body
    assert circle.subject == "Meguro City Facility Reservation System: your lottery results"
    assert circle.to_address is None and circle.sent_at == RESULT  # no address: メッセージ only
    assert "Here are your lottery results for February 2027" in circle.body
    assert "区" not in circle.body


def test_a_second_draw_changes_nothing_and_says_so(db):
    first = draw(db)
    before = snapshot(db)
    again = draw(db, now=RESULT + timedelta(hours=1))
    assert again.already_drawn and again.drawn_at == first.drawn_at
    assert "drawn already" in again.describe()
    assert snapshot(db) == before


def test_no_draw_before_the_result_date_and_none_for_a_month_without_a_lottery(db):
    with pytest.raises(errors.DrawNotDue):
        draw(db, now=RESULT - timedelta(seconds=1))
    with pytest.raises(errors.LotteryMonthUnknown):
        draw(db, month=date(2027, 5, 1))


def test_a_crash_in_the_middle_leaves_nothing_half_drawn(db, monkeypatch):
    before = snapshot(db)

    def crash(*args, **kwargs):
        raise RuntimeError("the machine stops after the bookings were written")

    monkeypatch.setattr(lottery.draw, "queue_notices", crash)
    with pytest.raises(RuntimeError):
        draw(db)
    assert snapshot(db) == before
    monkeypatch.undo()
    assert not draw(db).already_drawn


def test_withdrawn_entries_are_not_drawn_nor_published(db):
    withdrawn = entries(db)[(KOMABA_CIRCLE, HALL, date(2027, 2, 5))]
    with db.write() as s:
        withdraw_entries(s, resident_id=KOMABA_CIRCLE, public_ids=[withdrawn.public_id], now=RESULT - timedelta(days=5))
    outcome = draw(db)
    assert outcome.entries == 3
    drawn = entries(db)
    assert drawn[(KOMABA_CIRCLE, HALL, date(2027, 2, 5))].state is ReservationState.WITHDRAWN
    assert drawn[(MEGURO, HALL, date(2027, 2, 5))].state is ReservationState.WON
    with db.read_session() as s:
        document = publication_of(s, FEBRUARY)
    assert withdrawn.public_id not in {e["public_id"] for e in document["entries"]}


def test_a_group_no_longer_eligible_at_the_draw_loses_with_the_reason_and_allowance_zero(db):
    with db.write() as s:
        held = s.scalar(select(ResidentGroupClass).where(ResidentGroupClass.resident_id == KOMABA_CIRCLE))
        held.expires_on = date(2027, 2, 4)  # shortened at the counter: no longer valid on 2/5
    draw(db)
    drawn = entries(db)
    assert drawn[(KOMABA_CIRCLE, HALL, date(2027, 2, 5))].lost_reason is LostReason.NOT_ELIGIBLE
    assert drawn[(MEGURO, HALL, date(2027, 2, 5))].state is ReservationState.WON
    with db.read_session() as s:
        document = publication_of(s, FEBRUARY)
        month = s.scalar(select(LotteryMonth).where(LotteryMonth.use_month == FEBRUARY))
        circle = opaque_group_id(month.group_key, KOMABA_CIRCLE)
        mail = s.scalar(select(OutboxMail).where(OutboxMail.dedupe_key == f"lottery:2027-02:{KOMABA_CIRCLE}"))
    assert {g["group"]: g["allowance"] for g in document["groups"]}[circle] == 0
    assert "落選の理由：抽選の時点で、登録団体の条件" in mail.body


def test_wins_and_active_bookings_are_capped_at_the_draw(db):
    # 駒場サークル withdraws, so that both of 目黒団体's entries are uncontested; then 目黒団体
    # books seven 702 slots in February first come: it may win one more (8 − 7).
    theirs = entries(db)[(KOMABA_CIRCLE, HALL, date(2027, 2, 5))]
    with db.write() as s:
        withdraw_entries(s, resident_id=KOMABA_CIRCLE, public_ids=[theirs.public_id], now=RESULT - timedelta(days=5))
    for i, day in enumerate((1, 2, 3, 4, 15, 16, 17)):
        add_booking(db, SlotRef(ROOM_702, date(2027, 2, day), 17), number=f"2026-9001{i:02d}")
    draw(db)
    mine = sorted((e for (rid, _, _), e in entries(db).items() if rid == MEGURO), key=lambda e: e.state.value)
    assert [(e.state, e.lost_reason) for e in mine] == [
        (ReservationState.LOST, LostReason.CAP),
        (ReservationState.WON, None),
    ]
    with db.read_session() as s:
        document = publication_of(s, FEBRUARY)
        month = s.scalar(select(LotteryMonth).where(LotteryMonth.use_month == FEBRUARY))
        mail = s.scalar(select(OutboxMail).where(OutboxMail.dedupe_key == f"lottery:2027-02:{MEGURO}"))
    assert {g["group"]: g["allowance"] for g in document["groups"]}[opaque_group_id(month.group_key, MEGURO)] == 1
    # The one drawn first wins.
    assert min(mine, key=lambda e: draw_key(month.seed, e.public_id)).state is ReservationState.WON
    assert "落選の理由：1団体あたりの当選と予約の上限（1か月の利用分あたり）に達していたため" in mail.body


def test_a_slot_booked_or_closed_since_the_entries_cannot_be_won(db):
    add_booking(db, SlotRef(HALL, date(2027, 2, 5), 25), resident_id=3, number="2026-900200")  # by staff
    with db.write() as s:
        s.add(ClosedDate(facility_id=1, day=date(2027, 2, 5)))  # 駒場住区センター, the 和室's
    draw(db)
    drawn = entries(db)
    assert {drawn[(r, HALL, date(2027, 2, 5))].lost_reason for r in (MEGURO, KOMABA_CIRCLE)} == {
        LostReason.SLOT_UNAVAILABLE
    }
    assert drawn[(KOMABA_CIRCLE, 3, date(2027, 2, 5))].lost_reason is LostReason.SLOT_UNAVAILABLE
    with db.read_session() as s:
        document = publication_of(s, FEBRUARY)
    assert document["unavailable_slots"] == ["3:2027-02-05:11", "7:2027-02-05:25"]
    assert verify_publication(document).ok


def test_the_publication_lets_anyone_recompute_and_verify_checks_the_database_too(db):
    draw(db)
    with db.read_session() as s:
        document = publication_of(s, FEBRUARY)
        month = s.scalar(select(LotteryMonth).where(LotteryMonth.use_month == FEBRUARY))
        seed_hash_published_at_creation = json.loads(
            s.scalar(
                select(LotteryAudit.details).where(
                    LotteryAudit.lottery_month_id == month.id, LotteryAudit.action == "create_month"
                )
            )
        )["seed_sha256"]
        check = verify_month(s, FEBRUARY)
    assert check.ok and check.published.entries == 4 and check.published.won == 3
    assert document["seed_sha256"] == seed_hash_published_at_creation == month.seed_sha256
    assert document["seed"] == month.seed_hex and document["use_month"] == "2027-02"
    assert document["result_at"] == "2026-12-07T09:00:00+09:00"
    with db.read_session() as s:
        mine = own_group_id(s, FEBRUARY, MEGURO)
    assert mine == opaque_group_id(month.group_key, MEGURO)
    assert sum(e["group"] == mine for e in document["entries"]) == 2  # 目黒団体 recognises its own
    assert str(MEGURO) not in {e["group"] for e in document["entries"]}
    assert document["slots"]["7:2027-02-05:25"] == {
        "facility": "中小企業センター",
        "facility_en": "Small Business Centre",
        "room": "ホール",
        "room_en": "Hall",
        "date": "2027-02-05",
        "starts": "09:00",
        "ends": "12:00",
    }
    # An entry changed in the database after the draw is found.
    with db.write() as s:
        changed = s.scalar(
            select(LotteryEntry).where(
                LotteryEntry.state == ReservationState.LOST, LotteryEntry.lottery_month_id == month.id
            )
        )
        changed.lost_reason = LostReason.CAP
    with db.read_session() as s:
        assert not verify_month(s, FEBRUARY).ok


def test_two_draws_at_once_draw_the_month_once(db, monkeypatch):
    """The first holds the month's lock while the second starts; the second waits, then
    finds the month drawn. (On SQLite the whole database is locked; on PostgreSQL the row.)"""
    holding, second_started = threading.Event(), threading.Event()
    read_entries = lottery.draw._open_entries

    def slow_read(session, month):
        if not holding.is_set():
            holding.set()
            second_started.wait(timeout=30)
            threading.Event().wait(0.3)  # let the second reach the lock
        return read_entries(session, month)

    monkeypatch.setattr(lottery.draw, "_open_entries", slow_read)
    outcomes: dict[str, object] = {}

    def first():
        outcomes["first"] = draw(db)

    def second():
        holding.wait(timeout=30)
        second_started.set()
        outcomes["second"] = draw(db)

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not outcomes["first"].already_drawn and outcomes["second"].already_drawn
    with db.read_session() as s:
        won = s.scalar(select(func.count()).select_from(Reservation).where(Reservation.lottery_result_at == RESULT))
        notices = s.scalar(
            select(func.count()).select_from(OutboxMail).where(OutboxMail.dedupe_key.like("lottery:2027-02:%"))
        )
    assert (won, notices) == (3, 2)


def test_the_worker_draws_every_month_whose_result_date_has_come(db):
    before = draw_due_months(db, now=RESULT - timedelta(minutes=1), centre=CENTRES.__getitem__)
    assert before.drawn == [] and before.failed == []
    due = draw_due_months(db, now=RESULT + timedelta(minutes=1), centre=CENTRES.__getitem__)
    assert due.drawn == ["2027-02"] and due.failed == []
    # March's row was made in good time (its period opens on 2027-01-01), with February's rooms.
    assert due.months_made == [] and before.months_made == ["2027-03"]
    with db.read_session() as s:
        march = s.scalar(select(LotteryMonth).where(LotteryMonth.use_month == date(2027, 3, 1)))
        assert sorted(r.room_id for r in march.rooms) == [3, 4, HALL] and march.drawn_at is None
    assert draw_due_months(db, now=RESULT + timedelta(minutes=2), centre=CENTRES.__getitem__).drawn == []
