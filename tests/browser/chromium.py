"""Headless Debian Chromium through chromedriver: one fresh profile per browser, JavaScript
on or off, Japanese by default, and the viewport sizes the accessibility checks use."""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service

# Debian's packages (bin/test installs them); CHROMIUM / CHROMEDRIVER name others.
CHROMIUM = Path(os.environ.get("CHROMIUM") or "/usr/bin/chromium")
CHROMEDRIVER = Path(os.environ.get("CHROMEDRIVER") or "/usr/bin/chromedriver")
DESKTOP = (1280, 900)

# As root in a container Chromium needs no sandbox; without the networking flags it
# stalls trying to reach Google's services.
FLAGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--disable-default-apps",
    "--disable-extensions",
    "--hide-scrollbars",
]


def require_chromium() -> None:
    """Fail (never skip) when the browser is missing: a suite that silently drops its
    browser tests would pass without testing the flows."""
    missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not p.exists()]
    if missing:
        pytest.fail(
            f"Browser tests need Debian's chromium and chromium-driver; missing: {', '.join(missing)}. "
            "Run bin/test (it installs them with apt) or `apt-get install chromium chromium-driver`.",
            pytrace=False,
        )


class Chromium:
    """A running browser and the profile directory it owns."""

    def __init__(self, *, javascript: bool = True, language: str = "ja"):
        require_chromium()
        self.javascript = javascript
        self._profile = tempfile.mkdtemp(prefix="chromium-profile-")
        options = webdriver.ChromeOptions()
        options.binary_location = str(CHROMIUM)
        for flag in FLAGS:
            options.add_argument(flag)
        options.add_argument(f"--user-data-dir={self._profile}")
        options.add_argument(f"--window-size={DESKTOP[0]},{DESKTOP[1]}")
        options.add_argument(f"--lang={language}")
        prefs = {"intl.accept_languages": language}
        if not javascript:
            prefs["profile.managed_default_content_settings.javascript"] = 2
        options.add_experimental_option("prefs", prefs)
        # Console messages, to catch Content-Security-Policy violations and script errors.
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        self.driver = webdriver.Chrome(options=options, service=Service(str(CHROMEDRIVER)))
        self.driver.set_page_load_timeout(30)
        self.driver.set_script_timeout(30)

    def reset(self) -> None:
        """Forget everything a previous test left: cookies (shared by every port of
        127.0.0.1), cache, console messages, window size."""
        driver = self.driver
        driver.get("about:blank")
        driver.execute_cdp_cmd("Network.clearBrowserCookies", {})
        driver.execute_cdp_cmd("Network.clearBrowserCache", {})
        driver.get_log("browser")
        set_viewport_width(driver, DESKTOP[0])

    def quit(self) -> None:
        try:
            self.driver.quit()
        finally:
            shutil.rmtree(self._profile, ignore_errors=True)


def set_viewport_width(driver, width: int, height: int = DESKTOP[1]) -> None:
    """Make the layout viewport exactly `width` CSS pixels wide (320 for WCAG 1.4.10,
    360 for a small phone). Through the DevTools device metrics rather than the window
    size: a headless window resizes asynchronously, and under load a stale innerWidth
    used to send the correction the wrong way."""
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False},
    )
    deadline = time.monotonic() + 10
    inner = driver.execute_script("return window.innerWidth")
    while inner != width and time.monotonic() < deadline:
        time.sleep(0.05)
        inner = driver.execute_script("return window.innerWidth")
    assert inner == width, f"could not make the viewport {width}px wide (it is {inner}px)"
