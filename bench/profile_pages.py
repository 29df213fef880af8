"""Profile a few pages in-process (cProfile) on the ward bench's data, anonymous and logged
in, to see where the fixed cost of a request goes (issue 12).

    .venv/bin/python -m bench.profile_pages                     # top, page, slots
    .venv/bin/python -m bench.profile_pages --cases grid,page --no-profile   # CPU ms and × ceiling
    .venv/bin/python -m bench.profile_pages --cases top --requests 500 --sort tottime --lines 40

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

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.ward import HTMX, Case, app_env, case_paths, logged_in_client, prepare  # noqa: E402


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
    args = parser.parse_args(argv)

    import tempfile

    from app import create_app
    from config import Config

    target = prepare(args.db, args.factor, Path(tempfile.gettempdir()) / "meguro-bench", fresh=False)
    app = create_app("standard", Config.from_env(app_env(target)))
    logging.disable(logging.INFO)
    paths = case_paths(target)
    clients = {"anonymous": app.test_client(), "logged-in": logged_in_client(app)}
    from bench.ceiling import create_app as create_ceiling

    ceiling_client = create_ceiling().test_client()
    paths["ceiling"] = Case("ceiling", "/")
    ceiling_ms = None
    for name in ["ceiling", *args.cases.split(",")]:
        case = paths[name]
        for who in ["anonymous"] if name == "ceiling" else args.who.split(","):
            client = ceiling_client if name == "ceiling" else clients[who]
            headers = HTMX if case.htmx else {}
            for _ in range(20):  # warm caches and imports
                assert client.get(case.path, headers=headers).status_code == 200
            cpus = []
            for _ in range(3):  # the least of three: other processes share the cores
                started = time.process_time()
                for _ in range(args.requests):
                    client.get(case.path, headers=headers)
                cpus.append((time.process_time() - started) * 1000 / args.requests)
            if name == "ceiling":
                ceiling_ms = min(cpus)
                print(f"== ceiling (bare Flask, 2.5 KB Jinja): {ceiling_ms:.2f} ms CPU per request", flush=True)
                continue
            ratio = min(cpus) / ceiling_ms if ceiling_ms else 0
            print(
                f"== {name} ({who}): {min(cpus):.2f} ms CPU per request, {ratio:.1f}× ceiling (test client, no profiler)",
                flush=True,
            )
            if args.no_profile:
                continue
            profile = cProfile.Profile()
            profile.enable()
            for _ in range(args.requests):
                client.get(case.path, headers=headers)
            profile.disable()
            pstats.Stats(profile).strip_dirs().sort_stats(args.sort).print_stats(args.lines)


if __name__ == "__main__":
    main()
