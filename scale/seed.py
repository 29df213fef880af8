"""Ward-scale data on top of the demo data (`flask seed-scale --factor N`): about 40 × N
facilities of 2–6 rooms, 2,000 × N registrations, a year of bookings in every state (the
past, and the future only inside the first-come window the rules open) and lottery entries
for the month whose 抽選申込 is open.

Registrations and bookings are bulk inserts (one precomputed password hash; rows built by
`booking_row`, which tests/scale compare with what apply_for_slots and the counter payment
write); lottery entries go through lottery.entries.enter_lottery itself. Card payments are
not made: scale bookings are paid at the counter, so `flask reconcile` compares only the
demo's card charges."""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from argon2 import PasswordHasher
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from blueprints.apply.operations import RoomAnswers
from bookings.slots import SlotRef
from lottery.entries import enter_lottery
from models import errors
from models.account import GroupClass, Resident, ResidentGroupClass
from models.availability_rules import is_closed_day_rule
from models.counters import reserve_values
from models.deadline_rules import payment_deadline_day
from models.facility import ClosedDate, Facility, FacilityCategory, FeeRate, Purpose, Room, RoomType, TimeBand
from models.lottery import LotteryMonth
from models.numbering_rules import (
    receipt_counter_key,
    receipt_number,
    reservation_counter_key,
    reservation_number,
)
from models.refund_rules import RateBand, bands_from, refund_on
from models.reservation import Application, Counter, CounterPayment, Reservation
from models.reservation_rules import CancelKind, ReservationState
from models.time_rules import jst_day, jst_moment

# The demo's password, so that any scale registration can log in as the demo ones do.
PASSWORD = "meguro2025"
LIGHT_HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
# 利用者登録番号 of the scale registrations: 70000000 on (the demo's are 4xxxx and 5xxxx).
FIRST_NUMBER = 70_000_000
DEMO_GROUP = "00040675"  # 目黒団体: its share of bookings grows with the factor
FACILITIES_PER_FACTOR = 40
RESIDENTS_PER_FACTOR = 2_000
# 目黒団体's upcoming bookings per unit of factor (the issue's 28 at factor 1, 257 at 10).
DEMO_GROUP_UPCOMING = 25
PAST_DAYS = 275  # with the 90 days ahead: a year of bookings
TAKEN_SHARE = 0.22  # of the slots inside the year: an active booking
CANCELLED_SHARE = 0.04  # of the slots: a cancelled booking (beside an active one or not)
LOTTERY_GROUPS_PER_FACTOR = 150

ASSEMBLY_BANDS = [(time(9), time(12)), (time(12, 30), time(15)), (time(15, 30), time(18)), (time(18, 30), time(21, 30))]
SPORTS_BANDS = [(time(h), time(h + 2)) for h in range(9, 21, 2)]
TOWNS = [
    ("青葉台", "あおばだい", "Aobadai"),
    ("柿の木坂", "かきのきざか", "Kakinokizaka"),
    ("下目黒", "しもめぐろ", "Shimomeguro"),
    ("鷹番", "たかばん", "Takaban"),
    ("中町", "なかちょう", "Nakacho"),
    ("原町", "はらまち", "Haramachi"),
    ("碑文谷", "ひもんや", "Himonya"),
    ("緑が丘", "みどりがおか", "Midorigaoka"),
    ("八雲", "やくも", "Yakumo"),
    ("祐天寺", "ゆうてんじ", "Yutenji"),
    ("若葉", "わかば", "Wakaba"),
]
ASSEMBLY_CATEGORIES = ("community", "culture", "seniors", "ikoi", "labour", "equality")
ASSEMBLY_ROOMS = (
    ("meeting", "会議室", "Meeting room"),
    ("seminar", "研修室", "Seminar room"),
    ("japanese", "和室", "Japanese room"),
)
ASSEMBLY_PURPOSES = ("meeting", "lecture", "hobby", "ceremony", "music")
SPORTS_PURPOSES = ("ballgame", "dance")


class ScaleError(Exception):
    """seed-scale cannot run on this database (no demo data, or scale data already there)."""


