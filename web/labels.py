"""What residents read for each state and status: one word (and symbol) per value."""

from __future__ import annotations

from flask import Flask
from flask_babel import lazy_gettext as _l

from models.availability_rules import DayStatus, SlotStatus
from models.introduction_rules import ACTIVITIES
from models.lottery_rules import LostReason, LotteryPhase
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

# Where a lottery month stands (DESIGN "Lottery", Calendar), for its calendar in words.
LOTTERY_PHASES = {
    LotteryPhase.BEFORE_PERIOD: _l("申込期間前"),
    LotteryPhase.OPEN: _l("抽選受付中"),
    LotteryPhase.AWAITING_DRAW: _l("抽選結果待ち"),
    LotteryPhase.BEFORE_FIRST_COME: _l("抽選結果発表済み・一般空き申込の開始前"),
    LotteryPhase.FIRST_COME: _l("一般空き申込受付中"),
}

# Why a 落選 was not by the draw (the result notice's words).
LOST_REASONS = {
    LostReason.DRAW: _l("抽選の結果"),
    LostReason.CAP: _l("当選できる件数の上限に達したため"),
    LostReason.SLOT_UNAVAILABLE: _l("抽選時にその時間帯が利用できなくなっていたため"),
    LostReason.NOT_ELIGIBLE: _l("抽選時に登録団体の要件を満たしていなかったため"),
}

# A symbol and the words, always shown together (never a symbol alone). The symbols show
# on English pages too, so none is a full-width form (− is U+2212, not －).
DAY_STATUSES = {
    DayStatus.FREE: ("○", _l("空き")),
    DayStatus.PARTLY_FREE: ("△", _l("一部空き")),
    DayStatus.FULL: ("×", _l("空きなし")),
    DayStatus.OUT_OF_WINDOW: ("−", _l("申込期間外")),
    DayStatus.CLOSED: ("■", _l("休館日")),
    # The lottery (DESIGN "Lottery", Calendar).
    DayStatus.LOTTERY_OPEN: ("◎", _l("抽選受付中")),
    DayStatus.AWAITING_DRAW: ("◇", _l("抽選結果待ち")),
    DayStatus.BEFORE_FIRST_COME: ("▽", _l("先着受付前")),
}

SLOT_STATUSES = {
    SlotStatus.FREE: ("○", _l("空き")),
    SlotStatus.TAKEN: ("×", _l("予約済")),
    SlotStatus.OUT_OF_WINDOW: ("−", _l("申込期間外")),
    SlotStatus.CLOSED: ("■", _l("休館日")),
    SlotStatus.LOTTERY_OPEN: ("◎", _l("抽選受付中")),
    SlotStatus.AWAITING_DRAW: ("◇", _l("抽選結果待ち")),
    SlotStatus.BEFORE_FIRST_COME: ("▽", _l("先着受付前")),
}

# サークル(団体) 紹介: a group's activity field (models.introduction_rules.ACTIVITIES).
ACTIVITY_LABELS = {
    "learning": _l("学習・教養"),
    "music": _l("音楽"),
    "arts": _l("美術・工芸・文芸"),
    "dance": _l("舞踊・体操・健康"),
    "language": _l("語学・国際交流"),
    "welfare": _l("福祉・ボランティア"),
    "children": _l("子ども・子育て"),
    "community": _l("地域・まちづくり"),
    "other": _l("その他"),
}
assert tuple(ACTIVITY_LABELS) == ACTIVITIES


def init_app(app: Flask) -> None:
    app.jinja_env.globals.update(
        reservation_state_label=lambda s: RESERVATION_STATES[ReservationState(s)],
        payment_state_label=lambda s: PAYMENT_STATES[PaymentState(s)],
        cancel_kind_label=lambda k: CANCEL_KINDS[CancelKind(k)],
        day_status_label=lambda s: DAY_STATUSES[DayStatus(s)],
        slot_status_label=lambda s: SLOT_STATUSES[SlotStatus(s)],
        DAY_STATUSES=DAY_STATUSES,
        lottery_phase_label=lambda p: LOTTERY_PHASES[LotteryPhase(p)],
        lost_reason_label=lambda r: LOST_REASONS[LostReason(r)],
        activity_label=lambda code: ACTIVITY_LABELS.get(code, ACTIVITY_LABELS["other"]),
        activity_labels=ACTIVITY_LABELS,
    )
