"""マイメニュー reads: a resident's bookings by facility and room, one booking in full, and the
group's 団体区分 with their expiries; and the one change マイメニュー makes itself, the mail
address."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from itertools import groupby

from sqlalchemy import and_, select, update
from sqlalchemy.orm import Session, joinedload, selectinload

from bookings.conditions import LISTED_STATES, ListConditions, bookings_matching
from bookings.refusals import cancel_refusal, refusal_kind
from bookings.standing import Standing
from mail.delivery import Refusal
from models import errors
from models.account import GroupClass, Resident, ResidentGroupClass
from models.email_rules import is_valid_email
from models.facility import Facility, Room
from models.notice import Message
from models.numbering_rules import RESERVATION_NUMBER
from models.outbox import OutboxMail
from models.reservation import Reservation
from models.reservation_rules import ReservationState
from models.settlement_rules import last_void_day
from models.signed_in import SignedInGroupClass, SignedInResident
from models.time_rules import jst_day

# The guide's top 20 (L123, L129-L130; DESIGN rule 8): beyond it the page says so and asks
# for narrower 表示条件, so that its cost does not grow with a group's history.
LIST_LIMIT = 20


@dataclass(frozen=True)
class ReservationRow:
    reservation: Reservation
    standing: Standing
    cancel_refusal: str | None  # None when the row offers 取消 (bookings.refusals)


@dataclass(frozen=True)
class RoomGroup:
    """The bookings of one room, under the heading "<facility> <room>"."""

    facility: Facility
    room: Room
    rows: list[ReservationRow]


@dataclass(frozen=True)
class ReservationList:
    groups: list[RoomGroup]
    count: int
    truncated: bool  # more bookings matched than `limit`; only the first `limit` are listed
    limit: int

    @property
    def reservations(self) -> list[Reservation]:
        """Every listed booking, in the order of the page."""
        return [row.reservation for group in self.groups for row in group.rows]

    @property
    def any_refund_due(self) -> bool:
        return any(row.standing.refund_due for group in self.groups for row in group.rows)


def list_reservations(
    session: Session, *, resident_id: int, conditions: ListConditions, now: datetime, limit: int = LIST_LIMIT
) -> ReservationList:
    """The resident's bookings matching `conditions`, earliest 利用日 and start first, at most
    `limit`, grouped by facility and room. Two queries whatever the number of rows."""
    query = bookings_matching(resident_id, conditions).limit(limit + 1)
    found = session.scalars(query).all()
    shown = found[:limit]

    def place(r: Reservation):
        # Facilities in the order of their reading (as 施設名から探す lists them), rooms as
        # the facility orders them.
        return (r.room.facility.kana, r.room.facility.code, r.room.ordinal, r.room.id)

    groups = []
    for _key, members in groupby(sorted(shown, key=place), key=place):
        rows = [
            ReservationRow(r, Standing.of(r), refusal_kind(cancel_refusal(r, now))) for r in members
        ]  # sorted() is stable: still by date
        room = rows[0].reservation.room
        groups.append(RoomGroup(facility=room.facility, room=room, rows=rows))
    return ReservationList(groups=groups, count=len(shown), truncated=len(found) > limit, limit=limit)


@dataclass(frozen=True)
class ReservationDetail:
    reservation: Reservation
    standing: Standing

    @property
    def facility(self) -> Facility:
        return self.reservation.room.facility

    @property
    def rebooking_blocked(self) -> bool:
        """再予約不可 (rule 5): once cancelled, this group cannot book the slot again."""
        return self.reservation.state is ReservationState.CANCELLED


def find_reservation(session: Session, *, resident_id: int, number: str) -> ReservationDetail:
    """One of the resident's bookings by 予約番号. Someone else's booking and a number that
    does not exist raise the same NotFound, so the answer reveals nothing."""
    if not RESERVATION_NUMBER.match(number or ""):
        raise errors.NotFound()
    reservation = session.scalar(
        select(Reservation)
        .where(Reservation.number == number, Reservation.resident_id == resident_id)
        .where(Reservation.state.in_(LISTED_STATES))
        .options(
            joinedload(Reservation.room).joinedload(Room.facility),
            joinedload(Reservation.purpose),
            joinedload(Reservation.group_class),
            selectinload(Reservation.counter_payments),
            selectinload(Reservation.card_charges),
        )
    )
    if reservation is None:
        raise errors.NotFound()
    return ReservationDetail(reservation=reservation, standing=Standing.of(reservation))


@dataclass(frozen=True)
class HeldClass:
    group_class: GroupClass | SignedInGroupClass
    expires_on: date
    valid: bool


@dataclass(frozen=True)
class GroupClassSummary:
    """登録済利用者団体区分: each 団体区分 with its expiry, and the registration's own."""

    classes: list[HeldClass]
    registration_expires_on: date
    registration_valid: bool


