"""Every GET route of `app.url_map`, filled with demo ids, as a page and as an htmx fragment,
logged out and logged in: no request answers 500. Then the links those pages show are
followed (a bounded crawl), so states that live in query strings are visited too.

A route argument with no demo value fails the test: add it to demo_values(), so no new
page escapes the crawl."""

from __future__ import annotations

import itertools
from collections import defaultdict, deque
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit

import pytest
from sqlalchemy import select
from werkzeug.routing import Map, Rule
from werkzeug.routing.converters import AnyConverter, NumberConverter

from models.account import Resident
from models.facility import Facility, Room, TimeBand
from models.lottery import LotteryApplication
from models.notice import Message, Notice
from models.payment import Settlement
from models.reservation import Application, Reservation
from models.reservation_rules import ReservationState
from tests.conftest import HTMX_HEADERS, AuthActions
from web.clock import now

SKIP_ENDPOINTS = {"static"}
CRAWL_BUDGET = 250  # links followed per visitor, after the url_map pass
SAME_SHAPE_LIMIT = 3  # URLs followed per (path, query keys): enough variety, bounded time
# Query strings no route should trip over: wrong types, impossible dates, forged ids, junk.
JUNK_QUERY = {
    "tab": "<script>",
    "from": "2026-13-45",
    "start": "not-a-date",
    "date": "0000-00-00",
    "period": "zzz",
    "facility": ["999", "\x00", "013"],
    "cell": ["x", "1:2026-02-30:3", "-1"],
    "slot": ["abc", "99999999999999999999"],
    "room": "-1",
    "page": "99999999999999999999",
    "state": "everything",
    "date_from": "2026/11/25",
    "date_to": "yesterday",
    "kana": "ん",
    "next": "//evil.example/",
    "back": "https://evil.example/",
    "attendees": "1e9",
    "purpose": "' OR 1=1 --",
}


def demo_values(session) -> dict[str, list]:
    """Real values from the seeded database for each route argument name, owned by
    00040675 (目黒団体) where the thing belongs to a resident."""
    meguro = session.scalar(select(Resident).where(Resident.registration_number == "00040675"))
    reservations = session.scalars(
        select(Reservation).where(Reservation.resident_id == meguro.id).order_by(Reservation.id)
    ).all()
    rooms = session.scalars(select(Room).order_by(Room.id)).all()
    return {
        "notice_id": [session.scalar(select(Notice.id).order_by(Notice.id))],
        "code": session.scalars(select(Facility.code).order_by(Facility.code)).all(),
        "facility_code": session.scalars(select(Facility.code).order_by(Facility.code)).all(),
        "facility_id": session.scalars(select(Facility.id).order_by(Facility.id)).all()[:2],
        # One booking in every state: 仮予約, 当選, counter-paid 本予約, 取消済.
        "number": [r.number for r in reservations],
        "reservation_id": [r.id for r in reservations],
        "application_id": session.scalars(
            select(Application.id).where(Application.resident_id == meguro.id).order_by(Application.id)
        ).all(),
        "room_id": [r.id for r in rooms[:2]],
        "time_band_id": session.scalars(select(TimeBand.id).order_by(TimeBand.id).limit(2)).all(),
        "message_id": session.scalars(
            select(Message.id).where(Message.resident_id == meguro.id).order_by(Message.id).limit(2)
        ).all(),
        # 目黒団体's lottery applications (抽選申込番号): one drawn, one open.
        "lottery_application_id": session.scalars(
            select(LotteryApplication.id)
            .where(LotteryApplication.resident_id == meguro.id)
            .order_by(LotteryApplication.id)
        ).all(),
        "name": ["htmx.min.js"],  # vendor files
        # Card payments of 00040675 (seeded_values opens one if the demo data has none).
        "settlement_id": session.scalars(
            select(Settlement.id).where(Settlement.resident_id == meguro.id).order_by(Settlement.id)
        ).all(),
        "rest": ["settlements/1/terms"],  # the kiosk's refusal under /payment
    }


# Values that point at nothing, or at someone else's thing: 404 or a message, never 500.
FORGED_VALUES = {"int": [0, 2_147_483_648, 2**63, 10**30], "str": ["0000-000000", "nope", "%E3%81%82", ".."]}


