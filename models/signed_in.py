"""The logged-in registration as every request sees it (`current_user`): read as plain
columns in one statement and kept in light frozen objects, not ORM instances (issue 12: the
ORM's loading of the registration with its 団体区分 was most of what a logged-in request
cost more than an anonymous one).

They carry what the app reads from `current_user` (templates, hooks, views: the id, name,
kind and number, email, phone, expiries, the epoch, 仮パスワード and the 団体区分 with their
names) and nothing is written through them. A view that needs the registration as an ORM
object (to change it, or with its password hash) loads it from its session by
`current_user.id`, as every one does."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import bindparam, select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import aliased

from models.account import GroupClass, Resident, ResidentGroupClass
from models.account_rules import is_expired


@dataclass(frozen=True, slots=True)
class SignedInGroupClass:
    """団体区分 (GroupClass's columns)."""

    id: int
    code: str
    name_ja: str
    name_en: str
    is_social_education: bool


@dataclass(frozen=True, slots=True, eq=False)
class SignedInHeldClass:
    """A 団体区分 the group holds and until when (ResidentGroupClass's columns). Compared by
    identity, as the ORM's instances are (the header asks `held in expired_classes`)."""

    id: int
    group_class_id: int
    expires_on: date
    group_class: SignedInGroupClass

    def expired(self, today: date) -> bool:
        return is_expired(self.expires_on, today)


@dataclass(frozen=True, slots=True, eq=False)
class SignedInResident:
    """The registration of the request's session (Resident's columns but the password's hash
    and the lockout's), its 団体区分 latest expiry first, as `Resident.group_classes` orders
    them. The four attributes Flask-Login expects."""

    id: int
    registration_kind: str
    registration_number: str
    name: str
    email: str | None
    phone: str | None
    preferred_locale: str
    registration_expires_on: date
    session_version: int
    must_change_password: bool
    group_classes: tuple[SignedInHeldClass, ...]

    is_authenticated = True
    is_active = True
    is_anonymous = False

    def get_id(self) -> str:
        return f"{self.id}:{self.session_version}"

    def registration_expired(self, today: date) -> bool:
        return is_expired(self.registration_expires_on, today)

    def valid_group_classes(self, today: date) -> list[SignedInHeldClass]:
        return [gc for gc in self.group_classes if not is_expired(gc.expires_on, today)]


_held = aliased(ResidentGroupClass, name="resident_group_classes_1")
_class = aliased(GroupClass, name="group_classes_1")

# Built once (a statement costs more to build than to run); the same joins and order as the
# ORM's joined load of Resident.group_classes and their GroupClass.
_SIGNED_IN = (
    select(
        Resident.id,
        Resident.registration_kind,
        Resident.registration_number,
        Resident.name,
        Resident.email,
        Resident.phone,
        Resident.preferred_locale,
        Resident.registration_expires_on,
        Resident.session_version,
        Resident.must_change_password,
        _held.id,
        _held.group_class_id,
        _held.expires_on,
        _class.id,
        _class.code,
        _class.name_ja,
        _class.name_en,
        _class.is_social_education,
    )
    .select_from(Resident)
    .outerjoin(_held, Resident.id == _held.resident_id)
    .outerjoin(_class, _class.id == _held.group_class_id)
    .where(Resident.id == bindparam("resident_id"))
    .order_by(_held.expires_on.desc())
)


def load_signed_in(connection: Connection, resident_id: int) -> SignedInResident | None:
    """The registration `resident_id` with its 団体区分, or None: one indexed read."""
    rows = connection.execute(_SIGNED_IN, {"resident_id": resident_id}).all()
    if not rows:
        return None
    held = tuple(
        SignedInHeldClass(row[10], row[11], row[12], SignedInGroupClass(row[13], row[14], row[15], row[16], row[17]))
        for row in rows
        if row[10] is not None  # a registration without any 団体区分: one row of NULLs
    )
    return SignedInResident(*rows[0][:10], group_classes=held)
