"""What every form with a new mail address and its confirmation checks (メールアドレスの変更 at
the payment gate, 利用者情報の更新・変更): the address's form, and that both fields agree."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms.validators import ValidationError

from models.email_rules import is_valid_email


class EmailPairMixin:
    """For a form with the fields `email` and `email_confirm`."""

    def validate_email(self, field):
        if not is_valid_email(field.data):
            raise ValidationError(
                _l("メールアドレスの形式が正しくありません。「name@example.jp」のように、半角で入力してください。")
            )

    def validate_email_confirm(self, field):
        if field.data != self.email.data:  # type: ignore[attr-defined]
            raise ValidationError(_l("確認用のメールアドレスが一致しません。同じメールアドレスを入力してください。"))
