/* Progressive enhancement of the card page; nothing here is needed to pay. It focuses the
   error summary on load and, before the end time, puts a warning into the page's alert
   region (the end time itself is always visible without JavaScript). */
(function () {
  "use strict";

  function startTimeLimit(section) {
    var alertRegion = document.getElementById("time-alert");
    var expiresAt = Date.parse(section.dataset.expiresAt);
    var serverNow = Date.parse(section.dataset.serverNow);
    var warningMs = Number(section.dataset.warningSeconds) * 1000;
    if (!alertRegion || isNaN(expiresAt) || isNaN(serverNow)) { return; }
    // Count on the server's clock: the browser's clock may be set differently.
    var skew = serverNow - Date.now();
    var warned = Boolean(document.getElementById("time-warning"));
    var expired = false;

    function say(text) {
      alertRegion.textContent = "";
      window.setTimeout(function () { alertRegion.textContent = text; }, 50);
    }

    function check() {
      var left = expiresAt - (Date.now() + skew);
      if (!expired && left <= 0) {
        expired = true;
        say(section.dataset.msgExpired);
        window.clearInterval(timer);
      } else if (!warned && left <= warningMs) {
        warned = true;
        say(section.dataset.msgWarning);
      }
    }

    // A short interval rather than one long timeout: sleeping tabs delay timeouts.
    var timer = window.setInterval(check, 1000);
    check();
  }

  document.addEventListener("DOMContentLoaded", function () {
    var summary = document.querySelector("[data-autofocus]");
    if (summary) { summary.focus(); }
    var section = document.getElementById("time-limit");
    if (section) { startTimeLimit(section); }
  });
})();
