"""The login form (guide §5-2 ①)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, PasswordField, RadioField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, ValidationError

from models.account_rules import RegistrationKind, normalize_registration_number


class LoginForm(FlaskForm):
    registration_kind = RadioField(
        # guide: L249
        _l("利用者登録を行った施設"),
        choices=[
            SelectChoice(RegistrationKind.ASSEMBLY, _l("集会・学校")),
            SelectChoice(RegistrationKind.SPORTS, _l("スポーツ")),
        ],
        validators=[InputRequired(message=_l("利用者登録を行った施設を選択してください。"))],
    )
    registration_number = StringField(
        # guide: L255
        _l("利用者登録番号"),
        validators=[InputRequired(message=_l("利用者登録番号を入力してください。"))],
    )
    password = PasswordField(
        _l("パスワード"),
        validators=[InputRequired(message=_l("パスワードを入力してください。")), Length(max=200)],
    )
    next = HiddenField()

    def validate_registration_number(self, field):
        try:
            field.normalized = normalize_registration_number(field.data)
        except ValueError:
            raise ValidationError(_l("利用者登録番号は8桁以内の数字で入力してください。")) from None
