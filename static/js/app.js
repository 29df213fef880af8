/* Progressive enhancement for every layout: focus and announcements after htmx swaps,
   the error summary focused on load, print buttons. Nothing here is needed for a flow
   to work: every form also works as a plain GET or POST. No inline script, no eval. */
(function () {
  "use strict";

  var live = function () { return document.getElementById("live-region"); };

  function announce(text) {
    var region = live();
    if (!region || !text) { return; }
    region.textContent = "";
    // A fresh text node after a tick makes screen readers announce repeated messages.
    window.setTimeout(function () { region.textContent = text; }, 50);
  }

  function focusInto(root) {
    if (!root) { return; }
    var target = root.querySelector("[data-autofocus]") ||
      (root.matches && root.matches("[data-focus-on-swap]") ? root : root.querySelector("[data-focus-on-swap]")) ||
      root.querySelector("h1, h2, h3");
    if (!target) { target = root; }
    if (!target.hasAttribute("tabindex")) { target.setAttribute("tabindex", "-1"); }
    target.focus({ preventScroll: false });
    // Keep the focused element clear of anything fixed at the top (WCAG 2.4.11).
    if (target.scrollIntoView) { target.scrollIntoView({ block: "center" }); }
    return target;
  }

  function enablePrintButtons(root) {
    (root || document).querySelectorAll("[data-print]").forEach(function (button) {
      button.hidden = false;
      if (!button.dataset.printBound) {
        button.dataset.printBound = "1";
        button.addEventListener("click", function () { window.print(); });
      }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    enablePrintButtons(document);
    var summary = document.querySelector("main [data-autofocus]");
    if (summary) { summary.focus(); }
  });

  document.addEventListener("htmx:beforeRequest", function (event) {
    var target = event.detail.target;
    if (target) { target.setAttribute("aria-busy", "true"); }
  });

  // One response settles every element it swapped (out-of-band ones too), each firing
  // afterSettle with the same request details: act once per response.
  var lastSettled = null;

  document.addEventListener("htmx:afterSettle", function (event) {
    var target = event.detail.target;
    if (!target) { return; }
    if (event.detail.xhr) {
      if (event.detail.xhr === lastSettled) { return; }
      lastSettled = event.detail.xhr;
    }
    target.removeAttribute("aria-busy");
    // With outerHTML swaps the target was replaced: find its successor by id.
    var root = (target.id && document.getElementById(target.id)) || target;
    enablePrintButtons(root);
    var message = root.getAttribute("data-announce") ||
      (root.querySelector("[data-announce]") || { getAttribute: function () { return ""; } }).getAttribute("data-announce");
    // A part that updates while the resident fills in a form (data-keep-focus) leaves the
    // focus in the field they moved to; the update is announced instead. Elsewhere the focus
    // moves into the new content, which a screen reader then reads: the live region says
    // only what the focused element does not (announced once, issue 11).
    if (root.hasAttribute("data-keep-focus")) { announce(message); return; }
    var focused = focusInto(root);
    var said = focused ? (focused.textContent || "").replace(/\s+/g, " ") : "";
    if (focused && (focused.id === "error-summary" || said.indexOf(message) !== -1)) { return; }
    announce(message);
  });

  document.addEventListener("htmx:responseError", function (event) {
    if (event.detail.target) { event.detail.target.removeAttribute("aria-busy"); }
    announce(document.body.dataset.msgUpdateFailed);
  });

  document.addEventListener("htmx:sendError", function (event) {
    if (event.detail.target) { event.detail.target.removeAttribute("aria-busy"); }
    announce(document.body.dataset.msgConnectionFailed);
  });
})();
