"""/healthz (the process answers), /readyz (this instance can serve: its database, and
Redis when configured) and /metrics (Prometheus). For the inside only: nginx keeps them from
the public, and the kiosk instance does not register them at all."""

from __future__ import annotations

import time

from flask import Blueprint, current_app, jsonify, request
from sqlalchemy import text

from web import clock, metrics, proxy
from web.data import database

bp = Blueprint("health", __name__)

NO_STORE = {"Cache-Control": "no-store"}


@bp.get("/healthz")
def healthz():
    """Alive: the process runs and answers. Nothing else is looked at."""
    return jsonify(status="alive"), 200, NO_STORE


def _check(probe) -> dict:
    started = time.perf_counter()
    try:
        probe()
    except Exception as exc:  # any failure makes this instance unready, and says why
        return {"ok": False, "error": f"{type(exc).__name__}: {exc}"[:300]}
    return {"ok": True, "ms": round((time.perf_counter() - started) * 1000, 1)}


def _database_answers() -> None:
    # The read engine: in autocommit on PostgreSQL, so closing ends no transaction (a ROLLBACK
    # would make psycopg deallocate the session's prepared statements: operations._DriverStatement).
    with database().read_engine.connect() as connection:
        connection.execute(text("SELECT 1"))


def _redis_answers() -> None:
    import redis

    client = redis.Redis.from_url(current_app.config["REDIS_URL"], socket_timeout=2, socket_connect_timeout=2)
    try:
        client.ping()
    finally:
        client.close()


@bp.get("/readyz")
def readyz():
    """Ready: the database (and Redis when configured) answer. A mail or void backlog is
    reported but never makes an instance unready: taking the site out of the load balancer
    would not send one mail sooner."""
    checks = {"database": _check(_database_answers)}
    if current_app.config.get("REDIS_URL"):
        checks["redis"] = _check(_redis_answers)
    ready = all(check["ok"] for check in checks.values())
    document = {
        "status": "ready" if ready else "unready",
        "checks": checks,
        "proxy": proxy.as_seen(request),
    }
    return jsonify(document), 200 if ready else 503, NO_STORE


@bp.get("/metrics", endpoint="metrics")
def metrics_endpoint():
    body = metrics.exposition(database(), clock.now)
    return body, 200, {"Content-Type": "text/plain; version=0.0.4; charset=utf-8", **NO_STORE}
