"""Read sessions: on PostgreSQL they run in autocommit, so anything that would write or lock
through one must fail loudly; they see every commit made before each statement; and a
connection whose server backend went away is replaced before a request uses it, while a
live one is checked out without a round trip."""

from __future__ import annotations

import time
from datetime import date

import pytest
from sqlalchemy import create_engine, func, select, text, update

from models.db import Database, ReadSessionWrite
from models.notice import Notice
from tests.conftest import HTMX_HEADERS


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


def _end_backends(database_url: str, pid: int | None = None) -> int:
    """Ends one backend (pid) or every other backend of the test's database, as a server
    restart, an administrator or a pooler's idle timeout would, and waits up to 5 s for each
    to exit (PostgreSQL 14+), so its FATAL and the closed socket have reached the client."""
    admin = create_engine(database_url, isolation_level="AUTOCOMMIT", pool_size=1)
    try:
        with admin.connect() as c:
            if pid is not None:
                assert c.execute(text("SELECT pg_terminate_backend(:pid, 5000)"), {"pid": pid}).scalar_one()
                return 1
            ended = c.execute(
                text(
                    "SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity"
                    " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            ).scalars()
            return sum(1 for result in ended if result)
    finally:
        admin.dispose()


def _backend_alive(database_url: str, pid: int) -> bool:
    admin = create_engine(database_url, isolation_level="AUTOCOMMIT", pool_size=1)
    try:
        with admin.connect() as c:
            return bool(
                c.execute(text("SELECT count(*) FROM pg_stat_activity WHERE pid = :pid"), {"pid": pid}).scalar_one()
            )
    finally:
        admin.dispose()


@pytest.fixture
def pings(postgres, monkeypatch):
    """Counts the pings the pool's checkout sends (SELECT 1 through the dialect)."""
    dialect = postgres.engine.dialect
    sent: list[object] = []
    ping = dialect.do_ping

    def counted(dbapi_connection):
        sent.append(dbapi_connection)
        return ping(dbapi_connection)

    monkeypatch.setattr(dialect, "do_ping", counted)
    return sent


def _backend_pid(session) -> int:
    return session.execute(text("SELECT pg_backend_pid()")).scalar_one()


def test_a_quiet_connection_is_checked_out_without_a_round_trip_on_postgresql(postgres, pings):
    with postgres.read_session() as s:
        pid = _backend_pid(s)
    for _ in range(3):
        with postgres.read_session() as s:
            assert _backend_pid(s) == pid
        with postgres.write() as s:
            assert _backend_pid(s) == pid
    assert pings == []
    # What the pool did before: a round trip at every checkout, which the count above sees.
    postgres.engine.pool._pre_ping = True
    with postgres.read_session() as s:
        assert _backend_pid(s) == pid
    assert len(pings) == 1


def test_a_read_after_the_servers_backend_was_ended_succeeds_on_postgresql(postgres, pings):
    """A connection whose backend died while it was idle in the pool (a restarted server, an
    ended session) is pinged and replaced at checkout, so the request that gets it does not
    fail."""
    with postgres.read_session() as s:
        pid = _backend_pid(s)
    _end_backends(postgres.url, pid)
    with postgres.read_session() as s:
        assert _backend_pid(s) != pid
        assert s.scalar(select(func.count()).select_from(Notice)) == _notices(postgres)
    assert len(pings) == 1


def test_a_write_after_the_servers_backend_was_ended_succeeds_on_postgresql(postgres, pings):
    with postgres.write() as s:
        pid = _backend_pid(s)
    _end_backends(postgres.url, pid)
    with postgres.write() as s:
        assert _backend_pid(s) != pid
        s.add(Notice(published_on=date(2026, 1, 1), title_ja="新", title_en="new"))
    assert len(pings) == 1
    with postgres.read_session() as s:
        assert s.scalar(select(func.count()).select_from(Notice).where(Notice.title_en == "new")) == 1
    assert len(pings) == 1


def test_a_read_after_the_server_timed_an_idle_session_out_succeeds_on_postgresql(postgres, pings):
    """idle_session_timeout (PostgreSQL 14+) ends a session idle for longer, as a pooler's
    or a firewall's idle timeout would close it: the FATAL arrives unasked."""
    with postgres.write() as s:
        pid = _backend_pid(s)
        s.execute(text("SET idle_session_timeout = 200"))
    deadline = time.monotonic() + 10
    while _backend_alive(postgres.url, pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    with postgres.read_session() as s:
        assert _backend_pid(s) != pid
    assert len(pings) == 1


def test_a_grid_fragment_after_the_workers_backends_were_ended_is_answered_on_postgresql(app, client):
    database = app.extensions["database"]
    if database.is_sqlite:
        pytest.skip("PostgreSQL's pool only")
    url = "/availability?facility=013&period=1m"
    first = client.get(url, headers=HTMX_HEADERS)
    assert first.status_code == 200
    assert database.engine.pool.checkedin() >= 1
    assert _end_backends(database.url) >= 1
    again = client.get(url, headers=HTMX_HEADERS)
    assert again.status_code == 200
    assert again.data == first.data
