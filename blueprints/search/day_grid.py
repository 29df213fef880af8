"""施設別空き状況's grid as the screen serves it: each facility's rooms × days rendered once
and cached (web.availability_cache: Redis when configured, a bounded in-process LRU
otherwise) under everything it depends on — the facility and its availability version,
the period, today's booking window, the lottery's months, the language, the
profile and the presentation — and nothing that differs per request. What does differ is
applied in one cheap pass over the cached HTML, never by rendering it again:

- the group's own 再予約不可 days (logged in only: one query of its cancelled slots in the
  facilities and period; a changed day's cell is written anew and put in its place);
- the first day that can be chosen, which gets id="cell" (the error summary links to it);
- the chosen days (checked), from the URL.

The cells themselves are written here (CellWriter), not by Jinja: a month of six rooms is
186 cells, and each is a handful of strings joined. The table and list around them are the
templates search/_day_table.html and search/_day_list.html."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from functools import lru_cache

from flask import current_app, g
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup, escape
from sqlalchemy import Connection

from blueprints.search import operations
from lottery.schedule import LotterySchedule, MonthSchedule, read_schedule
from models.availability_rules import BookingWindow, DayStatus, booking_window_rule
from models.time_rules import jst_day
from web.bounded_memo import BoundedMemo
from web.data import database, read_session
from web.formats import localized, long_date, short_date
from web.labels import DAY_STATUSES

# Bumped when the cached value's shape or the cells' markup changes.
FORMAT = "h2"
# A chosen cell as the URL gives it (anything else cannot match a cell).
CELL_VALUE = re.compile(r"\d{1,10}:\d{4}-\d{2}-\d{2}")


@dataclass
class FacilityPart:
    """One facility's shared grid: each room's statuses (for the first choosable day and the
    group's overlay), the lottery months that draw one of its rooms, and the HTML."""

    rooms: dict[int, list[DayStatus]]
    names: dict[int, str]  # each room's name, escaped, as its cells' accessible names start
    months: list[str]
    html: str

    def encode(self) -> str:
        codes = {room_id: "".join(_CODES[s] for s in statuses) for room_id, statuses in self.rooms.items()}
        return (
            json.dumps({"rooms": codes, "names": self.names, "months": self.months}, separators=(",", ":"))
            + "\n"
            + self.html
        )

    @classmethod
    def decode(cls, value: str | None, days: int) -> FacilityPart | None:
        if not value:
            return None
        head, _sep, html = value.partition("\n")
        try:
            data = json.loads(head)
            rooms = {int(room_id): [_STATUSES[c] for c in codes] for room_id, codes in data["rooms"].items()}
            names = {int(room_id): name for room_id, name in data["names"].items()}
        except (ValueError, KeyError, TypeError):
            return None
        if any(len(statuses) != days for statuses in rooms.values()):
            return None
        return cls(rooms, names, list(data["months"]), html)


# One letter per DayStatus in a cached value.
_CODES = {status: status.value[0] if status is not DayStatus.FULL else "x" for status in DayStatus}
_STATUSES = {code: status for status, code in _CODES.items()}
assert len(_STATUSES) == len(DayStatus)


@dataclass
class SharedGrid:
    """What search/_availability.html shows of the grid."""

    days: list[date]
    window: BookingWindow
    lottery_months_of: Callable[[], list[MonthSchedule]]
    parts: list[Markup]
    first: str | None  # the first day that can be chosen, as its cell value
    frame_key: str  # what the page around the parts depends on besides the URL (framed)
    # An anonymous request's: the parts' keys and the chosen cells (FINISHED), and what was
    # found there for it (then nothing else is set: parts empty).
    finished_key: tuple | None = None
    finished: bytes | None = None

    @property
    def lottery_months(self) -> list[MonthSchedule]:
        """The months in the period that draw one of the facilities' rooms (read when asked)."""
        return self.lottery_months_of()


class _Lazy:
    """A value computed once, when first asked for."""

    def __init__(self, compute: Callable):
        self.compute = compute
        self.value = None
        self.done = False

    def __call__(self):
        if not self.done:
            self.value, self.done = self.compute(), True
        return self.value


class FinishedGrids(BoundedMemo[tuple, bytes]):
    """What an anonymous request for a grid finally sends, UTF-8 (the htmx fragment, or the
    body that the whole page puts in its layout), per URL and per the parts' keys: at most
    `max_bytes` of them per process, least recently used out first. Everything in it is
    what every anonymous visitor asking for that URL gets (the shared parts, the frame, the
    URL's chosen cells and the first choosable day), and the parts' keys hold each
    facility's availability version: a new version is a new key, so an entry is never
    served after the commit that changed what it shows."""

    def __init__(self, max_bytes: int):
        super().__init__(max_bytes)


# Per app and process, beside the parts' cache (web/availability_cache.py): a few fragments and pages.
FINISHED_BYTES = 512 * 1024


def finished_grids() -> FinishedGrids:
    """The app's FinishedGrids (one per app: two apps in a process read two databases)."""
    grids = current_app.extensions.get("finished_grids")
    if grids is None:
        grids = current_app.extensions.setdefault("finished_grids", FinishedGrids(FINISHED_BYTES))
    return grids


# Where the facilities' parts go in a cached frame (data is escaped: it never holds "<!").
PARTS = "<!--grid-parts-->"


def framed(grid: SharedGrid, url_key: str, render: Callable[[SharedGrid], str]) -> Markup:
    """search/_availability.html for `grid`: everything around the facilities' parts — the
    period navigation and form, the lottery calendar, the legend, 次へ進む — is the same for
    every resident asking for the same URL (`url_key`: facilities, start, period) and is
    cached as well, rendered by `render` with a placeholder for the parts."""
    cache = current_app.extensions["availability_cache"]
    key = f"{FORMAT}:frame:{variant()}:{url_key}:{grid.frame_key}:{grid.first is not None}"
    frame = cache.get(key) if cache else None
    if frame is None or PARTS not in frame:
        frame = render(replace(grid, parts=[Markup(PARTS)]))  # noqa: S704 (a constant)
        if cache:
            cache.set(key, frame)
    before, _sep, after = frame.partition(PARTS)
    return Markup(before + "\n".join(grid.parts) + after)  # noqa: S704 (escaped parts)


# The htmx fragment around a cached body, per language, channel and title (a handful).
_FRAGMENT_FRAMES: dict[tuple[str, str], tuple[str, str]] = {}


def fragment_frame(title: str, render: Callable[[Markup], str]) -> tuple[str, str]:
    """What search/_availability_framed.html writes before and after the body (its title
    for htmx), rendered by `render` with a placeholder for the body once per language,
    channel and title, then reused: the fragment of a cached body needs no template."""
    key = (variant(), title)
    frame = _FRAGMENT_FRAMES.get(key)
    if frame is None:
        before, _sep, after = render(Markup(PARTS)).partition(PARTS)  # noqa: S704 (a constant)
        if len(_FRAGMENT_FRAMES) >= 64:
            _FRAGMENT_FRAMES.clear()
        frame = _FRAGMENT_FRAMES[key] = (before, after)
    return frame


@lru_cache(maxsize=512)
def _day_labels(locale: str, first: date, count: int) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    """Each day's value, column head and spoken date (escaped), worked out once per language
    and period for every grid that shows them."""
    days = [first + timedelta(days=i) for i in range(count)]
    return (
        tuple(day.isoformat() for day in days),
        tuple(str(escape(short_date(day, locale))) for day in days),
        tuple(str(escape(long_date(day, locale))) for day in days),
    )


_STATUS_LABELS: dict[str, tuple[dict[DayStatus, tuple[str, str]], tuple[str, str]]] = {}


def _status_labels(locale: str) -> tuple[dict[DayStatus, tuple[str, str]], tuple[str, str]]:
    """Each status's symbol and words (escaped) and 再予約不可's, once per language (the
    catalogues are compiled; they do not change while the process runs)."""
    labels = _STATUS_LABELS.get(locale)
    if labels is None:
        labels = _STATUS_LABELS[locale] = (
            {status: (symbol, str(escape(str(word)))) for status, (symbol, word) in DAY_STATUSES.items()},
            ("×", str(escape(_("再予約不可")))),
        )
    return labels


_TABLE_WORDS: dict[str, tuple[Markup, Markup]] = {}


def _table_words(locale: str) -> tuple[Markup, Markup]:
    """The table's 室場 and 定員 %(n)s人 in `locale`, as Jinja's gettext gives them (Markup: a
    translation is not escaped, what is put in it is), once per language."""
    words = _TABLE_WORDS.get(locale)
    if words is None:
        words = _TABLE_WORDS[locale] = (Markup(_("室場")), Markup(_("定員 %(n)s人")))  # noqa: S704 (the catalogue)
    return words


class CellWriter:
    """The markup of day cells in one language and presentation: each day's labels and each
    status's symbol and words worked out once, not once per cell (and the labels once per
    language and period, _day_labels)."""

    def __init__(self, days: list[date], *, reader: bool):
        self.reader = reader
        locale = g.get("locale", "ja")
        if days and (days[-1] - days[0]).days == len(days) - 1:
            self.values, self.short, self.long = _day_labels(locale, days[0], len(days))
        else:
            self.values = tuple(day.isoformat() for day in days)
            self.short = tuple(str(escape(short_date(day, locale))) for day in days)
            self.long = tuple(str(escape(long_date(day, locale))) for day in days)
        # The column heads of the table (each day's weekday, for its colour, and label), as
        # search/_day_table.html puts them one a line.
        self.heads = Markup(  # noqa: S704 (escaped labels)
            "\n".join(
                f'        <th scope="col" class="day-head weekday-{day.weekday()}">{label}</th>'
                for day, label in zip(days, self.short)
            ).lstrip(" ")
        )
        self.labels, self.rebook = _status_labels(locale)
        # A table cell's class, symbol and words and whether it can be chosen, per status.
        self.shown = {
            status: (
                status.value,
                f'<span class="status-symbol" aria-hidden="true">{symbol}</span>'
                f'<span class="status-word">{word}</span>',
                status.selectable,
            )
            for status, (symbol, word) in self.labels.items()
        }

    def table(self, facility, rows: list[tuple]) -> str:
        """search/_day_table.html's markup for `facility` and its `rows` (room, escaped name,
        cells), written here as that template writes it (tests/web/test_availability_cache.py
        compares the two): its words once per language (_table_words), not once per room."""
        room_head, capacity = _table_words(g.get("locale", "ja"))
        caption_id = f"grid-{escape(facility.code)}"
        out = [
            f'<div class="table-scroll cards" role="region" aria-labelledby="{caption_id}" tabindex="0">\n'
            '  <table class="day-grid">\n'
            f'    <caption id="{caption_id}">{escape(localized(facility, "name"))}</caption>\n'
            "    <thead>\n"
            "      <tr>\n"
            f'        <th scope="col" class="room-head">{room_head}</th>\n'
            f"        {self.heads}\n"
            "      </tr>\n"
            "    </thead>\n"
            "    <tbody>\n"
        ]
        for room, name, cells in rows:
            out.append(
                "      <tr>\n"
                f'        <th scope="row" class="room-head">{name} <span class="capacity">'
                f"{capacity % {'n': room.capacity}}</span></th>\n"
                f"        {cells}\n"
                "      </tr>\n"
            )
        out.append("    </tbody>\n  </table>\n</div>")
        return "".join(out)

    def row(self, room_id: int, name: str, statuses: list[DayStatus], entries: list[int]) -> str:
        """A room's cells; `name` escaped. The table's cells but 抽選受付中 (which shows its
        entries) are written here straight from the precomputed parts, as cell() writes them."""
        if self.reader:
            return "".join(self.cell(room_id, name, i, status, entries[i]) for i, status in enumerate(statuses))
        short, spoken, values, shown, lottery = self.short, self.long, self.values, self.shown, DayStatus.LOTTERY_OPEN
        out = []
        for i, status in enumerate(statuses):
            if status is lottery:
                out.append(self.cell(room_id, name, i, status, entries[i]))
                continue
            css, parts, selectable = shown[status]
            if selectable:
                out.append(
                    f'<td class="day-cell status-{css}" data-label="{short[i]}"><label class="cell-choice">'
                    f'<input type="checkbox" name="cell" value="{room_id}:{values[i]}">'
                    f'<span class="visually-hidden">{name} {spoken[i]} </span>{parts}</label></td>'
                )
            else:
                out.append(f'<td class="day-cell status-{css}" data-label="{short[i]}">{parts}</td>')
        return "".join(out)

    def cell(self, room_id: int, name: str, i: int, status: DayStatus | None, entries: int = 0) -> str:
        """One day: `status` None is 再予約不可 for the group looking (× and the words, as a
        taken day's cell). `name` is the room's name, escaped."""
        if status is None:
            css, (symbol, word), selectable = "full", self.rebook, False
        else:
            css, (symbol, word), selectable = status.value, self.labels[status], status.selectable
        count = str(escape(_("申込%(n)s件", n=entries))) if status is DayStatus.LOTTERY_OPEN else ""
        value = f"{room_id}:{self.values[i]}"
        if self.reader:
            sentence = f"{name} {self.long[i]} {word}" + (f" {count}" if count else "")
            if selectable:
                box = "cell-" + value.replace(":", "-")
                return (
                    f'<li class="choice"><input type="checkbox" name="cell" value="{value}" id="{box}"> '
                    f'<label for="{box}">{sentence}</label></li>'
                )
            return f"<li>{sentence}</li>"
        shown = f'<span class="status-symbol" aria-hidden="true">{symbol}</span><span class="status-word">{word}</span>'
        if selectable:
            more = f' <span class="entry-count">{count}</span>' if count else ""
            return (
                f'<td class="day-cell status-{css}" data-label="{self.short[i]}"><label class="cell-choice">'
                f'<input type="checkbox" name="cell" value="{value}">'
                f'<span class="visually-hidden">{name} {self.long[i]} </span>{shown}{more}</label></td>'
            )
        return f'<td class="day-cell status-{css}" data-label="{self.short[i]}">{shown}</td>'


def variant() -> str:
    channel = g.channel
    return f"{g.get('locale', 'ja')}:{channel.profile}:{channel.presentation}"


def build_shared_grid(
    codes: list[str], days: list[date], *, now: datetime, days_ahead: int, chosen, finished=None
) -> SharedGrid:
    """The grid for `codes` over `days`: each facility's part from the cache or rendered and
    cached, then the per-request pass. Raises NotFound for unknown facilities. `finished`:
    what an anonymous request finally sends, looked up by the grid's finished_key (returned
    in the grid's `finished` with nothing else when found)."""
    if "read_session" in g:
        # The request reads with its session already (the registration of a logged-in
        # resident): the keys in its transaction, as everything after them.
        connection = read_session().connection()
        keys = operations.read_grid_keys(connection, codes, first_day=days[0], last_day=days[-1], now=now)
        return _shared_grid(
            connection, keys, codes, days, now=now, days_ahead=days_ahead, chosen=chosen, finished=finished
        )
    # Otherwise one connection of its own and no ORM session (an anonymous visitor reads no
    # entity): the keys first, as one statement outside any transaction (a hit reads nothing
    # else); a miss then reads the rows on the same connection, in a transaction that begins
    # after that statement: rows at least as new as these versions, so a part is never
    # cached under a version newer than what it shows.
    with database().engine.connect() as connection:
        keys = operations.read_grid_keys_outside_transaction(
            connection, codes, first_day=days[0], last_day=days[-1], now=now
        )
        grid = _shared_grid(
            connection, keys, codes, days, now=now, days_ahead=days_ahead, chosen=chosen, finished=finished
        )
        if connection.in_transaction():
            # A miss read its rows in a transaction; it wrote nothing, so COMMIT ends it as well
            # as the pool's ROLLBACK would, and psycopg keeps the session's prepared statements
            # (after a ROLLBACK it deallocates them all, the key read's too).
            connection.commit()
        return grid


def _shared_grid(
    connection: Connection,
    keys: tuple[list[operations.GridFacility], str],
    codes: list[str],
    days: list[date],
    *,
    now: datetime,
    days_ahead: int,
    chosen,
    finished=None,
) -> SharedGrid:
    facilities, lottery = keys
    cache = current_app.extensions["availability_cache"]
    window = booking_window_rule(jst_day(now), days_ahead)
    # The lottery months themselves only when something is rendered (a part or the body);
    # none to read when the keys' statement found no month in the period. Read on
    # `connection` while it is open (a miss's parts), on the request's session afterwards.
    open_connection = [connection]

    def read_months() -> LotterySchedule:
        if not lottery:
            return LotterySchedule({})
        return read_schedule(open_connection[0] or read_session(), first_day=days[0], last_day=days[-1])

    schedule = _Lazy(read_months)
    reader = g.channel.is_reader
    shown = variant()
    keys_of = [f"{FORMAT}:{operations.grid_key(f, days, window, lottery)}:{shown}" for f in facilities]
    finished_key = None
    if cache and finished is not None and not current_user.is_authenticated:
        finished_key = (tuple(keys_of), frozenset(chosen))
        value = finished(finished_key)
        if value is not None:
            return SharedGrid(days, window, list, [], None, "", finished_key, value)
    parts: dict[str, FacilityPart] = {}
    for facility, key in zip(facilities, keys_of):
        part = FacilityPart.decode(cache.get(key) if cache else None, len(days))
        if part is not None:
            parts[facility.code] = part
    missing = [f.code for f in facilities if f.code not in parts]
    if missing:
        computed = operations.build_day_grid(
            connection, facility_codes=missing, days=days, now=now, days_ahead=days_ahead, schedule=schedule()
        )
        writer = CellWriter(days, reader=reader)
        for facility_days in computed.facilities:
            part = _render_part(facility_days, days, schedule(), writer)
            parts[facility_days.facility.code] = part
            if cache:
                cache.set(keys_of[codes.index(facility_days.facility.code)], part.encode())
    open_connection[0] = None
    ordered = [parts[code] for code in codes]
    htmls = _apply_group(ordered, days, now=now, days_ahead=days_ahead, reader=reader)
    first = _first_choosable(ordered, days)
    if first is not None:
        index = next(i for i, html in enumerate(htmls) if f'name="cell" value="{first}"' in html)
        htmls[index] = _mark_first(htmls[index], first, reader)
    for value in set(chosen):
        if CELL_VALUE.fullmatch(value):
            target = f'name="cell" value="{value}"'
            htmls = [html.replace(target, target + " checked") for html in htmls]
    months = sorted({m for part in ordered for m in part.months})

    def lottery_months() -> list[MonthSchedule]:
        by_month = {use_month.isoformat(): month for use_month, month in schedule().months.items()}
        return [by_month[m] for m in months if m in by_month]

    return SharedGrid(
        days=days,
        window=window,
        lottery_months_of=lottery_months,
        parts=[Markup(html) for html in htmls],  # noqa: S704 (written from escaped parts)
        first=first,
        frame_key=f"{window.first.isoformat()}:{window.last.isoformat()}:{lottery}:{','.join(months)}",
        finished_key=finished_key,
    )


def _render_part(
    facility_days: operations.FacilityDays, days: list[date], schedule, writer: CellWriter
) -> FacilityPart:
    facility = facility_days.facility
    rows = []
    statuses, names = {}, {}
    for room_days in facility_days.rooms:
        room = room_days.room
        statuses[room.id] = room_days.statuses
        names[room.id] = name = str(escape(localized(room, "name")))
        cells = writer.row(room.id, name, room_days.statuses, room_days.entries)
        rows.append((room, Markup(name), Markup(cells)))  # noqa: S704 (escaped here and by CellWriter)
    if writer.reader:
        html = current_app.jinja_env.get_template("search/_day_list.html").render(
            facility=facility, heads=writer.heads, rows=rows
        )
    else:
        html = writer.table(facility, rows)
    ids = set(statuses)
    months = [m.isoformat() for m, month in sorted(schedule.months.items()) if month.room_ids & ids]
    return FacilityPart(statuses, names, months, html)


def _apply_group(parts: list[FacilityPart], days: list[date], *, now, days_ahead: int, reader: bool) -> list[str]:
    """The HTML of each part with this group's 再予約不可 days written in (logged in only);
    the parts' statuses are updated to what the group sees."""
    htmls = [part.html for part in parts]
    if not current_user.is_authenticated:
        return htmls
    shared = {room_id: statuses for part in parts for room_id, statuses in part.rooms.items()}
    changed = operations.group_day_statuses(
        read_session(), resident_id=current_user.id, shared=shared, days=days, now=now, days_ahead=days_ahead
    )
    if not changed:
        return htmls
    writer = CellWriter(days, reader=reader)
    index = {day: i for i, day in enumerate(days)}
    for n, part in enumerate(parts):
        html = htmls[n]
        for (room_id, day), (status, entries) in changed.items():
            if room_id not in part.rooms:
                continue
            i = index[day]
            new = writer.cell(room_id, part.names[room_id], i, status, entries)
            html = _replace_cell(html, f"{room_id}:{day.isoformat()}", new, reader)
            part.rooms[room_id] = [*part.rooms[room_id][:i], status or DayStatus.FULL, *part.rooms[room_id][i + 1 :]]
        htmls[n] = html
    return htmls


def _replace_cell(html: str, value: str, new: str, reader: bool) -> str:
    """The day's cell (a choosable one, found by its value) replaced by `new`."""
    at = html.find(f'name="cell" value="{value}"')
    if at < 0:
        return html
    open_tag, close_tag = ("<li", "</li>") if reader else ("<td", "</td>")
    start = html.rfind(open_tag, 0, at)
    end = html.find(close_tag, at) + len(close_tag)
    return html[:start] + new + html[end:]


def _first_choosable(parts: list[FacilityPart], days: list[date]) -> str | None:
    for part in parts:
        for room_id, statuses in part.rooms.items():
            for day, status in zip(days, statuses):
                if status.selectable:
                    return f"{room_id}:{day.isoformat()}"
    return None


def _mark_first(html: str, value: str, reader: bool) -> str:
    if reader:
        return html.replace('"cell-' + value.replace(":", "-") + '"', '"cell"')
    target = f'name="cell" value="{value}"'
    return html.replace(target, target + ' id="cell"', 1)
