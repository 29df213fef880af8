"""Database access for views: a read session per request, and write transactions."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from flask import current_app, g
from sqlalchemy.orm import Session

from models.db import Database


def database() -> Database:
    return current_app.extensions["database"]


def read_session() -> Session:
    """The request's read session, closed at teardown."""
    if "read_session" not in g:
        g.read_session = database().read_session()
    return g.read_session


@contextlib.contextmanager
def write_session() -> Iterator[Session]:
    """A serialised write transaction; the request's read session is expired afterwards so
    that the page rendered next shows what was written."""
    with database().write() as session:
        yield session
    if "read_session" in g:
        # End the read transaction too: on SQLite (WAL) it would keep its old snapshot.
        g.read_session.rollback()


class RequestDatabase:
    """The app's Database as an operation taking one sees it from a view: each write ends
    the request's read transaction afterwards (as write_session does), so that the page
    rendered next shows what the operation wrote."""

    def __init__(self, database: Database):
        self._database = database

    def read_session(self) -> Session:
        return self._database.read_session()

    def write(self):
        return write_session()


def request_database() -> RequestDatabase:
    return RequestDatabase(database())


def close_read_session(_exc=None) -> None:
    session = g.pop("read_session", None)
    if session is not None:
        session.close()
