"""Demo residents and bookings in every state, created through the same operations the
site uses (password `meguro2025` for all); after the card-paid ones, equipment added to one
of them (seed_equipment_demo)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from blueprints.apply.operations import RoomAnswers, apply_for_slots
from blueprints.equipment.operations import EquipmentRequest, change_equipment
from bookings.slots import SlotRef
from demo.catalogue import LOTTERY_ROOMS, seed_catalogue
from lottery.calendar import create_month
from lottery.draw import draw_month
from lottery.entries import enter_lottery
from mail.compose import CallCentre
from models.account import Resident, ResidentGroupClass
from models.availability_rules import is_closed_day_rule
from models.counters import next_value
from models.db import Base
from models.facility import EquipmentItem, Facility, Room
from models.introduction import GroupIntroduction
from models.lottery import LotteryMonth
from models.lottery_rules import LotteryDates, add_months, draw_key, month_label, month_start
from models.notice import Message
from models.numbering_rules import receipt_counter_key, receipt_number
from models.outbox import OutboxMail
from models.passwords import hash_password
from models.reservation import CounterPayment, Reservation
from models.reservation_rules import Action, CancelKind, ReservationState, next_state
from models.time_rules import jst_day, jst_moment

DEMO_PASSWORD = "meguro2025"

# number, kind, name, email, group class, class expiry (days from today), registration expiry (days)
RESIDENTS = [
    ("00040675", "assembly", "目黒団体", "meguro-dantai@example.jp", "adult", 90, 455),
    ("00040676", "assembly", "駒場サークル", None, "adult", 200, 500),
    ("00050001", "sports", "目黒スポーツクラブ", "sports-club@example.jp", "adult", 120, 400),
    ("00040677", "assembly", "青葉会", "aoba@example.jp", "adult", -10, 300),  # 団体区分 expired
    ("00040678", "assembly", "旧登録の会", None, "adult", -40, -5),  # registration expired
    ("00040679", "assembly", "仮パスワードの会", "kari@example.jp", "adult", 200, 500),  # 仮パスワード
]
# Registrations holding a 仮パスワード issued at a counter (`meguro2025` too): changed first.
TEMPORARY_PASSWORD = {"00040679"}


def clear(session: Session) -> None:
    """Empty every table (children first). References that close a cycle (settlements ↔
    card charges) are cleared first, as no order of deletes satisfies them."""
    for table in Base.metadata.sorted_tables:
        cyclic = {fk.parent.name: None for fk in table.foreign_keys if fk.use_alter and fk.parent.nullable}
        if cyclic:
            session.execute(table.update().values(**cyclic))
    for table in reversed(Base.metadata.sorted_tables):
        session.execute(table.delete())
    session.flush()


def open_day(room, start: date) -> date:
    facility = room.facility
    closed_dates = frozenset(c.day for c in facility.closed_dates)
    day = start
    while is_closed_day_rule(day, facility.closed_weekday_set, closed_dates):
        day += timedelta(days=1)
    return day


def seed_demo(session: Session, now: datetime, days_ahead: int = 90) -> dict[str, Resident]:
    today = jst_day(now)
    cat = seed_catalogue(session, today)
    rooms, classes, purposes = cat["rooms"], cat["classes"], cat["purposes"]
    password_hash = hash_password(DEMO_PASSWORD)

    residents = {}
    for number, kind, name, email, class_code, class_days, reg_days in RESIDENTS:
        r = Resident(
            registration_kind=kind,
            registration_number=number,
            name=name,
            password_hash=password_hash,
            email=email,
            registration_expires_on=today + timedelta(days=reg_days),
            must_change_password=number in TEMPORARY_PASSWORD,
        )
        r.group_classes = [
            ResidentGroupClass(group_class=classes[class_code], expires_on=today + timedelta(days=class_days))
        ]
        session.add(r)
        residents[number] = r
    session.flush()

    def book(resident, room_key, days, band_index, purpose="meeting", attendees=10, applied_days_ago=1):
        room = rooms[room_key]
        day = open_day(room, today + timedelta(days=days))
        band = room.time_bands[band_index]
        applied_at = now - timedelta(days=applied_days_ago)
        application = apply_for_slots(
            session,
            resident_id=resident.id,
            slots=[SlotRef(room.id, day, band.id)],
            answers={room.id: RoomAnswers(purposes[purpose].id, attendees, False)},
            group_class_id=resident.group_classes[0].group_class_id,
            now=applied_at,
            days_ahead=days_ahead + applied_days_ago,
        )
        return application.reservations[0]

    meguro, komaba_circle, sports = residents["00040675"], residents["00040676"], residents["00050001"]

    # 仮予約, one in each refund band (≥21, 11–20, 6–10, 0–5 days before use).
    book(meguro, "kumin_702", 30, 0, "lecture", 25)
    book(meguro, "kumin_702", 30, 1, "lecture", 25)
    book(meguro, "komaba_201", 15, 0, "ceremony", 1)
    book(meguro, "komaba_201", 8, 1)
    book(meguro, "nakameguro_1", 3, 0, "hobby", 8)

    # 当選 with its result date.
    won = book(meguro, "kumin_701", 50, 2, "music", 40, applied_days_ago=20)
    # Entered in the lottery, then drawn: 抽選申込中 → 当選.
    won.state = next_state(ReservationState.LOTTERY_ENTRY, Action.DRAW_WIN)
    won.lottery_result_at = now - timedelta(days=3)

    # 本予約 paid at the counter.
    paid = book(meguro, "komaba_201", 25, 2, applied_days_ago=6)
    _pay_at_counter(session, paid, now - timedelta(days=5))

    # 取消済 by the resident (再予約不可 for this group).
    cancelled = book(meguro, "komaba_201", 12, 1, applied_days_ago=4)
    _cancel(cancelled, now - timedelta(days=2), CancelKind.RESIDENT, "会議の日程が変更になったため")

    # 取消済 by expiry.
    expired = book(meguro, "komaba_202", 20, 0, applied_days_ago=16)
    _cancel(expired, now - timedelta(days=1), CancelKind.EXPIRY, None)

    book(komaba_circle, "kumin_702", 8, 2, "hobby", 12)
    book(komaba_circle, "komaba_washitsu", 22, 0, "hobby", 6)
    book(sports, "gym_a", 5, 3, "ballgame", 20)
    session.flush()

    # After the first-come bookings: the lottery's months do not touch bookings that exist.
    seed_lottery_demo(session, now, residents, rooms, purposes)
    seed_introductions(session, now, residents)
    return residents


# サークル(団体) 紹介 (issue 11): 駒場サークル chose to be introduced; 目黒団体 wrote one and
# keeps it unpublished (its 利用者情報の更新・変更 shows it, the public page does not).
INTRODUCTIONS = [
    (
        "00040676",
        True,
        "arts",
        "駒場を中心に活動している水彩画のサークルです。初心者から経験者まで、20代から80代の会員が"
        "月2回集まって、季節の草花や街の風景を描いています。年に一度、区民センターで作品展を開きます。",
        "毎月第1・第3土曜日 13:00~15:00\n駒場住区センター 和室",
        "見学は随時歓迎します。見学を希望する方は、komaba-suisai@example.jp（代表 駒場）までメールでご連絡ください。",
    ),
    (
        "00040675",
        False,
        "learning",
        "目黒区の歴史と文化を学ぶ会です。講師を招いた勉強会と、区内の史跡めぐりを行っています。",
        "月1回 土曜日の午前 区民センター社会教育館",
        "",
    ),
]


def seed_introductions(session: Session, now: datetime, residents) -> None:
    for number, published, activity, description, meets, contact in INTRODUCTIONS:
        session.add(
            GroupIntroduction(
                resident_id=residents[number].id,
                published=published,
                activity=activity,
                description=description,
                meets=meets,
                contact=contact,
                version=1,
                updated_at=now - timedelta(days=10),
            )
        )
    session.flush()


# The demo's call centre for the lottery's result notices (the app's defaults).
DEMO_CALL_CENTRE = {
    "ja": CallCentre("03-5431-5932", "平日9:00~21:00"),
    "en": CallCentre("03-5431-5932", "weekdays 9:00–21:00"),
}


def seed_lottery_demo(session: Session, now: datetime, residents, rooms, purposes) -> None:
    """DESIGN "Lottery", demo: whatever today is, the month after next was drawn yesterday
    (目黒団体 won one slot and lost a contested one; its 当選 is payable until 14 days after
    yesterday) and the month after that is open for entries (a few made already, so that the
    grid shows entries so far). Made through the site's own operations."""
    today = jst_day(now)
    lottery_rooms = [rooms[key] for key in LOTTERY_ROOMS]
    hall, seminar, washitsu = lottery_rooms
    meguro, komaba_circle = residents["00040675"], residents["00040676"]

    def dates(opens: int, closes: int, result: int, first_come: int) -> LotteryDates:
        return LotteryDates(
            applications_open_at=jst_moment(today + timedelta(days=opens), time(9)),
            applications_close_at=jst_moment(today + timedelta(days=closes), time(0)),
            result_at=jst_moment(today + timedelta(days=result), time(9)),
            first_come_opens_at=jst_moment(today + timedelta(days=first_come), time(9)),
        )

    def enter(resident, room, day, band_index, at, purpose="meeting", attendees=10):
        band = room.time_bands[band_index]
        application = enter_lottery(
            session,
            resident_id=resident.id,
            slots=[SlotRef(room.id, day, band.id)],
            answers={room.id: RoomAnswers(purposes[purpose].id, attendees, False)},
            group_class_id=resident.group_classes[0].group_class_id,
            now=at,
        )
        return application.entries[0]

    # Drawn yesterday: the month after next, with DESIGN's spacing of the dates.
    drawn = add_months(month_start(today), 2)
    create_month(
        session,
        use_month=drawn,
        now=now - timedelta(days=20),
        operator="demo",
        dates=dates(-15, -5, -1, 4),
        room_ids=[r.id for r in lottery_rooms],
    )
    entered_at = jst_moment(today - timedelta(days=10), time(10))
    won_day = open_day(seminar, drawn + timedelta(days=6))
    contested_day = open_day(hall, drawn + timedelta(days=9))
    enter(meguro, seminar, won_day, 0, entered_at, "lecture", 30)
    theirs = enter(meguro, hall, contested_day, 1, entered_at, "music", 60)
    others = enter(komaba_circle, hall, contested_day, 1, entered_at + timedelta(hours=1), "ceremony", 80)
    enter(komaba_circle, washitsu, open_day(washitsu, drawn + timedelta(days=13)), 0, entered_at, "hobby", 8)
    month = session.get(LotteryMonth, theirs.lottery_month_id)
    if draw_key(month.seed, others.public_id) > draw_key(month.seed, theirs.public_id):
        # Public ids are random: let 駒場サークル's be the one drawn first, so that 目黒団体 has
        # a 落選 to show (the draw itself runs as ever). Through a free value: the id is unique.
        mine, yours = theirs.public_id, others.public_id
        for entry, public_id in ((theirs, "0" * 20), (others, mine), (theirs, yours)):
            entry.public_id = public_id
            session.flush()
    draw_month(
        session,
        use_month=drawn,
        now=month.result_at,
        centre=DEMO_CALL_CENTRE.__getitem__,
        operator="worker",
    )
    # The demo starts with an empty outbox, as it always has: yesterday's result mails are
    # history (the worker sent them then); their notices stay in メッセージの確認.
    mails = select(OutboxMail.id).where(OutboxMail.dedupe_key.like(f"lottery:{month_label(drawn)}:%"))
    session.execute(update(Message).where(Message.outbox_mail_id.in_(mails)).values(outbox_mail_id=None))
    session.execute(delete(OutboxMail).where(OutboxMail.dedupe_key.like(f"lottery:{month_label(drawn)}:%")))

    # Open now: the month after that.
    open_month = add_months(drawn, 1)
    create_month(
        session,
        use_month=open_month,
        now=now - timedelta(days=20),
        operator="demo",
        dates=dates(-2, 8, 12, 17),
        room_ids=[r.id for r in lottery_rooms],
    )
    entered_at = now - timedelta(hours=20)
    day = open_day(hall, open_month + timedelta(days=4))
    enter(komaba_circle, hall, day, 0, entered_at, "ceremony", 50)
    enter(komaba_circle, washitsu, open_day(washitsu, open_month + timedelta(days=4)), 2, entered_at, "hobby", 8)
    # 目黒団体's 団体区分 holds for 90 days: its entries fall within them.
    class_expires = meguro.group_classes[0].expires_on
    if day <= class_expires:
        enter(meguro, hall, day, 0, entered_at + timedelta(hours=1), "lecture", 40)
    seminar_day = open_day(seminar, open_month + timedelta(days=5))
    if seminar_day <= class_expires:
        enter(meguro, seminar, seminar_day, 3, entered_at + timedelta(hours=1), "meeting", 20)
    session.flush()


