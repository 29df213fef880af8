"""Reads for the クレジット決済 選択 screen (DESIGN rule 8). Nothing here changes data; the
rules that decide whether a booking may be paid are the settlement's own
(payments.settlement.quote_settlement)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import case, or_
from sqlalchemy.orm import Session

from bookings import refusals
from bookings.conditions import ListConditions, bookings_matching
from bookings.standing import Standing
from models import errors
from models.deadline_rules import payment_deadline_day
from models.facility import Facility
from models.reservation import Reservation
from models.settlement_rules import SettlementPlan, last_void_day
from payments.settlement import is_first_payment, pending_clause, pending_plan, quote_settlement

# The guide's 選択 shows the top 20 (L123, L129).
PAYMENT_LIST_LIMIT = 20


@dataclass(frozen=True)
class PaymentRow:
    """One booking on 選択: what the next settlement would void and charge, and either the
    way to 決済 or the reason there is none."""

    reservation: Reservation
    standing: Standing
    plan: SettlementPlan | None
    # Why 決済 is not offered although money is pending or was paid at the counter
    # (CounterPaid, PaymentWindowClosed, RefundPeriodExpired, InvalidTransition).
    refusal: errors.DomainError | None
    pay_by: date | None  # 支払期限 of a first payment still owed (rule 4)
    void_last_day: date | None  # last day the held card charge can be voided online (rule 13)

    @property
    def charge_yen(self) -> int:
        return self.plan.charge_yen if self.plan else 0

    @property
    def void_yen(self) -> int:
        return self.plan.void_yen if self.plan else 0

    @property
    def payable(self) -> bool:
        return self.plan is not None and self.refusal is None

    @property
    def refusal_kind(self) -> str | None:
        """Why there is no 決済 (bookings.refusals), None when there is one."""
        if self.refusal is None:
            return None if self.plan is not None else refusals.SETTLED
        return refusals.refusal_kind(self.refusal)


@dataclass(frozen=True)
class FacilityGroup:
    facility: Facility
    rows: list[PaymentRow]


@dataclass(frozen=True)
class PaymentList:
    groups: list[FacilityGroup]
    count: int
    truncated: bool
    limit: int
    earlier_pending: int  # rows before the period shown because they still wait for a settlement


def payment_row(reservation: Reservation, now: datetime) -> PaymentRow:
    plan = pending_plan(reservation)
    refusal = None
    if reservation.is_counter_paid:
        refusal = errors.CounterPaid(facility=reservation.room.facility)
    elif plan is not None:
        try:
            quote_settlement(reservation, now)
        except errors.DomainError as exc:
            refusal = exc
    live = reservation.live_charge
    return PaymentRow(
        reservation=reservation,
        standing=Standing.of(reservation),
        plan=plan,
        refusal=refusal,
        pay_by=payment_deadline_day(reservation.payment_basis, reservation.use_date)
        if is_first_payment(reservation)
        else None,
        void_last_day=last_void_day(live.captured_at) if live and live.captured_at else None,
    )


def list_payment_rows(
    session: Session,
    *,
    resident_id: int,
    conditions: ListConditions,
    now: datetime,
    earlier_pending: bool = False,
    limit: int = PAYMENT_LIST_LIMIT,
) -> PaymentList:
    """The resident's bookings matching `conditions`: those waiting for a settlement first,
    then by 利用日 and start; at most `limit`, grouped by facility in that order. With
    `earlier_pending`, bookings before `conditions.date_from` that still wait for a
    settlement (a refund after the use date) are listed too, so none is out of sight.

    The database picks and orders them (payments.settlement.pending_clause) and returns at
    most `limit` + 1 (the one more says that some are left out): what this costs does not
    grow with the group's history, only the index walk over its bookings does."""
    pending = pending_clause()
    query = bookings_matching(resident_id, conditions, before_period=True)
    if conditions.date_from:
        in_period = Reservation.use_date >= conditions.date_from
        query = query.where(or_(in_period, pending) if earlier_pending else in_period)
    query = (
        query.order_by(None)
        .order_by(case((pending, 0), else_=1), Reservation.use_date, Reservation.starts_at, Reservation.id)
        .limit(limit + 1)
    )
    rows = [payment_row(r, now) for r in session.scalars(query)]
    # Ordered again by the rule itself (pending_plan); sorted() is stable: within each part,
    # still by 利用日 and start.
    rows = sorted(rows, key=lambda row: row.plan is None)
    shown = rows[:limit]
    groups: dict[int, FacilityGroup] = {}
    for row in shown:
        facility = row.reservation.room.facility
        groups.setdefault(facility.id, FacilityGroup(facility, [])).rows.append(row)
    return PaymentList(
        groups=list(groups.values()),
        count=len(shown),
        truncated=len(rows) > limit,
        limit=limit,
        earlier_pending=sum(
            1 for row in shown if conditions.date_from and row.reservation.use_date < conditions.date_from
        ),
    )
