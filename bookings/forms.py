"""The 表示条件 form over a list of bookings: a 利用日 period and one state (a GET form, no
CSRF). Each list names the states it can be narrowed to; the lottery's list will name its own."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, RadioField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Optional, ValidationError

from bookings.conditions import ALL_STATES, LISTED_STATES, ListConditions
from models.reservation_rules import ReservationState
from web.labels import RESERVATION_STATES

# The query parameters the form reads: any of them present means the resident asked.
FILTER_FIELDS = ("date_from", "date_to", "state")
# Browsers send date inputs as 2026-11-25; without a date picker people may type 2026/11/25.
DATE_FORMATS = ["%Y-%m-%d", "%Y/%m/%d"]
BAD_DATE_FROM = _l("利用日（開始）は「2026-11-25」のように、年-月-日の形で入力してください。")
BAD_DATE_TO = _l("利用日（終了）は「2026-11-25」のように、年-月-日の形で入力してください。")


def state_choices(states: Iterable[ReservationState]) -> list[SelectChoice]:
    """全て first, then `states` in the order given, in the words of the state labels."""
    return [
        SelectChoice(ALL_STATES, _l("全て")),
        *(SelectChoice(state.value, RESERVATION_STATES[state]) for state in states),
    ]


def state_field(states: Iterable[ReservationState]) -> RadioField:
    return RadioField(
        _l("状態"),
        choices=state_choices(states),
        default=ALL_STATES,
        invalid_choice_message=_l("状態は一覧から選択してください。"),
    )


class PeriodFilterForm(FlaskForm):
    """An empty 利用日 field means no limit on that side; a missing one keeps the default.
    A subclass adds `state = state_field(<the states its list shows>)`."""

    class Meta:
        csrf = False

    date_from = DateField(
        _l("利用日（開始）"), validators=[Optional()], format=DATE_FORMATS, invalid_value_message=BAD_DATE_FROM
    )
    date_to = DateField(
        _l("利用日（終了）"), validators=[Optional()], format=DATE_FORMATS, invalid_value_message=BAD_DATE_TO
    )
    state: RadioField

    def validate_date_to(self, field):
        if field.data and self.date_from.data and field.data < self.date_from.data:
            raise ValidationError(
                _l("利用日（終了）には、利用日（開始）と同じ日かそれより後の日付を入力してください。")
            )

    @property
    def chosen_state(self) -> ReservationState | None:
        """The state to show, or None for 全て."""
        return None if self.state.data == ALL_STATES else ReservationState(self.state.data)

    @property
    def conditions(self) -> ListConditions:
        """The conditions asked for; read after validate() succeeded."""
        return ListConditions(self.date_from.data, self.date_to.data, self.chosen_state)


def conditions_given(args: Mapping) -> bool:
    """The resident sent 表示条件 (rather than opening the list with its defaults)."""
    return any(name in args for name in FILTER_FIELDS)


class ReservationFilterForm(PeriodFilterForm):
    """表示条件 of 予約内容の確認・取消 and クレジット決済 選択: the states the guide gives (L115:
    仮予約／本予約／取消済／全て, with 当選 from the lottery)."""

    state = state_field(LISTED_STATES)
