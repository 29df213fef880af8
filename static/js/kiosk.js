/* Shared-terminal safety on a kiosk (issue 5). After data-warn-seconds without input a modal
   dialog warns and offers 延長; at data-reset-seconds the server session is destroyed (POST
   /kiosk/reset) and the browser goes to the top page with location.replace. While someone
   uses the page, a trailing keep-alive tells the server, whose own idle clock (it works
   without JavaScript too) therefore never runs out before this one. A page restored from
   the back/forward cache is loaded again, so Back never shows what the last person saw.
   No inline script, no eval; every label comes from the server's markup. */
(function () {
  "use strict";

  var dialog = document.getElementById("kiosk-idle");
  if (!dialog) { return; }
  var extendForm = dialog.querySelector("form[data-idle-extend]");
  var resetForm = dialog.querySelector("form[data-idle-reset]");
  var remaining = dialog.querySelector("[data-idle-remaining]");

  function seconds(value, fallback) {
    var number = parseFloat(value);
    return isFinite(number) && number > 0 ? number : fallback;
  }

  var warnMs = seconds(dialog.dataset.warnSeconds, 90) * 1000;
  var resetMs = seconds(dialog.dataset.resetSeconds, 120) * 1000;
  var keepaliveMs = seconds(dialog.dataset.keepaliveSeconds, 10) * 1000;
  var topUrl = dialog.dataset.topUrl || "/";

  // The clock starts when this page was requested: the server's started no earlier.
  var origin = (window.performance && performance.timeOrigin) ? Math.floor(performance.timeOrigin) : Date.now();
  var lastInput = origin;
  var lastContact = origin;
  var keepaliveTimer = null;
  var returnFocus = null;
  var resetting = false;

  function post(form) {
    return window.fetch(form.action, {
      method: "POST",
      body: new FormData(form),
      credentials: "same-origin",
      headers: { "X-Kiosk-Script": "1" },
      redirect: "manual"
    });
  }

  function goToTop() {
    window.location.replace(topUrl);
  }

  function resetNow() {
    if (resetting) { return; }
    resetting = true;
    window.clearInterval(ticker);
    // Go even if the server does not answer: it ends the idle session by itself.
    var fallback = window.setTimeout(goToTop, 3000);
    post(resetForm).catch(function () {}).then(function () {
      window.clearTimeout(fallback);
      goToTop();
    });
  }

  function keepAlive() {
    if (keepaliveTimer || resetting) { return; }
    var wait = Math.max(0, keepaliveMs - (Date.now() - lastContact));
    keepaliveTimer = window.setTimeout(function () {
      keepaliveTimer = null;
      if (resetting) { return; }
      lastContact = Date.now();
      post(extendForm).catch(function () {});
    }, wait);
  }

  function openWarning() {
    returnFocus = document.activeElement;
    if (typeof dialog.showModal === "function") {
      dialog.showModal();
    } else {
      dialog.setAttribute("open", "");
    }
    var button = extendForm.querySelector("button");
    if (button) { button.focus(); }
  }

  function closeWarning() {
    if (dialog.open) {
      if (typeof dialog.close === "function") { dialog.close(); } else { dialog.removeAttribute("open"); }
    }
    if (returnFocus && returnFocus !== document.body && document.contains(returnFocus) && returnFocus.focus) {
      returnFocus.focus();
    }
    returnFocus = null;
  }

  function extend() {
    if (resetting) { return; }
    lastInput = Date.now();
    lastContact = lastInput;
    closeWarning();
    post(extendForm).then(function (response) {
      // Anything but 204: the server had already ended the session.
      if (response.status !== 204) { resetNow(); }
    }).catch(function () {});
  }

  function showRemaining(idleMs) {
    if (!remaining) { return; }
    var left = String(Math.max(0, Math.ceil((resetMs - idleMs) / 1000)));
    if (remaining.textContent !== left) { remaining.textContent = left; }
  }

  function tick() {
    if (resetting) { return; }
    var idle = Date.now() - lastInput;
    if (idle >= resetMs) {
      resetNow();
    } else if (idle >= warnMs) {
      if (!dialog.open) { openWarning(); }
      showRemaining(idle);
    }
  }

  function input() {
    // While the warning is open only its own answer (延長, Esc) counts.
    if (resetting || dialog.open) { return; }
    lastInput = Date.now();
    keepAlive();
  }

  ["pointerdown", "keydown", "input", "wheel", "touchstart", "scroll"].forEach(function (name) {
    document.addEventListener(name, input, { capture: true, passive: true });
  });
  document.addEventListener("htmx:beforeRequest", function () { lastContact = Date.now(); });

  extendForm.addEventListener("submit", function (event) { event.preventDefault(); extend(); });
  resetForm.addEventListener("submit", function (event) { event.preventDefault(); resetNow(); });
  dialog.addEventListener("cancel", function (event) { event.preventDefault(); extend(); });

  window.addEventListener("pageshow", function (event) {
    if (event.persisted) { window.location.reload(); }
  });

  var ticker = window.setInterval(tick, 250);
})();
