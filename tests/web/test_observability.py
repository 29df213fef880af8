"""What an operator sees (issue 13): /healthz, /readyz and /metrics on the site's instance
and nowhere on the kiosk's, a request id on every answer and on the error page, one JSON
log line per request, and a warning when TRUSTED_PROXIES does not fit the proxies in front."""

from __future__ import annotations

import json
import logging
from datetime import timedelta

import pytest

from app import create_app
from models.outbox import OutboxMail
from tests.conftest import DEMO_PASSWORD, csrf_token_from, frozen_now, make_config
from web.log_format import JsonLines


def test_healthz_says_the_process_is_alive(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "alive"}
    assert response.headers["Cache-Control"] == "no-store"


def test_readyz_checks_the_database_and_redis_when_configured(app, client):
    response = client.get("/readyz")
    assert response.status_code == 200
    document = response.get_json()
    assert document["status"] == "ready"
    assert document["checks"]["database"]["ok"] is True
    if app.config["REDIS_URL"]:
        assert document["checks"]["redis"]["ok"] is True
    else:
        assert "redis" not in document["checks"]


def test_readyz_is_unready_when_redis_does_not_answer(database_url, tmp_path):
    app = create_app("standard", make_config(database_url, tmp_path, REDIS_URL="redis://127.0.0.1:1/0"))
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    document = response.get_json()
    assert document["status"] == "unready"
    assert document["checks"]["redis"]["ok"] is False and "Connection" in document["checks"]["redis"]["error"]
    app.extensions["database"].dispose()


def queue_old_mail(app, count: int) -> None:
    old = frozen_now() - timedelta(hours=3)
    with app.extensions["database"].write() as session:
        for n in range(count):
            session.add(
                OutboxMail(
                    dedupe_key=f"backlog-{n}",
                    to_address=f"r{n}@example.jp",
                    subject="s",
                    body="b",
                    created_at=old,
                    next_attempt_at=old,
                )
            )


def test_a_mail_backlog_never_makes_the_site_unready_and_shows_in_the_metrics(app, client):
    queue_old_mail(app, 250)
    assert client.get("/readyz").status_code == 200
    metrics = client.get("/metrics")
    assert metrics.status_code == 200 and metrics.mimetype == "text/plain"
    lines = metrics.get_data(as_text=True).splitlines()
    backlog = next(line for line in lines if line.startswith("meguro_outbox_backlog "))
    assert float(backlog.split()[1]) >= 250
    oldest = next(line for line in lines if line.startswith("meguro_outbox_oldest_unsent_seconds "))
    assert float(oldest.split()[1]) >= 3 * 3600
    assert any(line.startswith("meguro_void_backlog ") for line in lines)


def test_metrics_count_requests_per_endpoint(client):
    client.get("/")
    client.get("/no-such-page")
    text = client.get("/metrics").get_data(as_text=True)
    assert 'meguro_request_duration_seconds_count{endpoint="top.index",method="GET"}' in text
    assert 'meguro_responses_total{endpoint="-",status="404"}' in text


@pytest.mark.parametrize("path", ["/healthz", "/readyz", "/metrics"])
def test_the_kiosk_has_no_health_or_metrics(kiosk_app, path):
    assert kiosk_app.test_client().get(path).status_code == 404


# -- request ids and logs ---------------------------------------------------------------------


def test_every_answer_carries_a_request_id_and_keeps_a_well_formed_one(client):
    made = client.get("/").headers["X-Request-ID"]
    assert len(made) == 32 and made.isalnum()
    assert client.get("/", headers={"X-Request-ID": "abc123-from-nginx"}).headers["X-Request-ID"] == (
        "abc123-from-nginx"
    )
    forged = client.get("/", headers={"X-Request-ID": 'x" level=ERROR forged'}).headers["X-Request-ID"]
    assert len(forged) == 32 and forged.isalnum()


def test_the_error_page_shows_the_request_id_as_the_reference_number(client):
    response = client.get("/no-such-page", headers={"X-Request-ID": "ref-404-abcdef"})
    assert response.status_code == 404
    assert 'お問い合わせ番号: <span class="reference-number">ref-404-abcdef</span>' in response.get_data(as_text=True)


def request_records(caplog) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "meguro.request"]


