"""Benchmark: the 施設別空き状況 grid, as the operation and as the whole HTTP page.

Prints wall time per call (median of repeats) and peak Python memory for 1 week, 2 weeks
and 1 month over every demo facility (10 rooms), with the demo data plus a month of
bookings. Run: .venv/bin/python bench/availability_grid.py [--repeat N]"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import tracemalloc
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app import create_app  # noqa: E402
from blueprints.apply.operations import RoomAnswers, apply_for_slots  # noqa: E402
from blueprints.search.operations import build_day_grid  # noqa: E402
from bookings.slots import SlotRef  # noqa: E402
from config import Config  # noqa: E402
from demo.seed import seed_demo  # noqa: E402
from models.account import Resident  # noqa: E402
from models.db import Database  # noqa: E402
from models.errors import DomainError  # noqa: E402
from models.facility import Facility, Room  # noqa: E402
from models.migration import upgrade_to_head  # noqa: E402

NOW = datetime(2026, 11, 25, 1, 0, tzinfo=UTC)
CODES = ["013", "039", "014", "051", "081"]


def prepare(url: str) -> None:
    upgrade_to_head(url)
    db = Database(url)
    with db.write() as s:
        seed_demo(s, NOW)
    # A busier month: every other band of every assembly room for 30 days.
    with db.write() as s:
        resident = s.query(Resident).filter_by(registration_number="00040675").one()
        rooms = s.query(Room).join(Facility).filter(Facility.code.in_(CODES)).all()
        for room in rooms:
            for day in range(1, 31):
                for band in room.time_bands[::2]:
                    try:
                        apply_for_slots(
                            s,
                            resident_id=resident.id,
                            slots=[SlotRef(room.id, (NOW + timedelta(days=day)).date(), band.id)],
                            answers={room.id: RoomAnswers(room.purposes[0].id, 1, False)},
                            group_class_id=resident.group_classes[0].group_class_id,
                            now=NOW,
                            days_ahead=90,
                        )
                    except DomainError:
                        pass
    db.dispose()


def timed(fn, repeat: int) -> tuple[float, float]:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    tracemalloc.start()
    fn()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return statistics.median(times) * 1000, peak / 1024


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/bench.sqlite3"
        prepare(url)
        db = Database(url)
        app = create_app(
            "standard", Config.from_env(DATABASE_URL=url, TESTING=True, FROZEN_NOW=NOW.isoformat(), INSTANCE_PATH=tmp)
        )
        client = app.test_client()
        print(f"{'grid':<22}{'operation ms':>14}{'peak KiB':>10}{'page ms':>10}{'peak KiB':>10}")
        for label, days in (("1 week", 7), ("2 weeks", 14), ("1 month", 31)):
            day_list = [(NOW + timedelta(days=1 + i)).date() for i in range(days)]

            def operation():
                with db.read_session() as s:
                    build_day_grid(s, facility_codes=CODES, days=day_list, now=NOW, days_ahead=90)

            period = {7: "1w", 14: "2w", 31: "1m"}[days]
            query = "&".join(f"facility={c}" for c in CODES)
            page = f"/availability?{query}&period={period}&from={day_list[0].isoformat()}"

            def http():
                response = client.get(page)
                assert response.status_code == 200, response.status_code

            op_ms, op_kib = timed(operation, args.repeat)
            page_ms, page_kib = timed(http, args.repeat)
            print(f"{label + ' × 5 facilities':<22}{op_ms:>14.1f}{op_kib:>10.0f}{page_ms:>10.1f}{page_kib:>10.0f}")
        db.dispose()
        app.extensions["database"].dispose()


if __name__ == "__main__":
    main()
