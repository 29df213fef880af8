"""`flask worker` (Procfile `worker`: the jobs in a loop, or `--once`) and `flask reconcile`."""

from __future__ import annotations

import logging
import signal
import threading

import click
from flask import Flask

from blueprints.payment.provider import ProviderClient, ProviderRefused, ProviderUnavailable
from web.clock import now
from web.data import database
from worker.jobs import JOBS, WorkerSettings

log = logging.getLogger("worker")


def provider_client(config) -> ProviderClient:
    return ProviderClient(base_url=config["PAYMENT_PROVIDER_URL"], secret=config["PAYMENT_PROVIDER_SECRET"])


def run_pass(app: Flask, settings: WorkerSettings | None = None) -> list[tuple[str, object]]:
    """Every job once, in order (mail last, so that notices queued by the others leave in
    the same pass). A job that raises is logged and the next one runs; its outcome is the
    exception. Call inside an app context."""
    db = database()
    provider = provider_client(app.config)
    settings = settings or WorkerSettings.from_config(app.config)
    outcomes: list[tuple[str, object]] = []
    for name, job in JOBS:
        try:
            outcomes.append((name, job(db, provider, settings, now())))
        except Exception as exc:  # one job's failure must not stop the others
            log.exception("worker job %r failed; carrying on", name)
            outcomes.append((name, exc))
    return outcomes


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
        log.info("worker started: a pass every %.1f s", interval)
        while not stop.is_set():
            run_pass(app)
            stop.wait(interval)
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
