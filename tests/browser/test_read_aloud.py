"""読み上げ in reader mode (issue 5), in a real browser. Headless Chromium has the speech API
but no voices, so a stand-in speechSynthesis (with a Japanese and an English voice) is
injected before any page script through the DevTools protocol
(Page.addScriptToEvaluateOnNewDocument); it records every call. By keyboard alone: nothing is
spoken until 本文を読み上げる is pressed, then the main content is spoken in a ja-JP voice
(en on an English page), and 一時停止 / 再開 / 停止 pause, resume and cancel it. Without
speechSynthesis the controls stay hidden."""

from __future__ import annotations

import pytest

from tests.browser.accessibility import axe_check
from tests.browser.keyboard import matching_css, named, press_enter, press_space, tab_to
from tests.browser.navigation import wait_until
from tests.browser.steps import open_page, switch_language_by_keyboard, toggle_reader_mode_by_keyboard
from tests.browser.target_size import assert_targets_at_least

STAND_IN = """
(() => {
  const calls = [];
  const voices = [
    {name: "Stand-in English", lang: "en-US", default: true, localService: true, voiceURI: "stand-in-en"},
    {name: "Stand-in 日本語", lang: "ja-JP", default: false, localService: true, voiceURI: "stand-in-ja"},
  ];
  let queue = [];
  const synth = {
    speaking: false, paused: false, pending: false, onvoiceschanged: null,
    getVoices() { return voices.slice(); },
    speak(u) {
      calls.push({method: "speak", text: u.text, lang: u.lang, voice: u.voice ? u.voice.name : null});
      queue.push(u); this.speaking = true;
    },
    pause() { calls.push({method: "pause"}); this.paused = true; },
    resume() { calls.push({method: "resume"}); this.paused = false; },
    cancel() {
      calls.push({method: "cancel"});
      const dropped = queue; queue = []; this.speaking = false; this.paused = false;
      dropped.forEach(u => u.onerror && u.onerror({error: "canceled"}));
    },
    addEventListener() {}, removeEventListener() {},
  };
  function Utterance(text) { this.text = text; this.lang = ""; this.voice = null; this.rate = 1; this.pitch = 1; this.volume = 1; }
  Object.defineProperty(window, "speechSynthesis", {value: synth, configurable: true});
  Object.defineProperty(window, "SpeechSynthesisUtterance", {value: Utterance, configurable: true});
  window.__speech = {
    calls,
    finish() { const done = queue; queue = []; synth.speaking = false; done.forEach(u => u.onend && u.onend({})); },
  };
})();
"""

WITHOUT_SPEECH = """
Object.defineProperty(window, "speechSynthesis", {value: undefined, configurable: true});
Object.defineProperty(window, "SpeechSynthesisUtterance", {value: undefined, configurable: true});
"""

START = named("本文を読み上げる", tag="button")


def _inject(driver, source: str):
    identifier = driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": source})["identifier"]
    try:
        yield driver
    finally:
        driver.execute_cdp_cmd("Page.removeScriptToEvaluateOnNewDocument", {"identifier": identifier})


@pytest.fixture
def speaking_browser(browser):
    yield from _inject(browser, STAND_IN)


@pytest.fixture
def mute_browser(browser):
    yield from _inject(browser, WITHOUT_SPEECH)


def calls(driver, method: str | None = None) -> list[dict]:
    recorded = driver.execute_script("return window.__speech.calls")
    return [c for c in recorded if method is None or c["method"] == method]


def status(driver) -> str:
    return driver.find_element("css selector", "[data-read-aloud='status']").text


def reader_page(driver, server, path: str = "/guide") -> None:
    open_page(driver, server, "/")
    toggle_reader_mode_by_keyboard(driver)
    open_page(driver, server, path)
    assert "presentation-reader" in driver.find_element("css selector", "html").get_attribute("class")


