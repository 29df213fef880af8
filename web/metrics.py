"""Prometheus metrics (prometheus-client): request latency per endpoint, the worker's jobs
and provider errors, and the backlogs read from the database at each scrape (outbox and
voids, with the age of the oldest). With several gunicorn workers per instance, set
PROMETHEUS_MULTIPROC_DIR (deploy/gunicorn.conf.py does) so that a scrape sums them all."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from sqlalchemy import func, select

from models.db import Database
from models.outbox import OutboxMail
from models.payment import CardCharge, VoidStatus

REQUEST_SECONDS = Histogram(
    "meguro_request_duration_seconds",
    "Time to answer a request, per endpoint.",
    ["endpoint", "method"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
RESPONSES = Counter("meguro_responses_total", "Responses by endpoint and status.", ["endpoint", "status"])
JOB_SECONDS = Histogram("meguro_worker_job_duration_seconds", "Time a worker job took.", ["job"])
JOB_FAILURES = Counter("meguro_worker_job_failures_total", "Worker jobs that raised.", ["job"])
MAILS = Counter("meguro_mails_total", "Mails the worker handled, by outcome.", ["outcome"])
PROVIDER_ERRORS = Counter(
    "meguro_provider_errors_total", "Calls to the card company that failed, by worker job.", ["job"]
)


# Each (endpoint, method, status)'s two children, as `labels` returns them (always the same
# ones: nothing removes a child), kept instead of asked for on every request (issue 12).
_REQUEST_CHILDREN_KEPT = 1024
_request_children: dict[tuple[str, str, int], tuple] = {}


def observe_request(endpoint: str, method: str, status: int, seconds: float) -> None:
    key = (endpoint, method, status)
    try:
        duration, responses = _request_children[key]
    except KeyError:
        if len(_request_children) >= _REQUEST_CHILDREN_KEPT:
            _request_children.clear()
        duration = REQUEST_SECONDS.labels(endpoint, method)
        responses = RESPONSES.labels(endpoint, str(status))
        _request_children[key] = (duration, responses)
    duration.observe(seconds)
    responses.inc()


class BacklogCollector:
    """What is waiting, read from the database at scrape time (the same for every instance:
    any one of them answers for the whole site)."""

    def __init__(self, database: Database, clock: Callable[[], datetime]):
        self.database, self.clock = database, clock

    def collect(self) -> Iterator[GaugeMetricFamily]:
        now = self.clock()
        with self.database.read_session() as session:
            mails, oldest_mail = session.execute(
                select(func.count(), func.min(OutboxMail.created_at)).where(
                    OutboxMail.sent_at.is_(None),
                    OutboxMail.undeliverable_at.is_(None),
                    OutboxMail.to_address.is_not(None),
                )
            ).one()
            voids, oldest_void = session.execute(
                select(func.count(), func.min(CardCharge.void_requested_at)).where(
                    CardCharge.void_status == VoidStatus.PENDING
                )
            ).one()
        yield _gauge("meguro_outbox_backlog", "Mails not sent yet (nor given up).", mails)
        yield _gauge("meguro_outbox_oldest_unsent_seconds", "Age of the oldest unsent mail.", _age(now, oldest_mail))
        yield _gauge("meguro_void_backlog", "Card charges waiting for their void.", voids)
        yield _gauge(
            "meguro_void_oldest_pending_seconds", "Age of the oldest void-pending charge.", _age(now, oldest_void)
        )


def _gauge(name: str, documentation: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, documentation, value=value)


def _age(now: datetime, since: datetime | None) -> float:
    if since is None:
        return 0.0
    if since.tzinfo is None:  # SQLite through an aggregate: the stored UTC, naive
        since = since.replace(tzinfo=UTC)
    return max((now - since).total_seconds(), 0.0)


def exposition(database: Database, clock: Callable[[], datetime]) -> bytes:
    """The text a scrape receives: this process's metrics (or every gunicorn worker's, in
    multiprocess mode) and the database's backlogs."""
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        MultiProcessCollector(registry)
    else:
        for collector in (REQUEST_SECONDS, RESPONSES, JOB_SECONDS, JOB_FAILURES, MAILS, PROVIDER_ERRORS):
            registry.register(collector)
    registry.register(BacklogCollector(database, clock))
    return generate_latest(registry)
