"""時間帯別空き状況's body as the screen serves it: the chosen rooms' days × time bands, the
lottery note and calendar, the legend and the buttons, rendered once and cached (in Redis
beside 施設別空き状況's parts, blueprints/search/day_grid.py, or in a bounded in-process LRU of
its own, web.availability_cache) under
everything it depends on — the chosen cells, their facilities' availability versions,
today's booking window, the lottery's months over the chosen days (phase, dates, rooms),
the language, the profile and the presentation — and nothing that differs per request.
What does differ is applied in one cheap pass over the cached HTML, never by rendering it
again:

- 前に戻る's link (the grid the cells were chosen on, from the URL);
- the group's own 再予約不可 slots (logged in only: one query of its cancelled slots in the
  chosen rooms and days; such a slot's cell is written anew in its place);
- the chosen slots (checked), from the URL.

Days up to today are never cached: a slot of today that starts while the page is cached
would change without a new version."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime

from flask import current_app, g
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup, escape

from blueprints.search import operations
from blueprints.search.day_grid import variant
from blueprints.search.operations import CellRef, RoomSlots, SlotGrid
from bookings.slots import SlotRef, cancelled_within
from lottery.schedule import LotterySchedule
from models.availability_rules import SlotStatus, booking_window_rule
from models.time_rules import jst_day
from web.availability_cache import GridCache, LocalGridCache
from web.data import read_session
from web.formats import band, list_date, localized, long_date, yen
from web.labels import SLOT_STATUSES

# Bumped when the cached value's shape or the body's markup changes.
FORMAT = "s1"
# A chosen slot as the URL gives it (anything else cannot match a slot).
SLOT_VALUE = re.compile(r"\d{1,10}:\d{4}-\d{2}-\d{2}:\d{1,10}")
# Where 前に戻る's link goes in a cached body (an URL never holds it).
BACK = "/__slots-back-url__"
# In-process, the bodies have their own bounded LRU beside the grid's (a body is about 7,000
# characters per room and 3 days, and each choice of cells is its own entry): many residents
# choosing different days must not push 施設別空き状況's parts out. Redis keeps both (a day's expiry).
# 1 MB of memory (about 40 bodies of 3 days and six rooms): with the grid's 3 MB, a worker's
# caches stay within the 4 MB that keeps it under issue 12's 90 MB at factor 10.
LOCAL_ENTRIES = 1024
LOCAL_MAX_BYTES = 1024 * 1024


@dataclass
class SlotBody:
    """A rendered body and what the per-request pass needs of it."""

    html: str  # search/_slots.html with BACK for 前に戻る's link, no slot checked or blocked
    rooms: list[tuple[str, date]]  # each chosen room-day's facility code and day, in order
    choosable: dict[str, str]  # each slot that can be chosen (first come or lottery): its band

    def encode(self) -> str:
        rooms = [[code, day.isoformat()] for code, day in self.rooms]
        return json.dumps({"rooms": rooms, "choosable": self.choosable}, separators=(",", ":")) + "\n" + self.html

    @classmethod
    def decode(cls, value: str | None) -> SlotBody | None:
        if not value:
            return None
        head, _sep, html = value.partition("\n")
        try:
            data = json.loads(head)
            rooms = [(str(code), date.fromisoformat(day)) for code, day in data["rooms"]]
            choosable = {str(k): str(v) for k, v in data["choosable"].items()}
        except (ValueError, KeyError, TypeError):
            return None
        return cls(html, rooms, choosable)

    @classmethod
    def of(cls, grid: SlotGrid, html: str) -> SlotBody:
        rooms = [(room.facility.code, day.day) for room in grid.rooms for day in room.days]
        choosable = {
            str(slot.ref): band(slot.band.starts_at, slot.band.ends_at)
            for room in grid.rooms
            for day in room.days
            for slot in day.slots
            if slot.status.selectable or slot.status.enterable
        }
        return cls(html, rooms, choosable)


def slot_body(cells: list[CellRef], *, now: datetime, days_ahead: int, render: Callable[[SlotGrid], str]) -> SlotBody:
    """The body for `cells`, from the cache or computed (operations.build_slot_grid),
    rendered by `render` and cached. Raises what build_slot_grid raises (NotFound,
    SlotNotBookable): those answers are not cached."""
    session = read_session()
    cache = _cache()
    key = None
    schedule = None
    days = [cell.use_date for cell in cells]
    today = jst_day(now)
    if cache is not None and cells and min(days) > today:
        room_ids = sorted({cell.room_id for cell in cells})
        rooms, lottery = operations.read_slot_keys(session, room_ids, first_day=min(days), last_day=max(days), now=now)
        if len(rooms) == len(room_ids):
            window = booking_window_rule(today, days_ahead)
            chosen = ",".join(sorted({str(cell) for cell in cells}))
            versions = ",".join(f"{rooms[room_id][0]}.{rooms[room_id][1]}" for room_id in room_ids)
            digest = hashlib.blake2s(f"{chosen}|{versions}".encode(), digest_size=16).hexdigest()
            key = f"{FORMAT}:slots:{variant()}:{window.first.isoformat()}:{window.last.isoformat()}:{lottery}:{digest}"
            body = SlotBody.decode(cache.get(key))
            if body is not None:
                return body
            if not lottery:  # no lottery month in the range: none to read again
                schedule = LotterySchedule({})
    grid = operations.build_slot_grid(session, cells=cells, now=now, days_ahead=days_ahead, schedule=schedule)
    body = SlotBody.of(grid, render(grid))
    if key is not None:
        cache.set(key, body.encode())
    return body


def _cache() -> GridCache | None:
    """The availability cache (Redis, or none when it is off), or in-process the bodies' own
    LRU, made on first use per app."""
    shared = current_app.extensions["availability_cache"]
    if not isinstance(shared, LocalGridCache):
        return shared
    own = current_app.extensions.get("slot_body_cache")
    if own is None:
        own = current_app.extensions["slot_body_cache"] = LocalGridCache(
            min(shared.entries, LOCAL_ENTRIES), LOCAL_MAX_BYTES
        )
    return own


def personal(body: SlotBody, *, back_url: str, chosen, reader: bool) -> Markup:
    """The body as this request shows it: 前に戻る's link, the group's 再予約不可 slots (as
    search/_slot_table.html and _slot_list.html write them) and the chosen slots checked."""
    html = body.html.replace(BACK, str(escape(back_url)))
    if current_user.is_authenticated and body.choosable:
        refs = [value.split(":") for value in body.choosable]
        days = [date.fromisoformat(day) for _room, day, _band in refs]
        cancelled = cancelled_within(
            read_session(), current_user.id, sorted({int(room) for room, _day, _band in refs}), min(days), max(days)
        )
        for ref in sorted(cancelled):
            value = str(ref)
            if value in body.choosable:
                html = _block(html, value, ref.use_date, body.choosable[value], reader)
    for value in set(chosen):
        if SLOT_VALUE.fullmatch(value):
            at = html.find(f'name="slot" value="{value}" id="')
            if at >= 0:
                end = html.find(">", at)
                html = html[:end] + " checked" + html[end:]
    return Markup(html)  # noqa: S704 (rendered by Jinja, values escaped)


def _block(html: str, value: str, day: date, band_label: str, reader: bool) -> str:
    """The slot's cell (found by its value) as 再予約不可: × and the words, no checkbox."""
    at = html.find(f'name="slot" value="{value}"')
    if at < 0:
        return html
    word = _("再予約不可")
    if reader:
        start, end = html.rfind("<li", 0, at), html.find("</li>", at) + len("</li>")
        new = f"<li>{escape(f'{long_date(day)} {band_label} {word}')}</li>"
    else:
        start, end = html.rfind("<td", 0, at), html.find("</td>", at) + len("</td>")
        new = (
            f'<td class="slot-cell status-taken" data-label="{escape(band_label)}">\n'
            f'          <span class="status-symbol" aria-hidden="true">×</span>'
            f'<span class="status-word">{escape(word)}</span>\n        </td>'
        )
    return html[:start] + new + html[end:]


