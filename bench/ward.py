"""Benchmark at the ward's scale (issue 12): the site served as it runs (gunicorn, sync
workers, one JSON log line per request) on `flask seed-scale` data, against a ceiling app
(bench/ceiling.py: bare Flask + one 2.5 KB Jinja page) served the same way, both driven by
the same Python load generator in the same run, rounds interleaved (ceiling, case, ceiling,
case …) so that a busy machine slows both alike.

Per case it prints: requests per second at 16 and 64 connections, p50/p99 latency, CPU
milliseconds per request of the app's worker processes (utime + stime from /proc/<pid>/stat,
the stable figure on a shared machine), that as a multiple of the ceiling's, SQL queries
per request and HTML bytes (both measured once in-process with the Flask test client).
Then the lottery draw (bench/lottery_draw.py) and the opening rush: 500 residents logged in
before timing starts, released at once, each GETs 申込確認 and POSTs 申込 (CSRF and one-time
token from the page) for one of 50 free slots — bookings made, server errors, p50/p99. And
memory: one worker's resident memory after it has shown what a day of residents looks at —
every facility's 施設別空き状況 for three months (page and fragment), three 時間帯別空き状況
each and the lists — so that its caches are full (issue 12: at most 90 MB at factor 10);
with --redis URL again as production runs it, sessions and caches in Redis. The servers read
bytecode compiled as the deployment compiles it (-OO, into a directory of the bench's own;
--no-compile: each worker compiles from source and keeps the compiler's memory).

Run (SQLite and PostgreSQL, factors 1 and 10, everything):
    .venv/bin/python -m bench.ward
A quick subset:
    .venv/bin/python -m bench.ward --db sqlite --factors 1 --cases grid,top --seconds 2 --rounds 1

The data is prepared once per database and factor (seed-demo + seed-scale, at a frozen
moment kept beside it) and reused by later runs (--fresh prepares it again). PostgreSQL uses
databases of its own on 127.0.0.1 (perf_bench_f<factor>, made with createdb). No test
asserts a time; tests/web/test_bench_ward.py runs it at a tiny scale."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode, urlsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

CASES = (
    "grid",
    "page",
    "grid-miss",
    "page-miss",
    "top",
    "slots",
    "mymenu",
    "payment",
    "healthz",
    "notice",
    "draw",
    "rush",
    "memory",
)
# Served with the availability cache off (AVAILABILITY_CACHE_ENTRIES=0): every request a miss.
MISS_CASES = {"grid-miss": "grid", "page-miss": "page"}
CASE_TITLES = {
    "ceiling": "ceiling (bare Flask, 2.5 KB Jinja)",
    "grid": "施設別空き状況 fragment (1 facility, 1 month), cache hit",
    "page": "施設別空き状況 whole page, cache hit",
    "grid-miss": "施設別空き状況 fragment, cache miss",
    "page-miss": "施設別空き状況 whole page, cache miss",
    "top": "top page",
    "slots": "時間帯別空き状況, 3 days",
    "mymenu": "予約内容の確認・取消 (目黒団体)",
    "payment": "クレジット決済 選択 (目黒団体)",
    # The floor of our request pipeline: every hook, no template (/healthz), and the layout
    # around a few lines (one お知らせ).
    "healthz": "/healthz (every hook, no template)",
    "notice": "one お知らせ (the layout around a few lines)",
}
DEMO_GROUP = "00040675"
PASSWORD = "meguro2025"
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')
HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)"')
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


# -- HTTP: a small asyncio client (one connection per request, as gunicorn's sync workers close it)


@dataclass
class Reply:
    status: int
    headers: dict[str, list[str]]
    body: bytes


async def http(port: int, method: str, path: str, *, cookies: dict | None = None, headers=None, form=None) -> Reply:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    body = urlencode(form).encode() if form is not None else b""
    lines = [f"{method} {path} HTTP/1.1", f"Host: 127.0.0.1:{port}", "Connection: close"]
    if cookies:
        lines.append("Cookie: " + "; ".join(f"{k}={v}" for k, v in cookies.items()))
    if form is not None:
        lines += ["Content-Type: application/x-www-form-urlencoded", f"Content-Length: {len(body)}"]
    for name, value in (headers or {}).items():
        lines.append(f"{name}: {value}")
    writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
    await writer.drain()
    raw = await reader.read()
    writer.close()
    head, _, content = raw.partition(b"\r\n\r\n")
    head_lines = head.decode("latin-1").split("\r\n")
    status = int(head_lines[0].split()[1])
    parsed: dict[str, list[str]] = {}
    for line in head_lines[1:]:
        name, _, value = line.partition(":")
        parsed.setdefault(name.strip().lower(), []).append(value.strip())
    if "chunked" in ",".join(parsed.get("transfer-encoding", [])):
        content = _unchunk(content)
    if cookies is not None:
        for value in parsed.get("set-cookie", []):
            name, _, rest = value.partition("=")
            cookies[name.strip()] = rest.split(";")[0]
    return Reply(status, parsed, content)


def _unchunk(data: bytes) -> bytes:
    out, rest = bytearray(), data
    while rest:
        size_line, _, rest = rest.partition(b"\r\n")
        size = int(size_line.split(b";")[0], 16)
        if size == 0:
            break
        out += rest[:size]
        rest = rest[size + 2 :]
    return bytes(out)


async def login(port: int, number: str) -> dict:
    cookies: dict = {}
    page = await http(port, "GET", "/login", cookies=cookies)
    match = CSRF.search(page.body.decode())
    assert match, "no CSRF token on /login"
    reply = await http(
        port,
        "POST",
        "/login",
        cookies=cookies,
        form={
            "csrf_token": match.group(1) or match.group(2),
            "registration_kind": "assembly",
            "registration_number": number,
            "password": PASSWORD,
        },
    )
    if reply.status != 303:
        raise RuntimeError(f"login of {number} answered {reply.status}")
    return cookies


@dataclass
class Load:
    requests: int = 0
    errors: int = 0
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    cpu_seconds: float = 0.0

    def add(self, other: Load) -> None:
        self.requests += other.requests
        self.errors += other.errors
        self.seconds += other.seconds
        self.latencies += other.latencies
        self.cpu_seconds += other.cpu_seconds

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def percentile(self, p: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(p * len(ordered)))] * 1000

    @property
    def cpu_ms(self) -> float:
        return self.cpu_seconds * 1000 / self.requests if self.requests else float("nan")


async def drive(port: int, path: str, connections: int, seconds: float, *, cookies=None, headers=None) -> Load:
    """`connections` loops requesting `path` for `seconds`; latencies of the answered ones."""
    load = Load()
    deadline = time.perf_counter() + seconds

    async def loop() -> None:
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            try:
                reply = await http(port, "GET", path, cookies=dict(cookies) if cookies else None, headers=headers)
                ok = reply.status == 200
            except OSError:
                ok = False
            load.latencies.append(time.perf_counter() - started)
            load.requests += 1
            load.errors += not ok

    started = time.perf_counter()
    await asyncio.gather(*(loop() for _ in range(connections)))
    load.seconds = time.perf_counter() - started
    return load


# -- servers ------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """gunicorn with sync workers, as the Procfile runs the site."""

    # The compiled bytecode the servers read (compile_bytecode), or None: each worker compiles
    # every module it imports from source.
    bytecode: Path | None = None

    def __init__(self, wsgi: str, env: dict, workers: int, log: Path):
        self.port = free_port()
        self.log = log.open("ab")
        # As the Procfile and deploy/systemd run it: no docstrings kept (README "Worker memory").
        env = {**env, "PYTHONOPTIMIZE": "2"}
        if self.bytecode:
            env["PYTHONPYCACHEPREFIX"] = str(self.bytecode)
        self.process = subprocess.Popen(
            [
                str(ROOT / ".venv/bin/gunicorn"),
                "--no-control-socket",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                str(workers),
                "--backlog",
                "2048",
                "--timeout",
                "120",
                wsgi,
            ],
            cwd=ROOT,
            env=env,
            stdout=self.log,
            stderr=self.log,
        )
        self.workers = workers

    def wait_ready(self, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.process.returncode}; see {self.log.name}")
            if len(self.worker_pids()) >= self.workers:
                try:
                    with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                        return
                except OSError:
                    pass
            time.sleep(0.2)
        raise RuntimeError(f"gunicorn did not start; see {self.log.name}")

    def worker_pids(self) -> list[int]:
        pids = []
        for task in Path(f"/proc/{self.process.pid}/task").glob("*"):
            try:
                pids += [int(p) for p in (task / "children").read_text().split()]
            except OSError:
                pass
        return pids

    def cpu_seconds(self) -> float:
        total = 0
        for pid in self.worker_pids():
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
            except OSError:
                continue
            total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15)
        return total / CLOCK_TICKS

    def rss_mb(self) -> float:
        sizes = []
        for pid in self.worker_pids():
            try:
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        sizes.append(int(line.split()[1]) / 1024)
            except OSError:
                continue
        return max(sizes) if sizes else float("nan")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self.log.close()


def compile_bytecode() -> Path:
    """Every module the servers may import (the standard library, the environment's packages,
    the checkout) compiled at their optimisation level, as the deployment does (README "Running
    it for real": `python -OO -m compileall`), into a directory of the bench's own
    (PYTHONPYCACHEPREFIX: nothing written beside the code). Without it a worker whose
    environment holds no such bytecode (PYTHONDONTWRITEBYTECODE, or a fresh checkout) compiles
    each module from source, and the compiler's memory stays with the worker: ~4 MB more
    resident memory, ~10 MB more with redis-py (README "Worker memory"), which no deployed
    worker carries. Up-to-date files are skipped (~10 s; the first time ~1 min)."""
    prefix = Path(tempfile.gettempdir()) / "meguro-bench-bytecode"
    # The interpreter gunicorn's script names (its paths are the ones the workers import
    # from: a symlinked .venv has another name for the same files).
    python = (ROOT / ".venv/bin/gunicorn").read_text().splitlines()[0].removeprefix("#!").strip()
    if not Path(python).name.startswith("python"):  # pip's /bin/sh wrapper for a long path
        python = str(ROOT / ".venv/bin/python")
    paths = subprocess.run(
        [python, "-c", "import os, sys; print('\\n'.join(p for p in sys.path[1:] if os.path.isdir(p)))"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    started = time.perf_counter()
    result = subprocess.run(
        [python, "-OO", "-X", f"pycache_prefix={prefix}", "-m", "compileall", "-q", "-j", "0"]
        + ["-x", r"/(test|tests|idlelib|tkinter|turtledemo|lib2to3|ensurepip|node_modules|\.git)/"]
        + [*paths, str(ROOT)],
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:  # a file that does not compile is compiled (or refused) at import
        print(f"  compileall: {(result.stdout + result.stderr).strip()[:500]}", flush=True)
    print(f"  bytecode (-OO) in {prefix}: {time.perf_counter() - started:.0f} s", flush=True)
    return prefix


async def measure(server: Server, path: str, connections: int, seconds: float, **kwargs) -> Load:
    before = server.cpu_seconds()
    load = await drive(server.port, path, connections, seconds, **kwargs)
    load.cpu_seconds = server.cpu_seconds() - before
    return load


# -- data -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    db: str  # sqlite | postgresql
    factor: float
    url: str
    frozen_now: str


def app_env(target: Target, extra: dict | None = None) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FLASK_", "REDIS_URL"))}
    env.update(
        DATABASE_URL=target.url,
        FROZEN_NOW=target.frozen_now,
        SECRET_KEY="bench-" + "k" * 40,
        PAYMENT_PROVIDER_SECRET="bench-" + "p" * 40,
        PAYMENT_PROVIDER_URL="http://127.0.0.1:9",  # nobody: the bench pays nothing
        RATELIMIT_LOGIN="100000 per minute",  # the rush logs 500 residents in from one address
        INSTANCE_PATH=str(Path(tempfile.gettempdir()) / "meguro-bench-instance"),
    )
    env.update(extra or {})
    return env


def flask(target: Target, *args: str) -> str:
    result = subprocess.run(
        [str(ROOT / ".venv/bin/flask"), "--app", "app", *args],
        cwd=ROOT,
        env=app_env(target),
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        raise RuntimeError(f"flask {' '.join(args)}: {result.stdout}{result.stderr}")
    return result.stdout


def factor_label(factor: float) -> str:
    return f"{factor:g}".replace(".", "_")


def prepare(db: str, factor: float, data_dir: Path, fresh: bool, pg_prefix: str = "perf_bench") -> Target:
    """The demo and scale data at a frozen moment, made once and reused."""
    meta_path = data_dir / f"{db}-f{factor_label(factor)}.json"
    if db == "sqlite":
        url = f"sqlite:///{data_dir}/ward-f{factor_label(factor)}.sqlite3"
    else:
        name = f"{pg_prefix}_f{factor_label(factor)}"
        url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    if meta_path.exists() and not fresh:
        from models.migration import upgrade_to_head

        meta = json.loads(meta_path.read_text())
        upgrade_to_head(meta["url"])  # data made by an older checkout
        analyze(meta["url"])
        return Target(db, factor, meta["url"], meta["frozen_now"])
    frozen = datetime.now(UTC).replace(minute=0, second=0, microsecond=0).isoformat()
    if db == "sqlite":
        for suffix in ("", "-wal", "-shm"):
            Path(url.removeprefix("sqlite:///") + suffix).unlink(missing_ok=True)
    else:
        subprocess.run(["dropdb", "-h", "127.0.0.1", "-U", "postgres", "--if-exists", name], check=True)
        subprocess.run(["createdb", "-h", "127.0.0.1", "-U", "postgres", name], check=True)
    target = Target(db, factor, url, frozen)
    started = time.perf_counter()
    flask(target, "seed-demo")
    print(f"  {db}, factor {factor:g}: " + flask(target, "seed-scale", "--factor", f"{factor:g}").strip(), flush=True)
    analyze(url)
    print(f"  prepared in {time.perf_counter() - started:.0f} s", flush=True)
    meta_path.write_text(json.dumps({"url": url, "frozen_now": frozen}))
    return target


def analyze(url: str) -> None:
    """The planner's statistics of freshly bulk-loaded PostgreSQL data, once (ANALYZE): a
    server runs autovacuum, which does this by itself, but the test server may not, and
    without statistics the planner joins every room to every booking it reads."""
    if not url.startswith("postgresql"):
        return
    from sqlalchemy import create_engine, text

    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        analyzed = connection.scalar(
            text(
                "SELECT coalesce(last_analyze, last_autoanalyze) IS NOT NULL FROM pg_stat_user_tables WHERE relname = 'reservations'"
            )
        )
        if not analyzed:
            connection.execute(text("ANALYZE"))
    engine.dispose()


# -- the cases ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    name: str
    path: str
    logged_in: bool = False
    htmx: bool = False


def case_paths(target: Target) -> dict[str, Case]:
    """The URLs of the cases on this data: the largest scale facility (6 rooms if any), a
    month from tomorrow; three days of one of its rooms."""
    from sqlalchemy import func, select

    from models.db import Database
    from models.facility import Facility, Room
    from models.notice import Notice

    db = Database(target.url)
    with db.read_session() as s:
        notice_id = s.scalar(select(func.min(Notice.id)))
        code, room_id = s.execute(
            select(Facility.code, func.min(Room.id))
            .join(Room, Room.facility_id == Facility.id)
            .where(Facility.code >= "100")
            .group_by(Facility.code)
            .order_by(func.count(Room.id).desc(), Facility.code)
            .limit(1)
        ).one()
    db.dispose()
    tomorrow = (datetime.fromisoformat(target.frozen_now) + timedelta(hours=9, days=1)).date()
    # Three open days of the room (the 2nd and 4th Mondays close the scale halls).
    days, day = [], tomorrow + timedelta(days=7)
    while len(days) < 3:
        if day.weekday() != 0:
            days.append(day)
        day += timedelta(days=1)
    grid = f"/availability?facility={code}&period=1m&from={tomorrow.isoformat()}"
    slots = "/availability/slots?" + urlencode(
        [("facility", code), ("from", tomorrow.isoformat()), ("period", "1m")]
        + [("cell", f"{room_id}:{d.isoformat()}") for d in days]
    )
    return {
        "grid": Case("grid", grid, htmx=True),
        "page": Case("page", grid),
        "grid-miss": Case("grid-miss", grid, htmx=True),
        "page-miss": Case("page-miss", grid),
        "top": Case("top", "/"),
        "slots": Case("slots", slots),
        "mymenu": Case("mymenu", "/mymenu/reservations", logged_in=True),
        "payment": Case("payment", "/payment/", logged_in=True),
        "healthz": Case("healthz", "/healthz"),
        "notice": Case("notice", f"/notices/{notice_id}"),
    }


HTMX = {"HX-Request": "true", "HX-Current-URL": "http://127.0.0.1/"}


def logged_in_client(app, number: str = DEMO_GROUP):
    """A test client of `app` logged in as 目黒団体 (the bench's login) or the assembly
    registration `number`, through the login form."""
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    match = CSRF.search(page)
    client.post(
        "/login",
        data={
            "csrf_token": match.group(1) or match.group(2),
            "registration_kind": "assembly",
            "registration_number": number,
            "password": PASSWORD,
        },
    )
    return client


def in_process_figures(
    target: Target, cases: dict[str, Case], extra_env: dict | None = None
) -> dict[str, tuple[int, int]]:
    """SQL statements and HTML bytes of one request of each case (after one warm-up), with
    the Flask test client and a statement counter on the engine."""
    import logging

    from sqlalchemy import event

    from app import create_app
    from config import Config

    env = app_env(target, extra_env)
    config = Config.from_env(env)
    app = create_app("standard", config)
    engine = app.extensions["database"].engine
    count = [0]

    def counted(*_args, **_kwargs):
        count[0] += 1

    event.listen(engine, "before_cursor_execute", counted)
    logging.disable(logging.INFO)  # the request log is the servers' business
    client = logged_in_client(app)
    anonymous = app.test_client()
    figures = {}
    for name, case in cases.items():
        who = client if case.logged_in else anonymous
        headers = HTMX if case.htmx else {}
        who.get(case.path, headers=headers)
        count[0] = 0
        response = who.get(case.path, headers=headers)
        if response.status_code != 200:
            raise RuntimeError(f"{case.path} answered {response.status_code}")
        figures[name] = (count[0], len(response.data))
    app.extensions["database"].dispose()
    logging.disable(logging.NOTSET)
    return figures


@dataclass
class Row:
    db: str
    factor: float
    name: str
    loads: dict[int, Load]
    sql: int | None = None
    html: int | None = None


async def run_page_cases(
    target: Target, names: list[str], args, ceiling: Server, rows: list[Row], ceiling_load: dict[int, Load]
) -> None:
    paths = case_paths(target)
    hits = {k: v for k, v in paths.items() if k in names and k not in MISS_CASES}
    misses = {k: v for k, v in paths.items() if k in names and k in MISS_CASES}
    if hits:
        await run_server_cases(target, hits, args, ceiling, rows, ceiling_load, {})
    if misses:
        await run_server_cases(target, misses, args, ceiling, rows, ceiling_load, {"AVAILABILITY_CACHE_ENTRIES": "0"})


async def run_server_cases(
    target: Target, cases: dict[str, Case], args, ceiling: Server, rows: list[Row], ceiling_load, extra_env: dict
) -> None:
    figures = in_process_figures(target, cases, extra_env)
    server = Server("app:create_app('standard')", app_env(target, extra_env), args.workers, args.log)
    try:
        server.wait_ready()
        cookies = await login(server.port, DEMO_GROUP)
        for case in cases.values():  # warm every worker's caches and imports
            for _ in range(args.workers * 2):
                await http(server.port, "GET", case.path, cookies=dict(cookies), headers=HTMX if case.htmx else None)
        for name, case in cases.items():
            loads = {c: Load() for c in args.connections}
            for _round in range(args.rounds):
                for connections in args.connections:
                    ceiling_load[connections].add(await measure(ceiling, "/", connections, args.seconds))
                    loads[connections].add(
                        await measure(
                            server,
                            case.path,
                            connections,
                            args.seconds,
                            cookies=cookies if case.logged_in else None,
                            headers=HTMX if case.htmx else None,
                        )
                    )
            sql, html = figures[name]
            rows.append(Row(target.db, target.factor, name, loads, sql, html))
            print(f"  measured {name} ({target.db}, factor {target.factor:g})", flush=True)
        if not extra_env:
            rows.append(Row(target.db, target.factor, f"largest worker's RSS: {server.rss_mb():.0f} MB", {}))
    finally:
        server.stop()


def print_table(rows: list[Row], ceiling_load: dict[int, Load], connections: list[int]) -> None:
    ceiling_cpu = _combined(ceiling_load).cpu_ms
    head = ["case", "db", "factor"]
    for c in connections:
        head += [f"req/s @{c}", f"p50 ms @{c}", f"p99 ms @{c}"]
    head += ["CPU ms/req", "× ceiling", "SQL/req", "HTML bytes"]
    lines = [head]
    ceiling_row = ["ceiling (bare Flask, 2.5 KB Jinja)", "—", "—"]
    for c in connections:
        ceiling_row += [
            f"{ceiling_load[c].rate:.0f}",
            f"{ceiling_load[c].percentile(0.5):.1f}",
            f"{ceiling_load[c].percentile(0.99):.1f}",
        ]
    lines.append(ceiling_row + [f"{ceiling_cpu:.2f}", "1.0", "0", "2521"])
    for row in rows:
        if not row.loads:
            lines.append([row.name, row.db, f"{row.factor:g}"] + [""] * (len(head) - 3))
            continue
        combined = _combined(row.loads)
        line = [CASE_TITLES.get(row.name, row.name), row.db, f"{row.factor:g}"]
        for c in connections:
            load = row.loads[c]
            line += [f"{load.rate:.0f}", f"{load.percentile(0.5):.1f}", f"{load.percentile(0.99):.1f}"]
        errors = f" ({combined.errors} errors)" if combined.errors else ""
        line += [
            f"{combined.cpu_ms:.2f}{errors}",
            f"{combined.cpu_ms / ceiling_cpu:.1f}",
            str(row.sql),
            f"{row.html:,}",
        ]
        lines.append(line)
    print()
    print("| " + " | ".join(lines[0]) + " |")
    print("|" + "|".join("---" if i < 3 else "---:" for i in range(len(head))) + "|")
    for line in lines[1:]:
        print("| " + " | ".join(line) + " |")


def _combined(loads: dict[int, Load]) -> Load:
    total = Load()
    for load in loads.values():
        total.add(load)
    return total


# -- the opening rush --------------------------------------------------------------------


def free_slots(target: Target, count: int) -> list[tuple[str, int, int]]:
    """`count` free slots of the scale halls inside the window, from a week ahead:
    (slot text, room id, purpose id)."""
    from sqlalchemy import select

    import models.all  # noqa: F401  (every mapper, also when the data were made just now)
    from models.availability_rules import is_closed_day_rule
    from models.db import Database
    from models.facility import Facility, Room
    from models.reservation import Reservation

    db = Database(target.url)
    found = []
    today = (datetime.fromisoformat(target.frozen_now) + timedelta(hours=9)).date()
    with db.read_session() as s:
        rooms = s.scalars(
            select(Room)
            .join(Facility)
            .where(Facility.code >= "100", Facility.category.has(registration_kind="assembly"))
        ).all()
        for room in rooms:
            # Any booking of the slot, cancelled ones too: a slot a group cancelled is
            # 再予約不可 for that group, and the bench's residents may be in it.
            taken = set(
                s.execute(select(Reservation.use_date, Reservation.time_band_id).where(Reservation.room_id == room.id))
            )
            closing = (room.facility.closed_weekday_set, frozenset(c.day for c in room.facility.closed_dates))
            for offset in range(7, 80):
                day = today + timedelta(days=offset)
                if is_closed_day_rule(day, *closing):
                    continue
                for band in room.time_bands:
                    if (day, band.id) not in taken:
                        found.append((f"{room.id}:{day.isoformat()}:{band.id}", room.id, room.purposes[0].id))
                        break
                if len(found) >= count or len({f[1] for f in found}) > count // 5 and offset > 20:
                    break
            if len(found) >= count:
                break
    db.dispose()
    return found[:count]


def confirm_path(slot: str, room_id: int, purpose_id: int) -> str:
    """申込確認 of one slot with the rush's answers (a purpose of the room, 5 people, no fee)."""
    answers = {f"r{room_id}-purpose": purpose_id, f"r{room_id}-attendees": "5", f"r{room_id}-charges_fee": "no"}
    return "/apply/confirm?" + urlencode([("slot", slot), *answers.items()])


def apply_form(page: str) -> list[tuple[str, str]]:
    """The hidden fields of 申込確認's 申込 form (CSRF and one-time tokens, the answers)."""
    form = page[page.index('action="/apply"') :]
    return HIDDEN.findall(form[: form.index("</form>")])


def rush_numbers(count: int) -> list[str]:
    """Assembly registrations of the scale data (one in seven is a sports one)."""
    from scale.seed import FIRST_NUMBER

    return [f"{FIRST_NUMBER + i:08d}" for i in range(count * 2) if i % 7 != 6][:count]


async def rush(target: Target, args) -> str:
    residents, slot_count = args.rush_residents, args.rush_slots
    slots = free_slots(target, slot_count)
    server = Server("app:create_app('standard')", app_env(target), args.workers, args.log)
    try:
        server.wait_ready()
        semaphore = asyncio.Semaphore(16)

        async def log_in(number: str) -> dict:
            async with semaphore:
                return await login(server.port, number)

        started = time.perf_counter()
        sessions = await asyncio.gather(*(log_in(n) for n in rush_numbers(residents)))
        login_seconds = time.perf_counter() - started
        cpu_before = server.cpu_seconds()
        latencies: list[float] = []
        errors = 0
        outcomes: dict[int, int] = {}

        async def resident(i: int, cookies: dict) -> None:
            nonlocal errors
            began = time.perf_counter()
            try:
                page = await http(server.port, "GET", confirm_path(*slots[i % len(slots)]), cookies=cookies)
                if page.status != 200:
                    errors += page.status >= 500
                    outcomes[page.status] = outcomes.get(page.status, 0) + 1
                    return
                fields = apply_form(page.body.decode())
                reply = await http(server.port, "POST", "/apply", cookies=cookies, form=fields)
                outcomes[reply.status] = outcomes.get(reply.status, 0) + 1
                errors += reply.status >= 500
            except (OSError, ValueError):
                errors += 1
            latencies.append(time.perf_counter() - began)

        started, own_before = time.perf_counter(), time.process_time()
        await asyncio.gather(*(resident(i, c) for i, c in enumerate(sessions)))
        wall = time.perf_counter() - started
        cpu = server.cpu_seconds() - cpu_before
        own_cpu = time.process_time() - own_before  # the load generator's, on the same cores
    finally:
        server.stop()
    made = count_bookings(target, [s for s, _r, _p in slots])
    ordered = sorted(latencies)

    def pct(p: float) -> float:
        return ordered[min(len(ordered) - 1, int(p * len(ordered)))] if ordered else float("nan")

    return (
        f"| {target.db} | {target.factor:g} | {residents} | {len(slots)} | {made} | {errors} | "
        f"{pct(0.5):.2f} | {pct(0.99):.2f} | {wall:.1f} | {cpu * 1000 / max(1, 2 * residents):.1f} | "
        f"{', '.join(f'{k}: {v}' for k, v in sorted(outcomes.items()))} | {login_seconds:.0f} s | "
        f"{own_cpu * 1000 / max(1, 2 * residents):.2f} |"
    )


# -- memory ---------------------------------------------------------------------------------


async def memory(target: Target, args, redis_url: str | None = None) -> str:
    """One worker (so that it sees every request) started on `target`, its RSS after the first
    page, then after every facility's grid for three months from tomorrow (page and htmx
    fragment), three slot screens of its first room, and 目黒団体's lists: its in-process
    caches filled to their bounds. With `redis_url` the worker runs as in production, with
    REDIS_URL (sessions, the grid and slot caches, rate limits in Redis), on that database
    emptied first (so that every run computes and stores the same grids)."""
    from sqlalchemy import func, select

    from models.db import Database
    from models.facility import Facility, Room

    db = Database(target.url)
    with db.read_session() as s:
        rooms = dict(
            s.execute(
                select(Facility.code, func.min(Room.id))
                .join(Room, Room.facility_id == Facility.id)
                .group_by(Facility.code)
            ).all()
        )
    db.dispose()
    tomorrow = (datetime.fromisoformat(target.frozen_now) + timedelta(hours=9, days=1)).date()
    if redis_url:
        import redis

        client = redis.Redis.from_url(redis_url)
        client.flushdb()
        client.close()
    env = app_env(target, {"REDIS_URL": redis_url} if redis_url else None)
    server = Server("app:create_app('standard')", env, 1, args.log)
    statuses: dict[int, int] = {}
    try:
        server.wait_ready()
        await http(server.port, "GET", "/")
        first = server.rss_mb()
        cookies = await login(server.port, DEMO_GROUP)
        paths: list[tuple[str, dict]] = []
        ahead = (tomorrow + timedelta(days=7 + d) for d in range(21))
        open_days = [day for day in ahead if day.weekday() != 0]
        for code, room in sorted(rooms.items()):
            for month in range(3):
                grid = f"/availability?facility={code}&period=1m&from={tomorrow + timedelta(days=30 * month)}"
                paths += [(grid, {}), (grid, HTMX)]
            for choice in range(3):  # no Mondays: the 2nd and 4th close the halls
                cells = [("cell", f"{room}:{day}") for day in open_days[3 * choice : 3 * choice + 3]]
                query = urlencode([("facility", code), ("from", str(tomorrow)), ("period", "1m"), *cells])
                paths.append((f"/availability/slots?{query}", {}))
        for path, headers in paths:
            reply = await http(server.port, "GET", path, headers=headers)
            statuses[reply.status] = statuses.get(reply.status, 0) + 1
        for path in ("/mymenu/reservations", "/payment/", "/mymenu/lottery", "/"):
            reply = await http(server.port, "GET", path, cookies=cookies)
            statuses[reply.status] = statuses.get(reply.status, 0) + 1
        last = server.rss_mb()
    finally:
        server.stop()
    answers = ", ".join(f"{k}: {v}" for k, v in sorted(statuses.items()))
    label = f"{target.db} + Redis" if redis_url else target.db
    return f"| {label} | {target.factor:g} | {len(rooms)} | {sum(statuses.values())} | {answers} | {first:.0f} | {last:.0f} |"


def count_bookings(target: Target, slots: list[str]) -> int:
    from sqlalchemy import func, select, tuple_

    from models.db import Database
    from models.reservation import Reservation
    from models.reservation_rules import ACTIVE_STATES

    keys = []
    for text in slots:
        room, day, band = text.split(":")
        keys.append((int(room), date.fromisoformat(day), int(band)))
    db = Database(target.url)
    with db.read_session() as s:
        made = s.scalar(
            select(func.count())
            .select_from(Reservation)
            .where(
                tuple_(Reservation.room_id, Reservation.use_date, Reservation.time_band_id).in_(keys),
                Reservation.state.in_(ACTIVE_STATES),
            )
        )
    db.dispose()
    return made


# -- main ------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db", default="sqlite,postgresql", help="sqlite, postgresql or both (comma-separated)")
    parser.add_argument("--factors", default="1,10", help="scale factors, comma-separated")
    parser.add_argument("--cases", default=",".join(CASES), help=f"a subset of {','.join(CASES)}")
    parser.add_argument("--seconds", type=float, default=4.0, help="length of one timed round")
    parser.add_argument("--rounds", type=int, default=2, help="rounds per case and connection count")
    parser.add_argument("--connections", default="16,64")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn sync workers, for the site and the ceiling")
    parser.add_argument("--rush-residents", type=int, default=500)
    parser.add_argument("--rush-slots", type=int, default=50)
    parser.add_argument("--draw-entries", type=int, default=20_000)
    parser.add_argument("--data-dir", default=str(Path(tempfile.gettempdir()) / "meguro-bench"))
    parser.add_argument("--fresh", action="store_true", help="prepare the data again")
    parser.add_argument(
        "--pg-prefix",
        default="perf_bench",
        help="PostgreSQL databases <prefix>_f<factor> (another prefix, with another --data-dir, keeps runs apart)",
    )
    parser.add_argument(
        "--redis",
        metavar="URL",
        help="the memory case again with REDIS_URL=URL, as production runs (the database is emptied first)",
    )
    parser.add_argument(
        "--no-compile",
        action="store_true",
        help="servers without compiled bytecode: each worker compiles what it imports (not as deployed)",
    )
    args = parser.parse_args(argv)
    if args.redis and urlsplit(args.redis).path.strip("/") in ("", "0"):
        parser.error("--redis: give a database of the bench's own (redis://…/1 to /15): it is emptied first")
    args.connections = [int(c) for c in args.connections.split(",")]
    names = [c.strip() for c in args.cases.split(",") if c.strip()]
    unknown = set(names) - set(CASES)
    if unknown:
        parser.error(f"unknown cases: {', '.join(sorted(unknown))}")
    dbs = [d.strip() for d in args.db.split(",")]
    factors = [float(f) for f in args.factors.split(",")]
    data_dir = Path(args.data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    args.log = data_dir / "servers.log"
    print(
        f"bench.ward: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}; servers log to {args.log}",
        flush=True,
    )

    if not args.no_compile:
        Server.bytecode = compile_bytecode()
    page_cases = [n for n in names if n not in ("draw", "rush", "memory")]
    ceiling = Server("bench.ceiling:create_app()", app_env(Target("", 0, "", "")), args.workers, args.log)
    ceiling_load = {c: Load() for c in args.connections}
    rows: list[Row] = []
    rushes: list[str] = []
    memories: list[str] = []
    try:
        ceiling.wait_ready()
        for db in dbs:
            for factor in factors:
                target = prepare(db, factor, data_dir, args.fresh, args.pg_prefix)
                asyncio.run(run_page_cases(target, page_cases, args, ceiling, rows, ceiling_load))
                if "rush" in names and factor == factors[0]:
                    rushes.append(asyncio.run(rush(target, args)))
                if "memory" in names:
                    memories.append(asyncio.run(memory(target, args)))
                    if args.redis:
                        memories.append(asyncio.run(memory(target, args, args.redis)))
    finally:
        ceiling.stop()
    if page_cases:
        print_table(rows, ceiling_load, args.connections)
        print(
            "\ncache hit: the same facility and month again and again (every request after each worker's"
            " first is a hit; with Redis, after the first of all); cache miss: the cache off, every"
            " request computes the statuses. A ward's real mix lies between: a grid's version changes"
            " with every booking of that facility."
        )
    if rushes:
        print()
        print(
            "| opening rush | factor | residents | slots | bookings made | server errors | p50 s | p99 s "
            "| wall s | CPU ms/request | answers | logins before | load generator's CPU ms/request |"
        )
        print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|")
        for line in rushes:
            print(line)
    if memories:
        print()
        print(
            "| memory (one worker) | factor | facilities | requests | answers | RSS after the first page, MB | RSS after all, MB |"
        )
        print("|---|---:|---:|---:|---|---:|---:|")
        for line in memories:
            print(line)
    if "draw" in names:
        print()
        env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
        if "postgresql" in dbs:
            # lottery_draw.py makes a database of its own from there and drops it afterwards.
            subprocess.run(["createdb", "-h", "127.0.0.1", "-U", "postgres", "perf_bench"], capture_output=True)
            env["DATABASE_URL"] = "postgresql+psycopg://postgres@127.0.0.1:5432/perf_bench"
        groups = max(10, args.draw_entries * 3 // 10)
        subprocess.run(
            [
                sys.executable,
                str(ROOT / "bench/lottery_draw.py"),
                "--entries",
                str(args.draw_entries),
                "--groups",
                str(groups),
            ],
            cwd=ROOT,
            env=env,
            check=True,
        )


if __name__ == "__main__":
    main()
