"""The card page in real headless Chromium: keyboard only, with JavaScript on and off,
axe-core clean, the live warning before the end time, 320 px without sideways scrolling,
and the strict CSP letting the form's redirect reach the merchant."""

from __future__ import annotations

import shutil
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from werkzeug.serving import make_server

from tests.standin.conftest import Merchant

pytestmark = pytest.mark.browser

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
CHROMEDRIVER = shutil.which("chromedriver")
# A missing browser must fail the run, never skip it (bin/test installs all three).
assert CHROMIUM and CHROMEDRIVER and AXE.exists(), "Chromium, chromedriver and node_modules/axe-core are needed"

from selenium import webdriver  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402


def real_now() -> datetime:
    return datetime.now(UTC)


@pytest.fixture
def served(make_standin, receiver):
    """The provider served over HTTP on a free port, on the real clock; the receiver's
    server stands in for the merchant's return page."""
    app = make_standin(CLOCK=real_now, PAYMENT_WARNING_SECONDS=3)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_port}"
    merchant = Merchant(app, real_now, receiver.url)
    return_url = receiver.url.replace("/payments/notify", "/payments/return")

    def new_session(**overrides) -> str:
        session = merchant.create_session(return_url=return_url, **overrides)
        return base + urlsplit(session["payment_url"]).path + ("?lang=en" if overrides.get("locale") == "en" else "")

    yield new_session, merchant
    server.shutdown()
    thread.join(5)


def make_driver(javascript: bool):
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--window-size=1024,900",
    ):
        options.add_argument(argument)
    if not javascript:
        options.add_experimental_option("prefs", {"profile.managed_default_content_settings.javascript": 2})
    return webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)


@pytest.fixture(params=[True, False], ids=["js", "no-js"])
def driver(request):
    chrome = make_driver(javascript=request.param)
    chrome.javascript = request.param
    yield chrome
    chrome.quit()


@pytest.fixture
def js_driver():
    chrome = make_driver(javascript=True)
    yield chrome
    chrome.quit()


def axe_violations(chrome) -> list:
    """Run axe-core from node_modules (WCAG 2.0–2.2, A and AA) on the current page."""
    chrome.execute_script(AXE.read_text())
    result = chrome.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a','wcag2aa','wcag21a','wcag21aa','wcag22aa']}})"
        ".then(r => done(r.violations.map(v => v.id + ': ' + v.nodes.map(n => n.target.join(' ')).join(', '))));"
    )
    return result


def tab_to(chrome, element_id: str, limit: int = 40):
    """Press Tab until the element has focus, as a keyboard user would."""
    for _ in range(limit):
        if chrome.switch_to.active_element.get_attribute("id") == element_id:
            return chrome.switch_to.active_element
        chrome.switch_to.active_element.send_keys(Keys.TAB)
    raise AssertionError(f"Tab never reached #{element_id}")


def start_keyboard(chrome):
    chrome.find_element(By.TAG_NAME, "body").send_keys(Keys.TAB)


def test_keyboard_only_payment(served, driver, receiver):
    new_session, merchant = served
    driver.get(new_session(amount_yen=700))
    assert "お支払い金額 700円" in driver.find_element(By.TAG_NAME, "main").text.replace("\n", " ")
    start_keyboard(driver)
    tab_to(driver, "card_number").send_keys("4111 1111 1111 1111")
    tab_to(driver, "expiry_month").send_keys("12")
    tab_to(driver, "expiry_year").send_keys("2030")
    code = tab_to(driver, "security_code")
    code.send_keys("123")
    code.send_keys(Keys.ENTER)  # implicit submission: お支払い is the form's default button
    WebDriverWait(driver, 10).until(lambda d: "/payments/return" in d.current_url)
    query = urlsplit(driver.current_url).query
    assert query.startswith("session_id=cs_") and "&" not in query
    assert merchant.status(query.split("=", 1)[1])["status"] == "captured"