def test_one_json_line_per_request_without_password_or_email(client, caplog):
    caplog.set_level(logging.INFO, logger="meguro.request")
    page = client.get("/login")
    client.post(
        "/login",
        data={
            "csrf_token": csrf_token_from(page.get_data(as_text=True)),
            "registration_kind": "assembly",
            "registration_number": "40675",
            "password": DEMO_PASSWORD,
        },
        headers={"X-Request-ID": "login-request-01"},
    )
    client.get("/mymenu/", headers={"X-Request-ID": "mymenu-request-01"})
    records = {r.request_id: r for r in request_records(caplog)}
    login, mymenu = records["login-request-01"], records["mymenu-request-01"]
    assert (login.endpoint, login.status, login.method) == ("auth.login", 303, "POST")
    assert (mymenu.endpoint, mymenu.status, mymenu.registration) == ("mymenu.index", 200, "00040675")
    for record in (login, mymenu):
        line = JsonLines().format(record)
        document = json.loads(line)
        assert "\n" not in line
        assert document["request_id"] == record.request_id and document["duration_ms"] >= 0
        assert DEMO_PASSWORD not in line and "@" not in line


def test_the_request_line_goes_through_an_operators_filters_and_formatter(client):
    """The hook makes its record itself (not through Logger.log): a filter on the logger and
    a handler's own formatter see it as they would see Logger.log's."""
    logger = logging.getLogger("meguro.request")

    def tag_or_drop(record: logging.LogRecord) -> bool:
        record.site = "meguro"
        return record.path != "/faq"

    lines = []
    handler = logging.Handler()
    handler.setFormatter(logging.Formatter("%(levelname)s %(module)s.%(funcName)s %(request_id)s %(message)s"))
    handler.emit = lambda record: lines.append((handler.format(record), JsonLines().format(record)))
    logger.addFilter(tag_or_drop)
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        client.get("/faq")
        client.get("/", headers={"X-Request-ID": "operator-0001"})
    finally:
        logger.removeHandler(handler)
        logger.removeFilter(tag_or_drop)
        logger.setLevel(logging.NOTSET)
    [(plain, line)] = lines
    assert plain == "INFO request_log.log_request operator-0001 GET / 200"
    document = json.loads(line)
    assert list(document)[4:] == [
        "event",
        "request_id",
        "method",
        "path",
        "endpoint",
        "status",
        "duration_ms",
        "registration",
        "profile",
        "client",
        "site",
    ]
    assert document["site"] == "meguro"


# -- TRUSTED_PROXIES against what arrives -------------------------------------------------------


def proxy_warnings(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "meguro.proxy"]


def served(database_url, tmp_path, trusted: int):
    return create_app("standard", make_config(database_url, tmp_path, TRUSTED_PROXIES=trusted))


def test_a_proxy_in_front_of_an_instance_that_trusts_none_is_warned_about_once(database_url, tmp_path, caplog):
    app = served(database_url, tmp_path, 0)
    client = app.test_client()
    client.get("/")  # straight to the instance: nothing to say
    assert proxy_warnings(caplog) == []
    for _ in range(3):
        client.get("/", headers={"X-Forwarded-For": "203.0.113.9"})
    warnings = proxy_warnings(caplog)
    assert len(warnings) == 1 and warnings[0].startswith("TRUSTED_PROXIES is 0 but requests arrive through a proxy")
    app.extensions["database"].dispose()


def test_trusting_more_proxies_than_there_are_is_warned_about(database_url, tmp_path, caplog):
    app = served(database_url, tmp_path, 2)
    app.test_client().get("/readyz")  # a probe straight to the instance: not a resident's way in
    assert proxy_warnings(caplog) == []
    app.test_client().get("/", headers={"X-Forwarded-For": "203.0.113.9"})
    assert proxy_warnings(caplog)[0].startswith("TRUSTED_PROXIES is 2 but X-Forwarded-For carries 1 address")
    app.extensions["database"].dispose()


def test_one_trusted_proxy_gives_the_client_address_and_scheme(database_url, tmp_path, caplog):
    app = served(database_url, tmp_path, 1)
    response = app.test_client().get(
        "/readyz",
        headers={"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https"},
        environ_base={"REMOTE_ADDR": "127.0.0.1"},
    )
    assert response.get_json()["proxy"] == {
        "trusted_proxies": 1,
        "forwarded_for_hops": 1,
        "scheme": "https",
        "client": "203.0.113.9",
    }
    assert proxy_warnings(caplog) == []
    app.extensions["database"].dispose()


def test_a_new_request_id_is_a_uuid4_in_hex():
    """The ids made here are what `uuid.uuid4().hex` gives: 32 hex digits, version 4, the
    RFC 4122 variant, never the same twice."""
    import uuid

    from web.request_log import new_request_id

    ids = [new_request_id() for _ in range(2000)]
    assert len(set(ids)) == len(ids)
    for value in ids:
        parsed = uuid.UUID(hex=value)
        assert parsed.hex == value and parsed.version == 4 and parsed.variant == uuid.RFC_4122
