"""Sequences taken under the write lock: 予約番号 per fiscal year, 収納番号 per facility/day."""

from __future__ import annotations

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from models.reservation import Counter


def next_value(session: Session, key: str) -> int:
    """The next value of a counter (reserve_values of one)."""
    return reserve_values(session, key, 1).start


def reserve_values(session: Session, key: str, count: int) -> range:
    """`count` consecutive values of a counter at once, in one statement: the row is
    created if missing, else its value raised, and the new value returned (INSERT … ON
    CONFLICT DO UPDATE … RETURNING). The row stays locked until the transaction ends on
    PostgreSQL, so that numbers are issued in commit order; on SQLite the write
    transaction already holds the database lock (BEGIN IMMEDIATE)."""
    if count < 1:
        return range(0)
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = insert(Counter).values(key=key, value=count)
    last = session.execute(
        statement.on_conflict_do_update(index_elements=["key"], set_={"value": Counter.value + count}).returning(
            Counter.value
        )
    ).scalar_one()
    return range(last - count + 1, last + 1)