def test_errors_are_summarised_and_the_summary_is_focused(served, driver):
    new_session, merchant = served
    driver.get(new_session())
    start_keyboard(driver)
    tab_to(driver, "card_number").send_keys("4111111111111112")
    button = driver.find_element(By.XPATH, "//button[normalize-space()='お支払い']")
    button.send_keys(Keys.ENTER)
    WebDriverWait(driver, 10).until(lambda d: d.title.startswith("エラー: "))
    summary = driver.find_element(By.ID, "error-summary")
    assert "クレジットカード番号が正しくありません。" in summary.text
    if driver.javascript:
        assert driver.switch_to.active_element.get_attribute("id") == "error-summary"
    # The summary's link takes keyboard focus to the field.
    summary.find_element(By.LINK_TEXT, summary.find_element(By.CSS_SELECTOR, "a[href='#card_number']").text).send_keys(
        Keys.ENTER
    )
    assert urlsplit(driver.current_url).fragment == "card_number"


def test_cancel_by_keyboard(served, driver):
    new_session, merchant = served
    driver.get(new_session())
    start_keyboard(driver)
    for _ in range(40):
        if driver.switch_to.active_element.text == "決済を中止する":
            break
        driver.switch_to.active_element.send_keys(Keys.TAB)
    driver.switch_to.active_element.send_keys(Keys.ENTER)
    WebDriverWait(driver, 10).until(lambda d: "/payments/return" in d.current_url)
    session_id = urlsplit(driver.current_url).query.split("=", 1)[1]
    assert merchant.status(session_id)["status"] == "cancelled"


def test_extend_by_keyboard(served, driver):
    new_session, merchant = served
    driver.get(new_session())
    start_keyboard(driver)
    for _ in range(40):
        if driver.switch_to.active_element.text == "延長":
            break
        driver.switch_to.active_element.send_keys(Keys.TAB)
    driver.switch_to.active_element.send_keys(Keys.ENTER)
    WebDriverWait(driver, 10).until(lambda d: "extended=1" in d.current_url)
    assert "に延長しました。" in driver.find_element(By.CSS_SELECTOR, ".notice").text
    assert "あと9回延長できます" in driver.find_element(By.ID, "extend-hint").text


@pytest.mark.parametrize("locale", ["ja", "en"])
def test_axe_clean(served, js_driver, locale):
    new_session, _ = served
    js_driver.get(new_session(locale=locale))
    assert axe_violations(js_driver) == []
    js_driver.find_element(By.CSS_SELECTOR, ".card-form button[type=submit]").click()  # everything empty
    WebDriverWait(js_driver, 10).until(lambda d: "error-summary" in d.page_source)
    assert axe_violations(js_driver) == []


def test_live_warning_before_the_end_time_then_expiry(served, js_driver):
    new_session, merchant = served
    js_driver.get(new_session(expires_in_seconds=6))  # the warning comes 3 s before the end
    alert = js_driver.find_element(By.ID, "time-alert")
    assert alert.get_attribute("role") == "alert" and alert.text == ""
    WebDriverWait(js_driver, 10).until(lambda d: "まもなく終了時刻" in alert.text)
    WebDriverWait(js_driver, 10).until(lambda d: "決済は行われていません" in alert.text)
    # Paying now is refused: back to the merchant, nothing charged.
    js_driver.find_element(By.ID, "card_number").send_keys("4111111111111111")
    js_driver.find_element(By.CSS_SELECTOR, ".card-form button[type=submit]").click()
    WebDriverWait(js_driver, 10).until(lambda d: "/payments/return" in d.current_url)
    assert merchant.ledger()["charges"] == []


def test_no_sideways_scrolling_at_320_px(served, js_driver):
    new_session, _ = served
    js_driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride", {"width": 320, "height": 800, "deviceScaleFactor": 1, "mobile": True}
    )
    for locale in ("ja", "en"):
        js_driver.get(new_session(locale=locale))
        time.sleep(0.2)
        assert js_driver.execute_script("return document.documentElement.scrollWidth") <= 320
