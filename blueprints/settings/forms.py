"""Forms for the display preferences (色・文字サイズ変更)."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, RadioField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired

from blueprints.core.channels import COLOURS, TEXT_SIZES


class DisplayForm(FlaskForm):
    text_size = RadioField(
        _l("文字サイズ"),
        choices=[SelectChoice(v, l) for v, l in zip(TEXT_SIZES, [_l("標準"), _l("大"), _l("特大")])],
        validators=[InputRequired(message=_l("文字サイズを選択してください。"))],
    )
    colour = RadioField(
        _l("色"),
        choices=[SelectChoice(v, l) for v, l in zip(COLOURS, [_l("標準"), _l("高コントラスト"), _l("白黒反転")])],
        validators=[InputRequired(message=_l("色を選択してください。"))],
    )
    next = HiddenField()
