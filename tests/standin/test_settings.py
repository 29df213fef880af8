"""Settings from the environment, and the refusal of the development secret."""

from __future__ import annotations

import pytest

from payment_standin.app import create_app
from payment_standin.settings import DEV_SECRET, settings_from_env
from tests.standin.conftest import Merchant


def test_environment_sets_the_time_limit_warning_and_extensions():
    settings = settings_from_env(
        {
            "PAYMENT_SESSION_SECONDS": "5",
            "PAYMENT_WARNING_SECONDS": "2",
            "PAYMENT_MAX_EXTENSIONS": "12",
            "PAYMENTS_DATABASE_URL": "postgresql://db/payments",
            "PAYMENT_STANDIN_FAULTS": "1",
        }
    )
    assert (
        settings["PAYMENT_SESSION_SECONDS"],
        settings["PAYMENT_WARNING_SECONDS"],
        settings["PAYMENT_MAX_EXTENSIONS"],
    ) == (5, 2, 12)
    assert settings["PAYMENTS_DATABASE_URL"] == "postgresql://db/payments"
    assert settings["PAYMENT_STANDIN_FAULTS"] is True


def test_defaults_follow_the_guide_and_keep_to_its_own_instance_folder():
    settings = settings_from_env({})
    assert settings["PAYMENT_SESSION_SECONDS"] == 900  # guide L164: 15 minutes
    assert settings["PAYMENT_WARNING_SECONDS"] == 120
    assert settings["PAYMENT_MAX_EXTENSIONS"] >= 10
    assert settings["PAYMENT_STANDIN_FAULTS"] is False
    assert settings["PAYMENTS_DATABASE_URL"].endswith("payment_standin/instance/payments.sqlite3")


def test_development_secret_is_refused_outside_debug(tmp_path):
    with pytest.raises(RuntimeError, match="PAYMENT_PROVIDER_SECRET"):
        create_app(
            {
                "DEBUG": False,
                "TESTING": False,
                "PAYMENT_PROVIDER_SECRET": DEV_SECRET,
                "INSTANCE_PATH": str(tmp_path),
                "PAYMENTS_DATABASE_URL": f"sqlite:///{tmp_path / 'p.sqlite3'}",
            }
        )


def test_configured_time_limit_applies_to_new_sessions(make_standin, clock):
    merchant = Merchant(make_standin(PAYMENT_SESSION_SECONDS=5), clock)
    assert merchant.create_session()["expires_at"] == "2026-11-25T01:00:05+00:00"
