"""Waiting for what a key press started: a new page, or an htmx swap that has settled."""

from __future__ import annotations

from contextlib import contextmanager

from selenium.common.exceptions import JavascriptException
from selenium.webdriver.support.ui import WebDriverWait

TIMEOUT = 15

# Marks the current document, and counts htmx swaps once they have settled (app.js has
# moved focus by then: its listener was registered first).
_MARK = """
const root = document.documentElement;
root.dataset.testStale = "1";
if (!root.dataset.testSwaps) {
  root.dataset.testSwaps = "0";
  document.addEventListener("htmx:afterSettle", () => {
    root.dataset.testSwaps = String(Number(root.dataset.testSwaps) + 1);
  });
}
return root.dataset.testSwaps;
"""

_STATE = """
const root = document.documentElement;
return {
  stale: root.dataset.testStale === "1",
  swaps: root.dataset.testSwaps || "0",
  ready: document.readyState,
  busy: !!document.querySelector(".htmx-request, .htmx-swapping, .htmx-settling"),
};
"""


@contextmanager
def page_change(driver, *, allow_swap: bool = True, timeout: float = TIMEOUT):
    """Wait, after the body runs, until a new document has loaded or (with JavaScript on
    and `allow_swap`) an htmx swap has settled."""
    swaps_before = driver.execute_script(_MARK)
    yield

    def changed(d):
        state = d.execute_script(_STATE)
        if state is None:
            return False
        if not state["stale"]:
            return state["ready"] == "complete"
        return allow_swap and state["swaps"] != swaps_before and not state["busy"]

    # A script run while the old document unloads may fail: try again on the next poll.
    WebDriverWait(driver, timeout, poll_frequency=0.05, ignored_exceptions=(JavascriptException,)).until(
        changed, f"nothing changed within {timeout}s after the key press on {driver.current_url}"
    )


@contextmanager
def new_page(driver, timeout: float = TIMEOUT):
    """Wait for a whole new document (a plain link or form without htmx)."""
    with page_change(driver, allow_swap=False, timeout=timeout):
        yield


def wait_until(driver, condition, message: str, timeout: float = TIMEOUT):
    return WebDriverWait(driver, timeout, poll_frequency=0.05).until(lambda d: condition(d), message)