def test_read_aloud_by_keyboard_speaks_pauses_resumes_and_stops(speaking_browser, live_server):
    driver = speaking_browser
    reader_page(driver, live_server)
    panel = driver.find_element("css selector", "#read-aloud")
    assert panel.is_displayed()
    assert calls(driver) == [], "something was spoken before anyone asked"

    tab_to(driver, START)
    press_enter(driver)
    wait_until(driver, lambda d: calls(d, "speak"), "本文を読み上げる spoke nothing")
    spoken = calls(driver, "speak")
    assert {c["lang"] for c in spoken} == {"ja-JP"} and {c["voice"] for c in spoken} == {"Stand-in 日本語"}
    text = " ".join(c["text"] for c in spoken)
    heading = driver.find_element("css selector", "main h1").text
    assert text.startswith(heading), f"the main content should be read from its heading: {text[:80]!r}"
    main_text = driver.find_element("css selector", "main").text
    last_line = [line for line in main_text.splitlines() if line.strip()][-1]
    assert last_line.split()[-1] in text, "the main content was not read to its end"
    for outside in ("本文へ移動", "お問い合わせ: コールセンター", "本文を読み上げる", "ヘッダーメニュー"):
        assert outside not in text, f"{outside!r} is not main content"
    assert all(len(c["text"]) <= 160 for c in spoken)
    assert status(driver) == "本文を読み上げています。"

    pause = tab_to(driver, named("一時停止", tag="button"))
    assert pause.get_attribute("aria-disabled") == "false"
    press_space(driver)
    assert len(calls(driver, "pause")) == 1 and status(driver) == "読み上げを一時停止しています。"
    assert driver.switch_to.active_element.accessible_name == "再開", (
        "the focus should stay on the same button, now 再開"
    )
    press_enter(driver)
    assert len(calls(driver, "resume")) == 1 and status(driver) == "本文を読み上げています。"
    assert driver.switch_to.active_element.accessible_name == "一時停止"

    tab_to(driver, named("停止", tag="button"))
    press_enter(driver)
    assert len(calls(driver, "cancel")) == 1 and status(driver) == "読み上げを停止しました。"
    assert pause.get_attribute("aria-disabled") == "true"
    # A disabled 一時停止 does nothing.
    tab_to(driver, named("一時停止", tag="button"), backwards=True)
    press_space(driver)
    assert len(calls(driver, "pause")) == 1


def test_read_aloud_says_when_it_has_finished(speaking_browser, live_server):
    driver = speaking_browser
    reader_page(driver, live_server, "/faq")
    tab_to(driver, START)
    press_enter(driver)
    wait_until(driver, lambda d: calls(d, "speak"), "nothing was spoken")
    driver.execute_script("window.__speech.finish()")
    assert status(driver) == "読み上げが終わりました。"
    assert driver.find_element("css selector", "[data-read-aloud='pause']").get_attribute("aria-disabled") == "true"


def test_an_english_page_is_read_in_an_english_voice(speaking_browser, live_server):
    driver = speaking_browser
    reader_page(driver, live_server)
    switch_language_by_keyboard(driver, "en")
    tab_to(driver, matching_css("[data-read-aloud='start']"))
    press_enter(driver)
    wait_until(driver, lambda d: calls(d, "speak"), "nothing was spoken")
    spoken = calls(driver, "speak")
    assert {c["lang"] for c in spoken} == {"en-US"} and {c["voice"] for c in spoken} == {"Stand-in English"}


def test_the_read_aloud_controls_are_axe_clean_and_large_enough(speaking_browser, live_server):
    driver = speaking_browser
    reader_page(driver, live_server, "/availability?facility=013")
    tab_to(driver, START)
    press_enter(driver)
    wait_until(driver, lambda d: calls(d, "speak"), "nothing was spoken")
    axe_check(driver, "reader mode with the read-aloud controls speaking")
    assert_targets_at_least(driver, 44, "reader mode with the read-aloud controls")


def test_without_speech_synthesis_the_controls_stay_hidden(mute_browser, live_server):
    driver = mute_browser
    reader_page(driver, live_server)
    assert driver.find_elements("css selector", "#read-aloud"), "the controls should come from the server"
    assert not driver.find_element("css selector", "#read-aloud").is_displayed()
    assert not [b for b in driver.find_elements("css selector", "#read-aloud button") if b.is_displayed()]


def test_the_normal_presentation_has_no_read_aloud(speaking_browser, live_server):
    open_page(speaking_browser, live_server, "/guide")
    assert not speaking_browser.find_elements("css selector", "#read-aloud")
    assert calls(speaking_browser) == []
