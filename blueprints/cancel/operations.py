"""予約の取消 (guide §(3), DESIGN rules 5, 11, 12, 13): the bookings a resident selected, each
with its refund as of today, and cancel_reservations, all or nothing under the write lock.
Cancelling moves no money: the refund rate and the cancellation fee are fixed on the
booking, and クレジット決済 settles them later (void what is held, charge the fee)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload, selectinload

from bookings.standing import Standing
from models import errors
from models.availability_version import bump_availability
from models.cancellation_rules import check_cancellable, reason_required
from models.facility import Facility, FacilityCategory, Room
from models.numbering_rules import RESERVATION_NUMBER
from models.refund_rules import RateDrop, RefundQuote, bands_from, next_rate_drop, refund_on, returned_rule
from models.reservation import Reservation
from models.reservation_rules import CancelKind, ReservationState
from models.settlement_rules import last_void_day
from models.time_rules import jst_day

# More than any real selection from one list page (マイメニュー lists at most 100).
MAX_SELECTION = 100
MAX_REASON_LENGTH = 200


@dataclass(frozen=True)
class CancelLine:
    """One selected booking and what cancelling it today means."""

    reservation: Reservation
    quote: RefundQuote
    rate_drop: RateDrop | None  # when the rate next drops, for a booking with money held

    @property
    def paid(self) -> bool:
        return self.quote.held_yen > 0

    @property
    def facility(self) -> Facility:
        return self.reservation.room.facility


@dataclass(frozen=True)
class CancelSelection:
    lines: list[CancelLine]

    @property
    def numbers(self) -> list[str]:
        return [line.reservation.number for line in self.lines]

    @property
    def reason_required(self) -> bool:
        return reason_required([line.reservation.state for line in self.lines])

    @property
    def holds_paid(self) -> bool:
        """注意事項 and 同意します are needed (rule 11)."""
        return any(line.paid for line in self.lines)

    @property
    def any_refund_due(self) -> bool:
        return any(line.quote.refund_due for line in self.lines)

    @property
    def paid_facilities(self) -> list[Facility]:
        """The facilities whose 注意事項 are shown, in the order of the lines."""
        seen: dict[int, Facility] = {}
        for line in self.lines:
            if line.paid:
                seen.setdefault(line.facility.id, line.facility)
        return list(seen.values())


def parse_numbers(values: list[str]) -> list[str]:
    """The selected 予約番号, each once, in the order given; anything not shaped like one is
    not found (we do not say more about forged input)."""
    numbers = list(dict.fromkeys(v.strip() for v in values if v.strip()))
    if not numbers:
        raise errors.EmptySelection()
    if len(numbers) > MAX_SELECTION or not all(RESERVATION_NUMBER.match(n) for n in numbers):
        raise errors.NotFound()
    return numbers


def _load(session: Session, resident_id: int, numbers: list[str], *, lock: bool) -> list[Reservation]:
    query = (
        select(Reservation)
        .where(Reservation.resident_id == resident_id, Reservation.number.in_(numbers))
        .order_by(Reservation.id)  # one order for every locker
        .options(
            joinedload(Reservation.room)
            .joinedload(Room.facility)
            .joinedload(Facility.category)
            .selectinload(FacilityCategory.refund_bands),
            selectinload(Reservation.card_charges),
            selectinload(Reservation.counter_payments),
        )
    )
    if lock:
        query = query.with_for_update(of=Reservation)
    found = {r.number: r for r in session.scalars(query).unique()}
    missing = [n for n in numbers if n not in found]
    if missing:
        # Someone else's booking and one that does not exist read the same.
        raise errors.NotFound(number=missing[0])
    return [found[n] for n in numbers]


def cancel_line(reservation: Reservation, now: datetime) -> CancelLine:
    """The refund if `reservation` were cancelled at `now`; raises what refuses it."""
    check_cancellable(
        reservation.state,
        number=reservation.number,
        counter_paid=reservation.is_counter_paid,
        use_date=reservation.use_date,
        starts_at=reservation.starts_at,
        now=now,
    )
    bands = bands_from(reservation.room.facility.category.refund_bands)
    quote = refund_on(
        now, reservation.use_date, bands, held_yen=reservation.card_held_yen, total_fee_yen=reservation.total_fee_yen
    )
    drop = next_rate_drop(jst_day(now), reservation.use_date, bands) if quote.held_yen else None
    return CancelLine(reservation, quote, drop)


def select_for_cancel(
    session: Session, *, resident_id: int, numbers: list[str], now: datetime, lock: bool = False
) -> CancelSelection:
    """The resident's selected bookings with their refunds as of `now`; all of them must be
    cancellable, or errors.CancellationRefused lists why each other one is not."""
    reservations = _load(session, resident_id, numbers, lock=lock)
    lines, problems = [], []
    for reservation in reservations:
        try:
            lines.append(cancel_line(reservation, now))
        except errors.DomainError as exc:
            problems.append((reservation.number, exc))
    if problems:
        raise errors.CancellationRefused(problems=problems)
    return CancelSelection(lines)


def cancel_reservations(
    session: Session,
    *,
    resident_id: int,
    versions: dict[str, int],
    reason: str | None,
    agreed: bool,
    now: datetime,
    shown_percents: dict[str, int] | None = None,
) -> CancelSelection:
    """取消: every booking in `versions` (予約番号 → the version the resident saw) becomes
    取消済, or none does; 取消事由 when it holds a 本予約 and the agreement to the 注意事項 when it
    holds a paid booking, or nothing happens. The refund rate and the cancellation fee are fixed now, on the JST
    day of cancellation (rule 12); 再予約不可 follows from the state (rule 5). With
    `shown_percents` (予約番号 → the refund rate 確認 showed), a rate that is no longer
    today's (the JST day changed in between) refuses the batch instead of fixing a rate the
    resident never saw."""
    numbers = parse_numbers(list(versions))
    selection = select_for_cancel(session, resident_id=resident_id, numbers=numbers, now=now, lock=True)
    for line in selection.lines:
        if line.reservation.version != versions[line.reservation.number]:
            raise errors.StaleBooking(number=line.reservation.number)
    for line in selection.lines:
        if shown_percents is not None and line.quote.percent != shown_percents[line.reservation.number]:
            raise errors.RefundRateChanged(number=line.reservation.number)
    reason = (reason or "").strip() or None
    if selection.reason_required and reason is None:
        raise errors.CancelReasonRequired()
    if selection.holds_paid and not agreed:
        raise errors.TermsNotAgreed()
    if reason is not None and len(reason) > MAX_REASON_LENGTH:
        raise ValueError("reason too long")  # the form refuses it first
    for line in selection.lines:
        r = line.reservation
        r.state = ReservationState.CANCELLED
        r.cancelled_at = now
        r.cancel_kind = CancelKind.RESIDENT
        r.cancel_reason = reason
        r.refund_percent = line.quote.percent
        r.cancellation_fee_yen = line.quote.fee_yen
        r.version += 1
    session.flush()
    bump_availability(session, room_ids={line.reservation.room_id for line in selection.lines})
    return selection


@dataclass(frozen=True)
class CancelledLine:
    """A booking on 予約の取消 完了: what it refunds and until when the card can be voided."""

    reservation: Reservation
    standing: Standing
    returned_yen: int
    void_last_day: date | None
    void_period_over: bool  # past the 180 days: only the facility can refund (rule 13)

    @property
    def refund_due(self) -> bool:
        return self.returned_yen > 0

    @property
    def shows_refund_rate(self) -> bool:
        """The rate fixed on cancelling says something: money was held, and some of it comes
        back or stays as the cancellation fee."""
        fee = self.reservation.cancellation_fee_yen or 0
        return self.reservation.refund_percent is not None and (self.returned_yen > 0 or fee > 0)


def cancelled_lines(session: Session, *, resident_id: int, numbers: list[str], now: datetime) -> list[CancelledLine]:
    """The resident's bookings cancelled in one batch, as 完了 shows them; anything not
    theirs or not cancelled is not found."""
    reservations = _load(session, resident_id, numbers, lock=False)
    lines = []
    for r in reservations:
        if r.state is not ReservationState.CANCELLED:
            raise errors.NotFound(number=r.number)
        live = r.live_charge
        last_day = last_void_day(live.captured_at) if live and live.captured_at else None
        lines.append(
            CancelledLine(
                reservation=r,
                standing=Standing.of(r),
                returned_yen=returned_rule(held_yen=r.card_held_yen, fee_yen=r.cancellation_fee_yen or 0),
                void_last_day=last_day,
                void_period_over=last_day is not None and jst_day(now) > last_day,
            )
        )
    return lines