def list_group_classes(
    session: Session, *, resident_id: int, now: datetime, registration: SignedInResident | None = None
) -> GroupClassSummary:
    """`registration`: the resident's as the request's login read it (with its 団体区分), not
    read again."""
    today = jst_day(now)
    resident: Resident | SignedInResident | None
    if registration is not None and registration.id == resident_id:
        resident = registration
    else:
        resident = session.get(
            Resident,
            resident_id,
            options=[selectinload(Resident.group_classes).selectinload(ResidentGroupClass.group_class)],
        )
    if resident is None:
        raise errors.NotFound()
    return GroupClassSummary(
        classes=[
            HeldClass(held.group_class, held.expires_on, not held.expired(today)) for held in resident.group_classes
        ],
        registration_expires_on=resident.registration_expires_on,
        registration_valid=not resident.registration_expired(today),
    )


# Mails given up at the old address that a corrected one receives again.
RESEND_WINDOW = timedelta(days=30)


def change_email(session: Session, *, resident_id: int, email: str, now: datetime) -> Resident:
    """メールアドレスの変更: the address card payment notices go to (rule 7). Mails not yet
    delivered go to the new address instead: those still waiting (when a worker is sending
    one right now, it sends it to the old address or, failing, leaves it to the new one),
    and those given up in the last RESEND_WINDOW for a reason other than their content."""
    if not is_valid_email(email):
        raise ValueError("not a valid mail address")
    resident = session.get(Resident, resident_id, with_for_update=True)
    if resident is None:
        raise errors.NotFound()
    if resident.email != email:
        unsent = and_(OutboxMail.resident_id == resident.id, OutboxMail.sent_at.is_(None))
        session.execute(
            update(OutboxMail)
            .where(unsent, OutboxMail.undeliverable_at.is_(None))
            .values(to_address=email, first_refused_at=None)
            .execution_options(synchronize_session=False)
        )
        session.execute(
            update(OutboxMail)
            .where(
                unsent,
                OutboxMail.undeliverable_at >= now - RESEND_WINDOW,
                OutboxMail.undeliverable_reason != Refusal.CONTENT.value,  # a new address does not help
            )
            .values(
                to_address=email,
                undeliverable_at=None,
                undeliverable_reason=None,
                first_refused_at=None,
                last_error=None,
                next_attempt_at=now,
            )
            .execution_options(synchronize_session=False)
        )
    resident.email = email
    session.flush()
    return resident


@dataclass(frozen=True)
class InboxEntry:
    """A notice in メッセージ and, when its mail was given up, what the resident can do."""

    message: Message
    undeliverable: bool = False
    refused_address: str | None = None  # the resident's current address, refused for good
    can_resend: bool = False  # a corrected address would receive it


def list_messages(session: Session, *, resident_id: int, now: datetime) -> list[InboxEntry]:
    current = session.scalar(select(Resident.email).where(Resident.id == resident_id))
    rows = session.execute(
        select(Message, OutboxMail.to_address, OutboxMail.undeliverable_at, OutboxMail.undeliverable_reason)
        .outerjoin(OutboxMail, OutboxMail.id == Message.outbox_mail_id)
        .where(Message.resident_id == resident_id)
        .order_by(Message.created_at.desc(), Message.id.desc())
    ).all()
    entries = []
    for message, address, given_up_at, reason in rows:
        if given_up_at is None:
            entries.append(InboxEntry(message))
            continue
        entries.append(
            InboxEntry(
                message,
                undeliverable=True,
                refused_address=address if reason == Refusal.ADDRESS.value and address == current else None,
                can_resend=reason != Refusal.CONTENT.value and given_up_at >= now - RESEND_WINDOW,
            )
        )
    return entries


@dataclass(frozen=True)
class WaitingRefund:
    """A cancelled booking whose card payment still holds money to give back: the refund
    waits for クレジット決済 until `last_day` (rule 13's 180 days)."""

    reservation: Reservation
    last_day: date


def waiting_refunds(session: Session, *, resident_id: int, now: datetime) -> list[WaitingRefund]:
    """マイメニュー's reminder (issue 11): refunds not yet settled whose online period is
    still open, soonest last day first."""
    cancelled = session.scalars(
        select(Reservation)
        .where(Reservation.resident_id == resident_id, Reservation.state == ReservationState.CANCELLED)
        .options(selectinload(Reservation.card_charges), selectinload(Reservation.counter_payments))
        .order_by(Reservation.id)
    ).all()
    waiting = []
    for reservation in cancelled:
        live = reservation.live_charge
        if live is None or live.captured_at is None or not Standing.of(reservation).refund_due:
            continue
        last_day = last_void_day(live.captured_at)
        if jst_day(now) <= last_day:
            waiting.append(WaitingRefund(reservation, last_day))
    return sorted(waiting, key=lambda w: (w.last_day, w.reservation.number))
