"""The form of 予約の取消 確認 (guide L958-L993): one 取消事由 for the batch, 同意します, and
the bookings as shown (予約番号 and version each) with a one-time token."""

from __future__ import annotations

import re
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, TextAreaField
from wtforms.validators import Length

from blueprints.cancel.operations import MAX_REASON_LENGTH, MAX_SELECTION
from models.numbering_rules import RESERVATION_NUMBER
from web.navigation import MAX_ROW_ID

# One hidden field per booking: "2026-000001:3:75" (予約番号 : the version shown : the refund
# rate shown, in percent).
BOOKING_VALUE = re.compile(r"^(\d{4}-\d{6}):(\d{1,10}):(\d{1,3})$")


@dataclass(frozen=True)
class ShownBooking:
    """A booking as 予約の取消 確認 showed it."""

    version: int
    refund_percent: int


class MalformedBookings(ValueError):
    """The hidden bookings of the form are missing or not what the page sent."""


def parse_bookings(values: list[str]) -> dict[str, ShownBooking]:
    """予約番号 → the version and refund rate shown, from the form's hidden fields."""
    versions: dict[str, ShownBooking] = {}
    for value in values:
        match = BOOKING_VALUE.match(value or "")
        if not match or not RESERVATION_NUMBER.match(match.group(1)):
            raise MalformedBookings(value)
        number, version, percent = match.group(1), int(match.group(2)), int(match.group(3))
        if not 1 <= version <= MAX_ROW_ID or not 0 <= percent <= 100 or number in versions:
            raise MalformedBookings(value)
        versions[number] = ShownBooking(version, percent)
    if not versions or len(versions) > MAX_SELECTION:
        raise MalformedBookings("count")
    return versions


class CancelForm(FlaskForm):
    """取消事由 is required only when the batch holds a 本予約, and 同意します only when it
    holds a paid booking: the view checks both against the bookings it loaded."""

    # guide: L962
    reason = TextAreaField(
        _l("取消事由"),
        filters=[lambda value: value.strip() if isinstance(value, str) else value],
        validators=[Length(max=MAX_REASON_LENGTH, message=_l("取消事由は%(max)d文字以内で入力してください。"))],
    )
    # guide: L991
    agree = BooleanField(_l("同意します"))
    form_token = HiddenField()
