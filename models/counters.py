"""Sequences taken under the write lock: 予約番号 per fiscal year, 収納番号 per facility/day."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from models.reservation import Counter


def next_value(session: Session, key: str) -> int:
    """The next value of a counter. The row is created if missing (ON CONFLICT DO NOTHING,
    so two first callers do not collide), then locked: SELECT … FOR UPDATE on PostgreSQL;
    on SQLite the write transaction already holds the database lock (BEGIN IMMEDIATE)."""
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    session.execute(insert(Counter).values(key=key, value=0).on_conflict_do_nothing(index_elements=["key"]))
    counter = session.execute(
        select(Counter).where(Counter.key == key).with_for_update().execution_options(populate_existing=True)
    ).scalar_one()
    counter.value += 1
    session.flush()
    return counter.value


def reserve_values(session: Session, key: str, count: int) -> range:
    """`count` consecutive values of a counter at once (the draw numbers its 当選 in one go),
    under the same lock as next_value."""
    if count < 1:
        return range(0)
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    session.execute(insert(Counter).values(key=key, value=0).on_conflict_do_nothing(index_elements=["key"]))
    counter = session.execute(
        select(Counter).where(Counter.key == key).with_for_update().execution_options(populate_existing=True)
    ).scalar_one()
    first = counter.value + 1
    counter.value += count
    session.flush()
    return range(first, first + count)
