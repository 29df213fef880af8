"""Logging in and out (DESIGN rule 1)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import errors
from models.account import Resident
from models.passwords import DUMMY_HASH, verify_password


def authenticate(
    session: Session, *, kind: str, number: str, password: str, now: datetime, locale: str = "ja"
) -> Resident:
    """The resident with this registration kind, 8-digit number and password, or
    AuthenticationFailed (the same failure whatever was wrong, in the same time)."""
    resident = session.scalar(
        select(Resident).where(Resident.registration_kind == kind, Resident.registration_number == number)
    )
    if not verify_password(resident.password_hash if resident else DUMMY_HASH, password) or resident is None:
        raise errors.AuthenticationFailed()
    resident.last_login_at = now
    # Mails follow the language the resident last used the site in.
    resident.preferred_locale = locale
    return resident


def end_sessions(session: Session, resident_id: int) -> None:
    """Invalidate every session of the resident (logout): their session ids carry the
    version, which no longer matches."""
    resident = session.get(Resident, resident_id)
    if resident is not None:
        resident.session_version += 1
