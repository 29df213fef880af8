"""マイメニュー forms: the 表示条件 of 予約内容の確認・取消 (利用日 period and 状態; a GET form,
no CSRF) and メールアドレスの変更."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, HiddenField, RadioField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Optional, ValidationError

from blueprints.mymenu.operations import LISTED_STATES
from models.email_rules import is_valid_email, normalise_email
from models.reservation_rules import ReservationState
from web.labels import RESERVATION_STATES

ALL_STATES = "all"
# The states this list can be narrowed to, in the order the brief and the guide give
# (L115: 仮予約／本予約／取消済／全て, with 当選 from the lottery).
STATE_CHOICES = [
    SelectChoice(ALL_STATES, _l("全て")),
    *(SelectChoice(state.value, RESERVATION_STATES[state]) for state in LISTED_STATES),
]
# Browsers send date inputs as 2026-11-25; without a date picker people may type 2026/11/25.
DATE_FORMATS = ["%Y-%m-%d", "%Y/%m/%d"]
BAD_DATE_FROM = _l("利用日（開始）は「2026-11-25」のように、年-月-日の形で入力してください。")
BAD_DATE_TO = _l("利用日（終了）は「2026-11-25」のように、年-月-日の形で入力してください。")


class ReservationFilterForm(FlaskForm):
    """An empty 利用日 field means no limit on that side; a missing one keeps the default."""

    class Meta:
        csrf = False

    date_from = DateField(
        _l("利用日（開始）"), validators=[Optional()], format=DATE_FORMATS, invalid_value_message=BAD_DATE_FROM
    )
    date_to = DateField(
        _l("利用日（終了）"), validators=[Optional()], format=DATE_FORMATS, invalid_value_message=BAD_DATE_TO
    )
    state = RadioField(
        _l("状態"),
        choices=STATE_CHOICES,
        default=ALL_STATES,
        invalid_choice_message=_l("状態は一覧から選択してください。"),
    )

    def validate_date_to(self, field):
        if field.data and self.date_from.data and field.data < self.date_from.data:
            raise ValidationError(
                _l("利用日（終了）には、利用日（開始）と同じ日かそれより後の日付を入力してください。")
            )

    @property
    def chosen_state(self) -> ReservationState | None:
        """The state to show, or None for 全て."""
        return None if self.state.data == ALL_STATES else ReservationState(self.state.data)


class EmailForm(FlaskForm):
    """メールアドレスの変更 (guide L71-L84): the address twice; both must match and be an
    address we can send notices to (DESIGN rule 7)."""

    # guide: L75
    email = StringField(
        _l("メールアドレス"),
        filters=[normalise_email],
        validators=[InputRequired(message=_l("メールアドレスを入力してください。"))],
    )
    # guide: L77
    email_confirm = StringField(
        _l("確認用"),
        filters=[normalise_email],
        validators=[InputRequired(message=_l("確認用のメールアドレスを入力してください。"))],
    )
    next = HiddenField()

    def validate_email(self, field):
        if not is_valid_email(field.data):
            raise ValidationError(
                _l("メールアドレスの形式が正しくありません。「name@example.jp」のように、半角で入力してください。")
            )

    def validate_email_confirm(self, field):
        if field.data != self.email.data:
            raise ValidationError(_l("確認用のメールアドレスが一致しません。同じメールアドレスを入力してください。"))
