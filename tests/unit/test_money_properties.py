"""The money invariants of DESIGN "Settlement" (issues 3 and 4), with hypothesis: for any
sequence of payments, fee changes, cancellations, abandoned card pages, waiting days and
the worker's voids — run through the real operations against a real database session and
the stand-in card company served over HTTP —

- in our ledger and in the provider's, captured − voided = the sum of live held charges,
  and (once the worker has sent the voids) both ledgers agree;
- after each completed settlement, held = due;
- never more than one live charge per booking.

Each example gets a fresh seeded database and a fresh provider (its receipt numbers restart
with the database's counters). Few examples, no deadline: each one talks HTTP."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from blueprints.cancel.operations import cancel_reservations
from demo.card_payments import cancel_on_card_page, confirm_and_open_card_page, pay_on_card_page, record_return
from mail.compose import CallCentre
from models import errors
from models.account import Resident
from models.db import Database
from models.payment import CardCharge, ChargeStatus, Settlement, SettlementStatus, VoidStatus
from models.reservation import Reservation
from models.reservation_rules import ACTIVE_STATES, ReservationState
from payments.card_pages import ProviderUrls
from payments.provider import ProviderClient
from payments.settlement import open_settlement, quote_settlement, start_settlement
from tests.conftest import FROZEN_NOW, PAYMENT_SECRET, provider_clocks
from worker.jobs import WorkerSettings, send_voids

# 目黒団体's 仮予約: 702 700円 on 2026/12/25 (30 days), 201 400円 on 2026/12/10 (15 days),
# 201 400円 on 2026/12/3 (8 days): every refund band is reachable with a few waiting days.
BOOKINGS = ("2026-000001", "2026-000003", "2026-000004")
URLS = ProviderUrls(return_url="http://127.0.0.1:9/payment/return", notify_url="http://127.0.0.1:9/payment/notify")
CENTRE = CallCentre(phone="03-5431-5932", hours="平日9:00~21:00")


def call_centre(_locale: str) -> CallCentre:
    return CENTRE


@contextlib.contextmanager
def served_provider(workdir):
    """The stand-in card company on its own fresh database, served over HTTP."""
    from payment_standin.app import create_app as create_provider
    from tests.browser.live_server import LiveServer

    provider = create_provider(
        {
            "TESTING": True,
            "PAYMENTS_DATABASE_URL": f"sqlite:///{workdir / 'provider.sqlite3'}",
            "INSTANCE_PATH": str(workdir / "provider-instance"),
            "PAYMENT_PROVIDER_SECRET": PAYMENT_SECRET,
            "PAYMENT_STANDIN_FAULTS": True,
            "PAYMENT_STANDIN_BACKGROUND": False,
            **provider_clocks(),
        }
    )
    server = LiveServer(provider).start()
    try:
        yield ProviderClient(server.base_url, PAYMENT_SECRET)
    finally:
        notifier = provider.extensions.get("standin_notifier")
        if notifier is not None:
            notifier.stop()
        server.stop()
        provider.extensions["standin_db"].dispose()


# -- the steps a resident (or the worker, or time) takes ---------------------------------------

pay = st.tuples(st.just("pay"), st.sampled_from(BOOKINGS))
abandon = st.tuples(st.just("abandon"), st.sampled_from(BOOKINGS))
fee = st.tuples(st.just("fee"), st.sampled_from(BOOKINGS), st.sampled_from([0, 300, 500, 800, 1300]))
cancel = st.tuples(st.just("cancel"), st.lists(st.sampled_from(BOOKINGS), min_size=1, max_size=2, unique=True))
wait = st.tuples(st.just("wait"), st.integers(min_value=1, max_value=9))
void = st.tuples(st.just("void"))
# Most sequences start by paying some bookings, so that later steps move money.
FIRST_PAYMENTS = st.lists(st.sampled_from(BOOKINGS), min_size=0, max_size=3, unique=True).map(
    lambda ns: [("pay", n) for n in ns]
)
STEPS = st.tuples(
    FIRST_PAYMENTS, st.lists(st.one_of(pay, pay, fee, cancel, cancel, wait, void, abandon), min_size=2, max_size=8)
).map(lambda parts: parts[0] + parts[1])


@dataclass
class World:
    database: Database
    provider: ProviderClient
    resident_id: int
    now: datetime
    completed: int = 0  # settlements completed, for the report


def _reservation(session, number: str) -> Reservation:
    return session.scalar(select(Reservation).where(Reservation.number == number))


def quoted_charge(world: World, number: str) -> int | None:
    """What 確認 would show as 決済予定額, or None when the screens refuse a settlement."""
    with world.database.read_session() as session:
        try:
            return quote_settlement(_reservation(session, number), world.now).plan.charge_yen
        except errors.DomainError:
            return None  # nothing to settle, deadline passed, 180 days over …


def step_pay(world: World, number: str) -> None:
    """確定 → 次へ進む → the card page → お支払い → the return; or a void only."""
    charge_yen = quoted_charge(world, number)
    if charge_yen is None:
        return
    if charge_yen == 0:
        with world.database.write() as session:
            version = _reservation(session, number).version
            settlement = open_settlement(
                session, resident_id=world.resident_id, number=number, expected_version=version, now=world.now
            )
            started = start_settlement(
                session,
                resident_id=world.resident_id,
                settlement_id=settlement.id,
                call_centre=call_centre,
                now=world.now,
            )
            assert started.charge is None and started.settlement.status is SettlementStatus.COMPLETED
    else:
        page = confirm_and_open_card_page(
            world.database, world.provider, URLS, call_centre, world.now, resident_id=world.resident_id, number=number
        )
        assert page.amount_yen == charge_yen
        status = record_return(
            world.database, world.provider, call_centre, world.now, pay_on_card_page(page, URLS.return_url)
        )
        assert status is SettlementStatus.COMPLETED
    world.completed += 1
    assert_held_is_due(world, number)


def step_abandon(world: World, number: str) -> None:
    """決済を中止する on the card page: nothing is charged."""
    if not quoted_charge(world, number):
        return  # refused, or a void only (which has no card page)
    page = confirm_and_open_card_page(
        world.database, world.provider, URLS, call_centre, world.now, resident_id=world.resident_id, number=number
    )
    status = record_return(
        world.database, world.provider, call_centre, world.now, cancel_on_card_page(page, URLS.return_url)
    )
    assert status is SettlementStatus.ABANDONED


def step_fee(world: World, number: str, equipment_yen: int) -> None:
    """A fee change (as an equipment line would make it): the facility fee plus equipment."""
    with world.database.write() as session:
        r = _reservation(session, number)
        if r.state not in ACTIVE_STATES or r.is_counter_paid:
            return
        base = {"2026-000001": 700}.get(number, 400)
        if r.facility_fee_yen != base + equipment_yen:
            r.facility_fee_yen = base + equipment_yen
            r.version += 1


def step_cancel(world: World, numbers: list[str]) -> None:
    with world.database.read_session() as session:
        versions = {n: _reservation(session, n).version for n in numbers}
    try:
        with world.database.write() as session:
            cancel_reservations(
                session, resident_id=world.resident_id, versions=versions, reason="property", agreed=True, now=world.now
            )
    except errors.DomainError:
        return  # already cancelled, started …: all or nothing, nothing changed


def step_void(world: World) -> None:
    settings_ = WorkerSettings(
        smtp_host=None,
        smtp_port=25,
        mail_from="noreply@example.jp",
        mail_dir=None,
        call_centre_config={"CALL_CENTRE_PHONE": "", "CALL_CENTRE_HOURS_JA": "", "CALL_CENTRE_HOURS_EN": ""},
    )
    result = send_voids(world.database, world.provider, settings_, world.now)
    assert not result.failed


# -- the invariants --------------------------------------------------------------------------------


def assert_held_is_due(world: World, number: str) -> None:
    with world.database.read_session() as session:
        r = _reservation(session, number)
        assert r.card_held_yen == r.due_yen, (number, r.state, r.card_held_yen, r.due_yen)


def assert_one_live_charge_per_booking(world: World) -> None:
    with world.database.read_session() as session:
        live = session.execute(
            select(CardCharge.reservation_id, func.count())
            .where(CardCharge.status == ChargeStatus.CAPTURED, CardCharge.void_status == VoidStatus.NONE)
            .group_by(CardCharge.reservation_id)
        ).all()
        assert all(n <= 1 for _id, n in live), live


def assert_ledgers(world: World, *, voids_sent: bool) -> None:
    with world.database.read_session() as session:
        captured = session.scalars(select(CardCharge).where(CardCharge.status == ChargeStatus.CAPTURED)).all()
        ours_captured = sum(c.amount_yen for c in captured)
        ours_voided = sum(c.amount_yen for c in captured if c.void_status is not VoidStatus.NONE)
        live_sum = sum(r.card_held_yen for r in session.scalars(select(Reservation)))
        assert ours_captured - ours_voided == live_sum
    theirs = world.provider.ledger()
    their_captured = sum(c["amount_yen"] for c in theirs["charges"])
    their_voided = sum(c["amount_yen"] for c in theirs["charges"] if c["voided"])
    assert (theirs["captured_yen"], theirs["voided_yen"]) == (their_captured, their_voided)
    assert their_captured == ours_captured  # every capture recorded on both sides
    if voids_sent:
        assert their_captured - their_voided == theirs["held_yen"] == live_sum
        assert their_voided == ours_voided


@pytest.fixture(scope="module")
def workdirs(tmp_path_factory):
    counter = iter(range(10_000))
    return lambda: tmp_path_factory.mktemp(f"money-{next(counter)}")


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(steps=STEPS)
def test_money_invariants_hold_for_any_sequence(template_databases, workdirs, steps):
    url = template_databases.fresh()
    database = Database(url)
    try:
        with served_provider(workdirs()) as provider:
            with database.read_session() as session:
                resident_id = session.scalar(select(Resident.id).where(Resident.registration_number == "00040675"))
            world = World(database, provider, resident_id, datetime.fromisoformat(FROZEN_NOW))
            for step in steps:
                kind = step[0]
                if kind == "pay":
                    step_pay(world, step[1])
                elif kind == "abandon":
                    step_abandon(world, step[1])
                elif kind == "fee":
                    step_fee(world, step[1], step[2])
                elif kind == "cancel":
                    step_cancel(world, step[1])
                elif kind == "wait":
                    world.now += timedelta(days=step[1])
                elif kind == "void":
                    step_void(world)
                assert_one_live_charge_per_booking(world)
                assert_ledgers(world, voids_sent=False)
            step_void(world)
            assert_ledgers(world, voids_sent=True)
            event(f"settlements completed: {'3+' if world.completed >= 3 else world.completed}")
            # Every settlement that completed left held = due at that moment; a cancelled
            # booking settled since holds exactly its fixed cancellation fee.
            with database.read_session() as session:
                for r in session.scalars(select(Reservation).where(Reservation.number.in_(BOOKINGS))):
                    last = session.scalar(
                        select(Settlement)
                        .where(Settlement.reservation_id == r.id)
                        .order_by(Settlement.id.desc())
                        .limit(1)
                    )
                    if (
                        last is not None
                        and last.status is SettlementStatus.COMPLETED
                        and last.reservation_version + 1 == r.version
                    ):
                        assert r.card_held_yen == r.due_yen
                    if r.state is ReservationState.CANCELLED:
                        assert r.refund_percent is not None and 0 <= (r.cancellation_fee_yen or 0) <= r.total_fee_yen
    finally:
        database.dispose()
        template_databases.drop(url)


def test_the_guides_examples_through_the_operations(template_databases, workdirs):
    """One fixed sequence, as a reader of the guide expects it: pay 700円, cancel 20 days
    ahead (75 %), settle — 175円 held, 700円 voided on both sides."""
    url = template_databases.fresh()
    database = Database(url)
    try:
        with served_provider(workdirs()) as provider:
            with database.read_session() as session:
                resident_id = session.scalar(select(Resident.id).where(Resident.registration_number == "00040675"))
            world = World(database, provider, resident_id, datetime.fromisoformat(FROZEN_NOW))
            step_pay(world, "2026-000001")  # 2026/12/25, paid on 11/25
            world.now += timedelta(days=10)  # 12/5: 20 days before
            step_cancel(world, ["2026-000001"])
            with database.read_session() as session:
                r = _reservation(session, "2026-000001")
                assert (r.refund_percent, r.cancellation_fee_yen) == (75, 175)
            step_pay(world, "2026-000001")
            step_void(world)
            assert_ledgers(world, voids_sent=True)
            assert provider.ledger()["held_yen"] == 175 and provider.ledger()["voided_yen"] == 700
    finally:
        database.dispose()
        template_databases.drop(url)
