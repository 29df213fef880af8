"""Forms for the display preferences (色・文字サイズ変更)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, RadioField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import AnyOf, InputRequired

from web.channels import COLOURS, TEXT_SIZES


class DisplayForm(FlaskForm):
    # A forged value gets our sentence, not WTForms' generic "Not a valid choice".
    text_size = RadioField(
        _l("文字サイズ"),
        choices=[SelectChoice(value, label) for value, label in zip(TEXT_SIZES, [_l("標準"), _l("大"), _l("特大")])],
        validate_choice=False,
        validators=[
            InputRequired(message=_l("文字サイズを選択してください。")),
            AnyOf(TEXT_SIZES, message=_l("文字サイズは一覧から選択してください。")),
        ],
    )
    colour = RadioField(
        _l("色"),
        choices=[
            SelectChoice(value, label)
            for value, label in zip(COLOURS, [_l("標準"), _l("高コントラスト"), _l("白黒反転")])
        ],
        validate_choice=False,
        validators=[
            InputRequired(message=_l("色を選択してください。")),
            AnyOf(COLOURS, message=_l("色は一覧から選択してください。")),
        ],
    )
    next = HiddenField()