class MissingDemoValue(AssertionError):
    pass


def urls_for_rule(app, rule: Rule, values: dict[str, list], method: str = "GET") -> list[str]:
    """Every combination of demo values for the rule's arguments, each checked to reach
    this same rule by `method` (a value that does not fit its converter fails loudly)."""
    missing = sorted(a for a in rule.arguments if not values.get(a))
    if missing:
        raise MissingDemoValue(
            f"route {rule.rule} ({rule.endpoint}) has arguments with no demo value: {missing}. "
            "Add them to demo_values() in tests/web/test_every_route.py."
        )
    names = sorted(rule.arguments)
    adapter = app.url_map.bind("localhost")
    urls = []
    for combo in itertools.product(*(values[n] for n in names)):
        args = dict(zip(names, combo))
        try:
            built = rule.build(args, append_unknown=False)
        except ValueError as exc:  # e.g. a value an any(...) converter does not list
            raise MissingDemoValue(f"demo values {args} do not fit {rule.rule}: {exc}") from None
        if built is None:
            raise MissingDemoValue(f"demo values {args} do not build {rule.rule}")
        path = built[1]
        endpoint, _ = adapter.match(path, method=method)
        if endpoint != rule.endpoint:
            raise MissingDemoValue(f"{path} was built for {rule.endpoint} but reaches {endpoint}")
        urls.append(path)
    return urls


def forged_urls_for_rule(rule: Rule, values: dict[str, list]) -> list[str]:
    """One argument at a time forged, the others real."""
    if not rule.arguments or rule.endpoint in ("vendor",):
        return []
    names = sorted(rule.arguments)
    urls = []
    for name in names:
        converter = rule._converters[name]
        if isinstance(converter, AnyConverter):
            continue
        kind = "int" if isinstance(converter, NumberConverter) else "str"
        for value in FORGED_VALUES[kind]:
            args = {n: value if n == name else values[n][0] for n in names}
            built = rule.build(args, append_unknown=False)
            if built:
                urls.append(built[1])
    return urls


def get_routes(app) -> list[Rule]:
    return [rule for rule in app.url_map.iter_rules() if "GET" in rule.methods and rule.endpoint not in SKIP_ENDPOINTS]


def _open_a_settlement(app) -> None:
    """A card payment waiting at 注意事項 (確定 pressed), so that the settlement pages have
    a real id to be crawled with even when the demo data holds no card payment."""
    from payments.settlement import open_settlement

    with app.app_context(), app.extensions["database"].write() as session:
        meguro = session.scalar(select(Resident).where(Resident.registration_number == "00040675"))
        if session.scalar(select(Settlement.id).where(Settlement.resident_id == meguro.id)) is not None:
            return
        first = session.scalar(
            select(Reservation)
            .where(Reservation.resident_id == meguro.id, Reservation.state == ReservationState.PROVISIONAL)
            .order_by(Reservation.id)
        )
        open_settlement(session, resident_id=meguro.id, number=first.number, expected_version=first.version, now=now())


def seeded_values(app) -> dict[str, list]:
    _open_a_settlement(app)
    session = app.extensions["database"].read_session()
    try:
        return demo_values(session)
    finally:
        session.close()


# -- the crawl ----------------------------------------------------------------------------


