"""The four busiest screens at 360 px, photographed from a running site (bin/screenshots;
README "Phones"): 施設別空き状況, 予約内容の確認・取消, クレジット決済 選択 and 予約の取消 確認,
as 目黒団体 (40675) of the demo data, in headless Chromium, into docs/phone-*.png."""

from __future__ import annotations

import argparse
import base64
import sys
from pathlib import Path
from urllib.parse import urlencode

from tests.browser.chromium import Chromium, set_viewport_width
from tests.conftest import DEMO_PASSWORD

WIDTH = 360
MAX_HEIGHT = 1600  # a long list is cut here: the picture shows how it starts


def photograph(driver, url: str, target: Path) -> None:
    driver.get(url)
    height = min(driver.execute_script("return document.documentElement.scrollHeight"), MAX_HEIGHT)
    set_viewport_width(driver, WIDTH, height)
    shot = driver.execute_cdp_cmd("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": False})
    target.write_bytes(base64.b64decode(shot["data"]))
    set_viewport_width(driver, WIDTH)
    print(f"{target} ({WIDTH}×{height}px) ← {url}")


def log_in(driver, base: str) -> None:
    driver.get(f"{base}/login")
    driver.find_element("css selector", "input[name=registration_kind][value=assembly]").click()
    driver.find_element("id", "registration_number").send_keys("40675")
    driver.find_element("id", "password").send_keys(DEMO_PASSWORD)
    driver.find_element("css selector", "form[action$='/login'] button[type=submit]").click()
    if not driver.find_elements("css selector", ".resident-name"):
        sys.exit(f"could not log in as 40675 at {base}: is the demo running (bin/start)?")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--base-url", default="http://127.0.0.1:5000", help="the running site (bin/start's web)")
    parser.add_argument("--out", default=str(Path(__file__).resolve().parents[2] / "docs"), help="where the PNGs go")
    args = parser.parse_args(argv)
    base, out = args.base_url.rstrip("/"), Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    browser = Chromium()
    driver = browser.driver
    try:
        set_viewport_width(driver, WIDTH)
        log_in(driver, base)
        photograph(driver, f"{base}/availability?facility=039", out / "phone-availability.png")
        photograph(driver, f"{base}/mymenu/reservations", out / "phone-reservations.png")
        # A card-paid booking that can be cancelled: its 予約の取消 確認 shows the refund.
        paid = [box.get_attribute("value") for box in driver.find_elements("css selector", "input[data-card-paid]")]
        photograph(driver, f"{base}/payment/", out / "phone-payment.png")
        if paid:
            query = urlencode({"number": paid[0]})
            photograph(driver, f"{base}/cancel/confirm?{query}", out / "phone-cancel-confirm.png")
        else:
            print("no card-paid booking to cancel in the demo data: phone-cancel-confirm.png not taken")
    finally:
        browser.quit()


if __name__ == "__main__":
    main()
