"""施設の検索 → 施設別空き状況 → 時間帯別空き状況: three GET pages whose whole state is in
the URL, so each works bookmarked, reloaded, in a new tab and with Back."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, current_app, g, make_response, render_template, request, url_for
from flask_babel import gettext as _
from markupsafe import Markup
from werkzeug.routing import BuildError
from wtforms.fields.choices import SelectChoice

from blueprints.search import operations, slot_grid
from blueprints.search.day_grid import build_shared_grid, finished_grids, fragment_frame, framed, variant
from blueprints.search.forms import (
    FACILITY_CODE,
    MAX_FACILITIES,
    PERIOD_CHOICES,
    AvailabilityForm,
    FacilitySearchForm,
    SlotSearchForm,
    choice_label,
)
from blueprints.search.operations import CellRef, FacilityCriteria
from models import errors
from models.availability_rules import (
    GridPeriod,
    booking_window_rule,
    grid_start_range_rule,
    period_days_rule,
    shift_period_rule,
)
from models.search_rules import KANA_ROW_ROMAJI
from web.clock import now, today
from web.data import read_session
from web.errors import ErrorItem, form_errors
from web.formats import localized, long_date
from web.labels import DAY_STATUSES, SLOT_STATUSES
from web.rendering import page_frame, render_page, wants_fragment
from web.steps import breadcrumb, step_heading

bp = Blueprint("search", __name__)


# URLs ----------------------------------------------------------------------------------


def facilities_url(codes=()) -> str:
    """施設の検索 among all facilities, those chosen so far ticked again."""
    return url_for("search.facilities", all=1, facility=list(dict.fromkeys(codes)))


def availability_url(codes, start: date | None = None, period: GridPeriod | None = None, cells=()) -> str:
    args = {"facility": list(codes), "period": period.value if period else None, "cell": [str(c) for c in cells]}
    if start:
        args["from"] = start.isoformat()
    return url_for("search.availability", **args)


def apply_details_url() -> str:
    """詳細申請, the next step (the apply area's endpoint once it exists)."""
    try:
        return url_for("apply.details")
    except BuildError:
        return "/apply/details"


def lottery_details_url() -> str:
    """詳細申請 of 抽選申込 (the lottery area's endpoint)."""
    try:
        return url_for("lottery.details")
    except BuildError:
        return "/lottery/details"


def _lottery_calendar(months) -> list:
    """The lottery months shown on a grid, each with where it stands now."""
    moment = now()
    return [(month, month.phase(moment)) for month in months]


def _days_ahead() -> int:
    return current_app.config["FIRST_COME_DAYS_AHEAD"]


def _kana_label(row: str) -> str:
    shown = KANA_ROW_ROMAJI[row].capitalize() if g.get("locale") == "en" else row
    return _("%(row)s行", row=shown)


# 施設の検索 ----------------------------------------------------------------------------


def _facility_search_form() -> FacilitySearchForm:
    """The filter form from the query string, offering the codes the database knows."""
    options = operations.load_search_options(read_session())
    form = FacilitySearchForm(formdata=request.args)
    anything = [SelectChoice("", _("指定しない"))]
    form.category.choices = anything + [SelectChoice(c.code, localized(c, "name")) for c in options.categories]
    form.purpose.choices = anything + [SelectChoice(p.code, localized(p, "name")) for p in options.purposes]
    form.room_type.choices = anything + [SelectChoice(t.code, localized(t, "name")) for t in options.room_types]
    form.kana.choices = anything + [SelectChoice(row, _kana_label(row)) for row in options.kana_rows]
    return form


CRITERIA = ("category", "purpose", "room_type", "kana")


def _render_facilities(form: FacilitySearchForm, *, chosen=(), problems=()):
    """The facility list for the form's criteria (none: every facility); `problems` come
    from the page the resident was sent back from (施設別空き状況 without a facility)."""
    problems = list(problems) + form_errors(form)
    results, criteria = [], {}
    if not form.errors:
        criteria = {name: form[name].data for name in CRITERIA if form[name].data}
        results = operations.find_facilities(read_session(), FacilityCriteria(**criteria))
    return render_page(
        "search/facilities.html",
        fragment="search/_facility_results.html",
        title=step_heading("search"),
        errors=problems,
        form=form,
        results=results,
        # Carried to 施設別空き状況, so that choosing nothing shows this same list again.
        criteria_args=criteria,
        criteria_text=_criteria_text(form) if not form.errors else "",
        chosen=set(chosen) or set(form.facility.data),
        **breadcrumb("search", {}, url_for("top.index")),
    )


def _criteria_text(form: FacilitySearchForm) -> str:
    parts = []
    for field in (form.category, form.purpose, form.room_type, form.kana):
        if field.data:
            parts.append(
                _("%(field)s「%(value)s」", field=field.label.text, value=choice_label(field.choices, field.data))
            )
    return _("、").join(parts)


@bp.get("/search/facilities")
def facilities():
    form = _facility_search_form()
    form.validate()
    return _render_facilities(form)


# 施設別空き状況 -------------------------------------------------------------------------


def _facility_problems(form, exc: errors.NotFound | None = None) -> list[ErrorItem]:
    if exc is not None:
        return [
            ErrorItem(
                _("指定された施設が見つかりません: %(codes)s", codes=", ".join(exc.facts["facilities"])), "facility"
            )
        ]
    return [ErrorItem(str(message), "facility") for message in form.facility.errors]


def _back_to_facility_choice(problems: list[ErrorItem], chosen=()):
    """施設別空き状況 without a usable list of facilities: choose them again, among all."""
    # The facility list carries its criteria along, so the same list comes back.
    search_form = _facility_search_form()
    search_form.validate()
    return _render_facilities(search_form, chosen=chosen, problems=problems)


def _grid_start(form: AvailabilityForm) -> tuple[date | None, list[ErrorItem]]:
    """The grid's first day: the form's, or tomorrow; outside the range the grid accepts, an
    error that says which dates it does accept."""
    window = booking_window_rule(today(), _days_ahead())
    start = getattr(form.start, "parsed", None) or window.first
    allowed = grid_start_range_rule(window)
    if start not in allowed:
        message = _(
            "開始日は%(first)sから%(last)sまでの日付を入力してください。",
            first=long_date(allowed.first),
            last=long_date(allowed.last),
        )
        return None, [ErrorItem(message, "from")]
    return start, []


def _render_availability(form: AvailabilityForm, *, problems=()):
    """施設別空き状況 for a valid list of facilities; the start date and period may still be
    wrong, in which case the page shows the form and the error instead of the grid."""
    period = form.grid_period
    own = [ErrorItem(str(m), "from") for m in form.start.errors] + [
        ErrorItem(str(m), "period-0") for m in form.period.errors
    ]
    problems = list(problems) + own
    start = None
    if not own:
        start, start_problems = _grid_start(form)
        problems += start_problems
    codes = form.facility.data
    grid = None
    if start is not None:
        grid = build_shared_grid(
            codes, period_days_rule(start, period), now=now(), days_ahead=_days_ahead(), chosen=form.cell.data
        )
        form.start.data = start.isoformat()
        form.period.data = period.value
    page = {"title": step_heading("availability"), "codes": codes, "start": start, "period": period}

    def body() -> dict:
        """What only the grid's body shows (not needed when it comes cached)."""
        context: dict = {"slots_url": url_for("search.slots"), "grid": grid}
        if grid is not None:
            allowed = grid_start_range_rule(grid.window)
            previous, following = shift_period_rule(start, period, -1), shift_period_rule(start, period, 1)
            context |= {
                "period_label": choice_label(PERIOD_CHOICES, period.value),
                "previous_url": availability_url(codes, previous, period) if previous in allowed else None,
                "next_url": availability_url(codes, following, period) if following in allowed else None,
                "lottery_calendar": _lottery_calendar(grid.lottery_months),
            }
        return context

    fragment = "search/_availability.html"
    if grid is not None and not problems:
        return _framed_availability(grid, codes, start, period, lambda: form, body)
    page |= body() | {"form": form, "period_fields": _render_period_fields(form)}
    if not wants_fragment():
        page |= _page_links(codes)
    return render_page("search/availability.html", fragment=fragment, errors=problems, **page)


# The whole page's way back and breadcrumb, per host, script root, language and facilities.
_PAGE_LINKS: dict[tuple, dict] = {}


def _page_links(codes: list[str]) -> dict:
    """What the whole page shows around the grid's body: the way back to 施設の検索 and the
    breadcrumb (components/_breadcrumb.html, rendered here). They depend on the facilities,
    the language (the steps' names) and where the site is served (the URLs) only, so each
    is built once and then reused (a bounded memo, as web.navigation's for url_for)."""
    environ = request.environ
    key = (environ.get("HTTP_HOST"), environ.get("SCRIPT_NAME"), g.get("locale"), tuple(codes))
    links = _PAGE_LINKS.get(key)
    if links is None:
        search_url = facilities_url(codes)
        steps = breadcrumb("availability", {"search": search_url}, url_for("top.index"))
        html = current_app.jinja_env.get_template("components/_breadcrumb.html").render(steps)
        if len(_PAGE_LINKS) >= 1024:
            _PAGE_LINKS.clear()
        links = _PAGE_LINKS[key] = {"search_url": search_url, "breadcrumb_html": Markup(html)}  # noqa: S704 (escaped by Jinja)
    return links


def _framed_availability(grid, codes: list[str], start: date, period: GridPeriod, form_of, body):
    """施設別空き状況 with its grid and no error: the body is the same for everyone asking for
    this URL but for the grid's per-request pass, so it is cached around the facilities'
    parts (day_grid.framed) and rendered (`form_of()`: the period form, valid, its start and
    period set; `body()`: what only the body shows) on a miss of the frame only. The htmx
    fragment is its title and that body, put together without a template
    (day_grid.fragment_frame)."""
    title = _availability_title()
    page = {"title": title, "codes": codes, "start": start, "period": period}
    url_key = _url_key(codes, start, period)

    def render(shared) -> str:
        shown = {"grid": shared, "errors": [], "is_fragment": False}
        context = page | shown
        # The top of the body (search/_availability_head.html) depends on the URL, the
        # language and today's window only: rendered once per those (below), the rest here.
        head_key = (request.script_root, variant(), url_key, grid.window.first, grid.window.last)
        head = _HEADS.get(head_key)
        if head is None:
            context |= body() | shown | {"period_fields": _valid_period_fields(start, period, form_of)}
            head = Markup(render_template("search/_availability_head.html", **context))  # noqa: S704 (Jinja's)
            if len(_HEADS) >= 128:
                _HEADS.clear()
            _HEADS[head_key] = head
        else:
            context |= {
                "slots_url": url_for("search.slots"),
                "lottery_calendar": _lottery_calendar(grid.lottery_months),
            }
        return render_template("search/_availability.html", **context, availability_head=head)

    html = framed(grid, url_key, render)
    if wants_fragment():
        before, after = fragment_frame(
            title,
            lambda placeholder: render_template(
                "search/_availability_framed.html",
                title=title,
                errors=[],
                is_fragment=True,
                availability_html=placeholder,
            ),
        )
        body = "".join((before, html, after)).encode()
        if grid.finished_key is not None:
            finished_grids().set((grid.finished_key, _finished_url_key(codes, start, period), True, title), body)
        response = make_response(body, 200)
        response.vary.add("HX-Request")
        return response
    body = str(html).encode()
    if grid.finished_key is not None:
        finished_grids().set((grid.finished_key, _finished_url_key(codes, start, period), False, title), body)
    return _whole_grid_page(body, codes, start, period)


# Where the body goes in the whole page's rendering (data is escaped: it never holds "<!").
_BODY = "<!--grid-body-->"


def _whole_grid_page(body: bytes, codes: list[str], start: date, period: GridPeriod):
    """The whole page of 施設別空き状況 around its body (`body`: escaped HTML, UTF-8): the
    page is rendered with a placeholder, and the body's bytes put in its place (not decoded
    and encoded again with the page); what is around it is kept per URL (web.rendering
    page_frame: the page's context below depends on the title and these only)."""
    title = _availability_title()
    return page_frame(
        body,
        _BODY,
        ("search/availability.html", title, tuple(codes), start, period),
        lambda: render_page(
            "search/availability.html",
            fragment="search/_availability_framed.html",
            errors=[],
            availability_html=Markup(_BODY),  # noqa: S704 (a constant)
            title=title,
            codes=codes,
            start=start,
            period=period,
            **_page_links(codes),
        ),
    )


def _url_key(codes: list[str], start: date, period: GridPeriod) -> str:
    """What the body of a grid depends on in its URL besides the chosen cells."""
    return f"{','.join(codes)}:{start.isoformat()}:{period.value}"


def _finished_url_key(codes: list[str], start: date, period: GridPeriod) -> tuple[str, str, str]:
    """_url_key with the host and script root, which the body's links are written for: the
    key of what an anonymous request finally sends (day_grid.finished_grids)."""
    return request.host, request.script_root, _url_key(codes, start, period)


# The top of 施設別空き状況's body per script root, language and channel, URL and window (at most
# 128 of them, a few KB each: a worker's memory, "Worker memory").
_HEADS: dict[tuple, Markup] = {}

# 施設別空き状況's title per language and channel (reader mode numbers the step).
_TITLES: dict[tuple, str] = {}


def _availability_title() -> str:
    key = (g.get("locale"), g.channel)
    title = _TITLES.get(key)
    if title is None:
        if len(_TITLES) >= 64:
            _TITLES.clear()
        title = _TITLES[key] = str(step_heading("availability"))
    return title


def _render_period_fields(form: AvailabilityForm) -> Markup:
    """The period form's fields (開始日, 表示期間) with their hints and errors."""
    template = current_app.jinja_env.get_template("search/_period_fields.html")
    return Markup(template.render(form=form))  # noqa: S704 (escaped by Jinja)


# The period form's fields without an error, per language, start and period.
_PERIOD_FIELDS: dict[tuple, Markup] = {}


def _valid_period_fields(start: date, period: GridPeriod, form_of) -> Markup:
    """The fields of a valid period form (`form_of()`, built only when needed), whose start
    and period are `start` and `period`: nothing else of the request shows in them (no
    error, no URL), so each language's rendering of them is built once and reused (the
    WTForms widgets are a third of a miss's body otherwise)."""
    key = (g.get("locale"), start, period)
    html = _PERIOD_FIELDS.get(key)
    if html is None:
        if len(_PERIOD_FIELDS) >= 1024:
            _PERIOD_FIELDS.clear()
        html = _PERIOD_FIELDS[key] = _render_period_fields(form_of())
    return html


def _plain_grid_query() -> tuple[list[str], date, GridPeriod, list[str]] | None:
    """The grid's query string read without building its form, when the form would find
    nothing wrong and the start is in the range the grid accepts: the facilities, the start,
    the period and the chosen cells, each exactly as AvailabilityForm reads and checks them
    (values stripped, empty ones dropped, a facility given twice counted once; the first
    from and period; no start: tomorrow, the window's first day). Anything else (None) goes
    the form's way, which says what is wrong."""
    args = request.args
    codes = list(dict.fromkeys(value.strip() for value in args.getlist("facility") if value and value.strip()))
    if not codes or len(codes) > MAX_FACILITIES or not all(FACILITY_CODE.match(code) for code in codes):
        return None
    period_value = args.get("period", GridPeriod.WEEK.value)
    if period_value not in _PERIOD_VALUES:
        return None
    window = booking_window_rule(today(), _days_ahead())
    raw = args.get("from")
    if raw:
        try:
            start = date.fromisoformat(raw.strip())
        except ValueError:
            return None
    else:
        start = window.first
    if start not in grid_start_range_rule(window):
        return None
    cells = [value.strip() for value in args.getlist("cell") if value and value.strip()]
    return codes, start, GridPeriod(period_value), cells


_PERIOD_VALUES = frozenset(p.value for p in GridPeriod)


def _plain_availability(codes: list[str], start: date, period: GridPeriod, cells: list[str]):
    """施設別空き状況 for a plainly valid query (_plain_grid_query): the form is built only
    if the body is rendered (a miss of its frame), as _render_availability would build it.
    What an anonymous request finally sends for this URL and these parts is kept
    (day_grid.finished_grids) and sent again as it is."""
    title = _availability_title()
    fragment = wants_fragment()
    url_key = (_finished_url_key(codes, start, period), fragment, title)
    grid = build_shared_grid(
        codes,
        period_days_rule(start, period),
        now=now(),
        days_ahead=_days_ahead(),
        chosen=cells,
        finished=lambda key: finished_grids().get((key, *url_key)),
    )
    if grid.finished is not None:
        if fragment:
            response = make_response(grid.finished, 200)
            response.vary.add("HX-Request")
            return response
        return _whole_grid_page(grid.finished, codes, start, period)

    def form_of() -> AvailabilityForm:
        form = AvailabilityForm(formdata=request.args)
        form.validate()
        form.start.data = start.isoformat()
        form.period.data = period.value
        return form

    def body() -> dict:
        allowed = grid_start_range_rule(grid.window)
        previous, following = shift_period_rule(start, period, -1), shift_period_rule(start, period, 1)
        return {
            "slots_url": url_for("search.slots"),
            "grid": grid,
            "period_label": choice_label(PERIOD_CHOICES, period.value),
            "previous_url": availability_url(codes, previous, period) if previous in allowed else None,
            "next_url": availability_url(codes, following, period) if following in allowed else None,
            "lottery_calendar": _lottery_calendar(grid.lottery_months),
        }

    return _framed_availability(grid, codes, start, period, form_of, body)


def _availability_page(form: AvailabilityForm, problems=()):
    """The day grid, or, when the facilities themselves are wrong, the list to choose them
    from again (the ones that exist ticked)."""
    if form.facility.errors:
        return _back_to_facility_choice(list(problems) + _facility_problems(form), chosen=form.facility.data)
    try:
        return _render_availability(form, problems=problems)
    except errors.NotFound as exc:
        known = [code for code in form.facility.data if code not in exc.facts.get("facilities", [])]
        return _back_to_facility_choice(list(problems) + _facility_problems(form, exc), chosen=known)


@bp.get("/availability")
def availability():
    plain = _plain_grid_query()
    if plain is not None:
        try:
            return _plain_availability(*plain)
        except errors.NotFound:
            pass  # the form's way says which facilities are unknown
    form = AvailabilityForm(formdata=request.args)
    form.validate()
    return _availability_page(form)


# 時間帯別空き状況 -----------------------------------------------------------------------


def _cell_problem(cell: operations.DayCell) -> ErrorItem:
    word = DAY_STATUSES[cell.status][1]
    return ErrorItem(
        _(
            "%(room)s %(date)sは%(status)sのため選択できません。",
            room=f"{localized(cell.room.facility, 'name')} {localized(cell.room, 'name')}",
            date=long_date(cell.day),
            status=word,
        ),
        None,
    )


def _grid_back_url(form: SlotSearchForm, chosen_rooms: list[tuple[str, date]]) -> str | None:
    """前に戻る: the day grid the cells were chosen on, the cells ticked again. Without grid
    arguments, the facilities of the chosen rooms (their codes) from the first chosen day."""
    codes = form.facility.data
    start = getattr(form.start, "parsed", None)
    period = form.grid_period
    cells = form.cell.data
    if chosen_rooms:
        codes = codes or list(dict.fromkeys(code for code, _day in chosen_rooms))
        start = start or min(day for _code, day in chosen_rooms)
    if not codes:
        return None
    if start is not None and start not in grid_start_range_rule(booking_window_rule(today(), _days_ahead())):
        start = None
    return availability_url(codes[:10], start, period, cells)


def _slots_body(grid: operations.SlotGrid) -> str:
    """search/_slots.html as every resident asking for these cells sees it (slot_grid): no
    slot checked, none 再予約不可, 前に戻る's link a placeholder."""
    return render_template(
        "search/_slots.html",
        title=step_heading("slots"),
        errors=[],
        is_fragment=False,
        grid=grid,
        slot_rows=slot_grid.slot_rows(grid, reader=g.channel.is_reader),
        back_url=slot_grid.BACK,
        details_url=apply_details_url(),
        lottery_url=lottery_details_url(),
        lottery_calendar=_lottery_calendar(grid.lottery_months),
        statuses=SLOT_STATUSES,
    )


@bp.get("/availability/slots")
def slots():
    form = SlotSearchForm(formdata=request.args)
    form.validate()
    problems = [ErrorItem(str(message), "cell") for message in form.cell.errors]
    if not form.cell.data:
        # 次へ進む with no day ticked: the same day grid again, with the error.
        grid_form = AvailabilityForm(formdata=request.args)
        grid_form.validate()
        return _availability_page(grid_form, problems)

    body = None
    chosen_rooms: list[tuple[str, date]] = []
    if not problems:
        try:
            cells = [CellRef.parse(text) for text in form.cell.data]
            body = slot_grid.slot_body(cells, now=now(), days_ahead=_days_ahead(), render=_slots_body)
            chosen_rooms = body.rooms
        except errors.NotFound:
            problems = [
                ErrorItem(_("選択された日の情報が見つかりません。施設別空き状況からもう一度選択してください。"))
            ]
        except errors.SlotNotBookable as exc:
            problems = [_cell_problem(cell) for cell in exc.facts["cells"]]
            chosen_rooms = [(cell.room.facility.code, cell.day) for cell in exc.facts["cells"]]
    back_url = _grid_back_url(form, chosen_rooms)
    page: dict = {"title": step_heading("slots"), "errors": problems}
    if body is not None and back_url is not None:
        # The body is the same for everyone asking for these cells but for the per-request
        # pass (slot_grid.personal): 前に戻る, the group's 再予約不可, the chosen slots.
        page["slots_html"] = slot_grid.personal(
            body, back_url=back_url, chosen=form.slot.data or [], reader=g.channel.is_reader
        )
        fragment = "search/_slots_cached.html"
    else:
        page |= {"grid": None, "back_url": back_url, "statuses": SLOT_STATUSES}
        fragment = "search/_slots.html"
    if not wants_fragment():
        page |= breadcrumb(
            "slots",
            {
                "search": facilities_url(form.facility.data or [code for code, _day in chosen_rooms]),
                "availability": back_url,
            },
            url_for("top.index"),
        )
    return render_page("search/slots.html", fragment=fragment, **page)