class PageParser(HTMLParser):
    """The links of a page and the queries its GET forms would send."""

    TEXTUAL = {"text", "hidden", "number", "date", "search", "email", "tel", "month", "url", ""}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.links: list[str] = []
        self.forms: list[dict] = []
        self._form: dict | None = None
        self._select: dict | None = None

    def handle_starttag(self, tag, attrs):
        a = {k: (v if v is not None else "") for k, v in attrs}
        for name in ("href", "data-hx-get"):
            if a.get(name) and tag != "form":
                self.links.append(a[name])
        if tag == "form":
            method = (a.get("method") or "get").lower()
            self._form = {"action": a.get("action", ""), "fields": [], "boxes": [], "radios": {}, "submits": []}
            if method == "get":
                self.forms.append(self._form)
            return
        form = self._form
        if tag == "option" and self._select is not None:
            self._select["options"].append((a.get("value", ""), "selected" in a))
            return
        if form is None or not a.get("name"):
            return
        name = a["name"]
        kind = a.get("type", "submit" if tag == "button" else "text").lower()
        if tag == "button" or kind in ("submit", "image"):
            form["submits"].append((name, a.get("value", "")))
        elif tag == "input" and kind == "checkbox":
            form["boxes"].append((name, a.get("value", "on"), "checked" in a))
        elif tag == "input" and kind == "radio":
            options = form["radios"].setdefault(name, [])
            options.append((a.get("value", "on"), "checked" in a))
        elif tag == "input" and kind in self.TEXTUAL:
            value = a.get("value", "")
            # What a resident would type into an empty box: a small number fits most.
            form["fields"].append((name, value, value if kind == "hidden" else (value or "1")))
        elif tag == "textarea":
            form["fields"].append((name, "", "1"))
        elif tag == "select":
            self._select = {"name": name, "options": []}

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "select" and self._select is not None and self._form is not None:
            options = self._select["options"]
            chosen = next((v for v, selected in options if selected), options[0][0] if options else "")
            filled = chosen or next((v for v, _ in options if v), "")
            self._form["fields"].append((self._select["name"], chosen, filled))
            self._select = None

    def form_queries(self) -> list[tuple[str, list[tuple[str, str]]]]:
        """For each GET form: as it stands, filled in, with a few more boxes ticked, and once
        per named submit button (previous/next period and the like)."""
        queries = []
        for form in self.forms:
            ticked = [(n, v) for n, v, checked in form["boxes"] if checked]
            for name, options in form["radios"].items():
                chosen = next((v for v, checked in options if checked), options[0][0])
                ticked.append((name, chosen))
            base = [(n, v) for n, v, _ in form["fields"]] + ticked
            filled = [(n, f) for n, _, f in form["fields"]] + ticked
            unticked = [(n, v) for n, v, checked in form["boxes"] if not checked]
            first_submit = form["submits"][:1]
            variants = [base + first_submit, filled + first_submit]
            if unticked:
                variants.append(base + unticked[:1] + first_submit)
                variants.append(base + unticked[:3] + first_submit)
            variants += [base + [submit] for submit in form["submits"][1:4]]
            queries += [(form["action"], v) for v in variants]
        return queries


def same_site_urls(base: str, html: str, parser_class: type[PageParser] = PageParser) -> list[str]:
    """The links and GET-form submissions of a page that stay on this site."""
    parser = parser_class()
    parser.feed(html)
    targets = list(parser.links)
    for action, pairs in parser.form_queries():
        target = action or base.split("?")[0]
        targets.append(target.split("?")[0] + ("?" + urlencode(pairs) if pairs else ""))
    urls = []
    for href in targets:
        parts = urlsplit(urljoin("http://localhost" + base, href))
        if parts.netloc != "localhost" or parts.path.startswith(("/static/", "/vendor/")):
            continue
        urls.append(parts.path + (f"?{parts.query}" if parts.query else ""))
    return urls


@dataclass
class Crawl:
    visitor: str
    client: object
    failures: list[str] = field(default_factory=list)
    statuses: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    seen: set[str] = field(default_factory=set)
    pages: dict[str, str] = field(default_factory=dict)

    def request(self, url: str, *, fragment: bool, endpoint: str | None = None) -> int:
        headers = HTMX_HEADERS if fragment else {}
        try:
            response = self.client.get(url, headers=headers)
        except Exception as exc:  # the error handler itself failed
            self.failures.append(f"{self.visitor}: GET {url}{' [htmx]' if fragment else ''} raised {exc!r}")
            return 500
        if response.status_code >= 500:
            self.failures.append(f"{self.visitor}: GET {url}{' [htmx]' if fragment else ''} → {response.status_code}")
        if endpoint and not fragment:
            self.statuses[endpoint].append(response.status_code)
        shown = response.status_code < 300 or 400 <= response.status_code < 500  # not a redirect
        if not fragment and shown and response.mimetype == "text/html":
            self.pages[url] = response.get_data(as_text=True)
        return response.status_code

    def both(self, url: str, endpoint: str | None = None) -> None:
        self.seen.add(url)
        self.request(url, fragment=False, endpoint=endpoint)
        self.request(url, fragment=True, endpoint=endpoint)

    def follow_links(self, budget: int = CRAWL_BUDGET) -> None:
        shapes: dict[tuple, int] = defaultdict(int)
        queue = deque(itertools.chain.from_iterable(same_site_urls(u, html) for u, html in list(self.pages.items())))
        followed = 0
        while queue and followed < budget:
            url = queue.popleft()
            if url in self.seen:
                continue
            parts = urlsplit(url)
            shape = (parts.path, tuple(sorted({k for k, _ in parse_qsl(parts.query, keep_blank_values=True)})))
            if shapes[shape] >= SAME_SHAPE_LIMIT:
                continue
            shapes[shape] += 1
            followed += 1
            before = len(self.pages)
            self.both(url)
            if len(self.pages) > before:
                queue.extend(same_site_urls(url, self.pages[url]))


