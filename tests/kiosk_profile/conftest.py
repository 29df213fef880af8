"""tests/kiosk_profile: the kiosk terminal's Chromium policy. With KIOSK_POLICY_CHECK=1 (the
CI step that installs the policy into a real Chromium) nothing here may be skipped: a skip
there is reported as a failure, so the check cannot pass by not running."""

from __future__ import annotations

import os

import pytest

POLICY_CHECK = os.environ.get("KIOSK_POLICY_CHECK") == "1"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if POLICY_CHECK and report.skipped:
        reason = report.longrepr[-1] if isinstance(report.longrepr, tuple) else report.longrepr
        report.outcome = "failed"
        report.longrepr = f"KIOSK_POLICY_CHECK=1 but the test was skipped: {reason}"
