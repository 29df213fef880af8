"""The limiter's app-wide check is left out only when there is nothing app-wide to check:
a route's own limit is enforced either way, and an app-wide limit when one is set."""

from __future__ import annotations

from flask import Flask
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

from web.extensions import drop_empty_app_wide_check, init_limiter


def small_site(**limiter_options) -> Flask:
    app = Flask(__name__)
    extension = Limiter(key_func=get_remote_address, storage_uri="memory://", **limiter_options)
    hook = init_limiter(app, extension)

    @app.get("/limited")
    @extension.limit("2 per minute")
    def limited():
        return "limited"

    @app.get("/open")
    def open_page():
        return "open"

    drop_empty_app_wide_check(app, hook, extension)
    return app


def statuses(app: Flask, path: str, times: int) -> list[int]:
    client = app.test_client()
    return [client.get(path).status_code for _ in range(times)]


def test_a_routes_own_limit_holds_without_the_app_wide_check():
    app = small_site()
    assert statuses(app, "/limited", 3) == [200, 200, 429]
    assert statuses(app, "/open", 5) == [200] * 5


def test_an_app_wide_limit_keeps_the_check():
    app = small_site(application_limits=["3 per minute"])
    assert statuses(app, "/open", 4) == [200, 200, 200, 429]


def test_a_default_limit_keeps_the_check():
    app = small_site(default_limits=["2 per minute"])
    assert statuses(app, "/open", 3) == [200, 200, 429]


def test_a_limited_route_still_gets_its_headers_and_deductions():
    """The limiter's after-request hook runs for a request the limiter looked at: the rate
    headers of a limited route, and a deduction made only for the responses it names."""
    from flask import abort

    app = Flask(__name__)
    app.config["RATELIMIT_HEADERS_ENABLED"] = True
    extension = Limiter(key_func=get_remote_address, storage_uri="memory://")
    hook = init_limiter(app, extension)

    @app.get("/limited")
    @extension.limit("5 per minute")
    def limited():
        return "limited"

    @app.get("/failing")
    @extension.limit("2 per minute", deduct_when=lambda response: response.status_code == 404)
    def failing():
        abort(404)

    @app.get("/open")
    def open_page():
        return "open"

    drop_empty_app_wide_check(app, hook, extension)
    client = app.test_client()
    reply = client.get("/limited")
    assert reply.headers["X-RateLimit-Limit"] == "5"
    assert reply.headers["X-RateLimit-Remaining"] == "4"
    assert "X-RateLimit-Limit" not in client.get("/open").headers
    assert statuses(app, "/failing", 3) == [404, 404, 429]
