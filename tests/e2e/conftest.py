"""End-to-end fixtures: our app and the stand-in card company each served over real HTTP
(LiveServer), a real SMTP server (aiosmtpd), the resident's browser played by a
`requests.Session` that reads the real forms and follows the real redirects (ours to the
card company and back), and the worker run with its real jobs between steps.

Our app gives the card company its own served address (PUBLIC_BASE_URL), so the card
company's notifications arrive over HTTP as in production. Each test has its own servers
and databases: nothing is shared between tests, so no xdist group is needed."""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from html import unescape
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import pytest
import requests
from flask import Flask

from app import create_app
from payments.provider import provider_client
from tests.browser.live_server import LiveServer
from tests.conftest import DEMO_PASSWORD, PAYMENT_SECRET, make_config
from tests.web.card_support import SmtpServer, run_worker, set_faults
from tests.web.test_payment import words

# The card company answers 503 to a void only under the fault control (fail_next_voids):
# that is the fault a test asked for, not a server error.
EXPECTED_PROVIDER_FAULT = re.compile(r"/api/receipts/\d{16}/void$")


# -- reading forms as a browser does --------------------------------------------------------


@dataclass
class Control:
    tag: str
    name: str
    kind: str = "text"
    value: str = ""
    checked: bool = False
    text: str = ""
    options: list[tuple[str, bool]] = field(default_factory=list)  # (value, selected)


@dataclass
class Form:
    action: str
    method: str
    attrs: dict
    controls: list[Control] = field(default_factory=list)

    def buttons(self) -> list[Control]:
        return [c for c in self.controls if c.tag in ("button", "input") and c.kind == "submit"]

    def has_button(self, label: str) -> bool:
        return any(" ".join(b.text.split()) == label or b.value == label for b in self.buttons())

    def data(self, fields: dict[str, str], button: str | None = None) -> list[tuple[str, str]]:
        """What the browser sends: each successful control, then `fields` typed in or
        chosen (a field given replaces what the page holds; None unticks it)."""
        sent: list[tuple[str, str]] = []
        for control in self.controls:
            if not control.name or control.name in fields:
                continue
            if control.tag == "select":
                chosen = [v for v, selected in control.options if selected] or [v for v, _ in control.options[:1]]
                sent += [(control.name, v) for v in chosen[:1]]
            elif control.tag == "textarea":
                sent.append((control.name, control.text))
            elif control.kind in ("checkbox", "radio"):
                if control.checked:
                    sent.append((control.name, control.value or "on"))
            elif control.kind not in ("submit", "button", "reset", "image", "file"):
                sent.append((control.name, control.value))
        sent += [(name, value) for name, value in fields.items() if value is not None]
        pressed = next((b for b in self.buttons() if button and " ".join(b.text.split()) == button), None)
        if pressed is not None and pressed.name:
            sent.append((pressed.name, pressed.value))
        return sent


