"""`flask reconcile`: our card ledger against the provider's GET /api/ledger, over HTTP to
the served stand-in; planted differences are reported with exit status 1."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select, update

from demo.card_payments import CARD_PAID, confirm_and_open_card_page, pay_on_card_page, record_return
from models.account import Resident
from models.payment import CardCharge, ChargeStatus, VoidStatus
from models.reservation import Reservation
from models.reservation_rules import ReservationState
from models.time_rules import jst_day
from payments.card_pages import CardPage
from payments.provider import provider_client
from tests.conftest import nobody_answers_url
from tests.web.card_support import URLS, clock, database, pay_by_card, settings
from worker.reconcile import OurCharge, OurState, ProviderCharge, reconcile


def run_reconcile(app):
    return app.test_cli_runner().invoke(args=["reconcile"])


def receipts(app) -> list[str]:
    with database(app).read_session() as session:
        return list(session.scalars(select(CardCharge.receipt_number).order_by(CardCharge.id)))


def section(output: str, title: str) -> list[str]:
    """The lines listed under one heading of the report."""
    lines = output.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(title))
    items = []
    for line in lines[start + 1 :]:
        if not line.startswith("  "):
            break
        items.append(line.strip())
    return items


def test_the_ledgers_agree_after_card_payments(paying_app):
    pay_by_card(paying_app)

    result = run_reconcile(paying_app)

    assert result.exit_code == 0, result.output
    agreements = section(result.output, "Agreements")
    assert len(agreements) == len(CARD_PAID)
    for receipt in receipts(paying_app):
        assert any(line.startswith(receipt) and "captured on both sides" in line for line in agreements)
    assert section(result.output, "Differences") == []
    assert "Result: the ledgers agree." in result.output


def changed_while_paying_orphan(app) -> tuple[str, str]:
    """One 仮予約 paid normally (kept); another changed in a second tab while its card page
    was open, then paid: that capture is void-pending (not yet sent)."""
    with database(app).read_session() as session:
        meguro = session.scalar(select(Resident.id).where(Resident.registration_number == "00040675"))
        numbers = session.scalars(
            select(Reservation.number)
            .where(Reservation.resident_id == meguro, Reservation.state == ReservationState.PROVISIONAL)
            .order_by(Reservation.id)
            .limit(2)
        ).all()
    provider = provider_client(app.config)
    pages: list[CardPage] = [
        confirm_and_open_card_page(
            database(app), provider, URLS, settings(app).call_centre, clock(app), resident_id=meguro, number=number
        )
        for number in numbers
    ]
    with database(app).write() as session:  # e.g. equipment added in another tab
        session.execute(
            update(Reservation).where(Reservation.number == numbers[1]).values(version=Reservation.version + 1)
        )
    for page in pages:
        record_return(
            database(app), provider, settings(app).call_centre, clock(app), pay_on_card_page(page, URLS.return_url)
        )
    return pages[0].receipt_number, pages[1].receipt_number


def test_a_void_pending_charge_is_listed_but_is_not_a_mismatch(paying_app):
    kept, orphan = changed_while_paying_orphan(paying_app)

    pending = run_reconcile(paying_app)

    assert pending.exit_code == 0, pending.output
    assert [line for line in section(pending.output, "Void pending") if "still captured at the provider" in line] == [
        next(line for line in section(pending.output, "Void pending") if line.startswith(orphan))
    ]
    assert any(line.startswith(kept) for line in section(pending.output, "Agreements"))

    # The provider voided it but our record of that was lost: the worker's retry records it.
    provider_client(paying_app.config).void(orphan)
    recorded_late = run_reconcile(paying_app)
    assert recorded_late.exit_code == 0, recorded_late.output
    assert "already voided at the provider" in recorded_late.output


def test_a_charge_voided_only_at_the_provider_is_a_mismatch(paying_app):
    pay_by_card(paying_app, CARD_PAID[:2])
    planted = receipts(paying_app)[0]
    provider_client(paying_app.config).void(planted)

    result = run_reconcile(paying_app)

    assert result.exit_code == 1, result.output
    differences = section(result.output, "Differences")
    assert len(differences) == 1
    assert differences[0].startswith(planted) and "voided at the provider only" in differences[0]
    assert "Result: MISMATCH, 1 difference(s)." in result.output


def test_a_different_amount_is_a_mismatch(paying_app):
    pay_by_card(paying_app, CARD_PAID[:1])
    planted = receipts(paying_app)[0]
    with database(paying_app).write() as session:
        session.execute(update(CardCharge).where(CardCharge.receipt_number == planted).values(amount_yen=800))

    result = run_reconcile(paying_app)

    assert result.exit_code == 1
    assert "amount differs: 800 yen here, 700 yen at the provider" in result.output


def test_a_receipt_only_at_the_provider_is_a_mismatch(paying_app):
    pay_by_card(paying_app, CARD_PAID[:1])
    provider = provider_client(paying_app.config)
    stranger = "9992026112599999"
    created = provider.create_session(
        reference=f"other-{uuid.uuid4().hex[:6]}",
        receipt_number=stranger,
        amount_yen=300,
        return_url=URLS.return_url,
        notify_url=URLS.notify_url,
        locale="ja",
    )
    page = CardPage(0, 0, stranger, 300, created["session_id"], created["payment_url"])
    pay_on_card_page(page, URLS.return_url)

    result = run_reconcile(paying_app)

    assert result.exit_code == 1
    assert any(
        line.startswith(stranger) and "captured at the provider, unknown here" in line
        for line in section(result.output, "Differences")
    )


def test_a_receipt_captured_only_here_is_a_mismatch(paying_app):
    pay_by_card(paying_app, CARD_PAID[:1])
    with database(paying_app).write() as session:  # planted: a capture the provider never made
        charge = session.scalar(select(CardCharge))
        session.add(
            CardCharge(
                reservation_id=charge.reservation_id,
                settlement_id=charge.settlement_id,
                receipt_number="0392026112588888",
                amount_yen=700,
                status=ChargeStatus.CAPTURED,
                created_at=clock(paying_app),
                captured_at=clock(paying_app),
                void_status=VoidStatus.PENDING,
            )
        )

    result = run_reconcile(paying_app)

    assert result.exit_code == 1
    assert any(
        line.startswith("0392026112588888") and "unknown to the provider" in line
        for line in section(result.output, "Differences")
    )


def test_an_unreachable_provider_is_reported_with_status_2(app):
    app.config["PAYMENT_PROVIDER_URL"] = nobody_answers_url()

    result = run_reconcile(app)

    assert result.exit_code == 2
    assert f"Cannot read the provider's ledger at {nobody_answers_url()}" in result.output


# The comparison itself, one row per case --------------------------------------------------

R = "0392026112500001"


@pytest.mark.parametrize(
    ("ours", "theirs", "bucket", "text"),
    [
        (OurState.LIVE, (700, False), "agreements", "700 yen captured on both sides"),
        (OurState.VOIDED, (700, True), "agreements", "700 yen voided on both sides"),
        (OurState.VOID_PENDING, (700, False), "void_pending", "void pending here, still captured at the provider"),
        (OurState.VOID_PENDING, (700, True), "void_pending", "void pending here, already voided at the provider"),
        (OurState.OPEN, (700, False), "capture_pending", "captured at the provider, not recorded here yet"),
        (OurState.LIVE, (700, True), "differences", "voided at the provider only"),
        (OurState.VOIDED, (700, False), "differences", "voided here only"),
        (OurState.LIVE, (800, False), "differences", "amount differs: 700 yen here, 800 yen at the provider"),
        (OurState.LIVE, None, "differences", "captured here, unknown to the provider"),
        (OurState.VOIDED, None, "differences", "voided here, unknown to the provider"),
        (OurState.FAILED, (700, False), "differences", "captured at the provider, recorded here as not charged"),
        (None, (700, True), "differences", "captured and voided at the provider, unknown here"),
    ],
)
def test_each_receipt_lands_in_exactly_one_list(ours, theirs, bucket, text):
    our_charges = [OurCharge(R, 700, ours, "2026-000001")] if ours else []
    their_charges = [ProviderCharge(R, theirs[0], theirs[1], "2026-000001")] if theirs else []

    report = reconcile(our_charges, their_charges)

    lists = {name: getattr(report, name) for name in ("agreements", "void_pending", "capture_pending", "differences")}
    assert {name: len(items) for name, items in lists.items()} == {name: int(name == bucket) for name in lists}
    assert text in lists[bucket][0].text
    assert report.agrees is (bucket != "differences")


def test_charges_that_never_captured_on_either_side_are_not_listed():
    report = reconcile(
        [
            OurCharge(R, 700, OurState.FAILED, "2026-000001"),
            OurCharge("0392026112500002", 700, OurState.OPEN, "2026-000002"),
        ],
        [],
    )

    assert report.agrees
    assert not (report.agreements or report.void_pending or report.capture_pending or report.differences)


# seed-demo (DESIGN "Contracts"): card-paid bookings through the provider ----------------------


def test_seed_demo_pays_card_bookings_through_the_provider_and_the_ledgers_agree(paying_app):
    seeded = paying_app.test_cli_runner().invoke(args=["seed-demo"])

    assert seeded.exit_code == 0, seeded.output
    assert "card-paid demo bookings" in seeded.output
    with database(paying_app).read_session() as session:
        paid = session.scalars(
            select(Reservation)
            .join(CardCharge)
            .where(CardCharge.status == ChargeStatus.CAPTURED)
            .order_by(Reservation.use_date)
        ).all()
        assert len(paid) == len(CARD_PAID)
        assert all(r.state is ReservationState.CONFIRMED and r.held_yen > 0 for r in paid)
        # All paid in full, then a projector added to one 702 booking: 一部支払済 (equipment demo).
        assert [(r.held_yen, r.due_yen) for r in paid if r.held_yen != r.due_yen] == [(700, 1200)]
        assert "equipment demo booking (本予約 一部支払済" in seeded.output
        assert all(r.number in seeded.output for r in paid)
        days_before = [(r.use_date - jst_day(clock(paying_app))).days for r in paid]
    # One in each refund band: ≥ 21, 11–20, 6–10 and 0–5 days before use (rule 12).
    assert [next(i for i, low in enumerate((21, 11, 6, 0)) if d >= low) for d in sorted(days_before, reverse=True)] == [
        0,
        1,
        2,
        3,
    ]
    result = run_reconcile(paying_app)
    assert result.exit_code == 0, result.output
    assert len(section(result.output, "Agreements")) == len(CARD_PAID)

    # Seeding again against a provider that still holds those charges pays nothing more.
    again = paying_app.test_cli_runner().invoke(args=["seed-demo"])
    assert again.exit_code == 0, again.output
    assert "still holds charges" in again.output


def test_seed_demo_without_a_provider_loads_everything_else_and_says_so(app):
    app.config["PAYMENT_PROVIDER_URL"] = nobody_answers_url()

    seeded = app.test_cli_runner().invoke(args=["seed-demo"])

    assert seeded.exit_code == 0, seeded.output
    assert "demo data loaded" in seeded.output
    assert f"note: no card-paid demo bookings: the provider at {nobody_answers_url()} cannot be used" in seeded.output
    with database(app).read_session() as session:
        assert session.scalar(select(CardCharge.id)) is None
        assert session.scalar(select(Reservation.id).where(Reservation.state == ReservationState.PROVISIONAL))
