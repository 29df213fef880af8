"""What residents read for each state and status: one word (and symbol) per value."""

from __future__ import annotations

from flask import Flask
from flask_babel import lazy_gettext as _l

from models.availability_rules import DayStatus, SlotStatus
from models.payment_state_rules import PaymentState
from models.reservation_rules import CancelKind, ReservationState

RESERVATION_STATES = {
    ReservationState.LOTTERY_ENTRY: _l("抽選申込中"),
    ReservationState.WON: _l("当選"),
    ReservationState.LOST: _l("落選"),
    ReservationState.WITHDRAWN: _l("取下げ"),
    ReservationState.PROVISIONAL: _l("仮予約"),
    ReservationState.CONFIRMED: _l("本予約"),
    ReservationState.CANCELLED: _l("取消済"),
}

PAYMENT_STATES = {
    PaymentState.NONE: _l("−"),
    PaymentState.PAID: _l("支払済"),
    PaymentState.PARTLY_PAID: _l("一部支払済"),
    PaymentState.HELD: _l("支払あり"),
}

CANCEL_KINDS = {
    CancelKind.RESIDENT: _l("利用者による取消"),
    CancelKind.EXPIRY: _l("期限切れ"),
    CancelKind.STAFF: _l("施設による取消"),
}

# A symbol and the words, always shown together (never a symbol alone). The symbols show
# on English pages too, so none is a full-width form (− is U+2212, not －).
DAY_STATUSES = {
    DayStatus.FREE: ("○", _l("空き")),
    DayStatus.PARTLY_FREE: ("△", _l("一部空き")),
    DayStatus.FULL: ("×", _l("空きなし")),
    DayStatus.OUT_OF_WINDOW: ("−", _l("申込期間外")),
    DayStatus.CLOSED: ("■", _l("休館日")),
}

SLOT_STATUSES = {
    SlotStatus.FREE: ("○", _l("空き")),
    SlotStatus.TAKEN: ("×", _l("予約済")),
    SlotStatus.OUT_OF_WINDOW: ("−", _l("申込期間外")),
    SlotStatus.CLOSED: ("■", _l("休館日")),
}


def init_app(app: Flask) -> None:
    app.jinja_env.globals.update(
        reservation_state_label=lambda s: RESERVATION_STATES[ReservationState(s)],
        payment_state_label=lambda s: PAYMENT_STATES[PaymentState(s)],
        cancel_kind_label=lambda k: CANCEL_KINDS[CancelKind(k)],
        day_status_label=lambda s: DAY_STATUSES[DayStatus(s)],
        slot_status_label=lambda s: SLOT_STATUSES[SlotStatus(s)],
        DAY_STATUSES=DAY_STATUSES,
    )
