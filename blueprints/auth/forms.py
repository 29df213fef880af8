"""The login form (guide §5-2 ①)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, PasswordField, RadioField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, ValidationError

from models.account_rules import (
    PasswordProblem,
    RegistrationKind,
    normalize_phone,
    normalize_registration_number,
    password_problem,
)
from models.email_rules import is_valid_email, normalise_email
from models.introduction_rules import (
    CONTACT_MAX,
    DESCRIPTION_MAX,
    MEETS_MAX,
    has_control_characters,
    is_activity,
    plain_text,
)
from web.email_fields import EmailPairMixin
from web.labels import ACTIVITY_LABELS


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


# -- 仮パスワード発行 and 利用者情報の更新・変更 (DESIGN "Accounts and sign-in") ---------------------

PASSWORD_MESSAGES = {
    PasswordProblem.LENGTH: _l("パスワードは8文字以上64文字以内で入力してください。"),
    PasswordProblem.NUMBER: _l("利用者登録番号をパスワードにすることはできません。"),
    PasswordProblem.WEAK: _l(
        "このパスワードは推測されやすいため使えません。単語を組み合わせるなど、より長く推測されにくいものにしてください。"
    ),
}


class ForgotForm(FlaskForm):
    """パスワードを忘れた場合: the registration and its email address."""

    registration_kind = LoginForm.registration_kind
    registration_number = LoginForm.registration_number
    email = StringField(
        _l("登録しているメールアドレス"),
        filters=[normalise_email],
        validators=[
            InputRequired(message=_l("メールアドレスを入力してください。")),
            Length(max=254, message=_l("メールアドレスが長すぎます。")),
        ],
    )

    validate_registration_number = LoginForm.validate_registration_number

    def validate_email(self, field):
        if not is_valid_email(field.data):
            raise ValidationError(
                _l("メールアドレスの形式が正しくありません。「name@example.jp」のように、半角で入力してください。")
            )


class NewPasswordMixin:
    """The new password twice; `registration_number` (set by the view) must not be it."""

    registration_number_for_check = ""
    hints: tuple[str, ...] = ()

    new_password = PasswordField(
        _l("新しいパスワード"),
        validators=[InputRequired(message=_l("新しいパスワードを入力してください。"))],
    )
    new_password_confirm = PasswordField(
        _l("新しいパスワード（確認用）"),
        validators=[InputRequired(message=_l("確認のため、新しいパスワードをもう一度入力してください。"))],
    )

    def validate_new_password(self, field):
        problem = password_problem(
            field.data or "", registration_number=self.registration_number_for_check, hints=self.hints
        )
        if problem:
            raise ValidationError(PASSWORD_MESSAGES[problem])

    def validate_new_password_confirm(self, field):
        if field.data != self.new_password.data:
            raise ValidationError(_l("確認用のパスワードが一致しません。同じパスワードを入力してください。"))


class ResetForm(NewPasswordMixin, FlaskForm):
    token = HiddenField()


class CurrentPasswordMixin:
    current_password = PasswordField(
        _l("現在のパスワード"),
        validators=[
            InputRequired(message=_l("現在のパスワードを入力してください。")),
            Length(max=200, message=_l("現在のパスワードが正しくありません。")),
        ],
    )
    epoch = HiddenField()


class PasswordChangeForm(CurrentPasswordMixin, NewPasswordMixin, FlaskForm):
    pass


class EmailChangeForm(EmailPairMixin, CurrentPasswordMixin, FlaskForm):
    email = StringField(
        _l("新しいメールアドレス"),
        filters=[normalise_email],
        validators=[
            InputRequired(message=_l("メールアドレスを入力してください。")),
            Length(max=254, message=_l("メールアドレスが長すぎます。")),
        ],
    )
    email_confirm = StringField(
        _l("新しいメールアドレス（確認用）"),
        filters=[normalise_email],
        validators=[InputRequired(message=_l("確認用のメールアドレスを入力してください。"))],
    )


class PhoneForm(FlaskForm):
    phone = StringField(
        _l("電話番号"),
        validators=[InputRequired(message=_l("電話番号を入力してください。"))],
    )

    def validate_phone(self, field):
        try:
            field.normalized = normalize_phone(field.data)
        except ValueError:
            raise ValidationError(
                _l("電話番号は、市外局番から10桁または11桁の数字で入力してください（例: 03-1234-5678）。")
            ) from None


class TokenForm(FlaskForm):
    """メールアドレス変更の確定: the link's token, sent by a button (opening the link changes nothing)."""

    token = HiddenField()


# -- サークル(団体) 紹介 (issue 11) ------------------------------------------------------------------


def _plain(value):
    return plain_text(value) if isinstance(value, str) else value


def _no_control_characters(form, field):
    if isinstance(field.data, str) and has_control_characters(field.data):
        raise ValidationError(
            _l("%(label)sに使えない文字が含まれています。文字だけで入力してください。", label=field.label.text)
        )


class IntroductionForm(FlaskForm):
    """A group's introduction: plain text only (shown escaped), with limits the page states."""

    published = BooleanField(_l("サークル(団体) 紹介に掲載する"))
    activity = SelectField(
        _l("活動分野"),
        choices=[
            SelectChoice("", _l("選択してください")),
            *(SelectChoice(code, label) for code, label in ACTIVITY_LABELS.items()),
        ],
        validate_choice=False,
    )
    description = TextAreaField(
        _l("紹介文"),
        filters=[_plain],
        validators=[
            DataRequired(message=_l("紹介文を入力してください。")),
            Length(max=DESCRIPTION_MAX, message=_l("紹介文は%(max)d文字以内で入力してください。")),
            _no_control_characters,
        ],
    )
    meets = TextAreaField(
        _l("活動場所・日時"),
        filters=[_plain],
        validators=[
            Length(max=MEETS_MAX, message=_l("活動場所・日時は%(max)d文字以内で入力してください。")),
            _no_control_characters,
        ],
    )
    contact = TextAreaField(
        _l("連絡方法"),
        filters=[_plain],
        validators=[
            Length(max=CONTACT_MAX, message=_l("連絡方法は%(max)d文字以内で入力してください。")),
            _no_control_characters,
        ],
    )
    version = HiddenField()

    def validate_published(self, field):
        # A checkbox sends its value or nothing; anything else was not this page's form.
        if field.raw_data and field.raw_data[0] not in ("y", "on", "1", "true"):
            raise ValidationError(_l("「サークル(団体) 紹介に掲載する」の値が正しくありません。選択し直してください。"))

    def validate_activity(self, field):
        if not isinstance(field.data, str) or not is_activity(field.data):
            raise ValidationError(_l("活動分野を一覧から選択してください。"))

    def validate_version(self, field):
        if not (field.data or "").isdigit() or not field.data.isascii() or len(field.data) > 9:
            raise ValidationError(_l("この画面の内容が正しくありません。もう一度画面を開き直してください。"))


class WithdrawIntroductionForm(FlaskForm):
    version = HiddenField()

    validate_version = IntroductionForm.validate_version
