/* 読み上げ in reader mode (issue 5): read the main content aloud with the browser's speech
   synthesis, in a ja-JP voice on a Japanese page (an English one on an English page) where
   there is one. The controls come from the server hidden and are shown only where
   speechSynthesis exists; nothing is spoken until the resident presses 本文を読み上げる.
   一時停止/再開 is one button whose label changes, so the focus stays on it. */
(function () {
  "use strict";

  var panel = document.getElementById("read-aloud");
  var main = document.getElementById("main");
  var synth = window.speechSynthesis;
  var Utterance = window.SpeechSynthesisUtterance;
  if (!panel || !main || !synth || typeof Utterance !== "function") { return; }

  var startButton = panel.querySelector("[data-read-aloud='start']");
  var pauseButton = panel.querySelector("[data-read-aloud='pause']");
  var stopButton = panel.querySelector("[data-read-aloud='stop']");
  var status = panel.querySelector("[data-read-aloud='status']");
  var labels = panel.dataset;
  var MAX_CHUNK = 160;  // long utterances stall in some engines: speak sentence by sentence

  var state = "idle";  // idle, speaking, paused
  var run = 0;         // utterances of an earlier run must not change the state of this one

  function setState(next, message) {
    state = next;
    pauseButton.setAttribute("aria-disabled", next === "idle" ? "true" : "false");
    stopButton.setAttribute("aria-disabled", next === "idle" ? "true" : "false");
    pauseButton.textContent = next === "paused" ? labels.labelResume : labels.labelPause;
    if (message !== undefined) { status.textContent = message; }
  }

  function pageLanguage() {
    return (document.documentElement.lang || "ja").toLowerCase().split("-")[0];
  }

  function chooseVoice(language) {
    var voices = synth.getVoices ? (synth.getVoices() || []) : [];
    var wanted = language === "ja" ? "ja-jp" : "en-gb";
    var exact = null;
    var close = null;
    for (var i = 0; i < voices.length; i++) {
      var lang = String(voices[i].lang || "").toLowerCase().replace("_", "-");
      if (lang === wanted && !exact) { exact = voices[i]; }
      if (lang.split("-")[0] === language && !close) { close = voices[i]; }
    }
    return exact || close;
  }

  function splitLong(line) {
    if (line.length <= MAX_CHUNK) { return [line]; }
    var parts = line.match(/[^。．！？!?]+[。．！？!?]*|[。．！？!?]+/g) || [line];
    var chunks = [];
    var current = "";
    parts.forEach(function (part) {
      if ((current + part).length > MAX_CHUNK && current) {
        chunks.push(current);
        current = "";
      }
      current += part;
    });
    if (current) { chunks.push(current); }
    return chunks;
  }

  function mainText() {
    // What is on the screen in <main>, in reading order, without these controls.
    var lines = [];
    Array.prototype.forEach.call(main.children, function (child) {
      if (child === panel || child.hidden) { return; }
      (child.innerText || "").split(/\n+/).forEach(function (line) {
        line = line.replace(/\s+/g, " ").trim();
        if (line) { lines.push.apply(lines, splitLong(line)); }
      });
    });
    return lines;
  }

  function start() {
    var lines = mainText();
    if (!lines.length) { return; }
    if (state !== "idle" || synth.speaking || synth.pending) { synth.cancel(); }
    run += 1;
    var thisRun = run;
    var language = pageLanguage();
    var voice = chooseVoice(language);
    var lang = voice ? String(voice.lang).replace("_", "-") : (language === "ja" ? "ja-JP" : "en-GB");
    lines.forEach(function (line, index) {
      var utterance = new Utterance(line);
      utterance.lang = lang;
      if (voice) {
        try { utterance.voice = voice; } catch (error) { /* a voice from another engine */ }
      }
      if (index === lines.length - 1) {
        utterance.onend = function () {
          if (thisRun === run && state !== "idle") { setState("idle", labels.statusFinished); }
        };
      }
      utterance.onerror = function (event) {
        if (thisRun !== run || state === "idle") { return; }
        // cancel() ends queued utterances with "interrupted"/"canceled": not a failure.
        var reason = event && event.error;
        if (reason === "interrupted" || reason === "canceled") { return; }
        run += 1;
        synth.cancel();
        setState("idle", labels.statusFailed);
      };
      synth.speak(utterance);
    });
    setState("speaking", labels.statusSpeaking);
  }

  function togglePause() {
    if (state === "speaking") {
      synth.pause();
      setState("paused", labels.statusPaused);
    } else if (state === "paused") {
      synth.resume();
      setState("speaking", labels.statusSpeaking);
    }
  }

  function stop() {
    if (state === "idle") { return; }
    run += 1;
    synth.cancel();
    setState("idle", labels.statusStopped);
  }

  startButton.addEventListener("click", start);
  pauseButton.addEventListener("click", togglePause);
  stopButton.addEventListener("click", stop);
  // Leaving the page ends what it was saying (the next page does not inherit it).
  window.addEventListener("pagehide", function () {
    if (state !== "idle") { run += 1; synth.cancel(); }
  });

  setState("idle");
  panel.hidden = false;
})();
