"""The production shape, proved (issue 13; run by .ci/run, not by bin/test): PostgreSQL and
Redis, two site instances, the kiosk, two workers and the stand-in card company behind a
real nginx (Debian's) on loopback with TLS (a certificate made now with openssl, so Secure
cookies work as they will), all configured from deploy/. Then: the proxy set-up checked, the
end-to-end card payment, a cancellation with refund, 30 s of mixed load across both site
instances with a backup taken under it, and kill -9 of one site instance and one worker in
the middle. Afterwards: every request sent after the kill answered by the surviving
instance, a form sent again shows the first result, `flask reconcile` exits 0, every queued
mail delivered once (or again with the same Message-ID), no booking or charge doubled, and
the backup restored into an empty database reconciles and lists bookings.

Usage: .venv/bin/python -m tests.production.prove_deployment [--load-seconds 30]
Needs root (nginx), PostgreSQL at DATABASE_URL (default postgresql://postgres@127.0.0.1:5432/test)
and Redis at redis://127.0.0.1:6379."""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import urlencode

import requests
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[2]
PYTHON = str(ROOT / ".venv" / "bin" / "python")
BIN = ROOT / ".venv" / "bin"
GOOD_CARD = "4111111111111111"
PASSWORD = "meguro2025"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def say(message: str) -> None:
    print(f"[prove] {message}", flush=True)


class Failed(AssertionError):
    pass


def check(condition: bool, message: str) -> None:
    if not condition:
        raise Failed(message)
    say(f"ok: {message}")


