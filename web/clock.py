"""The current time for this request: real, or frozen by FROZEN_NOW for tests and demos."""

from __future__ import annotations

from datetime import UTC, date, datetime

from flask import current_app

from models.time_rules import jst_day


def now() -> datetime:
    frozen = current_app.config.get("FROZEN_NOW")
    if frozen:
        moment = datetime.fromisoformat(frozen) if isinstance(frozen, str) else frozen
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return datetime.now(UTC)


def today() -> date:
    """Today in Tokyo."""
    return jst_day(now())
