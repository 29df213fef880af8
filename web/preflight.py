"""Checks before a process serves or works (issue 13, bad operator input): the database
answers and is at the newest migration, Redis answers when configured. Each failure is one
ConfigurationError, so an operator reads one clear line and the process exits non-zero
before anything is half-started (the secrets and malformed numbers are refused earlier, by
Config and create_app)."""

from __future__ import annotations

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from config import ConfigurationError
from models.migration import alembic_config

CONNECT_TIMEOUT = 5


def _safe(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


def check_database(url: str) -> None:
    connect_args = {"connect_timeout": CONNECT_TIMEOUT} if url.startswith("postgresql") else {}
    engine = create_engine(url, connect_args=connect_args)
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
            current = MigrationContext.configure(connection).get_current_revision()
    except Exception as exc:
        reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ConfigurationError(f"the database at {_safe(url)} cannot be reached: {reason}") from None
    finally:
        engine.dispose()
    head = ScriptDirectory.from_config(alembic_config(url)).get_current_head()
    if current != head:
        raise ConfigurationError(
            f"the database at {_safe(url)} is at migration {current or 'none'}, this code needs {head}: "
            "run `flask init-db` (the migration unit) first"
        )


def check_redis(url: str) -> None:
    import redis

    client = redis.Redis.from_url(url, socket_timeout=CONNECT_TIMEOUT, socket_connect_timeout=CONNECT_TIMEOUT)
    try:
        client.ping()
    except Exception as exc:
        raise ConfigurationError(f"Redis at {_safe(url)} cannot be reached: {exc}") from None
    finally:
        client.close()


def check(config) -> None:
    """Raise ConfigurationError for the first thing an operator must fix."""
    check_database(config["DATABASE_URL"])
    if config.get("REDIS_URL"):
        check_redis(config["REDIS_URL"])
