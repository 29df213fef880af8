"""Equipment rules (DESIGN rule 10, guide §5-2): who may change equipment, the lending time
within the slot, stock across overlapping bookings (touching ones do not overlap), totals,
and which completion message follows the money."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from models import errors
from models.equipment_rules import (
    CompletionKind,
    EquipmentAccess,
    Lending,
    Shortage,
    available_rule,
    check_equipment_access,
    check_lending_window,
    check_stock,
    completion_kind_rule,
    equipment_access_rule,
    holds_card_paid_equipment,
    lending_times_rule,
    overlaps,
    peak_use_rule,
    subtotal_rule,
    total_rule,
)
from models.reservation_rules import ReservationState as S

JST = timezone(timedelta(hours=9))
USE_DATE = date(2025, 4, 1)
SLOT_START = time(9)


def access(state=S.CONFIRMED, *, lends=True, items=True, counter_paid=False, now=None):
    return equipment_access_rule(
        state=state,
        lends_equipment=lends,
        has_items=items,
        counter_paid=counter_paid,
        use_date=USE_DATE,
        starts_at=SLOT_START,
        now=now or datetime(2025, 3, 31, 12, tzinfo=JST),
    )


# -- who may change equipment ----------------------------------------------------------------


@pytest.mark.parametrize("state", [S.PROVISIONAL, S.WON, S.CONFIRMED])
def test_an_active_booking_of_a_lending_facility_may_change_until_the_slot_starts(state):
    assert access(state) is EquipmentAccess.ALLOWED
    assert access(state, now=datetime(2025, 4, 1, 8, 59, 59, tzinfo=JST)) is EquipmentAccess.ALLOWED


@pytest.mark.parametrize(
    "moment",
    [
        datetime(2025, 4, 1, 9, tzinfo=JST),
        datetime(2025, 4, 1, 0, 0, 1, tzinfo=UTC),
        datetime(2025, 4, 2, tzinfo=JST),
    ],
)
def test_from_the_slots_start_it_is_closed(moment):
    assert access(now=moment) is EquipmentAccess.STARTED


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"state": S.CANCELLED}, EquipmentAccess.CANCELLED),
        ({"state": S.LOTTERY_ENTRY}, EquipmentAccess.NOT_ACTIVE),
        ({"state": S.LOST}, EquipmentAccess.NOT_ACTIVE),
        ({"lends": False}, EquipmentAccess.COUNTER_ONLY),
        ({"items": False}, EquipmentAccess.NO_ITEMS),
        ({"counter_paid": True}, EquipmentAccess.COUNTER_PAID),
        # The first reason a resident can act on wins: a cancelled sports booking is cancelled.
        ({"state": S.CANCELLED, "lends": False, "counter_paid": True}, EquipmentAccess.CANCELLED),
        ({"lends": False, "counter_paid": True}, EquipmentAccess.COUNTER_ONLY),
        ({"counter_paid": True, "now": datetime(2025, 4, 1, 10, tzinfo=JST)}, EquipmentAccess.COUNTER_PAID),
    ],
)
def test_each_refusal_has_its_reason(kwargs, expected):
    assert access(**kwargs) is expected


@pytest.mark.parametrize(
    ("refusal", "error"),
    [
        (EquipmentAccess.CANCELLED, errors.EquipmentOnCancelledBooking),
        (EquipmentAccess.NOT_ACTIVE, errors.InvalidTransition),
        (EquipmentAccess.COUNTER_ONLY, errors.EquipmentAtCounterOnly),
        (EquipmentAccess.NO_ITEMS, errors.NoEquipmentToLend),
        (EquipmentAccess.COUNTER_PAID, errors.CounterPaid),
        (EquipmentAccess.STARTED, errors.EquipmentChangeClosed),
    ],
)
def test_a_refusal_raises_its_domain_error(refusal, error):
    with pytest.raises(error) as raised:
        check_equipment_access(refusal, number="2025-000001")
    assert raised.value.facts == {"number": "2025-000001"}


def test_allowed_raises_nothing():
    assert check_equipment_access(EquipmentAccess.ALLOWED) is None


@pytest.mark.parametrize(
    ("held", "facility_fee", "expected"),
    [(1200, 700, True), (700, 700, False), (0, 700, False), (0, 0, False), (700, 1200, False)],
)
def test_card_paid_equipment_is_a_card_charge_above_the_room_fee(held, facility_fee, expected):
    assert holds_card_paid_equipment(held, facility_fee) is expected


# -- lending time ----------------------------------------------------------------------------


def test_lending_times_are_the_slot_in_half_hours():
    assert lending_times_rule(time(9), time(12)) == [
        time(9),
        time(9, 30),
        time(10),
        time(10, 30),
        time(11),
        time(11, 30),
        time(12),
    ]
    assert lending_times_rule(time(12, 30), time(15)) == [
        time(12, 30),
        time(13),
        time(13, 30),
        time(14),
        time(14, 30),
        time(15),
    ]


def test_a_slot_that_does_not_end_on_a_step_still_offers_its_end():
    assert lending_times_rule(time(18, 30), time(21, 45))[-2:] == [time(21, 30), time(21, 45)]


def test_a_slot_must_end_after_it_starts():
    with pytest.raises(ValueError):
        lending_times_rule(time(12), time(12))


@pytest.mark.parametrize(
    ("start", "end"), [(time(9), time(12)), (time(9), time(9, 30)), (time(11, 30), time(12)), (time(10), time(11))]
)
def test_a_lending_within_the_slot_is_accepted(start, end):
    assert check_lending_window(time(9), time(12), start, end) is None


@pytest.mark.parametrize(
    ("start", "end"),
    [
        (time(8, 30), time(12)),
        (time(9), time(12, 30)),
        (time(9, 15), time(12)),
        (time(13), time(14)),
        (time(0), time(23, 30)),
    ],
)
def test_a_lending_outside_the_slot_or_off_the_steps_is_refused(start, end):
    with pytest.raises(errors.LendingTimeOutsideSlot) as raised:
        check_lending_window(time(9), time(12), start, end)
    assert raised.value.facts == {"starts_at": time(9), "ends_at": time(12)}


@pytest.mark.parametrize(("start", "end"), [(time(11), time(10)), (time(10), time(10)), (time(12), time(9))])
def test_a_lending_must_end_after_it_starts(start, end):
    with pytest.raises(errors.LendingTimeReversed):
        check_lending_window(time(9), time(12), start, end)


# -- stock across overlapping bookings ------------------------------------------------------


def test_touching_intervals_do_not_overlap():
    assert not overlaps(time(9), time(12), time(12), time(15))
    assert not overlaps(time(12), time(15), time(9), time(12))
    assert overlaps(time(9), time(12), time(11, 30), time(15))
    assert overlaps(time(10), time(11), time(9), time(12))


def test_the_only_unit_lent_at_the_same_time_leaves_none():
    others = [Lending(time(9), time(12), 1)]
    assert available_rule(1, time(9), time(12), others) == 0
    assert available_rule(1, time(11, 30), time(12), others) == 0


def test_a_lending_that_ends_when_ours_starts_leaves_the_unit_free():
    assert available_rule(1, time(12, 30), time(15), [Lending(time(9), time(12), 1)]) == 1
    assert available_rule(1, time(12), time(15), [Lending(time(9), time(12), 1)]) == 1
    assert available_rule(1, time(9), time(12), [Lending(time(12), time(15), 1)]) == 1


def test_lendings_one_after_the_other_count_once():
    # Two bookings each hold 3 projectors, 9:00–10:30 and 10:30–12:00: at most 3 at once.
    others = [Lending(time(9), time(10, 30), 3), Lending(time(10, 30), time(12), 3)]
    assert peak_use_rule(time(9), time(12), others) == 3
    assert available_rule(9, time(9), time(12), others) == 6


def test_lendings_at_the_same_time_add_up():
    others = [Lending(time(9), time(12), 3), Lending(time(10), time(11), 4), Lending(time(11), time(12), 1)]
    assert peak_use_rule(time(9), time(12), others) == 7
    assert available_rule(9, time(9), time(12), others) == 2
    # Only 9:00–10:00 of our window: the one from 10:00 is not there yet.
    assert peak_use_rule(time(9), time(10), others) == 3


def test_a_lending_that_started_before_our_window_counts():
    assert peak_use_rule(time(10), time(11), [Lending(time(9), time(10, 30), 2)]) == 2


def test_the_available_number_never_goes_below_zero():
    assert available_rule(1, time(9), time(12), [Lending(time(9), time(12), 2)]) == 0


def test_no_other_lendings_leave_the_whole_stock():
    assert available_rule(9, time(9), time(12), []) == 9
    assert available_rule(9, time(9), time(12), [Lending(time(9), time(12), 0)]) == 9


times = st.integers(min_value=0, max_value=47).map(lambda n: time(n // 2, 30 * (n % 2)))


@st.composite
def intervals(draw):
    a, b = sorted(draw(st.lists(times, min_size=2, max_size=2, unique=True)))
    return a, b


@given(window=intervals(), others=st.lists(st.tuples(intervals(), st.integers(0, 5)), max_size=6))
def test_the_peak_is_the_most_held_at_any_half_hour_of_the_window(window, others):
    lendings = [Lending(a, b, q) for (a, b), q in others]
    start, end = window

    def held_at(minute: int) -> int:
        moment = time(minute // 60, minute % 60)
        return sum(o.quantity for o in lendings if o.starts <= moment < o.ends)

    half_hours = range(start.hour * 60 + start.minute, end.hour * 60 + end.minute, 30)
    assert peak_use_rule(start, end, lendings) == max(held_at(m) for m in half_hours)


def test_check_stock_names_every_item_short():
    with pytest.raises(errors.OutOfStock) as raised:
        check_stock({1: 1, 2: 2, 3: 10}, {1: 1, 2: 0, 3: 9})
    assert raised.value.facts["shortages"] == (Shortage(2, 2, 0), Shortage(3, 10, 9))


def test_check_stock_accepts_what_fits_and_unknown_items_have_none():
    assert check_stock({1: 9, 2: 0}, {1: 9}) is None
    with pytest.raises(errors.OutOfStock):
        check_stock({7: 1}, {})


# -- money --------------------------------------------------------------------------------------


def test_subtotal_and_total_as_the_guide_shows():
    # L372-L383: a projector 500円 × 1; everything else 0.
    assert subtotal_rule(500, 1) == 500
    assert subtotal_rule(800, 0) == 0
    assert total_rule([(500, 1), (800, 0), (0, 2)]) == 500
    assert total_rule([(500, 2), (800, 1)]) == 1800
    assert total_rule([]) == 0


def test_negative_prices_or_quantities_are_refused():
    with pytest.raises(ValueError):
        subtotal_rule(500, -1)
    with pytest.raises(ValueError):
        subtotal_rule(-1, 1)


@pytest.mark.parametrize(
    ("total", "held", "kind"),
    [
        (1200, 700, CompletionKind.PAY),  # a projector added to a paid 700円 booking (L416-L422)
        (700, 1200, CompletionKind.REFUND),  # removed again (L428-L434)
        (1200, 1200, CompletionKind.DONE),
        (700, 0, CompletionKind.PAY),  # a 仮予約 not paid yet: pay by card
        (0, 0, CompletionKind.DONE),
    ],
)
def test_the_completion_message_follows_the_money(total, held, kind):
    assert completion_kind_rule(total, held) is kind
