"""Every POST route of `app.url_map`, filled with the GET crawl's demo values, sent bad
bodies as the logged-in demo resident 00040675: an empty form; every field of the route's
form filled with junk (wrong types, impossible dates, NUL, 5,000 characters, markup,
full-width digits, forged and someone else's ids); the form as its page shows it with the
one-time token broken and one field junk; someone else's or forged ids in the address;
each without a CSRF token too and as an htmx request. Whatever is sent, the answer is one a
resident can be shown (never a 500) and the database is exactly as it was.

The field names come from the pages: the GET routes are visited with demo values and their
GET forms followed (formaction buttons and redirects included) until the pages holding the
POST forms are found, so a new form is covered without touching this file. A route
argument with no demo value fails the test (add it to demo_values() in
tests/web/test_every_route.py), and so does a POST route no page holds a form for (list it
in FORMLESS with the reason)."""

from __future__ import annotations

import json
import logging
import re
import time
import traceback
from collections import Counter, deque
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest
from sqlalchemy import inspect, select, text
from werkzeug.datastructures import MultiDict
from werkzeug.routing import Rule

from models.account import Resident
from models.reservation import Reservation
from payments.provider import sign
from tests.conftest import HTMX_HEADERS, AuthActions, csrf_token_from
from tests.web.test_every_route import (
    SKIP_ENDPOINTS,
    PageParser,
    forged_urls_for_rule,
    get_routes,
    same_site_urls,
    seeded_values,
    urls_for_rule,
)
from web.tokens import TOKEN_FORMAT

ROOT = Path(__file__).resolve().parents[2]
DEMO_RESIDENT = "00040675"  # AuthActions' default login

# What a resident may be answered; a 500 (or anything else) is a bug.
ALLOWED_STATUSES = {200, 204, 302, 303, 400, 403, 404, 405, 409, 413, 422, 429}
# The card company's notification is not a page: an unsigned or badly signed one is
# refused with 401 (the card company, not a resident, reads it).
EXTRA_STATUSES = {"payment.notify": {401}}
# POST routes no page holds a form for (each says why).
FORMLESS = {
    "payment.notify": "the card company's signed JSON notification; its bad bodies are notify_bodies()",
    # Their forms appear only behind a single-use link mailed to the resident; they still get
    # every junk body below, and tests/web/test_account_reset.py and test_account_profile.py
    # send them expired, used and forged links.
    "auth.reset": "the new-password form of a mailed reset link",
    "auth.confirm_email": "the confirm button of a mailed email-confirmation link",
}

# The columns a request may change whatever it is sent: logging the demo resident in again
# (after the logout route) sets last_login_at and preferred_locale, and POST /logout with an
# empty, valid form legitimately ends the resident's sessions (session_version + 1).
VOLATILE_COLUMNS = {("residents", "last_login_at"), ("residents", "preferred_locale"), ("residents", "session_version")}

# The CSRF check's refusal (web/errors.py), to tell it from the view's own 400.
CSRF_REFUSAL = "フォームの有効期限が切れたか、正しく送信されませんでした。"

# Bounds: bodies per address, so that the whole run stays well under a minute.
JUNK_PER_EXTRA_URL = 3  # all-junk bodies for the 2nd, 3rd … demo value of a route argument
MIXED_PER_URL = 8  # "as shown, token broken, one field junk" bodies per address
MIXED_PER_EXTRA_URL = 3
DISCOVERY_BUDGET = 230  # pages visited to find the POST forms
SAME_SHAPE_LIMIT = 3


def junk_values(other_number: str) -> list[str]:
    """What no field of any form accepts. (A one-time token is checked only for its shape,
    20 to 64 letters, digits, - and _, which "99999999999999999999" has: broken_token_bodies
    sends only the others as form_token.)"""
    return [
        "abc",
        "-1",
        "99999999999999999999",
        "2026-02-30",
        "\x00",
        "あ" * 5000,
        "<script>alert(1)</script>",
        "１２",
        "2099-999999",
        other_number,  # someone else's 予約番号
        "",
    ]


# -- the pages' POST forms ----------------------------------------------------------------------


