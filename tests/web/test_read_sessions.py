"""Read sessions: on PostgreSQL they run in autocommit, so anything that would write or lock
through one must fail loudly; they see every commit made before each statement; and a
connection whose server backend went away is replaced before a request uses it."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import create_engine, func, select, text, update

from models.db import Database, ReadSessionWrite
from models.notice import Notice


@pytest.fixture
def database(database_url):
    db = Database(database_url)
    yield db
    db.dispose()


@pytest.fixture
def postgres(database):
    if database.is_sqlite:
        pytest.skip("PostgreSQL's read sessions only (SQLite keeps its read transaction)")
    return database


def _notices(database: Database) -> int:
    with database.write() as s:
        return s.scalar(select(func.count()).select_from(Notice)) or 0


def test_a_read_session_reads(database):
    with database.read_session() as s:
        assert s.scalar(select(func.count()).select_from(Notice)) == _notices(database)
        assert s.execute(text("SELECT 1")).scalar_one() == 1


@pytest.mark.parametrize(
    "attempt",
    [
        pytest.param(
            lambda s: (s.add(Notice(published_on=date(2026, 1, 1), title_ja="x", title_en="x")), s.flush()),
            id="add-flush",
        ),
        pytest.param(lambda s: s.execute(update(Notice).values(title_en="changed")), id="orm-update"),
        pytest.param(lambda s: s.execute(text("UPDATE notices SET title_en = 'changed'")), id="text-update"),
        pytest.param(lambda s: s.execute(text("DELETE FROM notices")), id="text-delete"),
        pytest.param(
            lambda s: s.connection().exec_driver_sql(
                "INSERT INTO notices (published_on, title_ja, title_en, body_ja, body_en) VALUES ('2026-01-01', 'x', 'x', '', '')"
            ),
            id="driver-insert",
        ),
        pytest.param(lambda s: s.execute(select(Notice).with_for_update()).all(), id="for-update"),
        pytest.param(lambda s: s.execute(select(Notice.id).with_for_update(read=True)).all(), id="for-share"),
        pytest.param(lambda s: s.execute(select(Notice.id).with_for_update(key_share=True)).all(), id="for-key-share"),
        pytest.param(lambda s: s.execute(text("SELECT id FROM notices FOR UPDATE")).all(), id="text-for-update"),
        pytest.param(lambda s: s.get(Notice, 1, with_for_update=True), id="get-for-update"),
        pytest.param(lambda s: (s.begin_nested(), s.execute(text("SELECT 1"))), id="savepoint"),
    ],
)
def test_writing_or_locking_through_a_read_session_fails_on_postgresql(postgres, attempt):
    before = _notices(postgres)
    with postgres.read_session() as s:
        with pytest.raises(ReadSessionWrite):
            attempt(s)
        s.rollback()
    assert _notices(postgres) == before
    with postgres.write() as s:
        assert s.scalar(select(func.count()).select_from(Notice).where(Notice.title_en == "changed")) == 0


def test_a_changed_object_of_a_read_session_is_not_written_on_postgresql(postgres):
    with postgres.read_session() as s:
        notice = s.scalars(select(Notice).order_by(Notice.id)).first()
        if notice is None:
            pytest.skip("no notice seeded")
        notice_id, original = notice.id, notice.title_en
        notice.title_en = "changed"
        with pytest.raises(ReadSessionWrite):
            s.flush()
        s.rollback()
    with postgres.read_session() as s:
        assert s.get(Notice, notice_id).title_en == original


def test_a_read_session_sees_each_commit_made_before_its_statement_on_postgresql(postgres):
    with postgres.read_session() as s:
        before = s.scalar(select(func.count()).select_from(Notice))
        with postgres.write() as w:
            w.add(Notice(published_on=date(2026, 1, 1), title_ja="新", title_en="new"))
        assert s.scalar(select(func.count()).select_from(Notice)) == before + 1


def test_the_write_session_still_locks_and_writes_on_postgresql(postgres):
    with postgres.write() as s:
        s.execute(select(Notice.id).with_for_update()).all()
        s.add(Notice(published_on=date(2026, 1, 1), title_ja="新", title_en="new"))
    with postgres.read_session() as s:
        assert s.scalar(select(func.count()).select_from(Notice).where(Notice.title_en == "new")) == 1


def test_a_read_after_the_servers_backend_was_ended_succeeds_on_postgresql(postgres, database_url):
    """pool_pre_ping: a connection whose backend died (a restarted server, an ended session)
    is replaced at checkout, so the request that gets it does not fail."""
    with postgres.read_session() as s:
        pid = s.execute(text("SELECT pg_backend_pid()")).scalar_one()
    admin = create_engine(database_url, isolation_level="AUTOCOMMIT", pool_size=1)
    try:
        with admin.connect() as c:
            assert c.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid}).scalar_one()
    finally:
        admin.dispose()
    with postgres.read_session() as s:
        assert s.execute(text("SELECT pg_backend_pid()")).scalar_one() != pid
        assert s.scalar(select(func.count()).select_from(Notice)) == _notices(postgres)
