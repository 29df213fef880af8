"""The 表示条件 form of 予約内容の確認・取消: 利用日 period and 状態 (a GET form, no CSRF)."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, RadioField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Optional, ValidationError

from blueprints.core.labels import RESERVATION_STATES
from blueprints.mymenu.operations import LISTED_STATES
from models.reservation_rules import ReservationState

ALL_STATES = "all"
# The states this list can be narrowed to, in the order the brief and the guide give
# (L115: 仮予約／本予約／取消済／全て, with 当選 from the lottery).
STATE_CHOICES = [
    SelectChoice(ALL_STATES, _l("全て")),
    *(
        SelectChoice(state.value, RESERVATION_STATES[state])
        for state in LISTED_STATES
    ),
]
# Browsers send date inputs as 2026-11-25; without a date picker people may type 2026/11/25.
DATE_FORMATS = ["%Y-%m-%d", "%Y/%m/%d"]
BAD_DATE_FROM = _l("利用日（開始）は「2026-11-25」のように、年-月-日の形で入力してください。")
BAD_DATE_TO = _l("利用日（終了）は「2026-11-25」のように、年-月-日の形で入力してください。")


class ReservationFilterForm(FlaskForm):
    """An empty 利用日 field means no limit on that side; a missing one keeps the default."""

    class Meta:
        csrf = False

    date_from = DateField(_l("利用日（開始）"), validators=[Optional()], format=DATE_FORMATS, invalid_value_message=BAD_DATE_FROM)
    date_to = DateField(_l("利用日（終了）"), validators=[Optional()], format=DATE_FORMATS, invalid_value_message=BAD_DATE_TO)
    state = RadioField(
        _l("状態"),
        choices=STATE_CHOICES,
        default=ALL_STATES,
        invalid_choice_message=_l("状態は一覧から選択してください。"),
    )

    def validate_date_to(self, field):
        if field.data and self.date_from.data and field.data < self.date_from.data:
            raise ValidationError(_l("利用日（終了）には、利用日（開始）と同じ日かそれより後の日付を入力してください。"))

    @property
    def chosen_state(self) -> ReservationState | None:
        """The state to show, or None for 全て."""
        return None if self.state.data == ALL_STATES else ReservationState(self.state.data)