@dataclass
class PostForm:
    action: str
    found_on: str
    fields: list[str] = field(default_factory=list)  # names in page order, no csrf_token
    checkboxes: set[str] = field(default_factory=set)
    ticked: list[tuple[str, str]] = field(default_factory=list)  # sent as shown, every checkbox ticked


class FormParser(PageParser):
    """PageParser (links, GET forms) plus the POST forms with their controls, and the
    GET-form queries that formaction buttons send elsewhere (次へ進む on 備品)."""

    def __init__(self):
        super().__init__()
        self.post_forms: list[dict] = []
        self._method = None

    def handle_starttag(self, tag, attrs):
        super().handle_starttag(tag, attrs)
        a = {k: (v if v is not None else "") for k, v in attrs}
        if tag == "form":
            self._method = (a.get("method") or "get").lower()
            if self._method == "post":
                self.post_forms.append(self._form)
            return
        form = self._form
        if form is None:
            return
        kind = a.get("type", "submit" if tag == "button" else "text").lower()
        if a.get("formaction") and kind in ("submit", "image") and self._method == "get":
            form.setdefault("formactions", []).append(a["formaction"])
        # PageParser keeps the textual controls of GET forms; a POST form also has these.
        if (
            tag == "input"
            and a.get("name")
            and kind in ("password", "file", "color", "range", "time", "week", "datetime-local")
        ):
            form["fields"].append((a["name"], a.get("value", ""), a.get("value", "")))

    def handle_endtag(self, tag):
        super().handle_endtag(tag)
        if tag == "form":
            self._method = None

    def form_queries(self):
        queries = super().form_queries()
        forms = self.forms
        for form in forms:
            for target in form.get("formactions", []):
                self.forms = [dict(form, action=target)]
                queries += super().form_queries()
        self.forms = forms
        return queries


def post_forms_of(base: str, html: str) -> list[PostForm]:
    parser = FormParser()
    parser.feed(html)
    found = []
    for form in parser.post_forms:
        action = urlsplit(form["action"] or base).path
        post = PostForm(action=action, found_on=base)
        names = (
            [n for n, _, _ in form["fields"]]
            + [n for n, _, _ in form["boxes"]]
            + list(form["radios"])
            + [n for n, _ in form["submits"]]
        )
        post.fields = [n for n in dict.fromkeys(names) if n != "csrf_token"]
        post.checkboxes = {n for n, _, _ in form["boxes"]}
        post.ticked = [(n, v) for n, v, _ in form["fields"] if n != "csrf_token"]
        post.ticked += [(n, v) for n, v, _ in form["boxes"]]
        post.ticked += [
            (n, next(v for v, checked in options if checked))
            for n, options in form["radios"].items()
            if any(c for _, c in options)
        ]
        found.append(post)
    return found


def discover_post_forms(app, client, values) -> dict[str, PostForm]:
    """The POST forms of the pages a resident reaches, by address they post to: every GET
    route with demo values (logged in, and the first of each logged out), then their links
    and GET forms, redirects followed, GET forms first (they lead to the next step)."""
    forms: dict[str, PostForm] = {}
    seen: set[str] = set()
    shapes: dict[tuple, int] = {}

    def visit(visitor, url: str, follow: bool) -> list[str]:
        response = visitor.get(url, follow_redirects=follow)
        if response.mimetype != "text/html" or response.status_code >= 500:
            return []
        last = response.request
        base = last.path + (f"?{last.query_string.decode()}" if last.query_string else "")
        html = response.get_data(as_text=True)
        for form in post_forms_of(base, html):
            forms.setdefault(form.action, form)
        return same_site_urls(base, html, FormParser)

    logged_out = app.test_client()
    start = []
    for rule in get_routes(app):
        urls = urls_for_rule(app, rule, values)
        start += urls
        visit(logged_out, urls[0], follow=False)
    queue = deque(start)
    # A lottery month's slots lie weeks past the grid's default start: its 時間帯別空き状況 is
    # visited first, so that 抽選申込's steps (details, confirm and its POST form) follow.
    for url in lottery_slot_pages(app):
        found = visit(client, url, follow=True)
        queue.extendleft(reversed([u for u in found if "?" in u]))
    budget = DISCOVERY_BUDGET
    while queue and budget > 0:
        url = queue.popleft()
        if url in seen:
            continue
        parts = urlsplit(url)
        shape = (parts.path, tuple(sorted({k for k, _ in parse_qsl(parts.query, keep_blank_values=True)})))
        shapes[shape] = shapes.get(shape, 0) + 1
        if shapes[shape] > SAME_SHAPE_LIMIT:
            continue
        seen.add(url)
        budget -= 1
        found = visit(client, url, follow=True)
        with_query = [u for u in found if "?" in u]
        queue.extendleft(reversed(with_query))  # form submissions (the next step) first
        queue.extend(u for u in found if "?" not in u)
    return forms


