"""詳細申請: the answers for each chosen room, and the 団体区分 when there is a choice."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import RadioField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, ValidationError

from blueprints.apply.operations import RoomAnswers
from models import errors
from models.account import ResidentGroupClass
from models.facility import Room
from web.errors import DOMAIN_MESSAGES
from web.formats import localized

# 参加費等の有無 in URLs and forms.
CHARGES = {"yes": True, "no": False}


def room_prefix(room: Room) -> str:
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

    def __init__(self, room: Room, formdata=None):
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
