"""Engine, session and the column types shared by every model."""

from __future__ import annotations

import contextlib
import re
import select
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

from sqlalchemy import DateTime, MetaData, PrimaryKeyConstraint, UniqueConstraint, create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.engine.interfaces import Dialect
from sqlalchemy.exc import DisconnectionError, IntegrityError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.sql.selectable import GenerativeSelect
from sqlalchemy.types import TypeDecorator

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class UTCDateTime(TypeDecorator):
    """Aware UTC datetimes in, aware UTC datetimes out, on SQLite and PostgreSQL alike."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def make_engine(url: str) -> Engine:
    """An engine whose write transactions serialise: BEGIN IMMEDIATE on SQLite (WAL, busy
    timeout), row locks taken by the operations on PostgreSQL."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _sqlite_connect(dbapi_connection, _record):
            # Let SQLAlchemy, not pysqlite, decide when a transaction begins.
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn):
            mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
            conn.exec_driver_sql(f"BEGIN {mode}")

        return engine
    engine = create_engine(url, pool_size=10, max_overflow=20)
    event.listen(engine, "checkout", _ping_when_readable(engine.dialect))
    return engine


def _ping_when_readable(dialect: Dialect) -> Callable[..., None]:
    """The pool's checkout listener on PostgreSQL, in place of pool_pre_ping's SELECT 1 round
    trip at every checkout. A connection idle in the pool has nothing to read, so its socket
    is polled without waiting and pinged only when something arrived. A backend that ended
    while idle (a restarted server, pg_terminate_backend, a pooler's idle timeout) sent its
    FATAL and closed its end: the socket reads (and keeps reading: an end of stream is never
    consumed), the ping fails, and DisconnectionError makes the pool replace the connection
    before anyone uses it. Anything else sent unasked (a notice, a setting's new value after
    a reload) is read by the ping, which succeeds, and the connection is kept. SSL changes
    nothing: libpq reads only while it awaits a result, which ends with ReadyForQuery, so no
    later FATAL waits in libpq's or OpenSSL's buffer behind a quiet socket. Not seen: a peer
    gone without closing (a host's power cut, a firewall that drops idle state); the
    request's first statement fails then, and its disconnect invalidates the pool."""

    def checkout(dbapi_connection, _record, _proxy) -> None:
        if dbapi_connection.closed or dbapi_connection.broken:
            raise DisconnectionError("the connection was closed")
        try:
            socket = dbapi_connection.fileno()
        except dialect.loaded_dbapi.Error as error:
            raise DisconnectionError("the connection has no socket") from error
        poller = select.poll()  # not select.select: a descriptor may exceed 1023
        poller.register(socket, select.POLLIN)
        if not poller.poll(0):
            return
        try:
            dialect.do_ping(dbapi_connection)
        except dialect.loaded_dbapi.Error as error:
            raise DisconnectionError("the server ended the connection's session") from error

    return checkout


class ReadSessionWrite(RuntimeError):
    """A statement other than a plain SELECT sent through a read session on PostgreSQL."""


_READ_ONLY_TEXT = re.compile(r"\s*(SELECT|SHOW|VALUES)\b", re.IGNORECASE)
_LOCKING = re.compile(r"\bFOR\s+(UPDATE|NO\s+KEY\s+UPDATE|SHARE|KEY\s+SHARE)\b", re.IGNORECASE)


def _refuse_writes(_conn, _cursor, statement, _parameters, context, _executemany) -> None:
    """before_cursor_execute on PostgreSQL's read engine, which runs in autocommit: every
    statement would commit on its own and a SELECT … FOR UPDATE would lock nothing, so
    anything but a plain read fails here, before it reaches the server."""
    compiled = context.compiled if context is not None else None
    clause = getattr(compiled, "statement", None)
    if isinstance(clause, GenerativeSelect):
        # The common case, decided without looking at the SQL's text.
        if clause._for_update_arg is None:
            return
    elif _READ_ONLY_TEXT.match(statement) and not _LOCKING.search(statement):
        return
    raise ReadSessionWrite(f"a read session only reads; use Database.write() for: {statement[:200]}")


class Database:
    """One per app: the engine and two session factories, for reading and for writing.

    On PostgreSQL the read sessions run in autocommit (no BEGIN, no ROLLBACK: two round
    trips fewer per request). Under PostgreSQL's READ COMMITTED every statement takes its own
    snapshot inside a transaction as well, so a read sees the same either way; a statement
    that would write or lock through a read session raises ReadSessionWrite. SQLite keeps its
    read transaction: its snapshot holds across the request's statements."""

    def __init__(self, url: str):
        self.url = url
        self.engine = make_engine(url)
        self.is_sqlite = self.engine.dialect.name == "sqlite"
        write_bind = self.engine.execution_options(sqlite_begin="IMMEDIATE") if self.is_sqlite else self.engine
        read_bind = self.engine
        if not self.is_sqlite:
            # Same pool; autocommit is set on the checked-out connection on the client side
            # only (psycopg sends nothing for it) and reset when the connection goes back.
            read_bind = self.engine.execution_options(isolation_level="AUTOCOMMIT")
            event.listen(read_bind, "before_cursor_execute", _refuse_writes)
        self.read_engine = read_bind
        self._read = sessionmaker(read_bind, expire_on_commit=False)
        self._write = sessionmaker(write_bind, expire_on_commit=False)

    def read_session(self) -> Session:
        return self._read()

    @contextlib.contextmanager
    def write(self) -> Iterator[Session]:
        """A session whose transaction holds the database's write lock on SQLite from its
        first statement; commits on success, rolls back on any exception."""
        session = self._write()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def dispose(self) -> None:
        self.engine.dispose()


def violated_constraint(exc: IntegrityError, metadata: MetaData | None = None) -> str | None:
    """The name of the constraint or unique index `exc` is about, or None when the database
    does not say. PostgreSQL names it; SQLite names a CHECK but gives a unique violation as
    its columns ("UNIQUE constraint failed: t.a, t.b"), which name one index of `metadata`."""
    metadata = metadata if metadata is not None else Base.metadata
    diag = getattr(exc.orig, "diag", None)
    if diag is not None and getattr(diag, "constraint_name", None):
        return diag.constraint_name
    message = str(exc.orig)
    if message.startswith("CHECK constraint failed: "):
        return message.removeprefix("CHECK constraint failed: ").strip()
    if not message.startswith("UNIQUE constraint failed: "):
        return None
    if message.startswith("UNIQUE constraint failed: index "):
        return message.removeprefix("UNIQUE constraint failed: index ").strip().strip("'")
    columns = [part.strip() for part in message.removeprefix("UNIQUE constraint failed: ").split(",")]
    tables = {column.rpartition(".")[0] for column in columns}
    table = metadata.tables.get(tables.pop()) if len(tables) == 1 else None
    if table is None:
        return None
    names = [column.rpartition(".")[2] for column in columns]
    candidates = [index for index in table.indexes if index.unique] + [
        c for c in table.constraints if isinstance(c, (UniqueConstraint, PrimaryKeyConstraint))
    ]
    for candidate in candidates:
        if [column.name for column in candidate.columns] == names:
            return str(candidate.name) if candidate.name else None
    return None


def utcnow() -> datetime:
    return datetime.now(UTC)