class _FormParser(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms: list[Form] = []
        self._form: Form | None = None
        self._open: Control | None = None  # a button, textarea or option collecting text
        self._select: Control | None = None

    def handle_starttag(self, tag, attrs):
        a = {k: (v if v is not None else "") for k, v in attrs}
        if tag == "form":
            self._form = Form(a.get("action", ""), a.get("method", "get").lower(), a)
            self.forms.append(self._form)
            return
        if self._form is None:
            return
        if tag == "input":
            kind = a.get("type", "text").lower()
            self._form.controls.append(
                Control(
                    "input",
                    a.get("name", ""),
                    kind,
                    a.get("value", "on" if kind in ("checkbox", "radio") else ""),
                    "checked" in a,
                )
            )
        elif tag == "button":
            self._open = Control("button", a.get("name", ""), a.get("type", "submit").lower(), a.get("value", ""))
            self._form.controls.append(self._open)
        elif tag == "textarea":
            self._open = Control("textarea", a.get("name", ""))
            self._form.controls.append(self._open)
        elif tag == "select":
            self._select = Control("select", a.get("name", ""))
            self._form.controls.append(self._select)
        elif tag == "option" and self._select is not None:
            self._select.options.append((a.get("value", ""), "selected" in a))

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag in ("button", "textarea"):
            self._open = None
        elif tag == "select":
            self._select = None

    def handle_data(self, data):
        if self._open is not None:
            self._open.text += data


@dataclass
class Page:
    """One answer as the resident's browser holds it after following redirects."""

    response: requests.Response

    @property
    def status(self) -> int:
        return self.response.status_code

    @property
    def url(self) -> str:
        return self.response.url

    @property
    def path(self) -> str:
        return urlsplit(self.response.url).path

    @property
    def html(self) -> str:
        return self.response.text

    @property
    def text(self) -> str:
        """The words of the page's <main> (the whole body when it has none)."""
        main = re.search(r"<main\b[^>]*>(.*?)</main>", self.html, re.S)
        return words(main.group(1) if main else self.html)

    @property
    def title(self) -> str:
        match = re.search(r"<title>(.*?)</title>", self.html, re.S)
        return unescape(match.group(1)).strip() if match else ""

    @property
    def h1(self) -> str:
        match = re.search(r"<h1[^>]*>(.*?)</h1>", self.html, re.S)
        return words(match.group(1)) if match else ""

    @property
    def visited(self) -> list[str]:
        """Every address the browser passed on the way here, this page last."""
        return [r.url for r in self.response.history] + [self.response.url]

    @property
    def location(self) -> str:
        return self.response.headers.get("Location", "")

    def forms(self) -> list[Form]:
        parser = _FormParser()
        parser.feed(self.html)
        return parser.forms

    def form(self, button: str) -> Form:
        found = [f for f in self.forms() if f.has_button(button)]
        assert found, f"no form with a {button!r} button on {self.url}: {self.text[:300]}"
        return found[0]

    def link(self, label: str) -> str:
        """The address of the link whose words are `label` (its visually hidden part included)."""
        for href, inner in re.findall(r'<a [^>]*href="([^"]*)"[^>]*>(.*?)</a>', self.html, re.S):
            if words(inner) == label or words(inner).startswith(label + " "):
                return urljoin(self.url, unescape(href))
        raise AssertionError(f"no link {label!r} on {self.url}")


class Browser:
    """One resident's browser: cookies, real forms, real redirects, other sites included."""

    def __init__(self, site: Site):
        self.site = site
        self.http = requests.Session()

    def get(self, url: str, *, follow: bool = True) -> Page:
        return Page(self.http.get(urljoin(self.site.base_url + "/", url), allow_redirects=follow, timeout=30))

    def submit(
        self, page: Page, button: str, fields: dict[str, str | None] | None = None, *, follow: bool = True
    ) -> Page:
        """Fill in the form holding `button` and press it."""
        form = page.form(button)
        target = urljoin(page.url, form.action or page.url)
        data = form.data(fields or {}, button)
        if form.method == "post":
            answer = self.http.post(target, data=data, allow_redirects=follow, timeout=30)
        else:
            answer = self.http.get(target, params=data, allow_redirects=follow, timeout=30)
        return Page(answer)

    def follow(self, page: Page) -> Page:
        """Go where a redirect that was not followed points (the browser reopened)."""
        assert page.status in (301, 302, 303, 307), f"{page.url} answered {page.status}, not a redirect"
        return self.get(urljoin(page.url, page.location))

    def another_tab(self) -> Browser:
        """Another tab of the same browser: the same cookies, its own connection."""
        tab = Browser(self.site)
        tab.http.cookies.update(self.http.cookies)
        return tab

    def log_in(self, number: str = "40675", password: str = DEMO_PASSWORD, kind: str = "assembly") -> Page:
        page = self.get("/login")
        done = self.submit(
            page, "ログイン", {"registration_kind": kind, "registration_number": number, "password": password}
        )
        assert done.status == 200 and urlsplit(done.url).path != "/login", done.text[:300]
        return done


def at_once(*calls):
    """Run the calls in threads released together (two presses of the same button);
    returns their results in order."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)
    failures: list = []

    def run(i, call):
        barrier.wait()
        try:
            results[i] = call()
        except Exception as exc:  # reported below, in the test's thread
            failures.append(exc)

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not failures, failures
    return results


@dataclass(frozen=True)
class Arrival:
    method: str
    path: str
    status: int


class RequestLog:
    """WSGI middleware keeping every request our server answered, with its status: what
    arrived from the card company (notifications) as well as from the browser."""

    def __init__(self, wsgi_app):
        self.wsgi_app = wsgi_app
        self.arrivals: list[Arrival] = []

    def __call__(self, environ, start_response):
        def start(status, headers, exc_info=None):
            self.arrivals.append(Arrival(environ["REQUEST_METHOD"], environ.get("PATH_INFO", ""), int(status[:3])))
            return start_response(status, headers, exc_info)

        return self.wsgi_app(environ, start)

    def notifications(self) -> list[Arrival]:
        return [a for a in self.arrivals if a.method == "POST" and a.path == "/payment/notify"]


@dataclass
class Site:
    """Our served app, the served card company, the SMTP server and the worker."""

    app: Flask
    server: LiveServer
    provider: LiveServer
    smtp: SmtpServer
    requests: RequestLog

    @property
    def base_url(self) -> str:
        return self.server.base_url

    def browser(self) -> Browser:
        return Browser(self)

    def resident(self, number: str = "40675") -> Browser:
        browser = Browser(self)
        browser.log_in(number)
        return browser

    def worker(self) -> str:
        """One pass of every worker job (`flask worker --once`)."""
        result = run_worker(self.app)
        assert result.exit_code == 0, result.output
        return result.output

    def reconcile(self) -> str:
        """`flask reconcile`: exits 0 only when both ledgers agree."""
        result = self.app.test_cli_runner().invoke(args=["reconcile"])
        assert result.exit_code == 0, result.output
        assert "Result: the ledgers agree." in result.output
        return result.output

    def ledger(self) -> dict:
        """The card company's ledger (GET /api/ledger, signed)."""
        return provider_client(self.app.config).ledger()

    def faults(self, **settings) -> dict:
        return set_faults(self.provider, **settings)

    def provider_config(self, **settings) -> None:
        """Change the card company's settings (it reads them per request)."""
        self.provider.app.config.update(settings)

    @property
    def mail_messages(self):
        return self.smtp.messages


@pytest.fixture
def smtp():
    """A real SMTP server at a port chosen in advance; the `site` starts it."""
    server = SmtpServer()
    yield server
    server.stop()


@pytest.fixture
def site(database_url, tmp_path, payment_provider, smtp):
    application = create_app(
        "standard",
        make_config(
            database_url,
            tmp_path,
            PAYMENT_PROVIDER_URL=payment_provider.base_url,
            PAYMENT_PROVIDER_SECRET=PAYMENT_SECRET,
            SMTP_HOST="127.0.0.1",
            SMTP_PORT=smtp.port,
        ),
    )
    log = RequestLog(application.wsgi_app)
    application.wsgi_app = log
    server = LiveServer(application)
    # Where the card company sends the browser back and its notifications: this server.
    application.config["PUBLIC_BASE_URL"] = server.base_url
    server.start()
    smtp.start()
    set_faults(payment_provider, reset=True)
    yield Site(application, server, payment_provider, smtp, log)
    server.stop()
    application.extensions["database"].dispose()
    assert not server.server_errors, f"our app answered with a server error: {server.server_errors}"
    unexpected = [
        e
        for e in payment_provider.server_errors
        if not (e.status.startswith("503") and EXPECTED_PROVIDER_FAULT.search(e.path))
    ]
    assert not unexpected, f"the card company answered with a server error: {unexpected}"
