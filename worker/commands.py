"""`flask worker` (Procfile `worker`: the jobs in a loop, or `--once`) and `flask reconcile`."""

from __future__ import annotations

import logging
import signal
import threading
import time

import click
from flask import Flask

from payments.provider import ProviderRefused, ProviderUnavailable, provider_client
from web import metrics
from web.clock import now
from web.data import database
from worker.jobs import JOBS, LOCAL_JOBS, PROVIDER_JOBS, WorkerSettings

log = logging.getLogger("worker")


def run_pass(app: Flask, settings: WorkerSettings | None = None, jobs=None) -> list[tuple[str, object]]:
    """Every job once, in order (mail last, so that notices queued by the others leave in
    the same pass). A job that raises is logged and the next one runs; its outcome is the
    exception. Each job's outcome is one JSON log line and a metric. Call inside an app
    context."""
    db = database()
    provider = provider_client(app.config)
    settings = settings or WorkerSettings.from_config(app.config)
    outcomes: list[tuple[str, object]] = []
    for name, job in JOBS if jobs is None else jobs:
        started = time.perf_counter()
        try:
            outcome = job(db, provider, settings, now())
        except Exception as exc:  # one job's failure must not stop the others
            log.exception("worker job %r failed; carrying on", name, extra={"event": "job", "job": name})
            metrics.JOB_FAILURES.labels(name).inc()
            outcome = exc
        seconds = time.perf_counter() - started
        metrics.JOB_SECONDS.labels(name).observe(seconds)
        _count(name, outcome)
        if not isinstance(outcome, Exception) and _did_something(outcome):
            log.info(
                "%s: %s",
                name,
                describe(outcome),
                extra={
                    "event": "job",
                    "job": name,
                    "outcome": describe(outcome),
                    "duration_ms": round(seconds * 1000, 1),
                },
            )
        outcomes.append((name, outcome))
    return outcomes


def _did_something(outcome: object) -> bool:
    return any(bool(value) for value in vars(outcome).values())


def _count(name: str, outcome: object) -> None:
    """Provider errors and mail outcomes as Prometheus counters."""
    failed = getattr(outcome, "failed", None)
    if name in dict(PROVIDER_JOBS) and isinstance(failed, list) and failed:
        metrics.PROVIDER_ERRORS.labels(name).inc(len(failed))
    if name == "mail" and not isinstance(outcome, Exception):
        for key in ("sent", "failed", "undeliverable"):
            if getattr(outcome, key, 0):
                metrics.MAILS.labels(key).inc(getattr(outcome, key))


def run_loops(app: Flask, stop: threading.Event, interval: float) -> None:
    """The worker's loop: the jobs that call the card company in one thread, the others
    (payment deadline, mail) in another, so that a card company that hangs (10 s per
    void, up to a batch of them) never holds up a mail. Both stop at `stop`; a mail being
    sent is recorded first (the signal only sets `stop`)."""

    def loop(jobs, name: str) -> None:
        with app.app_context():
            while not stop.is_set():
                try:
                    run_pass(app, jobs=jobs)
                except Exception:  # the loop outlives any one pass
                    log.exception("worker %s pass failed; carrying on", name)
                stop.wait(interval)

    threads = [
        threading.Thread(target=loop, args=(PROVIDER_JOBS, "card company"), name="worker-card-company"),
        threading.Thread(target=loop, args=(LOCAL_JOBS, "mail"), name="worker-mail"),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        while thread.is_alive():
            thread.join(0.5)  # the main thread stays free to take SIGTERM


def describe(outcome: object) -> str:
    if isinstance(outcome, Exception):
        return f"FAILED ({type(outcome).__name__}: {outcome})"
    return ", ".join(
        f"{key.replace('_', ' ')} {len(v) if isinstance(v, list) else v}" for key, v in vars(outcome).items()
    )


def _configure_logging() -> None:
    from web.log_format import configure_json_logging

    configure_json_logging()


def register(app: Flask) -> None:
    @app.cli.command("worker")
    @click.option("--once", is_flag=True, help="One pass of every job, then exit (tests, cron).")
    @click.option(
        "--interval",
        type=click.FloatRange(min=0.1),
        default=5.0,
        show_default=True,
        envvar="WORKER_INTERVAL_SECONDS",
        help="Seconds between passes (env WORKER_INTERVAL_SECONDS).",
    )
    def worker_command(once: bool, interval: float) -> None:
        """Deliver mail, send voids, expire unpaid bookings past their deadline and settle
        card sessions whose browser never came back: in a loop, or --once."""
        from web.preflight import check

        check(app.config)  # one clear line and exit 1 if the database or Redis is not ready
        _configure_logging()
        if once:
            outcomes = run_pass(app)
            for name, outcome in outcomes:
                click.echo(f"{name}: {describe(outcome)}")
            if any(isinstance(outcome, Exception) for _, outcome in outcomes):
                raise click.exceptions.Exit(1)
            return
        stop = threading.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stop.set())
        metrics_port = app.config.get("WORKER_METRICS_PORT")
        if metrics_port:
            from prometheus_client import start_http_server

            start_http_server(int(metrics_port), addr="127.0.0.1")
        log.info("worker started: a pass every %.1f s, card company and mail in their own loops", interval)
        run_loops(app, stop, interval)
        log.info("worker stopped")

    @app.cli.command("reconcile")
    def reconcile_command() -> None:
        """Compare our card ledger with the provider's: exit 1 on any difference, 2 when the
        provider's ledger cannot be read."""
        from worker.reconcile import load_our_charges, parse_provider_ledger, reconcile, render

        url = app.config["PAYMENT_PROVIDER_URL"]
        try:
            document = provider_client(app.config).ledger()
        except (ProviderUnavailable, ProviderRefused) as exc:
            click.echo(f"Cannot read the provider's ledger at {url}: {exc}", err=True)
            raise click.exceptions.Exit(2) from None
        with database().read_session() as session:
            ours = load_our_charges(session)
        theirs = parse_provider_ledger(document)
        report = reconcile(ours, theirs)
        click.echo(render(report, ours, theirs, url))
        if not report.agrees:
            raise click.exceptions.Exit(1)
