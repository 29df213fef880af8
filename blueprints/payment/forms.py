"""The forms of the card payment screens: 確定 on 確認 and 同意します + 次へ進む on 注意事項.
The 表示条件 of 選択 is マイメニュー's own filter form (the same 利用日 period and 状態)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, IntegerField
from wtforms.validators import DataRequired, InputRequired, NumberRange

from web.navigation import MAX_ROW_ID


class ConfirmForm(FlaskForm):
    """確定: the booking as the resident saw it (its version) and a one-time token."""

    version = IntegerField(
        validators=[InputRequired(), NumberRange(min=1, max=MAX_ROW_ID)],
        widget=HiddenField.widget,
    )
    form_token = HiddenField()


class TermsForm(FlaskForm):
    """注意事項: 同意します must be ticked before 次へ進む."""

    # guide: L1298
    agree = BooleanField(
        _l("同意します"),
        # guide: L1296
        validators=[
            DataRequired(message=_l("注意事項を確認し、内容に同意する場合は「同意します」を選択してください。"))
        ],
    )