def lottery_slot_pages(app) -> list[str]:
    """時間帯別空き状況 of one lottery room's day in a month open for entries, if any."""
    from lottery.schedule import open_lottery_rooms
    from models.facility import Room
    from web.clock import now

    with app.app_context():
        session = app.extensions["database"].read_session()
        try:
            rooms = open_lottery_rooms(session, now=now())
            if not rooms:
                return []
            room_id = min(rooms)
            room = session.get(Room, room_id)
            day = rooms[room_id][0].use_month.replace(day=5)
            return [f"/availability/slots?cell={room_id}:{day.isoformat()}&facility={room.facility.code}"]
        finally:
            session.close()


# -- the routes ---------------------------------------------------------------------------------


def post_routes(app) -> list[Rule]:
    return [r for r in app.url_map.iter_rules() if "POST" in r.methods and r.endpoint not in SKIP_ENDPOINTS]


def someone_elses_values(app) -> dict[str, list]:
    """Ids of things that belong to another resident, by route argument name."""
    session = app.extensions["database"].read_session()
    try:
        others = session.scalars(
            select(Reservation)
            .join(Resident, Resident.id == Reservation.resident_id)
            .where(Resident.registration_number != DEMO_RESIDENT)
            .order_by(Reservation.id)
        ).all()
    finally:
        session.close()
    return {"number": [others[0].number], "reservation_id": [others[0].id]} if others else {}


def forged_post_urls(rule: Rule, values: dict[str, list], others: dict[str, list]) -> list[str]:
    """The GET crawl's forged arguments, and someone else's ids, one argument at a time."""
    urls = forged_urls_for_rule(rule, values)
    names = sorted(rule.arguments)
    for name in names:
        for value in others.get(name, []):
            built = rule.build({n: value if n == name else values[n][0] for n in names}, append_unknown=False)
            if built:
                urls.append(built[1])
    return list(dict.fromkeys(urls))


# -- the database, before and after -------------------------------------------------------------


def snapshot(engine, tables: list[str]) -> dict[str, list[tuple]]:
    """Every row of every table (so: row counts, reservations' version and state, the status
    of card charges and settlements, e-mail addresses …), less VOLATILE_COLUMNS."""
    rows = {}
    with engine.connect() as connection:
        for table in tables:
            result = connection.execute(text(f'SELECT * FROM "{table}" ORDER BY 1'))
            keep = [i for i, column in enumerate(result.keys()) if (table, column) not in VOLATILE_COLUMNS]
            rows[table] = [tuple(row[i] for i in keep) for row in result]
    return rows


def describe_change(before: dict, after: dict) -> str:
    lines = []
    for table in before:
        if before[table] == after[table]:
            continue
        gone = [r for r in before[table] if r not in after[table]]
        new = [r for r in after[table] if r not in before[table]]
        lines.append(
            f"{table}: {len(before[table])} → {len(after[table])} rows; was {gone[:2]!r:.300} now {new[:2]!r:.300}"
        )
    return "; ".join(lines)


# -- sending ------------------------------------------------------------------------------------


