"""Logging in and out (DESIGN rule 1), the lockout, password changes and resets, and the
email change (DESIGN "Accounts and sign-in").

Password hashes are checked and made outside any write transaction (argon2 takes tens of
milliseconds; on SQLite a write transaction holds the whole database): a read first, the
hash work, then a short write that re-checks what it relies on."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from mail.accounts import (
    email_changed_mail,
    email_confirm_mail,
    lockout_mail,
    password_changed_mail,
    queue_mail_to,
    reset_mail,
)
from mail.compose import CallCentre
from mail.outbox import queue_notice
from models import errors
from models.account import AccountToken, Resident
from models.account_rules import (
    EMAIL_LINK_VALID,
    LOCKOUT_AFTER,
    LOCKOUT_FOR,
    LOCKOUT_MAIL_EVERY,
    RESET_LINK_VALID,
    is_locked,
)
from models.email_rules import normalise_email
from models.introduction import GroupIntroduction
from models.introduction_rules import may_introduce
from models.outbox import OutboxMail
from models.passwords import DUMMY_HASH, hash_password, verify_password

RESET, EMAIL = "reset", "email"


class LoginLocked(errors.AuthenticationFailed):
    """Too many wrong passwords for this registration (or, for nothing revealed, for this
    unknown number): password login waits LOCKOUT_FOR."""


@dataclass(frozen=True)
class LoginAttempt:
    """What the read before the password check found."""

    resident_id: int | None
    password_ok: bool
    locked: bool


def find_resident(session: Session, *, kind: str, number: str) -> Resident | None:
    return session.scalar(
        select(Resident).where(Resident.registration_kind == kind, Resident.registration_number == number)
    )


def check_password(session: Session, *, kind: str, number: str, password: str, now: datetime) -> LoginAttempt:
    """Read the registration and check the password against its hash (or a dummy one, in the
    same time, when there is none). Reads only: call it outside a write transaction."""
    resident = find_resident(session, kind=kind, number=number)
    ok = verify_password(resident.password_hash if resident else DUMMY_HASH, password)
    if resident is None:
        return LoginAttempt(None, False, False)
    return LoginAttempt(resident.id, ok, is_locked(resident.locked_until, now))


def record_success(session: Session, resident_id: int, *, now: datetime, locale: str) -> Resident:
    resident = session.get(Resident, resident_id)
    if resident is None:
        raise errors.AuthenticationFailed()
    resident.last_login_at = now
    resident.failed_logins = 0
    resident.locked_until = None
    # Mails follow the language the resident last used the site in.
    resident.preferred_locale = locale
    return resident


def record_failure(session: Session, resident_id: int, *, now: datetime, centre: CallCentre) -> bool:
    """One more wrong password in a row; True when the registration is (now) locked. The
    lock's mail goes at most once a day."""
    resident = session.get(Resident, resident_id)
    if resident is None:
        return False
    resident.failed_logins = (resident.failed_logins or 0) + 1
    if resident.failed_logins < LOCKOUT_AFTER:
        return False
    resident.failed_logins = 0
    resident.locked_until = now + LOCKOUT_FOR
    mailed = resident.lockout_mailed_at
    if mailed is None or now - mailed >= LOCKOUT_MAIL_EVERY:
        resident.lockout_mailed_at = now
        queue_notice(
            session,
            resident=resident,
            dedupe_key=f"lockout:{resident.id}:{now.isoformat()}",
            mail=lockout_mail(resident.name, resident.locked_until, centre, resident.preferred_locale),
            now=now,
        )
    return True


def end_sessions(session: Session, resident_id: int) -> None:
    """Invalidate every session of the resident (logout): their session ids carry the
    version, which no longer matches."""
    resident = session.get(Resident, resident_id)
    if resident is not None:
        resident.session_version += 1


