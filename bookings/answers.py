"""詳細申請's answers, shared by 先着 (blueprints/apply) and 抽選申込 (blueprints/lottery): for
each chosen room 利用目的, 利用人数, 参加費等の有無, and the 団体区分 when there is a choice."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from werkzeug.datastructures import MultiDict
from wtforms import RadioField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, ValidationError

from bookings.chosen import AnyRoom
from models import errors
from models.account import ResidentGroupClass
from web.errors import DOMAIN_MESSAGES, ErrorItem, form_errors
from web.formats import localized


@dataclass(frozen=True)
class RoomAnswers:
    """詳細申請 for one room: 利用目的, 利用人数, 参加費等の有無."""

    purpose_id: int
    attendees: int
    charges_participation_fee: bool


# 参加費等の有無 in URLs and forms.
CHARGES = {"yes": True, "no": False}


def room_prefix(room: AnyRoom) -> str:
    """Field names and ids of a room's answers: r12-purpose, r12-attendees, r12-charges_fee."""
    return f"r{room.id}"


class RoomAnswersForm(FlaskForm):
    """One room's 利用目的, 利用人数 and 参加費等の有無 (a GET form: no CSRF token)."""

    class Meta:
        csrf = False

    purpose = SelectField(
        # guide: L43
        _l("利用目的"),
        validate_choice=False,  # checked against the room's purposes, with our own message
        validators=[InputRequired(message=_l("利用目的を選択してください。"))],
    )
    attendees = StringField(
        # guide: L43
        _l("利用人数"),
        validators=[InputRequired(message=_l("利用人数を入力してください。"))],
    )
    charges_fee = RadioField(
        # guide: L43
        _l("参加費等の有無"),
        # guide: L43
        choices=[SelectChoice("yes", _l("あり")), SelectChoice("no", _l("なし"))],
        validate_choice=False,
        validators=[InputRequired(message=_l("参加費等の有無を選択してください。"))],
    )

    def __init__(self, room: AnyRoom, formdata=None):
        super().__init__(formdata=formdata, prefix=room_prefix(room))
        self.room = room
        self.purpose.choices = [SelectChoice("", _l("選択してください"))] + [
            SelectChoice(str(p.id), localized(p, "name")) for p in room.purposes
        ]

    def validate_purpose(self, field):
        if field.data not in {str(p.id) for p in self.room.purposes}:
            raise ValidationError(DOMAIN_MESSAGES[errors.PurposeNotAllowed])

    def validate_attendees(self, field):
        try:
            value = int((field.data or "").strip())
        except ValueError:
            value = None
        if value is None or not 1 <= value <= self.room.capacity:
            raise ValidationError(str(DOMAIN_MESSAGES[errors.AttendeesOutOfRange]) % {"capacity": self.room.capacity})
        field.number = value

    def validate_charges_fee(self, field):
        if field.data not in CHARGES:
            raise ValidationError(_l("参加費等の有無を選択してください。"))

    def answers(self) -> RoomAnswers:
        """The validated answers (call after validate())."""
        return RoomAnswers(int(self.purpose.data), self.attendees.number, CHARGES[self.charges_fee.data])


class GroupClassForm(FlaskForm):
    """団体区分, asked only when the resident holds more than one valid class."""

    class Meta:
        csrf = False

    group_class = SelectField(
        _l("団体区分"),
        validate_choice=False,
        validators=[InputRequired(message=_l("団体区分を選択してください。"))],
    )

    def __init__(self, held: list[ResidentGroupClass], formdata=None):
        super().__init__(formdata=formdata)
        self.held = held
        self.group_class.choices = [SelectChoice("", _l("選択してください"))] + [
            SelectChoice(str(h.group_class_id), localized(h.group_class, "name")) for h in held
        ]

    def validate_group_class(self, field):
        if field.data not in {str(h.group_class_id) for h in self.held}:
            raise ValidationError(_l("団体区分を選択してください。"))


class AnswerForms:
    """The 詳細申請 forms of a selection (anything with `rooms`, `slots`, `group_classes` and
    `group_class(id)`: 先着's Selection, the lottery's EntrySelection) filled from a query
    string or a posted form, validated."""

    def __init__(self, selection, values: MultiDict | None, *, validate: bool = True, rooms=None):
        self.selection = selection
        self.room_forms = [
            RoomAnswersForm(room, formdata=values) for room in (selection.rooms if rooms is None else rooms)
        ]
        self.group_form = (
            GroupClassForm(selection.group_classes, formdata=values) if len(selection.group_classes) > 1 else None
        )
        self.valid = False
        self.errors: list[ErrorItem] = []
        if validate:
            forms = ([self.group_form] if self.group_form else []) + self.room_forms
            results = [form.validate() for form in forms]
            self.valid = all(results)
            for form in forms:
                self.errors += form_errors(form)

    @property
    def group_class_id(self) -> int:
        """The 団体区分 to apply with (call after a successful validate())."""
        if self.group_form is None:
            return self.selection.group_classes[0].group_class_id
        return int(self.group_form.group_class.data)

    @property
    def chosen_group_class_id(self) -> int:
        """The 団体区分 chosen so far, for the 基本額 shown on 詳細申請; the first valid one
        until a valid choice is made."""
        held: dict[str, int] = {str(h.group_class_id): h.group_class_id for h in self.selection.group_classes}
        chosen: str = (self.group_form.group_class.data if self.group_form else None) or ""
        return held.get(chosen, self.selection.group_classes[0].group_class_id)

    @property
    def by_room(self) -> dict[int, RoomAnswers]:
        return {form.room.id: form.answers() for form in self.room_forms}

    def form_of(self, room) -> RoomAnswersForm:
        return next(form for form in self.room_forms if form.room.id == room.id)

    def query(self) -> list[tuple[str, str]]:
        """The selection and the answers as a query string (also the hidden inputs of 申込)."""
        pairs = [("slot", str(slot)) for slot in self.selection.slots]
        if self.group_form is not None:
            pairs.append(("group_class", self.group_form.group_class.data or ""))
        for form in self.room_forms:
            pairs += [
                (form.purpose.name, form.purpose.data or ""),
                (form.attendees.name, (form.attendees.data or "").strip()),
                (form.charges_fee.name, form.charges_fee.data or ""),
            ]
        return pairs
