"""Bad input from the operator (issue 13): a missing or default secret, a malformed number,
an unreachable database or Redis, a migration not applied, a proxy count that does not match
— each one clear line and a non-zero exit, never a half-started site."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from app import create_app
from config import Config, ConfigurationError
from tests.browser.live_server import LiveServer
from tests.conftest import make_config

ROOT = Path(__file__).resolve().parents[2]


def test_default_secrets_are_refused_outside_debug_in_one_sentence(database_url, tmp_path):
    config = make_config(database_url, tmp_path, TESTING=False, DEBUG=False, SECRET_KEY=Config.from_env({}).SECRET_KEY)
    with pytest.raises(ConfigurationError) as refused:
        create_app("standard", config)
    assert refused.value.message.startswith("configuration: SECRET_KEY not set")
    assert "\n" not in refused.value.message


@pytest.mark.parametrize("name, value", [("TRUSTED_PROXIES", "two"), ("TRUSTED_PROXIES", "-1"), ("SMTP_PORT", "0")])
def test_a_malformed_number_is_named(name, value):
    with pytest.raises(ConfigurationError) as refused:
        Config.from_env({name: value})
    assert refused.value.message.startswith(f"configuration: {name} must be")


def preflight(app):
    return app.test_cli_runner().invoke(args=["preflight"])


def test_preflight_passes_on_a_ready_database(app):
    result = preflight(app)
    assert result.exit_code == 0, result.output


def test_a_migration_not_applied_is_one_line(database_url, tmp_path):
    engine = create_engine(database_url)
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '0005'"))
    engine.dispose()
    app = create_app("standard", make_config(database_url, tmp_path))
    result = preflight(app)
    assert result.exit_code == 3
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "is at migration 0005, this code needs" in lines[0] and "flask init-db" in lines[0]
    app.extensions["database"].dispose()


@pytest.mark.parametrize(
    "setting, words",
    [
        ({"DATABASE_URL": "postgresql://postgres@127.0.0.1:1/nowhere"}, "the database at postgresql://"),
        ({"REDIS_URL": "redis://127.0.0.1:1/0"}, "Redis at redis://127.0.0.1:1/0 cannot be reached"),
    ],
)
def test_an_unreachable_database_or_redis_is_one_line(database_url, tmp_path, setting, words):
    app = create_app("standard", make_config(database_url, tmp_path))
    app.config.update(setting)
    result = preflight(app)
    assert result.exit_code == 3
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and words in lines[0], result.output
    app.extensions["database"].dispose()


def gunicorn(tmp_path, **environ) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("FLASK_DEBUG", "SECRET_KEY", "PAYMENT_PROVIDER_SECRET")}
    env.update(PYTHONPATH=str(ROOT), INSTANCE_PATH=str(tmp_path / "instance"), PORT="0", **environ)
    return subprocess.run(
        [str(Path(sys.executable).with_name("gunicorn")), "-c", str(ROOT / "deploy" / "gunicorn.conf.py")],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    "environ, words",
    [
        ({}, "SECRET_KEY and PAYMENT_PROVIDER_SECRET not set"),
        ({"SECRET_KEY": "s", "PAYMENT_PROVIDER_SECRET": "p", "TRUSTED_PROXIES": "x"}, "TRUSTED_PROXIES must be"),
    ],
)
def test_gunicorn_never_half_starts(tmp_path, database_url, environ, words):
    result = gunicorn(tmp_path, DATABASE_URL=database_url, **environ)
    assert result.returncode == 3
    ours = [line for line in result.stderr.splitlines() if line.startswith("meguro standard: ")]
    assert len(ours) == 1 and words in ours[0], result.stderr
    assert "Traceback" not in result.stderr and "Booting worker" not in result.stderr


def test_check_proxy_reports_a_count_that_does_not_match(database_url, tmp_path):
    for trusted, code, words in ((1, 1, "TRUSTED_PROXIES is 1 but 0 proxies"), (0, 0, "matches")):
        app = create_app("standard", make_config(database_url, tmp_path, TRUSTED_PROXIES=trusted))
        server = LiveServer(app).start()
        try:
            result = app.test_cli_runner().invoke(args=["check-proxy", "--url", server.base_url])
        finally:
            server.stop()
            app.extensions["database"].dispose()
        assert result.exit_code == code, result.output
        assert words in result.output and len(result.output.strip().splitlines()) == 1