class CrashLog(logging.Handler):
    """The app's 'unhandled error' records, for a traceback summary next to a 500."""

    def __init__(self):
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record):
        self.records.append(record)

    def summary(self) -> str:
        for record in reversed(self.records):
            if record.exc_info:
                exc_type, exc, tb = record.exc_info
                own = [
                    f
                    for f in traceback.extract_tb(tb)
                    if f.filename.startswith(str(ROOT)) and ".venv" not in f.filename
                ]
                where = (
                    f" at {Path(own[-1].filename).relative_to(ROOT)}:{own[-1].lineno} in {own[-1].name}" if own else ""
                )
                return f"{exc_type.__name__}: {str(exc)[:160]}{where}"
        return "no traceback logged"


def shorten(pairs) -> str:
    if isinstance(pairs, bytes):
        return repr(pairs[:80])
    return repr([(n, v if len(v) <= 30 else f"{v[:10]}…({len(v)} chars)") for n, v in pairs])[:400]


@dataclass
class Prober:
    app: object
    client: object
    tables: list[str]
    baseline: dict
    crash_log: CrashLog
    csrf: str = ""
    failures: list[str] = field(default_factory=list)
    sent: int = 0
    statuses: dict[str, Counter] = field(default_factory=dict)
    reached: set[str] = field(default_factory=set)

    def log_in(self) -> None:
        response = AuthActions(self.client).login()
        assert response.status_code == 303, "could not log the demo resident in"
        self.refresh_token()

    def log_in_again(self) -> None:
        if self.client.get("/mymenu/").status_code != 200:
            self.log_in()
        else:
            self.refresh_token()

    def refresh_token(self) -> None:
        page = self.client.get("/mymenu/")
        assert page.status_code == 200, f"the demo resident is no longer logged in ({page.status_code} on /mymenu/)"
        self.csrf = csrf_token_from(page.get_data(as_text=True))

    def post(
        self, endpoint: str, url: str, body, *, label: str, csrf: bool = True, htmx: bool = False, headers=None
    ) -> None:
        if isinstance(body, bytes):
            data = body
        else:
            data = MultiDict(([("csrf_token", self.csrf)] if csrf else []) + list(body))
        self.crash_log.records.clear()
        response = self.client.post(url, data=data, headers={**(HTMX_HEADERS if htmx else {}), **(headers or {})})
        self.sent += 1
        how = f"POST {url} [{label}{'' if csrf else ', no CSRF'}{', htmx' if htmx else ''}] body={shorten(body)}"
        status = response.status_code
        if csrf and CSRF_REFUSAL not in response.get_data(as_text=True):
            self.reached.add(endpoint)  # the view itself, not only the CSRF check, answered
        self.statuses.setdefault(endpoint, Counter())[status] += 1
        if status not in ALLOWED_STATUSES | EXTRA_STATUSES.get(endpoint, set()):
            crash = f" — {self.crash_log.summary()}" if status >= 500 else ""
            self.failures.append(f"{how} → {status}{crash}")
        after = snapshot(self.app.extensions["database"].engine, self.tables)
        if after != self.baseline:
            self.failures.append(f"{how} → {status} changed the database: {describe_change(self.baseline, after)}")
            self.baseline = after  # report each change once
        if endpoint == "auth.logout":
            self.log_in_again()  # any form with a CSRF token is a real logout

    def variants(self, endpoint: str, url: str, body, label: str) -> None:
        """The body with a CSRF token, as htmx too, and without a token."""
        self.post(endpoint, url, body, label=label)
        self.post(endpoint, url, body, label=label, htmx=True)
        self.post(endpoint, url, body, label=label, csrf=False)


def form_bodies(fields: list[str], checkboxes: set[str], junk: list[str], junk_indexes) -> list[tuple[str, list]]:
    """An empty form; every field filled with one junk value; fields given different junk
    values. A checkbox sends its value only when ticked and the form asks only whether it
    came, so junk in a checkbox is a ticked box, not bad input: checkboxes stay unticked
    here (on 注意事項 a ticked 同意します alone is a valid 次へ進む, which without a card
    company answers 503 and keeps the OPEN charge by design:
    test_an_unreachable_card_company_charges_nothing_and_the_resident_can_try_again)."""
    fillable = [f for f in fields if f not in checkboxes]
    bodies = [("empty form", [])]
    if not fillable:
        return bodies
    for i in junk_indexes:
        bodies.append((f"every field = junk #{i}", [(f, junk[i]) for f in fillable]))
    for k in (1, 5):
        bodies.append((f"mixed junk +{k}", [(f, junk[(j + k) % len(junk)]) for j, f in enumerate(fillable)]))
    return bodies


