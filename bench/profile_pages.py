"""Profile a few pages in-process (cProfile) on the ward bench's data, anonymous and logged
in, to see where the fixed cost of a request goes (issue 12).

    .venv/bin/python -m bench.profile_pages                     # top, page, slots
    .venv/bin/python -m bench.profile_pages --cases grid,page --no-profile   # CPU ms and × ceiling
    .venv/bin/python -m bench.profile_pages --cases top --requests 500 --sort tottime --lines 40
    .venv/bin/python -m bench.profile_pages --cases apply-confirm,apply-refused,apply-book --who logged-in
    .venv/bin/python -m bench.profile_pages --cases grid --callers 'local.py:310'   # who reads the proxies

The 申込 cases are the opening rush's requests (bench.ward's `rush`), as a scale resident:
`apply-confirm` GETs 申込確認 of a free slot; `apply-refused` POSTs 申込 with a form read while
the slot was free, after another resident booked it (409, nothing written: it can be posted
again and again); `apply-book` POSTs 申込 that books (303), each with a fresh slot whose
申込確認 was read before the timing — these book slots in the bench's data, as the rush does.

It uses the data `bench.ward` prepared (SQLite, factor 1 unless told), the same settings
as its servers, and the Flask test client (no HTTP, no gunicorn): what it prints is the
app's own Python. CPU ms per request is printed without the profiler too, and as a multiple
of the ceiling app's (bench/ceiling.py) measured in the same process just before."""

from __future__ import annotations

import argparse
import cProfile
import logging
import pstats
import sys
import time
from pathlib import Path

from werkzeug.datastructures import MultiDict

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.ward import (  # noqa: E402
    HTMX,
    Case,
    app_env,
    apply_form,
    case_paths,
    confirm_path,
    free_slots,
    logged_in_client,
    prepare,
    rush_numbers,
)

APPLY_CASES = ("apply-confirm", "apply-refused", "apply-book")


class ApplyRequests:
    """The opening rush's requests in-process: `batch(n)` returns n calls, each one request
    answering `status` (what they need — a 申込確認 read, a slot booked by another — is done
    in `batch`, outside the timing)."""

    def __init__(self, app, target, name: str, requests: int):
        self.name = name
        residents = [logged_in_client(app, n) for n in rush_numbers(2)]
        self.client, self.other = residents
        # Enough free slots for every batch of this run (warming, three timed, profiled).
        self.slots = free_slots(target, 2 + 5 * requests if name == "apply-book" else 2)
        self.status = {"apply-confirm": 200, "apply-refused": 409, "apply-book": 303}[name]
        if name == "apply-refused":
            slot = self.slots.pop()
            mine = self._form(self.client, slot)
            reply = self.other.post("/apply", data=self._form(self.other, slot))
            assert reply.status_code == 303, reply.status_code
            self.refused_form = mine

    def _form(self, client, slot) -> MultiDict:
        page = client.get(confirm_path(*slot))
        assert page.status_code == 200, page.status_code
        return MultiDict(apply_form(page.get_data(as_text=True)))

    def batch(self, n: int) -> list:
        if self.name == "apply-confirm":
            path = confirm_path(*self.slots[0])
            return [lambda: self.client.get(path)] * n
        if self.name == "apply-refused":
            return [lambda: self.client.post("/apply", data=self.refused_form)] * n
        forms = [self._form(self.client, self.slots.pop()) for _ in range(n)]
        return [lambda form=form: self.client.post("/apply", data=form) for form in forms]


def count_statements(app, call) -> int:
    """The SQL statements one request sends (a counter on the engine, outside the timing)."""
    from sqlalchemy import event

    engine = app.extensions["database"].engine
    count = [0]

    def counted(*_args, **_kwargs):
        count[0] += 1

    event.listen(engine, "before_cursor_execute", counted)
    try:
        call()
    finally:
        event.remove(engine, "before_cursor_execute", counted)
    return count[0]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", default="sqlite", choices=("sqlite", "postgresql"))
    parser.add_argument("--factor", type=float, default=1)
    parser.add_argument("--cases", default="top,page,slots")
    parser.add_argument("--who", default="anonymous,logged-in")
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--sort", default="cumulative")
    parser.add_argument("--lines", type=int, default=30)
    parser.add_argument("--no-profile", action="store_true", help="only the CPU ms per request")
    parser.add_argument("--callers", help="also print who calls the functions matching this pattern (pstats)")
    parser.add_argument("--data-dir", help="bench.ward's --data-dir (default: $TMPDIR/meguro-bench)")
    parser.add_argument("--pg-prefix", default="perf_bench", help="bench.ward's --pg-prefix")
    args = parser.parse_args(argv)

    import tempfile

    from app import create_app
    from config import Config

    data_dir = Path(args.data_dir or Path(tempfile.gettempdir()) / "meguro-bench")
    target = prepare(args.db, args.factor, data_dir, fresh=False, pg_prefix=args.pg_prefix)
    app = create_app("standard", Config.from_env(app_env(target)))
    logging.disable(logging.INFO)
    paths = case_paths(target)
    clients = {"anonymous": app.test_client(), "logged-in": logged_in_client(app)}
    from bench.ceiling import create_app as create_ceiling

    ceiling_client = create_ceiling().test_client()
    paths["ceiling"] = Case("ceiling", "/")
    ceiling_ms = None
    for name in ["ceiling", *args.cases.split(",")]:
        if name in APPLY_CASES:
            # Always as a scale resident: the rush's applicants.
            apply = ApplyRequests(app, target, name, args.requests)
            batch, status, whos = apply.batch, apply.status, ["logged-in"]
        else:
            case = paths[name]
            whos = ["anonymous"] if name == "ceiling" else args.who.split(",")
            status = 200
        for who in whos:
            if name not in APPLY_CASES:
                client = ceiling_client if name == "ceiling" else clients[who]
                headers = HTMX if case.htmx else {}

                def batch(n: int, client=client, path=case.path, headers=headers) -> list:
                    return [lambda: client.get(path, headers=headers)] * n

            for call in batch(5 if name == "apply-book" else 20):  # warm caches and imports
                assert call().status_code == status
            cpus = []
            for _ in range(3):  # the least of three: other processes share the cores
                calls = batch(args.requests)
                started = time.process_time()
                for call in calls:
                    call()
                cpus.append((time.process_time() - started) * 1000 / args.requests)
            if name == "ceiling":
                ceiling_ms = min(cpus)
                print(f"== ceiling (bare Flask, 2.5 KB Jinja): {ceiling_ms:.2f} ms CPU per request", flush=True)
                continue
            ratio = min(cpus) / ceiling_ms if ceiling_ms else 0
            statements = ""
            if name != "ceiling":
                (call,) = batch(1)
                statements = f", {count_statements(app, call)} SQL statements"
            print(
                f"== {name} ({who}): {min(cpus):.2f} ms CPU per request, {ratio:.1f}× ceiling"
                f"{statements} (test client, no profiler)",
                flush=True,
            )
            if args.no_profile:
                continue
            calls = batch(args.requests)
            profile = cProfile.Profile()
            profile.enable()
            for call in calls:
                call()
            profile.disable()
            stats = pstats.Stats(profile).strip_dirs().sort_stats(args.sort)
            stats.print_stats(args.lines)
            if args.callers:
                stats.print_callers(args.callers)


if __name__ == "__main__":
    main()