@dataclass
class Process:
    name: str
    popen: subprocess.Popen
    log: Path

    def kill9(self) -> None:
        os.killpg(self.popen.pid, signal.SIGKILL)
        self.popen.wait(10)

    def stop(self) -> None:
        if self.popen.poll() is None:
            try:
                os.killpg(self.popen.pid, signal.SIGTERM)
                self.popen.wait(20)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                try:
                    os.killpg(self.popen.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass


@dataclass
class Deployment:
    work: Path
    env: dict
    https: int
    processes: dict[str, Process] = field(default_factory=dict)

    @property
    def site(self) -> str:
        return f"https://127.0.0.1:{self.https}"

    @property
    def kiosk(self) -> str:
        return f"https://127.0.0.2:{self.https}"

    def start(self, name: str, argv: list[str], **extra) -> Process:
        log = self.work / "logs" / f"{name}.log"
        popen = subprocess.Popen(
            argv,
            cwd=ROOT,
            env={**self.env, **extra},
            stdout=log.open("ab"),
            stderr=subprocess.STDOUT,
            start_new_session=True,  # kill -9 reaches the instance's every process
        )
        process = Process(name, popen, log)
        self.processes[name] = process
        return process

    def flask(
        self, *args: str, database_url: str | None = None, check_exit: bool = True
    ) -> subprocess.CompletedProcess:
        env = {**self.env, **({"DATABASE_URL": database_url} if database_url else {})}
        result = subprocess.run(
            [str(BIN / "flask"), "--app", "app", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
        )
        if check_exit and result.returncode != 0:
            raise Failed(
                f"flask {' '.join(args)} exited {result.returncode}: {result.stdout[-2000:]} {result.stderr[-2000:]}"
            )
        return result

    def stop_all(self) -> None:
        for process in reversed(list(self.processes.values())):
            process.stop()


def wait_until(predicate, what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if predicate():
                return
        except Exception:
            pass
        time.sleep(0.3)
    raise Failed(f"timed out waiting for {what}")


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex((host, port)) == 0


# -- set-up ---------------------------------------------------------------------------------------


def make_certificate(work: Path) -> tuple[Path, Path]:
    cert, key = work / "tls" / "cert.pem", work / "tls" / "key.pem"
    cert.parent.mkdir()
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=meguro-ci",
            "-addext", "subjectAltName=IP:127.0.0.1,IP:127.0.0.2,DNS:localhost",
            "-keyout", str(key), "-out", str(cert),
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return cert, key


def nginx_config(work: Path, env: dict, cert: Path, key: Path, ports: dict) -> Path:
    conf_dir = work / "nginx"
    (conf_dir / "tmp").mkdir(parents=True)
    render_env = {
        **env,
        "SITE_NAME": "127.0.0.1",
        "KIOSK_NAME": "127.0.0.2",
        "WEB_INSTANCES": f"127.0.0.1:{ports['web1']} 127.0.0.1:{ports['web2']}",
        "KIOSK_INSTANCES": f"127.0.0.1:{ports['kiosk']}",
        "LISTEN_SITE": f"127.0.0.1:{ports['https']}",
        "LISTEN_KIOSK": f"127.0.0.2:{ports['https']}",
        "LISTEN_HTTP": f"127.0.0.1:{ports['http']} 127.0.0.2:{ports['http']}",
        "CERTIFICATE": str(cert),
        "CERTIFICATE_KEY": str(key),
        "STATIC_ROOT": str(work / "public"),
        # Only 127.0.0.1 is "inside" here, so a request from 127.0.0.3 plays the outside.
        "INSIDE_NETWORKS": "",
        "ACCESS_LOG": str(work / "logs" / "nginx-access.log"),
    }
    subprocess.run([str(ROOT / "deploy" / "render-nginx"), str(conf_dir)], env=render_env, check=True)
    # The template counts all of loopback as inside; here only 127.0.0.1 is.
    meguro = conf_dir / "meguro.conf"
    meguro.write_text(meguro.read_text().replace("    127.0.0.0/8 1;", "    127.0.0.1/32 1;"))
    main = conf_dir / "nginx.conf"
    tmp = conf_dir / "tmp"
    main.write_text(
        f"""worker_processes 1;
pid {conf_dir}/nginx.pid;
error_log {work}/logs/nginx-error.log warn;
user root;
events {{ worker_connections 1024; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    include {meguro};
}}
"""
    )
    return main


def unit_environment(unit: str, port: int) -> dict[str, str]:
    """The Environment= of a systemd unit in deploy/systemd (its %i the port), as systemd sets it."""
    found: dict[str, str] = {}
    for line in (ROOT / "deploy" / "systemd" / f"{unit}.service").read_text().splitlines():
        if line.startswith("Environment="):
            for pair in line.removeprefix("Environment=").replace("%i", str(port)).split():
                key, _, value = pair.partition("=")
                found[key] = value
    return found


def start_everything(work: Path, load_seconds: int) -> Deployment:
    ports = {name: free_port() for name in ("web1", "web2", "kiosk", "provider", "smtp", "https", "http")}
    base = os.environ.get("DATABASE_URL") or "postgresql://postgres@127.0.0.1:5432/test"
    name = f"meguro_prove_{os.getpid()}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        c.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    database_url = make_url(base).set(database=name).render_as_string(hide_password=False)
    redis_url = "redis://127.0.0.1:6379/7"
    import redis

    redis.Redis.from_url(redis_url).flushdb()
    cert, key = make_certificate(work)
    # requests takes REQUESTS_CA_BUNDLE over a session's own verify=: trust ours beside the
    # system's, in this process and in every one it starts.
    bundle = work / "tls" / "ca-bundle.pem"
    system = Path(os.environ.get("REQUESTS_CA_BUNDLE") or "/etc/ssl/certs/ca-certificates.crt")
    bundle.write_text((system.read_text() if system.exists() else "") + cert.read_text())
    os.environ["REQUESTS_CA_BUNDLE"] = os.environ["CURL_CA_BUNDLE"] = str(bundle)
    (work / "logs").mkdir()
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("FLASK_DEBUG", "FROZEN_NOW", "SECRET_KEY", "PAYMENT_PROVIDER_SECRET", "PYTHONPATH")
    }
    secret = secrets.token_urlsafe(32)
    env.update(
        PYTHONPATH=str(ROOT),
        DATABASE_URL=database_url,
        REDIS_URL=redis_url,
        SECRET_KEY=secrets.token_urlsafe(32),
        PAYMENT_PROVIDER_SECRET=secret,
        PAYMENT_PROVIDER_URL=f"http://127.0.0.1:{ports['provider']}",
        PUBLIC_BASE_URL=f"https://127.0.0.1:{ports['https']}",
        KIOSK_BASE_URL=f"https://127.0.0.2:{ports['https']}",
        SMTP_HOST="127.0.0.1",
        SMTP_PORT=str(ports["smtp"]),
        TRUSTED_PROXIES="1",
        SESSION_COOKIE_SECURE="1",
        INSTANCE_PATH=str(work / "instance"),
        WORKER_INTERVAL_SECONDS="1",
        MAIL_CLAIM_LEASE_SECONDS="15",
        WEB_WORKERS="2",
        WEB_THREADS="4",
        REQUESTS_CA_BUNDLE=str(bundle),  # the card company's notifications reach us over our TLS
        CURL_CA_BUNDLE=str(bundle),
        PAYMENTS_DATABASE_URL=f"sqlite:///{work}/provider.sqlite3",
        PAYMENT_STANDIN_INSTANCE_PATH=str(work / "provider-instance"),
        PAYMENT_STANDIN_PUBLIC_URL=f"http://127.0.0.1:{ports['provider']}",
    )
    deployment = Deployment(work, env, ports["https"])
    deployment.ports = ports
    deployment.cert = cert
    deployment.database_url = database_url
    deployment.admin_url = base

    deployment.start(
        "provider",
        [str(BIN / "gunicorn"), "--bind", f"127.0.0.1:{ports['provider']}", "--workers", "1", "--threads", "8",
         "--log-level", "warning", "payment_standin.app:create_app()"],
    )  # fmt: skip
    deployment.start(
        "smtp", [PYTHON, "-m", "tests.production.smtp_sink", str(ports["smtp"]), str(work / "smtp.jsonl"), "0.02"]
    )
    wait_until(lambda: port_open(ports["provider"]) and port_open(ports["smtp"]), "the card company and SMTP")

    # The one-shot migration unit, then the demo data (card-paid bookings through the provider).
    deployment.flask("init-db")
    deployment.flask("static-collect", str(work / "public"))
    deployment.flask("seed-demo")

    gunicorn = [str(BIN / "gunicorn"), "-c", str(ROOT / "deploy" / "gunicorn.conf.py")]
    for name, unit in (("web1", "meguro-web@"), ("web2", "meguro-web@"), ("kiosk", "meguro-kiosk@")):
        deployment.start(
            name,
            gunicorn,
            **{
                **unit_environment(unit, ports[name]),
                "PROMETHEUS_MULTIPROC_DIR": str(work / f"metrics-{name}"),  # /run/… in the unit
            },
        )
    for name in ("worker1", "worker2"):
        deployment.start(name, [str(BIN / "flask"), "--app", "app", "worker", "--interval", "1"])
    for name in ("web1", "web2", "kiosk"):
        wait_until(lambda port=ports[name]: port_open(port), f"{name}", timeout=120)
    main = nginx_config(work, env, cert, key, ports)
    subprocess.run(["nginx", "-t", "-q", "-c", str(main)], check=True)
    deployment.start("nginx", ["nginx", "-c", str(main), "-g", "daemon off;"])
    wait_until(lambda: port_open(ports["https"]), "nginx")
    return deployment


# -- a resident's browser through nginx ------------------------------------------------------------


def https_session(deployment: Deployment, base: str | None = None) -> requests.Session:
    """A browser's HTTP: over https a form is accepted only with a same-origin Referer
    (Flask-WTF's strict check), which a browser sends (Referrer-Policy: same-origin)."""
    session = requests.Session()
    session.headers["Referer"] = (base or deployment.site) + "/"
    return session


def browser(deployment: Deployment, base: str | None = None):
    from tests.e2e.conftest import Browser

    @dataclass
    class Provider:
        base_url: str

        def url(self, path: str) -> str:
            return self.base_url + path

    @dataclass
    class SiteStub:
        base_url: str
        provider: Provider

    b = Browser(SiteStub(base or deployment.site, Provider(deployment.env["PAYMENT_PROVIDER_URL"])))
    b.http = https_session(deployment, base)
    return b


# -- the checks ----------------------------------------------------------------------------------


def check_the_front(deployment: Deployment) -> None:
    site, kiosk = deployment.site, deployment.kiosk
    s = https_session(deployment)
    ready = s.get(f"{site}/readyz", timeout=10)
    check(ready.status_code == 200 and ready.json()["status"] == "ready", "/readyz through nginx from inside: ready")
    seen = ready.json()["proxy"]
    check(seen["forwarded_for_hops"] == 1 and seen["scheme"] == "https", f"the app sees one proxy and https: {seen}")
    result = deployment.flask("check-proxy", "--url", site)
    check("matches" in result.stdout, f"flask check-proxy: {result.stdout.strip()}")
    for path in ("/healthz", "/readyz", "/metrics"):
        outside = subprocess.run(
            ["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--cacert", str(deployment.cert),
             "--interface", "127.0.0.3", f"{site}{path}"],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        check(outside.stdout == "404", f"{path} from outside (127.0.0.3): {outside.stdout}")
        check(s.get(f"{kiosk}{path}", timeout=10).status_code == 404, f"{path} on the kiosk's origin: 404")
    metrics = s.get(f"{site}/metrics", timeout=10).text
    check("meguro_request_duration_seconds" in metrics and "meguro_outbox_backlog" in metrics, "/metrics from inside")
    http = requests.get(f"http://127.0.0.1:{deployment.ports['http']}/", allow_redirects=False, timeout=10)
    check(http.status_code == 301 and http.headers["Location"].startswith("https://"), "http redirects to https")

    page = s.get(f"{site}/", headers={"Accept-Encoding": "gzip"}, timeout=10)
    check(page.headers.get("Content-Encoding") == "gzip", "HTML gzipped")
    check(re.fullmatch(r"[0-9a-f]{32}", page.headers.get("X-Request-ID", "")) is not None, "nginx's request id")
    css = re.search(r'href="(/static/css/site\.[0-9a-f]{12}\.css)"', page.text).group(1)
    asset = s.get(f"{site}{css}", headers={"Accept-Encoding": "gzip"}, timeout=10)
    check(
        asset.status_code == 200
        and asset.headers["Cache-Control"] == "public, max-age=31536000, immutable"
        and asset.headers.get("Content-Encoding") == "gzip"
        and "X-Request-ID" not in asset.headers,  # from nginx's disk, not from the app
        f"{css} from nginx, gzipped, a year's cache",
    )
    kiosk_page = s.get(f"{kiosk}/", timeout=10)
    check("profile-kiosk" in kiosk_page.text, "the kiosk on its own name")
    resident = browser(deployment)
    resident.log_in("40675")
    cookies = [c for c in resident.http.cookies if c.name == "session" or "session" in c.name]
    check(bool(cookies) and all(c.secure for c in cookies), f"session cookies are Secure: {[c.name for c in cookies]}")


def reservation_numbers(deployment: Deployment, sql: str) -> list[str]:
    engine = create_engine(deployment.database_url)
    with engine.connect() as c:
        rows = [r[0] for r in c.execute(text(sql))]
    engine.dispose()
    return rows


def pay_and_cancel(deployment: Deployment) -> None:
    from tests.e2e.test_payment_failures import card_details

    resident = browser(deployment)
    resident.log_in("40675")
    chooser = resident.get("/payment/")
    check(chooser.h1 == "クレジット決済 選択", "クレジット決済 選択 through nginx")
    link = re.search(r"決済 予約番号 (\d{4}-\d{6})", chooser.text)
    number = link.group(1)
    confirm = resident.get(chooser.link(f"決済 予約番号 {number}"))
    terms = resident.submit(confirm, "確定")
    card = resident.submit(terms, "次へ進む", {"agree": "y"})
    check(card.url.startswith(deployment.env["PAYMENT_PROVIDER_URL"] + "/pay/"), f"the card page for {number}")
    done = resident.submit(card, "お支払い", card_details(card, GOOD_CARD))
    check(done.h1 == "クレジット決済 完了" and done.url.startswith(deployment.site), f"paid {number}: 完了 over https")

    # A card-paid 本予約 at least 21 days ahead: cancelled at 100 %, the charge voided.
    today = date.today()
    [paid] = reservation_numbers(
        deployment,
        "SELECT r.number FROM reservations r JOIN residents p ON p.id = r.resident_id "
        "JOIN card_charges c ON c.reservation_id = r.id AND c.status = 'captured' AND c.void_status = 'none' "
        f"WHERE p.registration_number = '00040675' AND r.use_date >= '{today + timedelta(days=22)}' "
        "ORDER BY r.use_date LIMIT 1",
    )
    confirm = resident.get(f"/cancel/confirm?number={paid}")
    cancelled = resident.submit(confirm, "取消", {"reason": "行事の中止", "agree": "y"})
    check(cancelled.status == 200 and "還付率 100%" in cancelled.text, f"{paid} cancelled at 100 %")
    chooser = resident.get("/payment/")
    confirm = resident.get(chooser.link(f"決済 予約番号 {paid}"))
    terms = resident.submit(confirm, "確定")
    refunded = resident.submit(terms, "次へ進む", {"agree": "y"})
    check(refunded.h1 == "クレジット決済 完了", f"the refund of {paid} settled (a void, no card page)")


@dataclass
class Outcome:
    started: float
    method: str
    path: str
    status: int | None
    request_id: str | None
    error: str | None = None


class Load:
    """Residents and visitors through nginx for `seconds`: pages, logins and applications
    (申込 with its one-time form token) on both site instances."""

    def __init__(self, deployment: Deployment, seconds: float):
        self.deployment, self.seconds = deployment, seconds
        self.outcomes: list[Outcome] = []
        self.lock = threading.Lock()
        self.stop_at = time.monotonic() + seconds
        self.applied: list[tuple[str, list]] = []  # (Location, form) of each 申込 accepted
        self.resubmitted: list[tuple[str, str]] = []
        self.slots = self._free_slots()

    def _free_slots(self) -> list[str]:
        rows = reservation_numbers(
            self.deployment, "SELECT room_id || ':' || id FROM time_bands WHERE room_id IN (1, 2)"
        )
        bands = [r.split(":") for r in rows]
        start = date.today() + timedelta(days=2)
        slots = [f"{room}:{start + timedelta(days=d)}:{band}" for d in range(50) for room, band in bands]
        random.Random(13).shuffle(slots)
        return slots

    def record(self, started: float, method: str, path: str, response=None, error=None) -> None:
        with self.lock:
            self.outcomes.append(
                Outcome(
                    started,
                    method,
                    path,
                    response.status_code if response is not None else None,
                    response.headers.get("X-Request-ID") if response is not None else None,
                    error,
                )
            )

    def call(self, session, method: str, path: str, **kwargs):
        started = time.monotonic()
        try:
            response = session.request(method, self.deployment.site + path, timeout=30, allow_redirects=False, **kwargs)
        except requests.RequestException as exc:
            self.record(started, method, path, error=f"{type(exc).__name__}: {exc}")
            return None
        self.record(started, method, path, response)
        return response

    def visitor(self, n: int) -> None:
        session = https_session(self.deployment)
        paths = ["/", "/guide", "/facilities/013", "/facilities/039", "/accessibility", "/search/facilities"]
        while time.monotonic() < self.stop_at:
            self.call(session, "GET", random.choice(paths))

    def resident(self, number: str, slot_offset: int) -> None:
        b = browser(self.deployment)
        b.log_in(number)
        session = b.http
        slot_index = slot_offset
        while time.monotonic() < self.stop_at:
            for path in ("/mymenu/", "/mymenu/reservations", "/mymenu/messages"):
                self.call(session, "GET", path)
            slot = self.slots[slot_index % len(self.slots)]
            slot_index += 3
            room = slot.split(":")[0]
            query = urlencode(
                [("slot", slot), (f"r{room}-purpose", "1"), (f"r{room}-attendees", "3"), (f"r{room}-charges_fee", "no")]
            )
            page = self.call(session, "GET", "/apply/confirm?" + query)
            if page is None or page.status_code != 200 or 'action="/apply"' not in page.text:
                continue
            form_html = page.text[page.text.index('action="/apply"') :]
            form_html = form_html[: form_html.index("</form>")]
            form = re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form_html)
            answer = self.call(session, "POST", "/apply", data=form)
            if answer is None or answer.status_code >= 500:
                # The resident presses 申込 again: the one-time token shows the first result.
                again = self.call(session, "POST", "/apply", data=form)
                if again is not None:
                    self.resubmitted.append((again.status_code, again.headers.get("Location", "")))
            elif answer.status_code == 303:
                self.applied.append((answer.headers["Location"], form, session))

    def run(self, during) -> None:
        threads = [threading.Thread(target=self.visitor, args=(n,)) for n in range(3)]
        threads += [
            threading.Thread(target=self.resident, args=(number, offset))
            for offset, number in enumerate(("40675", "40676", "40675"))
        ]
        for t in threads:
            t.start()
        during()
        for t in threads:
            t.join(120)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--load-seconds", type=float, default=30)
    parser.add_argument("--keep", action="store_true", help="keep the work folder (logs) afterwards")
    args = parser.parse_args()
    began = time.monotonic()
    work = Path(tempfile.mkdtemp(prefix="meguro-prove-"))
    deployment = None
    try:
        deployment = start_everything(work, int(args.load_seconds))
        check_the_front(deployment)
        pay_and_cancel(deployment)
        prove_under_load(deployment, args.load_seconds)
        say(f"all checks passed in {time.monotonic() - began:.0f} s")
        return 0
    except Failed as exc:
        say(f"FAILED: {exc}")
        if deployment:
            for process in deployment.processes.values():
                tail = process.log.read_text(errors="replace")[-1500:] if process.log.exists() else ""
                print(f"--- {process.name} (last lines) ---\n{tail}", flush=True)
        return 1
    finally:
        if deployment:
            deployment.stop_all()
            drop_databases(deployment)
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
        else:
            say(f"logs kept in {work}")


def drop_databases(deployment: Deployment) -> None:
    admin = create_engine(deployment.admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        for name in (
            make_url(deployment.database_url).database,
            make_url(deployment.database_url).database + "_restored",
        ):
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def prove_under_load(deployment: Deployment, seconds: float) -> None:
    load = Load(deployment, seconds)
    marks: dict[str, float] = {}
    backup = deployment.work / "backup.dump"

    def during() -> None:
        time.sleep(seconds / 3 - 1)
        queue_mail_burst(deployment, 300)  # the workers are busy sending when one is killed
        time.sleep(1)
        marks["kill"] = time.monotonic()
        deployment.processes["web1"].kill9()
        deployment.processes["worker1"].kill9()
        say("kill -9: web1 (every process of the instance) and worker1")
        time.sleep(seconds / 6)
        dump = subprocess.run(
            ["pg_dump", "--format=custom", f"--file={backup}", deployment.database_url], capture_output=True, text=True
        )
        check(dump.returncode == 0, f"pg_dump under load ({backup.stat().st_size if backup.exists() else 0} bytes)")

    load.run(during)
    statuses: dict[str, int] = {}
    for o in load.outcomes:
        key = str(o.status) if o.status else "no answer"
        statuses[key] = statuses.get(key, 0) + 1
    say(f"load: {len(load.outcomes)} requests in {seconds:.0f} s through nginx, by status {statuses}")
    in_flight = [o for o in load.outcomes if o.started <= marks["kill"] and (o.status is None or o.status >= 500)]
    say(f"requests in flight at the kill that failed: {len(in_flight)}")
    after = [o for o in load.outcomes if o.started > marks["kill"] + 0.05]
    failed = [o for o in after if o.status is None or o.status >= 500]
    check(len(after) > 50 and not failed, f"{len(after)} requests sent after the kill, none failed: {failed[:5]}")
    survivor_log = deployment.processes["web2"].log.read_text(errors="replace")
    answered_ids = {o.request_id for o in after if o.request_id}
    missing = [rid for rid in answered_ids if rid not in survivor_log]
    check(not missing, f"every one of them answered by the surviving instance (web2): {len(answered_ids)} request ids")
    check(len(load.applied) > 0, f"{len(load.applied)} applications (申込) accepted under load")
    # A form sent again (after a failed request, or pressed twice) shows the first result.
    check(all(status == 303 for status, _ in load.resubmitted), f"resubmitted after a failure: {load.resubmitted}")
    location, form, session = load.applied[-1]
    again = session.post(deployment.site + "/apply", data=form, allow_redirects=False, timeout=30)
    check(
        again.status_code == 303 and again.headers["Location"] == location, "the same 申込 sent again: the first result"
    )

    wait_for_quiet_queues(deployment)
    result = deployment.flask("reconcile")
    check("Result: the ledgers agree." in result.stdout, "flask reconcile exit 0: the ledgers agree")
    check_mail_delivered(deployment)
    check_nothing_doubled(deployment)
    check_restored_backup(deployment, backup)


def queue_mail_burst(deployment: Deployment, count: int) -> None:
    """Mail to deliver while a worker is killed (as after a busy hour of payments)."""
    engine = create_engine(deployment.database_url)
    with engine.begin() as c:
        c.execute(
            text(
                "INSERT INTO outbox_mails (dedupe_key, to_address, subject, body, created_at, attempts, next_attempt_at)"
                " SELECT 'burst-' || g, 'r' || (g % 40) || '@example.jp', 'お知らせ', 'burst ' || g, now(), 0, now()"
                " FROM generate_series(1, :n) AS g"
            ),
            {"n": count},
        )
    engine.dispose()


def wait_for_quiet_queues(deployment: Deployment) -> None:
    engine = create_engine(deployment.database_url)

    def quiet() -> bool:
        with engine.connect() as c:
            unsent = c.execute(
                text(
                    "SELECT count(*) FROM outbox_mails WHERE sent_at IS NULL AND undeliverable_at IS NULL AND to_address IS NOT NULL"
                )
            ).scalar()
            voids = c.execute(text("SELECT count(*) FROM card_charges WHERE void_status = 'pending'")).scalar()
        return unsent == 0 and voids == 0

    wait_until(quiet, "every mail sent and every void done (the killed worker's mail after its lease)", timeout=120)
    engine.dispose()
    say("queues empty")


def check_mail_delivered(deployment: Deployment) -> None:
    lines = [json.loads(line) for line in (deployment.work / "smtp.jsonl").read_text().splitlines()]
    delivered: dict[str, int] = {}
    for line in lines:
        delivered[line["message_id"]] = delivered.get(line["message_id"], 0) + 1
    engine = create_engine(deployment.database_url)
    with engine.connect() as c:
        rows = c.execute(text("SELECT id, dedupe_key FROM outbox_mails WHERE to_address IS NOT NULL")).all()
    engine.dispose()
    ids = {row.id for row in rows}
    by_outbox: dict[int, list[str]] = {}
    strangers = []
    for message_id in delivered:
        match = re.match(r"<outbox\.(\d+)\.", message_id or "")
        if match is None or int(match.group(1)) not in ids:
            strangers.append(message_id)
            continue
        by_outbox.setdefault(int(match.group(1)), []).append(message_id)
    check(not strangers, f"every delivered message is an outbox mail: {strangers[:5]}")
    never = ids - set(by_outbox)
    check(not never, f"every queued mail delivered ({len(ids)}): never delivered {sorted(never)[:10]}")
    check(all(len(v) == 1 for v in by_outbox.values()), "each mail under one Message-ID")
    again = {k: n for k, n in delivered.items() if n > 1}
    say(f"delivered {len(lines)} messages for {len(ids)} mails; again with the same Message-ID: {len(again)}")


def check_nothing_doubled(deployment: Deployment) -> None:
    engine = create_engine(deployment.database_url)
    with engine.connect() as c:
        doubled_slots = c.execute(
            text(
                "SELECT room_id, use_date, time_band_id FROM reservations WHERE state <> 'cancelled' "
                "GROUP BY room_id, use_date, time_band_id HAVING count(*) > 1"
            )
        ).all()
        live = c.execute(
            text(
                "SELECT reservation_id FROM card_charges WHERE status = 'captured' AND void_status = 'none' "
                "GROUP BY reservation_id HAVING count(*) > 1"
            )
        ).all()
        receipts = c.execute(text("SELECT count(*) - count(DISTINCT receipt_number) FROM card_charges")).scalar()
    engine.dispose()
    check(
        not doubled_slots and not live and receipts == 0, "no booking doubled, no second live charge, no receipt twice"
    )


def check_restored_backup(deployment: Deployment, backup: Path) -> None:
    restored = make_url(deployment.database_url).set(database=make_url(deployment.database_url).database + "_restored")
    restored_url = restored.render_as_string(hide_password=False)
    admin = create_engine(deployment.admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{restored.database}"'))
    admin.dispose()
    result = subprocess.run(
        ["pg_restore", "--no-owner", f"--dbname={restored_url}", str(backup)], capture_output=True, text=True
    )
    check(result.returncode == 0, f"pg_restore into an empty database: {result.stderr[-500:]}")
    reconciled = deployment.flask("reconcile", database_url=restored_url, check_exit=False)
    check(reconciled.returncode == 0, f"flask reconcile on the restored backup: exit {reconciled.returncode}")
    listing = subprocess.run(
        [PYTHON, "-c", BOOKING_LIST],
        cwd=ROOT,
        env={**deployment.env, "DATABASE_URL": restored_url},
        capture_output=True,
        text=True,
        timeout=120,
    )
    check(
        listing.returncode == 0 and "予約番号" in listing.stdout,
        f"the booking list from the restored backup: {listing.stdout[-300:]} {listing.stderr[-500:]}",
    )


# 予約内容の確認・取消 of 目黒団体, rendered by the app against the restored database.
BOOKING_LIST = """
import re
from app import create_app
app = create_app("standard")
app.config.update(SESSION_COOKIE_SECURE=False)
client = app.test_client()
page = client.get("/login").get_data(as_text=True)
token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
client.post("/login", data={"csrf_token": token, "registration_kind": "assembly", "registration_number": "40675", "password": "meguro2025"})
listing = client.get("/mymenu/reservations").get_data(as_text=True)
numbers = re.findall(r"\\d{4}-\\d{6}", listing)
print(f"予約番号: {len(set(numbers))} bookings listed")
assert numbers
"""


if __name__ == "__main__":
    sys.exit(main())