def broken_token_bodies(form: PostForm | None, junk: list[str], offset: int, limit: int) -> list[tuple[str, list]]:
    """The form as its page shows it (checkboxes ticked: what a resident who agrees sends),
    with its one-time token missing or junk, and one field at a time junk: the route reads
    real values as far as the token, which must stop it."""
    if form is None or "form_token" not in form.fields:
        return []
    base = [(n, v) for n, v in form.ticked if n != "form_token"]
    not_tokens = [value for value in junk if not TOKEN_FORMAT.match(value)]
    bodies = [("as shown, no form_token", base)]
    # One field of each kind first (item_1 before item_2 … item_12, then version).
    others = [f for f in form.fields if f != "form_token"]
    kinds = {re.sub(r"\d+", "#", f): f for f in reversed(others)}
    others = list(dict.fromkeys([*kinds.values()][::-1] + others))
    for j, name in enumerate(others[:limit]):
        value = junk[(j + offset) % len(junk)]
        body = [(n, value if n == name else v) for n, v in base]
        if name not in dict(base):
            body.append((name, value))
        bodies.append(
            (
                f"as shown, form_token junk, {name} junk",
                body + [("form_token", not_tokens[(j + offset) % len(not_tokens)])],
            )
        )
    return bodies


def someone_elses_bodies(form: PostForm | None, own_numbers: list[str], other_number: str) -> list[tuple[str, list]]:
    """The form as a resident who agrees would send it, real one-time token and all, with
    each of their own 予約番号 in it replaced by someone else's: refused, nothing changes."""
    if form is None:
        return []
    body = form.ticked
    for number in own_numbers:
        body = [(n, v.replace(number, other_number)) for n, v in body]
    return [("as shown, someone else's 予約番号", body)] if body != form.ticked else []


def notify_bodies(app, other_number: str) -> list[tuple[str, bytes, dict]]:
    """The card company's notification: unsigned, badly signed, and signed junk."""
    secret = app.config["PAYMENT_PROVIDER_SECRET"]

    def signed(body: bytes) -> dict:
        return {**sign(secret, "POST", "/payment/notify", body), "Content-Type": "application/json"}

    document = {
        "session": {
            "receipt_number": {"x": 1},
            "amount_yen": "abc",
            "status": "captured",
            "session_id": ["x"],
            "merchant_reference": other_number,
        }
    }
    bodies = [
        ("unsigned", b'{"session": {}}', {"Content-Type": "application/json"}),
        ("timestamp not a number", b"{}", {"X-Timestamp": "１２", "X-Signature": "sha256=00"}),
        ("timestamp of 5,000 digits", b"{}", {"X-Timestamp": "9" * 5000, "X-Signature": "sha256=00"}),
        ("timestamp far away", b"{}", {"X-Timestamp": "99999999999999999999", "X-Signature": "sha256=00"}),
        ("bad signature", b"{}", {"X-Timestamp": str(int(time.time())), "X-Signature": "sha256=<script>"}),
        ("signature not ASCII", b"{}", {"X-Timestamp": str(int(time.time())), "X-Signature": "sha256=\u00e9"}),
    ]
    for label, body in [
        ("signed, empty", b""),
        ("signed, not JSON", b"<script>"),
        ("signed, not UTF-8", b"\xff\xfe\x00"),
        ("signed, a list", b"[]"),
        ("signed, session not an object", b'{"session": 5}'),
        ("signed, junk session", json.dumps(document).encode()),
        (
            "signed, unknown receipt",
            json.dumps({"session": {"receipt_number": "2099-999999", "status": "captured"}}).encode(),
        ),
        ("signed, nested 100,000 deep", b"[" * 100_000 + b"]" * 100_000),
    ]:
        bodies.append((label, body, signed(body)))
    return bodies


# -- the test -------------------------------------------------------------------------------------