def _pay_at_counter(session: Session, reservation: Reservation, paid_at: datetime) -> None:
    facility = reservation.room.facility
    issued_on = jst_day(paid_at)
    number = receipt_number(
        facility.code, issued_on, next_value(session, receipt_counter_key(facility.code, issued_on))
    )
    reservation.counter_payments.append(
        CounterPayment(amount_yen=reservation.total_fee_yen, paid_at=paid_at, receipt_number=number)
    )
    reservation.state = next_state(reservation.state, Action.PAY)
    reservation.confirmed_at = paid_at
    reservation.version += 1


def _cancel(reservation: Reservation, at: datetime, kind: CancelKind, reason: str | None) -> None:
    reservation.state = next_state(reservation.state, Action.CANCEL)
    reservation.cancelled_at = at
    reservation.cancel_kind = kind
    reservation.cancel_reason = reason
    reservation.refund_percent = None
    reservation.cancellation_fee_yen = 0
    reservation.version += 1


def seed_equipment_demo(session: Session, now: datetime) -> str | None:
    """After the card-paid demo bookings: a projector added to 目黒団体's latest card-paid
    702 booking through the site's own operation, so that 一部支払済 (700円 held, 1,200円
    due) and its settlement can be tried (guide §5-2). Returns its 予約番号, or None when
    there is no such booking (no provider when seeding)."""
    meguro = session.scalar(select(Resident).where(Resident.registration_number == "00040675"))
    candidates = session.scalars(
        select(Reservation)
        .join(Room, Room.id == Reservation.room_id)
        .join(Facility, Facility.id == Room.facility_id)
        .where(
            Reservation.resident_id == meguro.id,
            Reservation.state == ReservationState.CONFIRMED,
            Facility.code == "039",
            Room.name_ja == "702【旧第2研修室】",
        )
        .order_by(Reservation.use_date.desc(), Reservation.starts_at.desc())
    ).all()
    booking = next((r for r in candidates if r.live_charge is not None and not r.equipment_lines), None)
    if booking is None:
        return None
    projector = session.scalar(
        select(EquipmentItem).where(
            EquipmentItem.facility_id == booking.room.facility_id, EquipmentItem.name_ja == "プロジェクター"
        )
    )
    change_equipment(
        session,
        resident_id=meguro.id,
        number=booking.number,
        request=EquipmentRequest({projector.id: 1}, booking.starts_at, booking.ends_at),
        expected_version=booking.version,
        now=now,
    )
    return booking.number