# -- tokens ---------------------------------------------------------------------------------


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def _retire_tokens(session: Session, resident_id: int, purpose: str, now: datetime) -> None:
    session.execute(
        update(AccountToken)
        .where(AccountToken.resident_id == resident_id, AccountToken.purpose == purpose, AccountToken.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )


def _issue_token(
    session: Session, resident: Resident, purpose: str, *, now: datetime, new_email: str | None = None
) -> tuple[str, AccountToken]:
    """A fresh random token (returned once, stored as its hash); earlier ones of the same
    purpose stop working."""
    _retire_tokens(session, resident.id, purpose, now)
    token = secrets.token_urlsafe(32)
    lifetime = RESET_LINK_VALID if purpose == RESET else EMAIL_LINK_VALID
    row = AccountToken(
        resident_id=resident.id,
        purpose=purpose,
        token_hash=token_digest(token),
        new_email=new_email,
        created_at=now,
        expires_at=now + lifetime,
    )
    session.add(row)
    session.flush()
    return token, row


def valid_token(session: Session, token: str | None, purpose: str, now: datetime) -> AccountToken | None:
    """The unused, unexpired token row, or None (whatever was wrong)."""
    if not token or len(token) > 100:
        return None
    row = session.scalar(select(AccountToken).where(AccountToken.token_hash == token_digest(token)))
    if row is None or row.purpose != purpose or row.used_at is not None or now >= row.expires_at:
        return None
    return row


# -- 仮パスワード発行: the reset link ---------------------------------------------------------------


def request_reset(
    session: Session,
    *,
    kind: str,
    number: str,
    email: str,
    now: datetime,
    link_for,
    centre: CallCentre,
) -> None:
    """Mail a reset link when kind, number and email match a registration; otherwise do
    nothing. The caller answers the same either way."""
    resident = find_resident(session, kind=kind, number=number)
    if resident is None or not resident.email or resident.email.strip().lower() != normalise_email(email).lower():
        return
    token, row = _issue_token(session, resident, RESET, now=now)
    queue_mail_to(
        session,
        resident=resident,
        address=resident.email,
        dedupe_key=f"reset:{row.id}",
        mail=reset_mail(resident.name, link_for(token), centre, resident.preferred_locale),
        now=now,
    )


def _set_password(session: Session, resident: Resident, new_hash: str, *, now: datetime, centre: CallCentre) -> None:
    resident.password_hash = new_hash
    resident.session_version += 1  # every other session ends
    resident.failed_logins = 0
    resident.locked_until = None
    resident.must_change_password = False
    _retire_tokens(session, resident.id, RESET, now)
    queue_notice(
        session,
        resident=resident,
        dedupe_key=f"password-changed:{resident.id}:{resident.session_version}",
        mail=password_changed_mail(resident.name, now, centre, resident.preferred_locale),
        now=now,
    )


def complete_reset(session: Session, *, token: str, new_hash: str, now: datetime, centre: CallCentre) -> Resident:
    """Set the new password (hashed by the caller) with a valid reset token, which is used
    up; lifts a lockout. NotFound when the link is not (or no longer) valid."""
    row = valid_token(session, token, RESET, now)
    if row is None:
        raise errors.NotFound()
    resident = session.get(Resident, row.resident_id)
    if resident is None:
        raise errors.NotFound()
    row.used_at = now
    _set_password(session, resident, new_hash, now=now, centre=centre)
    session.flush()
    return resident


class StaleForm(errors.DomainError):
    """The form was shown before another change of the same registration (another tab, a
    replay): nothing was changed."""


def change_password(
    session: Session, *, resident_id: int, epoch: int, new_hash: str, now: datetime, centre: CallCentre
) -> Resident:
    """Set a new password (current one checked and new one hashed by the caller) if nothing
    changed the registration's sessions since the form was shown."""
    resident = session.get(Resident, resident_id)
    if resident is None or resident.session_version != epoch:
        raise StaleForm()
    _set_password(session, resident, new_hash, now=now, centre=centre)
    session.flush()
    return resident


def make_hash(password: str) -> str:
    return hash_password(password)


# -- email change -----------------------------------------------------------------------------


def request_email_change(
    session: Session, *, resident_id: int, epoch: int, new_email: str, now: datetime, link_for, centre: CallCentre
) -> None:
    """Mail a confirmation link to the new address; the old one stays until it is used."""
    resident = session.get(Resident, resident_id)
    if resident is None or resident.session_version != epoch:
        raise StaleForm()
    token, row = _issue_token(session, resident, EMAIL, now=now, new_email=new_email)
    queue_mail_to(
        session,
        resident=resident,
        address=new_email,
        dedupe_key=f"email-confirm:{row.id}",
        mail=email_confirm_mail(resident.name, link_for(token), centre, resident.preferred_locale),
        now=now,
    )


def confirm_email_change(session: Session, *, token: str, now: datetime, centre: CallCentre) -> Resident:
    """Replace the address with the confirmed one: unsent mail moves to it, and the old
    address is told. NotFound when the link is not (or no longer) valid."""
    row = valid_token(session, token, EMAIL, now)
    if row is None or row.new_email is None:
        raise errors.NotFound()
    resident = session.get(Resident, row.resident_id)
    if resident is None:
        raise errors.NotFound()
    row.used_at = now
    old, new = resident.email, row.new_email
    if old and old != new:
        session.execute(
            update(OutboxMail)
            .where(
                OutboxMail.resident_id == resident.id,
                OutboxMail.to_address == old,
                OutboxMail.sent_at.is_(None),
                OutboxMail.undeliverable_at.is_(None),
            )
            .values(to_address=new)
            .execution_options(synchronize_session=False)
        )
        queue_mail_to(
            session,
            resident=resident,
            address=old,
            dedupe_key=f"email-changed:{row.id}",
            mail=email_changed_mail(resident.name, new, centre, resident.preferred_locale),
            now=now,
        )
    resident.email = new
    session.flush()
    return resident


def change_phone(session: Session, *, resident_id: int, phone: str) -> None:
    resident = session.get(Resident, resident_id)
    if resident is None:
        raise errors.NotFound()
    resident.phone = phone


# -- サークル(団体) 紹介 (issue 11) ------------------------------------------------------------------


class NotIntroducible(errors.DomainError):
    """Only 集会・学校 registrations are introduced on サークル(団体) 紹介."""


@dataclass(frozen=True)
class IntroductionText:
    published: bool
    activity: str
    description: str
    meets: str
    contact: str


def introduction_of(session: Session, resident_id: int) -> GroupIntroduction | None:
    return session.scalar(select(GroupIntroduction).where(GroupIntroduction.resident_id == resident_id))


def save_introduction(
    session: Session, *, resident_id: int, version: int, text: IntroductionText, now: datetime
) -> GroupIntroduction:
    """Write the group's own introduction. `version` is the one the form was shown with (0:
    none yet); anything else means another tab or a replay changed it since: StaleForm,
    nothing changed. Only the logged-in group's row is ever touched (its id comes from the
    session, never from the form). The group's row is locked first (PostgreSQL), so two tabs
    saving at once are one write and one StaleForm."""
    resident = session.get(Resident, resident_id, with_for_update=True)
    if resident is None:
        raise errors.NotFound()
    if not may_introduce(resident.registration_kind):
        raise NotIntroducible()
    row = introduction_of(session, resident_id)
    if (row.version if row else 0) != version:
        raise StaleForm()
    if row is None:
        row = GroupIntroduction(resident_id=resident_id, version=0)
        session.add(row)
    row.published = text.published
    row.activity = text.activity
    row.description = text.description
    row.meets = text.meets
    row.contact = text.contact
    row.version += 1
    row.updated_at = now
    session.flush()
    return row


def withdraw_introduction(session: Session, *, resident_id: int, version: int) -> None:
    """Delete the group's introduction (gone from the public page at once); a form shown
    before the last change is refused (StaleForm), as is one with nothing to withdraw."""
    session.get(Resident, resident_id, with_for_update=True)
    row = introduction_of(session, resident_id)
    if row is None or row.version != version:
        raise StaleForm()
    session.delete(row)
    session.flush()