def test_no_post_route_answers_500_or_changes_the_database_on_bad_input(app):
    values = seeded_values(app)
    others = someone_elses_values(app)
    other_number = (others.get("number") or ["2026-999999"])[0]
    junk = junk_values(other_number)
    engine = app.extensions["database"].engine
    tables = inspect(engine).get_table_names()
    crash_log = CrashLog()
    app.logger.addHandler(crash_log)
    client = app.test_client()
    prober = Prober(app, client, tables, baseline={}, crash_log=crash_log)
    prober.log_in()

    forms = discover_post_forms(app, client, values)
    adapter = app.url_map.bind("localhost")
    by_endpoint: dict[str, list[PostForm]] = {}
    for form in forms.values():
        by_endpoint.setdefault(adapter.match(form.action, method="POST")[0], []).append(form)
    every_field = list(dict.fromkeys(f for form in forms.values() for f in form.fields))
    every_checkbox = set().union(*(form.checkboxes for form in forms.values()))

    routes = post_routes(app)
    formless = sorted(r.endpoint for r in routes if r.endpoint not in by_endpoint and r.endpoint not in FORMLESS)
    assert not formless, f"POST routes no visited page holds a form for (add them to FORMLESS, with why): {formless}"

    prober.refresh_token()  # the discovery's pages leave the session as it was; start clean
    prober.baseline = snapshot(engine, tables)
    for rule in routes:
        endpoint = rule.endpoint
        own = by_endpoint.get(endpoint, [])
        # A route with no form on any page gets every field name any form has.
        fields = list(dict.fromkeys(f for form in own for f in form.fields)) if own else every_field
        checkboxes = set().union(*(form.checkboxes for form in own)) if own else every_checkbox
        for index, url in enumerate(urls_for_rule(app, rule, values, method="POST")):
            if index == 0:
                chosen = range(len(junk))
                mixed_limit = MIXED_PER_URL
            else:  # the other demo values (bookings in other states): fewer, other junk
                chosen = [(index * JUNK_PER_EXTRA_URL + k) % len(junk) for k in range(JUNK_PER_EXTRA_URL)]
                mixed_limit = MIXED_PER_EXTRA_URL
            bodies = form_bodies(fields, checkboxes, junk, chosen)
            page_form = forms.get(urlsplit(url).path)
            bodies += broken_token_bodies(page_form, junk, index, mixed_limit)
            bodies += someone_elses_bodies(page_form, values["number"], other_number)
            for label, body in bodies:
                prober.variants(endpoint, url, body, label)
            prober.post(endpoint, url, [], label="empty form", csrf=False, htmx=True)
            if index == 0:
                prober.post(endpoint, url, [("junk", "x" * (1024 * 1024 + 1))], label="above MAX_CONTENT_LENGTH")
        # Forged and someone else's ids in the address, with the form as a resident who
        # agrees would send it (a real one-time token: only the address is wrong).
        template = own[0] if own else None
        for url in forged_post_urls(rule, values, others):
            bodies = [
                ("empty form", []),
                ("every field = junk #0", [(f, junk[0]) for f in fields if f not in checkboxes]),
            ]
            if template is not None:
                bodies.append(("as shown on " + template.found_on.split("?")[0], template.ticked))
            for label, body in bodies:
                prober.post(endpoint, url, body, label=f"forged address, {label}")
                prober.post(endpoint, url, body, label=f"forged address, {label}", htmx=True)
        if endpoint == "payment.notify":
            for label, body, headers in notify_bodies(app, other_number):
                prober.post(endpoint, rule.rule, body, label=label, headers=headers)
        prober.refresh_token()  # still logged in, or every later route would only redirect

    app.logger.removeHandler(crash_log)
    unreached = sorted(r.endpoint for r in routes if r.endpoint not in prober.reached)
    assert not unreached, f"POST routes whose every request stopped at the CSRF check: {unreached}"
    if prober.failures:
        pytest.fail(
            f"{len(prober.failures)} of {prober.sent} bad POST requests failed:\n"
            + "\n".join(prober.failures)
            + "\n\nanswers by route: "
            + "; ".join(f"{e} {dict(sorted(c.items()))}" for e, c in prober.statuses.items()),
            pytrace=False,
        )
