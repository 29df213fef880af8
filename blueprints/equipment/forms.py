"""The form of 備品（付帯品）予約 and its 確認: a quantity per item of the facility, the
lending time (利用開始, 利用終了) and the booking's version. A GET form on the way (no CSRF
token; the choices live in the URL) and a POST form for 予約 (CSRF and a one-time token)."""

from __future__ import annotations

import unicodedata
from datetime import time

from flask import g
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, IntegerField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import NumberRange, Optional, ValidationError
from wtforms.widgets import HiddenInput

from blueprints.equipment.operations import EquipmentRequest
from models import errors
from models.equipment_rules import check_lending_window
from models.facility import EquipmentItem
from models.reservation import Reservation
from web.errors import DOMAIN_MESSAGES
from web.formats import clock_time, localized
from web.navigation import MAX_ROW_ID

# A quantity with more digits than this is above any stock (and never converted whole).
MAX_DIGITS = 4
ABOVE_ANY_STOCK = 10**MAX_DIGITS


def quantity_name(item: EquipmentItem) -> str:
    """The field's name and id: item_12."""
    return f"item_{item.id}"


def time_value(t: time) -> str:
    return t.strftime("%H:%M")


def parse_time(text: str | None) -> time | None:
    """ "09:30" → 9:30; anything else → None."""
    if not isinstance(text, str) or len(text) != 5:
        return None
    try:
        return time.fromisoformat(text)
    except ValueError:
        return None


def parse_quantity(text: str | None) -> int | None:
    """A whole number from 0; empty means 0. Full-width digits typed on a Japanese keyboard
    count. None when it is not a number (negative, decimal, words)."""
    text = unicodedata.normalize("NFKC", text or "").strip() or "0"
    if not (text.isascii() and text.isdigit()):
        return None
    digits = text.lstrip("0") or "0"
    return int(digits) if len(digits) <= MAX_DIGITS else ABOVE_ANY_STOCK


def units(count: int, item: EquipmentItem) -> str:
    """9台 / 9 units."""
    if g.get("locale") == "en":
        return f"{count} {item.unit_en}"
    return f"{count}{item.unit_ja}"


class QuantityCheck:
    """Refuses what is not a whole number from 0; whether it fits the stock is decided
    with the lending time (EquipmentForm.check_stock)."""

    def __init__(self, item: EquipmentItem):
        self.item = item

    def __call__(self, form, field):
        if parse_quantity(field.data) is None:
            raise ValidationError(
                _("%(item)sの予約数は、0以上の数字で入力してください。", item=localized(self.item, "name"))
            )


class EquipmentForm(FlaskForm):
    """One class per booking: `for_booking` adds a quantity field per item of its facility."""

    class Meta:
        csrf = False

    # guide: L364
    lend_start = SelectField(_l("利用開始"), validate_choice=False)
    # guide: L364
    lend_end = SelectField(_l("利用終了"), validate_choice=False)
    version = IntegerField(widget=HiddenInput(), validators=[Optional(), NumberRange(min=1, max=MAX_ROW_ID)])
    form_token = HiddenField()

    @classmethod
    def for_booking(
        cls,
        reservation: Reservation,
        lending_times: list[time],
        *,
        formdata=None,
        data: EquipmentRequest | None = None,
        csrf: bool = False,
    ) -> EquipmentForm:
        """The form for this booking; filled from `formdata` when given, else from `data`
        (the booking's equipment as it stands)."""
        items = reservation.room.facility.equipment_items

        class BookingEquipmentForm(cls):
            pass

        for item in items:
            setattr(
                BookingEquipmentForm,
                quantity_name(item),
                StringField(localized(item, "name"), validators=[QuantityCheck(item)]),
            )
        values = {}
        if data is not None:
            values = {quantity_name(item): str(data.quantities.get(item.id, 0)) for item in items}
            values.update(
                lend_start=time_value(data.lend_starts),
                lend_end=time_value(data.lend_ends),
                version=reservation.version,
            )
        form = BookingEquipmentForm(formdata=formdata, meta={"csrf": csrf}, **values)
        form.reservation = reservation
        form.items = items
        form.lend_start.choices = form.lend_end.choices = [
            SelectChoice(time_value(t), clock_time(t)) for t in lending_times
        ]
        return form

    def quantity_field(self, item: EquipmentItem):
        return self[quantity_name(item)]

    def validate_lend_start(self, field):
        if parse_time(field.data) not in self._times():
            raise ValidationError(self._outside_slot())

    def validate_lend_end(self, field):
        starts, ends = parse_time(self.lend_start.data), parse_time(field.data)
        if ends not in self._times():
            raise ValidationError(self._outside_slot())
        if starts not in self._times():
            return  # said on 利用開始
        r = self.reservation
        try:
            check_lending_window(r.starts_at, r.ends_at, starts, ends)
        except errors.LendingTimeReversed:
            raise ValidationError(str(DOMAIN_MESSAGES[errors.LendingTimeReversed])) from None

    def _times(self) -> set[time]:
        return {parse_time(choice.value) for choice in self.lend_start.choices}

    def _outside_slot(self) -> str:
        r = self.reservation
        message = DOMAIN_MESSAGES[errors.LendingTimeOutsideSlot]
        return str(message) % {"starts_at": clock_time(r.starts_at), "ends_at": clock_time(r.ends_at)}

    def request(self) -> EquipmentRequest:
        """What the form asks for as far as it can be read: an unreadable quantity counts
        as 0 and an unreadable time as the slot's (the errors say what is wrong)."""
        r = self.reservation
        quantities = {item.id: parse_quantity(self.quantity_field(item).data) or 0 for item in self.items}
        starts = parse_time(self.lend_start.data)
        ends = parse_time(self.lend_end.data)
        return EquipmentRequest(
            quantities,
            starts if starts in self._times() else r.starts_at,
            ends if ends in self._times() else r.ends_at,
        )

    def check_stock(self, available: dict[int, int]) -> bool:
        """Add an error to each quantity above what is free; True when all fit."""
        fits = True
        for item in self.items:
            field = self.quantity_field(item)
            number = parse_quantity(field.data)
            if number is not None and number > available.get(item.id, 0):
                field.errors = [*field.errors, stock_message(item, available.get(item.id, 0))]
                fits = False
        return fits


def stock_message(item: EquipmentItem, available: int) -> str:
    return str(DOMAIN_MESSAGES[errors.OutOfStock]) % {
        "item": localized(item, "name"),
        "available": units(available, item),
    }
