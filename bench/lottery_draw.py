"""Benchmark: the lottery draw (DESIGN "Lottery") at the ward's scale.

Draws one use month of 20,000 entries by 6,000 groups over 5,000 slots (42 rooms × 30 days
× 4 bands) in one transaction — results, 当選 bookings, the publication, one notice per
group — then verifies it from the publication, and prints the times and entries per second.
On SQLite in a temporary file, and on PostgreSQL too when DATABASE_URL is set (in a database
of its own, dropped afterwards).

Run: .venv/bin/python bench/lottery_draw.py [--entries N] [--groups N]"""

from __future__ import annotations

import argparse
import os
import random
import secrets
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import create_engine, insert, select, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from demo.catalogue import seed_catalogue  # noqa: E402
from lottery.calendar import create_month  # noqa: E402
from lottery.draw import draw_month, verify_month  # noqa: E402
from mail.compose import CallCentre  # noqa: E402
from models.account import GroupClass, Resident, ResidentGroupClass  # noqa: E402
from models.db import Database  # noqa: E402
from models.facility import Facility, FacilityCategory, FeeRate, Purpose, Room, RoomType, TimeBand  # noqa: E402
from models.lottery import LotteryApplication, LotteryEntry, LotteryMonth  # noqa: E402
from models.migration import upgrade_to_head  # noqa: E402
from models.reservation_rules import ReservationState  # noqa: E402

MONTH = date(2027, 1, 1)
NOW = datetime(2026, 11, 1, 1, tzinfo=UTC)
ROOMS, DAYS, BANDS = 42, 30, ((9, 12), (12, 15), (15, 18), (18, 21))
CENTRE = CallCentre("03-5431-5932", "平日9:00~21:00")


def prepare(url: str, n_entries: int, n_groups: int) -> None:
    """The catalogue, a facility of 42 rooms, the groups, January 2027's lottery and its entries."""
    upgrade_to_head(url)
    db = Database(url)
    rng = random.Random(20261125)
    with db.write() as s:
        seed_catalogue(s, NOW.date())
        category = s.scalar(select(FacilityCategory).where(FacilityCategory.code == "culture"))
        facility = Facility(
            code="900",
            name_ja="ベンチ会館",
            name_en="Bench Hall",
            kana="べんちかいかん",
            category=category,
            phone="03-0000-0000",
            contact_name_ja="ベンチ会館",
            contact_name_en="Bench Hall",
            address_ja="",
            address_en="",
        )
        s.add(facility)
        room_type = s.scalar(select(RoomType).where(RoomType.code == "meeting"))
        purpose = s.scalar(select(Purpose).where(Purpose.code == "meeting"))
        rooms = []
        for i in range(ROOMS):
            room = Room(
                facility=facility, name_ja=f"第{i + 1}室", name_en=f"Room {i + 1}", room_type=room_type, capacity=50
            )
            room.purposes = [purpose]
            room.time_bands = [TimeBand(starts_at=clock_time(a), ends_at=clock_time(b)) for a, b in BANDS]
            s.add(room)
            rooms.append(room)
        s.flush()
        s.add_all(FeeRate(room_id=r.id, time_band_id=b.id, amount_yen=800) for r in rooms for b in r.time_bands)
        adult = s.scalar(select(GroupClass).where(GroupClass.code == "adult"))
        resident_ids = s.scalars(
            insert(Resident).returning(Resident.id, sort_by_parameter_order=True),
            [
                dict(
                    registration_kind="assembly",
                    registration_number=f"{10_000_000 + i:08d}",
                    name=f"団体{i}",
                    password_hash="-",
                    email=f"group{i}@example.jp",
                    preferred_locale="en" if i % 5 == 0 else "ja",
                    registration_expires_on=date(2028, 3, 31),
                    session_version=1,
                )
                for i in range(n_groups)
            ],
        ).all()
        s.execute(
            insert(ResidentGroupClass),
            [dict(resident_id=r, group_class_id=adult.id, expires_on=date(2028, 3, 31)) for r in resident_ids],
        )
        month = create_month(s, use_month=MONTH, now=NOW, operator="bench", room_ids=[r.id for r in rooms])
        application_ids = s.scalars(
            insert(LotteryApplication).returning(LotteryApplication.id, sort_by_parameter_order=True),
            [
                dict(number=f"2026-{i + 1:06d}", resident_id=r, group_class_id=adult.id, created_at=NOW)
                for i, r in enumerate(resident_ids)
            ],
        ).all()
        slots = [(r, MONTH + timedelta(days=d), b) for r in rooms for d in range(DAYS) for b in r.time_bands]
        chosen: set[tuple[int, int]] = set()
        rows = []
        while len(rows) < n_entries:
            g = rng.randrange(n_groups)
            k = rng.randrange(len(slots))
            if (g, k) in chosen:
                continue
            chosen.add((g, k))
            room, day, band = slots[k]
            rows.append(
                dict(
                    public_id=secrets.token_hex(10),
                    application_id=application_ids[g],
                    lottery_month_id=month.id,
                    resident_id=resident_ids[g],
                    room_id=room.id,
                    time_band_id=band.id,
                    use_date=day,
                    starts_at=band.starts_at,
                    ends_at=band.ends_at,
                    purpose_id=purpose.id,
                    attendees=10,
                    charges_participation_fee=False,
                    state=ReservationState.LOTTERY_ENTRY,
                    created_at=NOW,
                    version=1,
                )
            )
        s.execute(insert(LotteryEntry), rows)
    db.dispose()


def run(url: str, label: str, n_entries: int, n_groups: int) -> None:
    started = time.perf_counter()
    prepare(url, n_entries, n_groups)
    print(f"{label}: prepared {n_entries:,} entries by {n_groups:,} groups in {time.perf_counter() - started:.1f} s")
    db = Database(url)
    with db.read_session() as s:
        now = s.scalar(select(LotteryMonth.result_at).where(LotteryMonth.use_month == MONTH))
    started, cpu = time.perf_counter(), time.process_time()
    with db.write() as s:
        outcome = draw_month(s, use_month=MONTH, now=now, centre=lambda _locale: CENTRE, operator="bench")
    drawn, cpu = time.perf_counter() - started, time.process_time() - cpu
    print(
        f"{label}: draw {drawn:.2f} s ({cpu:.2f} s of this process's CPU), {outcome.entries / drawn:,.0f} entries/s"
        f" — {outcome.describe()}"
    )
    started = time.perf_counter()
    with db.read_session() as s:
        verification = verify_month(s, MONTH)
    print(
        f"{label}: verify {time.perf_counter() - started:.2f} s — "
        f"{'ok' if verification.ok else verification.problems[:3]} ({verification.published.won:,} won)"
    )
    db.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=20_000)
    parser.add_argument("--groups", type=int, default=6_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        run(f"sqlite:///{Path(directory) / 'bench.sqlite3'}", "SQLite", args.entries, args.groups)
    base = os.environ.get("DATABASE_URL")
    if base and base.startswith("postgresql"):
        name = f"meguro_bench_{os.getpid()}_{uuid.uuid4().hex[:6]}"
        admin = create_engine(base, isolation_level="AUTOCOMMIT")
        with admin.connect() as c:
            c.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            run(
                make_url(base).set(database=name).render_as_string(hide_password=False),
                "PostgreSQL",
                args.entries,
                args.groups,
            )
        finally:
            with admin.connect() as c:
                c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()


if __name__ == "__main__":
    main()