@dataclass(frozen=True)
class _SlotLabels:
    """One language's words for slots: each status's symbol and words and 再予約不可's
    (escaped), and the formats of 申込n件 and 基本額 (table and sentence)."""

    statuses: dict[SlotStatus, tuple[str, str]]
    rebook: str
    entries: str
    fee: str
    sentence_fee: str


_SLOT_LABELS: dict[str, _SlotLabels] = {}


def _slot_labels(locale: str) -> _SlotLabels:
    """The words once per language (the catalogues are compiled; they do not change while
    the process runs)."""
    labels = _SLOT_LABELS.get(locale)
    if labels is None:
        labels = _SLOT_LABELS[locale] = _SlotLabels(
            {status: (symbol, str(escape(str(word)))) for status, (symbol, word) in SLOT_STATUSES.items()},
            str(escape(_("再予約不可"))),
            _("申込%(n)s件"),
            _("基本額 %(amount)s"),
            _("（基本額 %(amount)s）"),
        )
    return labels


class SlotWriter:
    """The markup of each room's slots in one language and presentation, as
    search/_slot_table.html (a table's rows: each day's label and cells) and
    search/_slot_list.html (reader mode's sentences) show them around it: written here, not
    by Jinja, each status's words once per language and each band's label once per room.
    `first` gets id="slot" (the error summary links to it); `chosen` are ticked and
    `blocked` (this group's 再予約不可) shown as taken; the cached body has neither."""

    def __init__(self, *, reader: bool, first: SlotRef | None, chosen=frozenset(), blocked=frozenset()):
        self.reader = reader
        self.first = first
        self.chosen = chosen
        self.blocked = blocked
        self.words = _slot_labels(g.get("locale", "ja"))

    def room(self, room_slots: RoomSlots) -> list[tuple[str, Markup]] | Markup:
        """A table's rows (each day's label and its cells), or reader mode's list items."""
        room = room_slots.room
        name = str(escape(localized(room, "name")))
        bands = {b.id: str(escape(band(b.starts_at, b.ends_at))) for b in room.time_bands}
        words, reader = self.words, self.reader
        labels, rebook = words.statuses, words.rebook
        rows: list[tuple[str, Markup]] = []
        items: list[str] = []
        for day_slots in room_slots.days:
            spoken = str(escape(long_date(day_slots.day)))
            out = items if reader else []
            for slot in day_slots.slots:
                status = slot.status
                symbol, word = labels[status]
                label = bands[slot.band.id]
                choosable = status.selectable or status.enterable
                if choosable and slot.ref in self.blocked:
                    out.append(self._blocked(label, spoken, rebook))
                    continue
                count = str(escape(words.entries % {"n": slot.entries})) if status.enterable else ""
                if not choosable:
                    if reader:
                        out.append(f"    <li>{spoken} {label} {word}</li>\n")
                    else:
                        out.append(
                            f'        <td class="slot-cell status-{status.value}" data-label="{label}">\n'
                            f'          <span class="status-symbol" aria-hidden="true">{symbol}</span>'
                            f'<span class="status-word">{word}</span>\n        </td>\n'
                        )
                    continue
                value = str(slot.ref)
                box = "slot" if slot.ref == self.first else "slot-" + value.replace(":", "-")
                checked = " checked" if value in self.chosen else ""
                fee = slot.base_fee_yen
                if reader:
                    sentence = f"{spoken} {label} {word}" + (f" {count}" if count else "")
                    more = (
                        f' <span class="base-fee">{escape(words.sentence_fee % {"amount": yen(fee)})}</span>'
                        if fee is not None
                        else ""
                    )
                    out.append(
                        f'    <li class="choice"><input type="checkbox" name="slot" value="{value}" id="{box}"{checked}>'
                        f' <label for="{box}">{sentence}</label>{more}</li>\n'
                    )
                else:
                    entries = f' <span class="entry-count">{count}</span>' if count else ""
                    more = (
                        f'<span class="base-fee">{escape(words.fee % {"amount": yen(fee)})}</span>'
                        if fee is not None
                        else ""
                    )
                    out.append(
                        f'        <td class="slot-cell status-{status.value}" data-label="{label}">\n'
                        f'          <label class="cell-choice" for="{box}"><input type="checkbox" name="slot"'
                        f' value="{value}" id="{box}"{checked}><span class="visually-hidden">{name} {spoken} {label}'
                        f' </span><span class="status-symbol" aria-hidden="true">{symbol}</span>'
                        f'<span class="status-word">{word}</span>{entries}</label>\n{more}        </td>\n'
                    )
            if not reader:
                rows.append((list_date(day_slots.day), Markup("".join(out))))  # noqa: S704 (escaped here)
        return Markup("".join(items)) if reader else rows  # noqa: S704 (escaped here)

    def _blocked(self, label: str, spoken: str, rebook: str) -> str:
        if self.reader:
            return f"    <li>{spoken} {label} {rebook}</li>\n"
        return (
            f'        <td class="slot-cell status-taken" data-label="{label}">\n'
            f'          <span class="status-symbol" aria-hidden="true">×</span>'
            f'<span class="status-word">{rebook}</span>\n        </td>\n'
        )


def slot_rows(grid: SlotGrid, *, reader: bool, chosen=frozenset(), blocked=frozenset()) -> dict:
    """Each room's rows or items (SlotWriter), by room id, for search/_slots.html."""
    first = grid.first_free
    writer = SlotWriter(reader=reader, first=first.ref if first else None, chosen=chosen, blocked=blocked)
    return {room_slots.room.id: writer.room(room_slots) for room_slots in grid.rooms}
