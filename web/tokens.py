"""One-time form tokens: a state-changing form runs once; a second submit shows the first
result and changes nothing (DESIGN "Architecture")."""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable

from sqlalchemy import bindparam, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from models.errors import NotFound
from models.reservation import SubmissionToken
from web.clock import now
from web.data import database, read_session, write_session

TOKEN_FORMAT = re.compile(r"^[A-Za-z0-9_-]{20,64}$")


class MalformedToken(ValueError):
    """The form's token is missing or not one we issue."""


def issue_token() -> str:
    return secrets.token_urlsafe(24)


# Built once; run on a session's connection (no ORM work).
_USED = select(SubmissionToken.resident_id, SubmissionToken.result_url).where(
    SubmissionToken.token == bindparam("token")
)


def _first_result(token: str, resident_id: int | None, session: Session | None = None) -> str | None:
    """The first result of `token`, None when it is unused; another resident's token is
    NotFound. Read in `session`, or in a new one (which sees every commit so far)."""
    if session is None:
        with database().read_session() as fresh:
            return _first_result(token, resident_id, fresh)
    used = session.connection().execute(_USED, {"token": token}).one_or_none()
    if used is None:
        return None
    if used.resident_id != resident_id:
        raise NotFound()
    return used.result_url


def run_once(
    token: str | None,
    resident_id: int | None,
    operation: Callable[[Session], str],
    *,
    before: Callable[[], None] | None = None,
) -> str:
    """Run `operation` in one write transaction together with the record of `token`, and
    return the URL of its result; when the token was used before, return that first result
    without running anything. Two simultaneous submits: the token's primary key lets only
    one commit, the other finds its record afterwards. `before`, when given, runs once the
    token is known to be unused and before the write transaction begins: the reads and
    checks that need no write lock (it refuses by raising; nothing is recorded then)."""
    if not token or not TOKEN_FORMAT.match(token):
        raise MalformedToken()
    # In the request's read session: a submit whose snapshot began before another's commit
    # of the same token goes on to the write, where the token's primary key refuses it and
    # the first result is read afresh (below) — the same answer, a statement cheaper.
    first = _first_result(token, resident_id, read_session())
    if first is not None:
        return first
    if before is not None:
        before()
    try:
        with write_session() as session:
            record = SubmissionToken(token=token, resident_id=resident_id, used_at=now(), result_url="")
            session.add(record)
            session.flush()
            record.result_url = operation(session)
            return record.result_url
    except IntegrityError:
        first = _first_result(token, resident_id)
        if first is None:
            raise
        return first