@dataclass(frozen=True)
class Summary:
    facilities: int
    rooms: int
    residents: int
    bookings: int
    demo_group_upcoming: int
    lottery_entries: int


@dataclass(frozen=True)
class Booking:
    """What one scale booking is: who, which slot, what happened to it and when."""

    resident_id: int
    group_class_id: int
    room_id: int
    band: TimeBand
    use_date: date
    purpose_id: int
    attendees: int
    fee_yen: int
    applied_at: datetime
    state: ReservationState
    paid_at: datetime | None = None
    cancelled_at: datetime | None = None
    cancel_kind: CancelKind | None = None
    refund_percent: int | None = None
    cancellation_fee_yen: int = 0


def booking_row(booking: Booking, *, number: str, application_id: int) -> dict:
    """The reservations row apply_for_slots writes for this booking, followed by what paying
    at the counter (本予約) or cancelling an unpaid one (取消済) changes in it."""
    row = dict(
        number=number,
        application_id=application_id,
        resident_id=booking.resident_id,
        room_id=booking.room_id,
        time_band_id=booking.band.id,
        use_date=booking.use_date,
        starts_at=booking.band.starts_at,
        ends_at=booking.band.ends_at,
        state=ReservationState.PROVISIONAL,
        purpose_id=booking.purpose_id,
        attendees=booking.attendees,
        charges_participation_fee=False,
        group_class_id=booking.group_class_id,
        facility_fee_yen=booking.fee_yen,
        equipment_fee_yen=0,
        applied_at=booking.applied_at,
        lottery_result_at=None,
        confirmed_at=None,
        cancelled_at=None,
        cancel_kind=None,
        cancel_reason=None,
        refund_percent=None,
        cancellation_fee_yen=None,
        version=1,
    )
    if booking.state is ReservationState.CONFIRMED:
        row.update(state=ReservationState.CONFIRMED, confirmed_at=booking.paid_at, version=2)
    elif booking.state is ReservationState.CANCELLED:
        row.update(
            state=ReservationState.CANCELLED,
            cancelled_at=booking.cancelled_at,
            cancel_kind=booking.cancel_kind,
            refund_percent=booking.refund_percent,
            cancellation_fee_yen=booking.cancellation_fee_yen,
            version=2,
        )
    return row


def seed_scale(session: Session, now: datetime, factor: float, days_ahead: int = 90, seed: int = 20261205) -> Summary:
    """Add the ward-scale data; the demo data must be there, and no scale data yet."""
    if factor <= 0 or factor > 20:
        raise ScaleError("the factor must be more than 0 and at most 20")
    demo = session.scalar(select(Resident).where(Resident.registration_number == DEMO_GROUP))
    if demo is None:
        raise ScaleError("no demo data: run `flask seed-demo` first")
    if session.scalar(select(Resident.id).where(Resident.registration_number == f"{FIRST_NUMBER:08d}")):
        raise ScaleError("scale data is already loaded: run `flask seed-demo` to start again")
    rng = random.Random(seed)
    today = jst_day(now)
    rooms = _facilities(session, rng, today, max(1, round(FACILITIES_PER_FACTOR * factor)))
    residents = _residents(session, rng, today, max(10, round(RESIDENTS_PER_FACTOR * factor)))
    demo_class = demo.group_classes[0].group_class_id
    count, upcoming = _bookings(
        session, rng, now, days_ahead, rooms, residents, (demo.id, demo_class), round(DEMO_GROUP_UPCOMING * factor)
    )
    entries = _lottery_entries(session, rng, now, residents, max(5, round(LOTTERY_GROUPS_PER_FACTOR * factor)))
    return Summary(
        facilities=len({r.facility_id for r in rooms}),
        rooms=len(rooms),
        residents=sum(len(v) for v in residents.values()),
        bookings=count,
        demo_group_upcoming=upcoming,
        lottery_entries=entries,
    )


# Catalogue -----------------------------------------------------------------------------


