"""マイメニュー forms: メールアドレスの変更 (the 表示条件 of 予約内容の確認・取消 is
bookings.forms.ReservationFilterForm, shared with クレジット決済 選択)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, PasswordField, StringField
from wtforms.validators import InputRequired, Length

from models.email_rules import normalise_email
from web.email_fields import EmailPairMixin


class EmailForm(EmailPairMixin, FlaskForm):
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
    # Asked only when an address is already registered (DESIGN "Accounts and sign-in"): a
    # session someone else took over cannot redirect the group's mail.
    current_password = PasswordField(_l("現在のパスワード"), validators=[Length(max=200)])
    next = HiddenField()
