"""Delivery of the notification outbox, and the expiry sweep, in passes. A pass runs from
a daemon thread in each served process (woken right after a commit that queued a
notification) or from `flask notify-pending`; claims in the database keep two processes
from sending the same row at once. Failed deliveries are retried with backoff until the
merchant answers 2xx."""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

import requests

from payment_standin import operations
from payment_standin.db import Database
from payment_standin.signing import signed_headers

log = logging.getLogger(__name__)
LEASE_SECONDS = 60


@dataclass
class PassResult:
    expired: int = 0
    delivered: int = 0
    failed: int = 0


def request_target(url: str) -> str:
    parts = urlsplit(url)
    return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


class Notifier:
    def __init__(self, database: Database, config: dict, clock: Callable):
        self.database = database
        self.config = config
        self.clock = clock
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._pid: int | None = None
        self._lock = threading.Lock()
        self._stop = threading.Event()

    # One pass ------------------------------------------------------------------------------
    def run_pass(self) -> PassResult:
        result = PassResult()
        with self.database.write() as session:
            result.expired = operations.expire_overdue_sessions(session, self.clock())
        with self.database.write() as session:
            claimed = [
                (row.id, row.url, row.body)
                for row in operations.claim_due_notifications(session, self.clock(), LEASE_SECONDS)
            ]
        for notification_id, url, body in claimed:
            status_code, error = self._send(url, body.encode())
            with self.database.write() as session:
                row = operations.record_delivery(
                    session,
                    self.clock(),
                    notification_id,
                    status_code,
                    error,
                    self.config["NOTIFY_RETRY_BASE_SECONDS"],
                    self.config["NOTIFY_RETRY_MAX_SECONDS"],
                )
                if row.delivered_at is not None:
                    result.delivered += 1
                else:
                    result.failed += 1
                    log.warning("notification %s to %s not delivered: %s", row.event_id, url, row.last_error)
        return result

    def _signature_now(self):
        clock = self.config.get("SIGNATURE_CLOCK") or self.clock
        return clock()

    def _send(self, url: str, body: bytes) -> tuple[int | None, str | None]:
        headers = {"Content-Type": "application/json; charset=utf-8"}
        headers.update(
            signed_headers(
                self.config["PAYMENT_PROVIDER_SECRET"], "POST", request_target(url), body, self._signature_now()
            )
        )
        try:
            response = requests.post(
                url, data=body, headers=headers, timeout=self.config["NOTIFY_TIMEOUT_SECONDS"], allow_redirects=False
            )
        except requests.RequestException as exc:
            return None, f"{type(exc).__name__}: {exc}"
        return response.status_code, None

    # Background thread ---------------------------------------------------------------------
    def wake(self) -> None:
        self._wake.set()

    def ensure_started(self) -> None:
        """Start the thread once per process (after a fork, again in the child)."""
        if self._pid == os.getpid() and self._thread is not None and self._thread.is_alive():
            return
        with self._lock:
            if self._pid == os.getpid() and self._thread is not None and self._thread.is_alive():
                return
            self._pid = os.getpid()
            self._wake = threading.Event()
            self._thread = threading.Thread(
                target=self.run_forever, args=(self._stop,), name="standin-notifier", daemon=True
            )
            self._thread.start()

    def stop(self) -> None:
        """Stop this process's thread after its current pass (tests, shutdown)."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None and self._thread.is_alive():
            self._thread.join(10)

    def run_forever(self, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                self.run_pass()
            except Exception:  # keep delivering whatever one pass ran into
                log.exception("notification pass failed")
            self._wake.wait(self.config["NOTIFY_POLL_SECONDS"])
            self._wake.clear()
