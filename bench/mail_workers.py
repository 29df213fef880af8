"""Benchmark: mail delivery with 200,000 sent mails in the outbox, for 1 and 3 workers.

On a database of its own on the PostgreSQL server of DATABASE_URL (default the local
test server), with the schema at head: 200,000 sent mails, then for each worker count a
batch of due mails (one per address, as after a busy day) delivered by that many worker
processes with a transport that accepts at once (what is measured is our claim and record,
not an SMTP server). Prints mails per second, and the time of one claim (median of many)
with the partial indexes and without them. Run:
.venv/bin/python bench/mail_workers.py [--sent 200000] [--due 3000] [--send-ms 0]"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import statistics
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from mail.delivery import claim_next, deliver_due_mail, mark_sent  # noqa: E402
from models.db import Database  # noqa: E402
from models.migration import upgrade_to_head  # noqa: E402

NOW = datetime(2026, 11, 25, 1, 0, tzinfo=UTC)


class AcceptingTransport:
    """An SMTP server that accepts every message after `delay` seconds."""

    def __init__(self, delay: float):
        self.delay = delay

    def send(self, mail, message) -> None:
        if self.delay:
            time.sleep(self.delay)

    def close(self) -> None:
        pass


def fill_sent(url: str, sent: int) -> None:
    engine = create_engine(url)
    with engine.begin() as c:
        c.execute(
            text(
                "INSERT INTO outbox_mails (dedupe_key, to_address, subject, body, created_at, sent_at, attempts,"
                " next_attempt_at) SELECT 'sent:' || g, 'r' || (g % 20000) || '@example.jp', '件名', repeat('本文', 400),"
                " :at - (g || ' seconds')::interval, :at - (g || ' seconds')::interval, 1,"
                " :at - (g || ' seconds')::interval FROM generate_series(1, :n) AS g"
            ),
            {"at": NOW - timedelta(days=1), "n": sent},
        )
        c.execute(text("ANALYZE outbox_mails"))
    engine.dispose()


def queue_due(url: str, count: int, tag: str) -> None:
    engine = create_engine(url)
    with engine.begin() as c:
        c.execute(
            text(
                "INSERT INTO outbox_mails (dedupe_key, to_address, subject, body, created_at, attempts, next_attempt_at)"
                " SELECT :tag || g, :tag || g || '@example.jp', '件名', repeat('本文', 400), :at, 0, :at"
                " FROM generate_series(1, :n) AS g"
            ),
            {"tag": f"due-{tag}-", "at": NOW - timedelta(minutes=1), "n": count},
        )
        c.execute(text("ANALYZE outbox_mails"))  # as autovacuum does after a busy hour
    engine.dispose()


def worker(url: str, delay: float, counts) -> None:
    database = Database(url)
    sent = 0
    while True:
        result = deliver_due_mail(database, AcceptingTransport(delay), "noreply@example.jp", NOW, limit=100)
        sent += result.sent
        if result.sent == 0:
            break
    counts.put(sent)
    database.dispose()


def run_workers(url: str, workers: int, due: int, delay: float) -> float:
    queue_due(url, due, f"w{workers}")
    counts = multiprocessing.Queue()
    processes = [multiprocessing.Process(target=worker, args=(url, delay, counts)) for _ in range(workers)]
    started = time.perf_counter()
    for p in processes:
        p.start()
    for p in processes:
        p.join()
    elapsed = time.perf_counter() - started
    total = sum(counts.get() for _ in processes)
    assert total == due, f"{total} sent of {due}"
    return total / elapsed


def claim_time(url: str, repeat: int = 200) -> float:
    queue_due(url, repeat, f"claim-{uuid.uuid4().hex[:6]}")
    database = Database(url)
    timings = []
    for _ in range(repeat):
        started = time.perf_counter()
        mail = claim_next(database, NOW)
        timings.append(time.perf_counter() - started)
        assert mail is not None
        mark_sent(database, mail.id, NOW)  # as the worker does next
    database.dispose()
    return statistics.median(timings) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sent", type=int, default=200_000)
    parser.add_argument("--due", type=int, default=3000)
    parser.add_argument("--send-ms", type=float, default=0.0, help="how long the SMTP server takes to accept")
    args = parser.parse_args()
    base = os.environ.get("DATABASE_URL") or "postgresql://postgres@127.0.0.1:5432/test"
    if not base.startswith("postgresql"):
        sys.exit("bench/mail_workers.py needs PostgreSQL (DATABASE_URL=postgresql://…)")
    name = f"meguro_bench_mail_{os.getpid()}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(base).set(database=name).render_as_string(hide_password=False)
    try:
        upgrade_to_head(url)
        fill_sent(url, args.sent)
        print(f"outbox: {args.sent:,} sent mails; {args.due:,} due per run; accept after {args.send_ms} ms")
        for workers in (1, 3):
            rate = run_workers(url, workers, args.due, args.send_ms / 1000)
            print(f"{workers} worker{'s' if workers > 1 else ' '}: {rate:7.0f} mails/s")
        print(f"one claim, partial indexes:        {claim_time(url):.2f} ms (median of 200)")
        engine = create_engine(url)
        with engine.begin() as c:
            c.execute(text("DROP INDEX ix_outbox_mails_unsent"))
            c.execute(text("DROP INDEX ix_outbox_mails_unsent_address"))
        engine.dispose()
        print(f"one claim, without them (before): {claim_time(url):.2f} ms (median of 200)")
    finally:
        with admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


if __name__ == "__main__":
    main()
