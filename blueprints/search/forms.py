"""The search area's GET forms: the facility filter, the grid's facilities, start date and
period, and the chosen day cells. Their state lives in the URL, so none carries a CSRF token."""

from __future__ import annotations

import re
from datetime import date

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import RadioField, SelectField, SelectMultipleField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import AnyOf, Optional, ValidationError
from wtforms.widgets import DateInput

from models.availability_rules import GridPeriod

MAX_FACILITIES = 10
MAX_CELLS = 50
FACILITY_CODE = re.compile(r"^[0-9]{3}$")

PERIOD_CHOICES = [
    SelectChoice(GridPeriod.WEEK.value, _l("1週間")),
    SelectChoice(GridPeriod.TWO_WEEKS.value, _l("2週間")),
    SelectChoice(GridPeriod.MONTH.value, _l("1ヶ月")),
]


def choice_label(choices: list[SelectChoice], value: str) -> str:
    return str(next((c.label for c in choices if c.value == value), value))


class KnownChoice:
    """The value is one the field offers (WTForms' own message would be English)."""

    def __init__(self, message):
        self.message = message

    def __call__(self, form, field):
        if field.data not in {choice.value for choice in field.choices}:
            raise ValidationError(self.message)


class ValueList(SelectMultipleField):
    """Every value a repeated query parameter carries (facility=013&facility=039), checked
    by the form rather than against a list of choices."""

    def __init__(self, label=None, validators=None, **kwargs):
        super().__init__(label, validators, choices=[], validate_choice=False, **kwargs)

    def process_formdata(self, valuelist):
        self.data = [value.strip() for value in valuelist if value and value.strip()]


class FacilitySearchForm(FlaskForm):
    """施設の検索: one select per way to search; an empty select means any. The choices are
    the database's codes, set by the view."""

    class Meta:
        csrf = False

    category = SelectField(
        _l("カテゴリ"),
        validate_choice=False,
        validators=[Optional(), KnownChoice(_l("カテゴリは一覧から選択してください。"))],
    )
    purpose = SelectField(
        _l("使用目的"),
        validate_choice=False,
        validators=[Optional(), KnownChoice(_l("使用目的は一覧から選択してください。"))],
    )
    room_type = SelectField(
        _l("施設種類"),
        validate_choice=False,
        validators=[Optional(), KnownChoice(_l("施設種類は一覧から選択してください。"))],
    )
    kana = SelectField(
        _l("施設名の行"),
        validate_choice=False,
        validators=[Optional(), KnownChoice(_l("施設名の行は一覧から選択してください。"))],
    )
    # Facilities ticked before (coming back from 施設別空き状況); only used to tick them again.
    facility = ValueList(_l("施設"))


def _check_facility_codes(form, field):
    codes = list(dict.fromkeys(field.data))  # the same facility twice counts once
    field.data = codes
    if not codes:
        raise ValidationError(_l("施設を選択してください。"))
    if len(codes) > MAX_FACILITIES:
        raise ValidationError(_l("一度に選択できる施設は%(max)s件までです。", max=MAX_FACILITIES))
    if not all(FACILITY_CODE.match(code) for code in codes):
        raise ValidationError(_l("施設の指定が正しくありません。施設の検索からもう一度選択してください。"))


def _check_start(form, field):
    if not field.data:
        field.parsed = None
        return
    try:
        field.parsed = date.fromisoformat(field.data.strip())
    except ValueError:
        field.parsed = None
        raise ValidationError(_l("開始日は「2026-12-01」のように年-月-日で入力してください。")) from None


class AvailabilityForm(FlaskForm):
    """施設別空き状況: which facilities, from when, for how long."""

    class Meta:
        csrf = False

    facility = ValueList(_l("施設"), validators=[_check_facility_codes])
    start = StringField(_l("開始日"), name="from", widget=DateInput(), validators=[_check_start])
    period = RadioField(
        _l("表示期間"),
        choices=PERIOD_CHOICES,
        default=GridPeriod.WEEK.value,
        validate_choice=False,
        validators=[
            AnyOf([p.value for p in GridPeriod], message=_l("表示期間は1週間、2週間、1ヶ月から選択してください。"))
        ],
    )
    # Day cells to tick again (coming back from 時間帯別空き状況).
    cell = ValueList(_l("利用日"))

    @property
    def grid_period(self) -> GridPeriod:
        return GridPeriod(self.period.data) if self.period.data in {p.value for p in GridPeriod} else GridPeriod.WEEK


def _check_cells(form, field):
    cells = list(dict.fromkeys(field.data))
    field.data = cells
    if not cells:
        raise ValidationError(_l("利用したい日を選択してください。"))
    if len(cells) > MAX_CELLS:
        raise ValidationError(_l("一度に選択できる日は%(max)s件までです。", max=MAX_CELLS))


class SlotSearchForm(AvailabilityForm):
    """時間帯別空き状況: the chosen day cells, with the grid they came from (for 前に戻る).
    Here the grid's own fields are optional: they only say where 前に戻る leads."""

    facility = ValueList(_l("施設"))
    cell = ValueList(_l("利用日"), validators=[_check_cells])
    # Slots ticked before (coming back from 詳細申請); only used to tick them again.
    slot = ValueList(_l("時間帯"))