def _facilities(session: Session, rng: random.Random, today: date, count: int) -> list[Room]:
    categories = {c.code: c for c in session.scalars(select(FacilityCategory))}
    room_types = {t.code: t for t in session.scalars(select(RoomType))}
    purposes = {p.code: p for p in session.scalars(select(Purpose))}
    used = set(session.scalars(select(Facility.code)))
    codes = [f"{n:03d}" for n in range(100, 1000) if f"{n:03d}" not in used]
    if count > len(codes):
        raise ScaleError("not enough free facility codes for this factor")
    horizon = [today - timedelta(days=PAST_DAYS + 31) + timedelta(days=i) for i in range(PAST_DAYS + 31 + 400)]
    # 休館日 as the demo's assembly facilities: the 2nd and 4th Monday, and the year end.
    closed = [
        d
        for d in horizon
        if (d.weekday() == 0 and (d.day - 1) // 7 + 1 in (2, 4))
        or (d.month == 12 and d.day >= 29)
        or (d.month == 1 and d.day <= 3)
    ]
    rooms = []
    for i in range(count):
        sports = i % 7 == 6
        town, kana, town_en = TOWNS[i % len(TOWNS)]
        n = i // len(TOWNS) + 1
        kind_ja, kind_en = ("体育館", "Gymnasium") if sports else ("会館", "Hall")
        facility = Facility(
            code=codes[i],
            name_ja=f"{town}第{n}{kind_ja}",
            name_en=f"{town_en} {kind_en} {n}",
            kana=f"{kana}だい{n}{'たいいくかん' if sports else 'かいかん'}",
            category=categories["sports" if sports else ASSEMBLY_CATEGORIES[i % len(ASSEMBLY_CATEGORIES)]],
            phone=f"03-3{i % 1000:03d}-{1000 + i % 9000:04d}",
            contact_name_ja=f"{town}第{n}{kind_ja}",
            contact_name_en=f"{town_en} {kind_en} {n}",
            address_ja=f"東京都目黒区{town}{n}丁目{i % 30 + 1}番{i % 9 + 1}号",
            address_en=f"{n}-{i % 30 + 1}-{i % 9 + 1} {town_en}, Meguro-ku, Tokyo",
            access_ja="最寄り駅から徒歩10分。",
            access_en="10 minutes' walk from the nearest station.",
        )
        facility.closed_dates = [ClosedDate(day=d) for d in closed]
        session.add(facility)
        for ordinal in range(rng.randint(2, 6)):
            if sports:
                code, ja, en = "arena", "競技場", "Court"
                bands, purpose_codes, capacity = SPORTS_BANDS, SPORTS_PURPOSES, 60
            else:
                code, ja, en = ASSEMBLY_ROOMS[ordinal % len(ASSEMBLY_ROOMS)]
                bands, purpose_codes, capacity = ASSEMBLY_BANDS, ASSEMBLY_PURPOSES, rng.choice((12, 24, 36, 60))
            room = Room(
                facility=facility,
                name_ja=f"第{ordinal + 1}{ja}",
                name_en=f"{en} {ordinal + 1}",
                room_type=room_types[code],
                capacity=capacity,
                ordinal=ordinal,
            )
            room.purposes = [purposes[c] for c in purpose_codes]
            room.time_bands = [TimeBand(starts_at=s, ends_at=e) for s, e in bands]
            session.add(room)
            rooms.append(room)
    session.flush()
    session.execute(
        insert(FeeRate),
        [
            dict(room_id=room.id, time_band_id=band.id, amount_yen=200 * (room.capacity // 12 + 1))
            for room in rooms
            for band in room.time_bands
        ],
    )
    return rooms


def _residents(session: Session, rng: random.Random, today: date, count: int) -> dict[str, list[tuple[int, int]]]:
    """(resident id, group class id) by registration kind: one in seven plays sport."""
    # Once, not count × argon2; with light parameters (argon2 reads them from the hash), so
    # that the bench logs hundreds of residents in within seconds. The demo's and real
    # registrations keep argon2-cffi's defaults.
    password_hash = LIGHT_HASHER.hash(PASSWORD)
    classes = {c.code: c.id for c in session.scalars(select(GroupClass))}
    rows = []
    for i in range(count):
        rows.append(
            dict(
                registration_kind="sports" if i % 7 == 6 else "assembly",
                registration_number=f"{FIRST_NUMBER + i:08d}",
                name=f"{TOWNS[i % len(TOWNS)][0]}の会{i + 1}",
                password_hash=password_hash,
                email=f"group{FIRST_NUMBER + i}@example.jp" if i % 3 else None,
                preferred_locale="en" if i % 10 == 0 else "ja",
                registration_expires_on=today + timedelta(days=rng.randint(200, 900)),
                session_version=1,
            )
        )
    ids = _insert_returning_ids(session, Resident, rows)
    class_rows, by_kind = [], defaultdict(list)
    for resident_id, row in zip(ids, rows):
        class_id = classes["youth"] if resident_id % 9 == 0 else classes["adult"]
        class_rows.append(
            dict(
                resident_id=resident_id,
                group_class_id=class_id,
                expires_on=today + timedelta(days=rng.randint(400, 900)),
            )
        )
        by_kind[row["registration_kind"]].append((resident_id, class_id))
    session.execute(insert(ResidentGroupClass), class_rows)
    return by_kind


def _insert_returning_ids(session: Session, model, rows: list[dict]) -> list[int]:
    """Insert the rows (a Core statement on the table: the ORM's bulk RETURNING splices its
    batches in quadratic time) and return their new ids in the order of `rows`."""
    table = model.__table__
    statement = table.insert().returning(table.c.id, sort_by_parameter_order=True)
    return list(session.connection().execute(statement, rows).scalars())


# Bookings ------------------------------------------------------------------------------


def _moment(day: date, rng: random.Random, now: datetime) -> datetime:
    """A moment of office hours on `day`, never after now."""
    return min(jst_moment(day, time(9 + rng.randrange(9), rng.randrange(60))), now - timedelta(minutes=1))


def _plan(
    rng: random.Random,
    now: datetime,
    days_ahead: int,
    room: Room,
    day: date,
    band: TimeBand,
    holder,
    purpose_id: int,
    fee: int,
    bands: list[RateBand],
) -> Booking:
    """One booking of `holder` on the slot, in a state that can be true `now`."""
    today = jst_day(now)
    resident_id, class_id = holder
    attendees = rng.randint(1, room.capacity)
    earliest = day - timedelta(days=days_ahead)  # first come opens days_ahead before the day
    if day <= today:
        applied_on = earliest + timedelta(days=rng.randrange(days_ahead))
    else:
        applied_on = max(earliest, today - timedelta(days=rng.randrange(40)))
    applied_on = min(applied_on, today, day - timedelta(days=1))
    applied_at = _moment(applied_on, rng, now)
    base = Booking(resident_id, class_id, room.id, band, day, purpose_id, attendees, fee, applied_at, state=None)  # type: ignore[arg-type]
    deadline = payment_deadline_day(applied_at, day)
    roll = rng.random()
    if day <= today:
        if roll < 0.85:
            return _paid(base, rng, now, deadline)
        if roll < 0.95:
            return _cancelled(base, rng, now, CancelKind.RESIDENT, bands)
        return _cancelled(base, rng, now, CancelKind.EXPIRY, bands)
    if roll < 0.40:
        return _paid(base, rng, now, deadline)
    if roll < 0.52 and deadline < today:
        return _cancelled(base, rng, now, CancelKind.EXPIRY, bands)
    if roll < 0.60:
        return _cancelled(base, rng, now, CancelKind.RESIDENT, bands)
    if deadline < today:  # unpaid after its deadline, the worker would have cancelled it
        return _paid(base, rng, now, deadline)
    return _replace(base, state=ReservationState.PROVISIONAL)


def _replace(booking: Booking, **changes) -> Booking:
    return Booking(**{**booking.__dict__, **changes})


def _paid(booking: Booking, rng: random.Random, now: datetime, deadline: date) -> Booking:
    last = min(deadline, jst_day(now))
    day = jst_day(booking.applied_at) + timedelta(
        days=rng.randint(0, max(0, (last - jst_day(booking.applied_at)).days))
    )
    paid_at = max(booking.applied_at + timedelta(minutes=5), _moment(day, rng, now))
    return _replace(booking, state=ReservationState.CONFIRMED, paid_at=min(paid_at, now - timedelta(seconds=1)))


def _cancelled(booking: Booking, rng: random.Random, now: datetime, kind: CancelKind, bands: list[RateBand]) -> Booking:
    if kind is CancelKind.EXPIRY:
        # The worker's pass after the deadline day.
        at = jst_moment(payment_deadline_day(booking.applied_at, booking.use_date) + timedelta(days=1), time(0, 5))
    else:
        at = booking.applied_at + timedelta(hours=rng.randint(1, 72))
    at = min(at, now - timedelta(seconds=1), jst_moment(booking.use_date, booking.band.starts_at))
    percent, fee = None, 0
    if kind is CancelKind.RESIDENT:
        # As 取消 writes it: the rate of the day (nothing held: no fee).
        quote = refund_on(at, booking.use_date, bands, held_yen=0, total_fee_yen=booking.fee_yen)
        percent, fee = quote.percent, quote.fee_yen
    return _replace(
        booking,
        state=ReservationState.CANCELLED,
        cancelled_at=at,
        cancel_kind=kind,
        refund_percent=percent,
        cancellation_fee_yen=fee,
    )


def _plans(
    rng: random.Random, now: datetime, days_ahead: int, rooms: list[Room], residents, demo, demo_upcoming: int
) -> Iterator[Booking]:
    today = jst_day(now)
    first, last = today - timedelta(days=PAST_DAYS), today + timedelta(days=days_ahead)
    purposes = {room.id: [p.id for p in room.purposes] for room in rooms}
    fees = {room.id: 200 * (room.capacity // 12 + 1) for room in rooms}
    # 目黒団体's share: enough assembly slots ahead that it has demo_upcoming of them.
    assembly = [room for room in rooms if room.facility.category.registration_kind == "assembly"]
    demo_slots = set()
    while len(demo_slots) < demo_upcoming and assembly:
        room = rng.choice(assembly)
        demo_slots.add((room.id, today + timedelta(days=rng.randint(1, days_ahead)), rng.randrange(4)))
    for room in rooms:
        kind = room.facility.category.registration_kind
        holders = residents[kind]
        closing = (room.facility.closed_weekday_set, frozenset(c.day for c in room.facility.closed_dates))
        bands = bands_from(room.facility.category.refund_bands)
        day = first
        while day <= last:
            if not is_closed_day_rule(day, *closing) and day != today:
                for index, band in enumerate(room.time_bands):
                    demo_slot = (room.id, day, index) in demo_slots
                    if demo_slot or rng.random() < TAKEN_SHARE:
                        holder = demo if demo_slot else rng.choice(holders)
                        booking = _plan(
                            rng,
                            now,
                            days_ahead,
                            room,
                            day,
                            band,
                            holder,
                            rng.choice(purposes[room.id]),
                            fees[room.id],
                            bands,
                        )
                        if demo_slot and booking.state is ReservationState.CANCELLED:
                            booking = _replace(
                                booking, state=ReservationState.PROVISIONAL, cancelled_at=None, cancel_kind=None
                            )
                            if payment_deadline_day(booking.applied_at, day) < today:
                                booking = _paid(booking, rng, now, payment_deadline_day(booking.applied_at, day))
                        yield booking
                    if rng.random() < CANCELLED_SHARE:
                        holder = rng.choice(holders)
                        booking = _plan(
                            rng,
                            now,
                            days_ahead,
                            room,
                            day,
                            band,
                            holder,
                            rng.choice(purposes[room.id]),
                            fees[room.id],
                            bands,
                        )
                        reason = CancelKind.RESIDENT if rng.random() < 0.7 else CancelKind.EXPIRY
                        if reason is CancelKind.EXPIRY and payment_deadline_day(booking.applied_at, day) >= today:
                            reason = CancelKind.RESIDENT
                        yield _cancelled(booking, rng, now, reason, bands)
            day += timedelta(days=1)


def _bookings(session: Session, rng, now, days_ahead, rooms, residents, demo, demo_upcoming) -> tuple[int, int]:
    receipts: dict[str, int] = defaultdict(int)
    codes = {room.id: room.facility.code for room in rooms}
    count = upcoming = 0
    chunk: list[Booking] = []
    today = jst_day(now)
    for booking in _plans(rng, now, days_ahead, rooms, residents, demo, demo_upcoming):
        chunk.append(booking)
        if (
            booking.resident_id == demo[0]
            and booking.use_date > today
            and booking.state is not ReservationState.CANCELLED
        ):
            upcoming += 1
        if len(chunk) >= 20_000:
            count += _insert(session, chunk, receipts, codes)
            chunk = []
    count += _insert(session, chunk, receipts, codes)
    # The receipt counters (of facilities new here), so that a counter payment made later
    # does not reuse a number.
    if receipts:
        session.execute(insert(Counter), [dict(key=key, value=value) for key, value in receipts.items()])
    return count, upcoming


def _insert(session: Session, chunk: list[Booking], receipts: dict[str, int], codes: dict[int, str]) -> int:
    if not chunk:
        return 0
    application_ids = _insert_returning_ids(
        session, Application, [dict(resident_id=b.resident_id, created_at=b.applied_at) for b in chunk]
    )
    # 予約番号 from the real counters, one block per fiscal year.
    by_key: dict[str, list[int]] = defaultdict(list)
    for index, booking in enumerate(chunk):
        by_key[reservation_counter_key(jst_day(booking.applied_at))].append(index)
    numbers: dict[int, str] = {}
    for key, indexes in by_key.items():
        for index, value in zip(indexes, reserve_values(session, key, len(indexes))):
            numbers[index] = reservation_number(jst_day(chunk[index].applied_at), value)
    rows = [booking_row(b, number=numbers[i], application_id=application_ids[i]) for i, b in enumerate(chunk)]
    ids = _insert_returning_ids(session, Reservation, rows)
    payments = []
    for reservation_id, booking in zip(ids, chunk):
        if booking.state is ReservationState.CONFIRMED:
            assert booking.paid_at is not None
            code, issued_on = codes[booking.room_id], jst_day(booking.paid_at)
            key = receipt_counter_key(code, issued_on)
            receipts[key] += 1
            payments.append(
                dict(
                    reservation_id=reservation_id,
                    amount_yen=booking.fee_yen,
                    paid_at=booking.paid_at,
                    receipt_number=receipt_number(code, issued_on, receipts[key]),
                )
            )
    if payments:
        session.execute(insert(CounterPayment), payments)
    return len(chunk)


# Lottery -------------------------------------------------------------------------------


def _lottery_entries(session: Session, rng: random.Random, now: datetime, residents, groups: int) -> int:
    """Entries, through the lottery's own operation, for the month open for entries now."""
    month = session.scalar(
        select(LotteryMonth).where(LotteryMonth.applications_open_at <= now, LotteryMonth.applications_close_at > now)
    )
    if month is None or not month.rooms:
        return 0
    slots = []
    for lottery_room in month.rooms:
        room = lottery_room.room
        closing = (room.facility.closed_weekday_set, frozenset(c.day for c in room.facility.closed_dates))
        day = month.use_month
        while day.month == month.use_month.month:
            if not is_closed_day_rule(day, *closing):
                slots.extend((room, day, band) for band in room.time_bands)
            day += timedelta(days=1)
    made = 0
    candidates = [holder for holder in residents["assembly"] if holder[1] is not None]
    for resident_id, class_id in rng.sample(candidates, min(groups, len(candidates))):
        chosen = rng.sample(slots, rng.randint(1, 3))
        try:
            with session.begin_nested():
                application = enter_lottery(
                    session,
                    resident_id=resident_id,
                    slots=[SlotRef(room.id, day, band.id) for room, day, band in chosen],
                    answers={
                        room.id: RoomAnswers(room.purposes[0].id, min(10, room.capacity), False)
                        for room, _day, _band in chosen
                    },
                    group_class_id=class_id,
                    now=now,
                )
                made += len(application.entries)
        except errors.DomainError:
            continue  # a youth class cannot enter, or a cap: as on the site, refused
    return made