def crawl(app, client, visitor: str, *, forged: bool = True, junk: bool = True, follow: bool = True) -> Crawl:
    values = seeded_values(app)
    run = Crawl(visitor, client)
    for rule in get_routes(app):
        for url in urls_for_rule(app, rule, values):
            run.both(url, endpoint=rule.endpoint)
            if junk:
                run.both(f"{url}?{urlencode(JUNK_QUERY, doseq=True)}")
        if forged:
            for url in forged_urls_for_rule(rule, values):
                run.both(url)
    # Each search tab of the top page and the 404 page.
    for tab in ("category", "purpose", "type", "name", "list"):
        run.both(f"/?tab={tab}")
    run.both("/no-such-page")
    if follow:
        run.follow_links()
    return run


def report(run: Crawl) -> str:
    return f"{len(run.failures)} requests answered 500:\n" + "\n".join(run.failures)


VISITORS = {
    # name: (registration number, kind, extra cookies)
    "logged out": (None, None, {}),
    "00040675": ("40675", "assembly", {}),
    "00040675 in English": ("40675", "assembly", {"pref_locale": "en"}),
    "00040675 in reader mode": ("40675", "assembly", {"pref_presentation": "reader"}),
    "00040676 (someone else's ids)": ("40676", "assembly", {}),
    "00050001 (sports)": ("50001", "sports", {}),
    "00040678 (registration expired)": ("40678", "assembly", {}),
}


def visit_as(app, visitor: str):
    number, kind, cookies = VISITORS[visitor]
    client = app.test_client()
    for name, value in cookies.items():
        client.set_cookie(name, value)
    if number:
        response = AuthActions(client).login(number=number, kind=kind)
        assert response.status_code == 303, f"could not log in as {visitor}"
    return client


@pytest.mark.parametrize("visitor", list(VISITORS))
def test_no_get_route_answers_500(app, visitor):
    run = crawl(app, visit_as(app, visitor), visitor)
    assert not run.failures, report(run)
    assert len(run.seen) > len(get_routes(app))


def test_no_get_route_answers_500_on_a_kiosk(kiosk_app):
    for visitor in ("logged out", "00040675"):
        run = crawl(kiosk_app, visit_as(kiosk_app, visitor), f"kiosk, {visitor}")
        assert not run.failures, report(run)


def test_the_demo_values_point_at_real_things(app):
    """A route whose every demo value is not found would hide its 500s behind 404s."""
    run = crawl(app, visit_as(app, "00040675"), "00040675", forged=False, junk=False, follow=False)
    lost = {
        endpoint: codes
        for endpoint, codes in run.statuses.items()
        if codes and all(code == 404 for code in codes) and endpoint != "static"
    }
    assert not lost, f"routes whose demo values are all 404 for 00040675: {lost}"


def test_a_route_argument_without_a_demo_value_fails_the_crawl(app):
    rule = Rule("/widgets/<int:widget_id>", endpoint="widgets.show")
    Map([rule])  # binds the rule, as registering a view would
    with pytest.raises(MissingDemoValue, match="widget_id"):
        urls_for_rule(app, rule, {"notice_id": [1]})


def test_a_demo_value_that_does_not_fit_its_route_fails_the_crawl(app):
    rule = Rule("/widgets/<any(small, large):size>", endpoint="widgets.size")
    Map([rule])
    with pytest.raises(MissingDemoValue):
        urls_for_rule(app, rule, {"size": ["no-such-size"]})
