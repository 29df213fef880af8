"""The steps after 時間帯別空き状況 that 先着申込 (blueprints/apply) and 抽選申込
(blueprints/lottery) share: reading the chosen slots from the request, the slots in words, the
ways back to the search, the refusals of the selection as a whole, and 申込確認's context."""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlencode

from flask import current_app, url_for
from flask_babel import gettext as _
from werkzeug.datastructures import MultiDict

from bookings.answers import AnswerForms
from bookings.chosen import ChosenLine, ChosenSlots
from bookings.slots import SlotRef
from models import errors, fee_rules
from web.errors import ErrorItem, domain_error_item
from web.formats import band, header_date, list_date, localized
from web.tokens import issue_token

# More slots than this in one application is not something a resident does by hand.
MAX_SLOTS = 20


class SelectionRefused(Exception):
    """The request names no slot, too many, or ones we do not know: nothing to show a form for."""

    def __init__(self, message: str, status: int = 422):
        super().__init__(message)
        self.message = message
        self.status = status


def chosen_slots(values: MultiDict, *, none_chosen: str) -> list[SlotRef]:
    """The distinct slots the request names, in order; none or more than MAX_SLOTS is refused."""
    texts = [t.strip() for t in values.getlist("slot") if t.strip()]
    if not texts:
        raise SelectionRefused(none_chosen)
    slots = {SlotRef.parse(t) for t in texts}
    if len(slots) > MAX_SLOTS:
        raise SelectionRefused(_("一度に申込できる時間帯は%(max)s件までです。選択を減らしてください。", max=MAX_SLOTS))
    return sorted(slots)


def selection_refusal(exc: Exception) -> tuple[ErrorItem, int] | None:
    """The refusals both screens word alike (the request, an expired registration or 団体区分,
    an unknown slot), or None for the others."""
    if isinstance(exc, SelectionRefused):
        return ErrorItem(exc.message), exc.status
    if isinstance(exc, (errors.GroupClassExpired, errors.RegistrationExpired)):
        return domain_error_item(exc, expires_on=header_date(exc.facts["expires_on"])), 403
    if isinstance(exc, errors.NotFound):
        return ErrorItem(_("選択された時間帯が見つかりません。時間帯別空き状況から、もう一度選択してください。")), 404
    return None


def slot_in_words(line) -> str:
    """駒場住区センター 201【旧第1会議室】 2026/12/3(木) 9:00~12:00"""
    return " ".join(
        [
            localized(line.facility, "name"),
            localized(line.room, "name"),
            list_date(line.slot.use_date),
            band(line.band.starts_at, line.band.ends_at),
        ]
    )


def availability_url(lines: Iterable) -> str:
    """施設別空き状況 of the chosen slots' facilities."""
    return url_for("search.availability", facility=sorted({line.facility.code for line in lines}))


def slots_url(lines: list) -> str | None:
    """時間帯別空き状況 for the same days and rooms, when the search area offers it."""
    if not lines or "search.slots" not in current_app.view_functions:
        return None
    cells = sorted({f"{line.room.id}:{line.slot.use_date.isoformat()}" for line in lines})
    codes = sorted({line.facility.code for line in lines})
    return url_for("search.slots", cell=cells, facility=codes)


def confirm_context(
    selection: ChosenSlots[ChosenLine], answers: AnswerForms, fees: dict, *, details_endpoint: str
) -> dict:
    """What 申込確認 and 抽選申込確認 both show: the answers with the way back to 詳細申請
    (`details_url`), the fees and their total, the 団体区分, the form's hidden answers and token."""
    query = answers.query()
    return dict(
        selection=selection,
        answers=answers,
        fees=fees,
        total_yen=fee_rules.total_yen(fees.values()),
        hidden=query,
        details_url=url_for(details_endpoint) + "?" + urlencode(query, safe=":"),
        group_class=selection.group_class(answers.group_class_id),
        form_token=issue_token(),
        charges_label={True: _("あり"), False: _("なし")},
    )
