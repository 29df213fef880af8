"""`flask reconcile`: our card ledger against the provider's, receipt by receipt (DESIGN
"The payment provider"). Loading is separate from the comparison, which is a pure function
of both ledgers, and from the report's text."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from models.payment import CardCharge, ChargeStatus, VoidStatus


class OurState(str, enum.Enum):
    LIVE = "captured"
    VOID_PENDING = "void pending"
    VOIDED = "voided"
    OPEN = "card page open"  # no capture recorded yet
    FAILED = "not charged"  # cancelled or expired at the provider


@dataclass(frozen=True)
class OurCharge:
    receipt_number: str
    amount_yen: int
    state: OurState
    reference: str  # 予約番号


@dataclass(frozen=True)
class ProviderCharge:
    receipt_number: str
    amount_yen: int
    voided: bool
    reference: str


@dataclass(frozen=True)
class Line:
    receipt_number: str
    reference: str
    text: str


@dataclass
class Reconciliation:
    agreements: list[Line] = field(default_factory=list)
    # Ours void-pending: the worker sends (or records) the void. Not a mismatch.
    void_pending: list[Line] = field(default_factory=list)
    # Captured at the provider while our card page is still open: the return, the
    # notification or the worker records it. Not a mismatch.
    capture_pending: list[Line] = field(default_factory=list)
    differences: list[Line] = field(default_factory=list)

    @property
    def agrees(self) -> bool:
        return not self.differences


def yen(amount: int) -> str:
    return f"{amount:,} yen"


def load_our_charges(session: Session) -> list[OurCharge]:
    charges = session.scalars(select(CardCharge).options(selectinload(CardCharge.reservation)).order_by(CardCharge.id))
    result = []
    for charge in charges:
        if charge.status is ChargeStatus.CAPTURED:
            state = {
                VoidStatus.NONE: OurState.LIVE,
                VoidStatus.PENDING: OurState.VOID_PENDING,
                VoidStatus.VOIDED: OurState.VOIDED,
            }[charge.void_status]
        elif charge.status is ChargeStatus.OPEN:
            state = OurState.OPEN
        else:
            state = OurState.FAILED
        result.append(OurCharge(charge.receipt_number, charge.amount_yen, state, charge.reservation.number))
    return result


def parse_provider_ledger(document: dict) -> list[ProviderCharge]:
    return [
        ProviderCharge(
            str(c["receipt_number"]),
            int(c["amount_yen"]),
            bool(c.get("voided")),
            str(c.get("merchant_reference") or ""),
        )
        for c in document.get("charges", [])
    ]


def reconcile(ours: list[OurCharge], theirs: list[ProviderCharge]) -> Reconciliation:
    """Every receipt captured on either side, put in exactly one list."""
    report = Reconciliation()
    our_by_receipt = {c.receipt_number: c for c in ours}
    their_by_receipt = {c.receipt_number: c for c in theirs}
    captured_here = {
        c.receipt_number for c in ours if c.state in (OurState.LIVE, OurState.VOID_PENDING, OurState.VOIDED)
    }
    for receipt in sorted(captured_here | set(their_by_receipt)):
        our, their = our_by_receipt.get(receipt), their_by_receipt.get(receipt)
        reference = our.reference if our else their.reference
        put = lambda bucket, text: bucket.append(Line(receipt, reference, text))  # noqa: E731, B023 (used at once)
        if their is None:
            put(report.differences, f"{yen(our.amount_yen)} {our.state.value} here, unknown to the provider")
        elif our is None or our.state is OurState.FAILED:
            here = "unknown here" if our is None else "recorded here as not charged"
            state = "captured and voided" if their.voided else "captured"
            put(report.differences, f"{yen(their.amount_yen)} {state} at the provider, {here}")
        elif our.amount_yen != their.amount_yen:
            put(
                report.differences,
                f"amount differs: {yen(our.amount_yen)} here, {yen(their.amount_yen)} at the provider",
            )
        elif our.state is OurState.OPEN:
            state = "captured and voided" if their.voided else "captured"
            put(report.capture_pending, f"{yen(their.amount_yen)} {state} at the provider, not recorded here yet")
        elif our.state is OurState.VOID_PENDING:
            at_provider = "already voided at the provider" if their.voided else "still captured at the provider"
            put(report.void_pending, f"{yen(our.amount_yen)} void pending here, {at_provider}")
        elif our.state is OurState.LIVE and their.voided:
            put(report.differences, f"{yen(our.amount_yen)} voided at the provider only (captured, not voided, here)")
        elif our.state is OurState.VOIDED and not their.voided:
            put(report.differences, f"{yen(our.amount_yen)} voided here only (still captured at the provider)")
        else:
            put(report.agreements, f"{yen(our.amount_yen)} {our.state.value} on both sides")
    return report


def totals_line(label: str, captured: int, voided: int, count: int) -> str:
    return (
        f"  {label:<9} {count} charges, captured {yen(captured)}, voided {yen(voided)}, held {yen(captured - voided)}"
    )


def render(report: Reconciliation, ours: list[OurCharge], theirs: list[ProviderCharge], provider_url: str) -> str:
    captured_here = [c for c in ours if c.state in (OurState.LIVE, OurState.VOID_PENDING, OurState.VOIDED)]
    lines = [
        f"Card ledgers: ours against the provider's at {provider_url}",
        totals_line(
            "ours:",
            sum(c.amount_yen for c in captured_here),
            sum(c.amount_yen for c in captured_here if c.state is OurState.VOIDED),
            len(captured_here),
        ),
        totals_line(
            "provider:",
            sum(c.amount_yen for c in theirs),
            sum(c.amount_yen for c in theirs if c.voided),
            len(theirs),
        ),
        "  (our held includes void-pending charges, as the provider's does until the void arrives)",
        "",
    ]
    sections = (
        ("Agreements", report.agreements),
        ("Void pending (not a mismatch: the worker sends or records the void)", report.void_pending),
        (
            "Capture pending (not a mismatch: the return, the notification or the worker records it)",
            report.capture_pending,
        ),
        ("Differences", report.differences),
    )
    for title, items in sections:
        lines.append(f"{title}: {len(items)}")
        lines += [f"  {item.receipt_number}  {item.reference:<12} {item.text}" for item in items]
    lines.append("")
    if report.agrees:
        lines.append("Result: the ledgers agree.")
    else:
        lines.append(f"Result: MISMATCH, {len(report.differences)} difference(s).")
    return "\n".join(lines)
