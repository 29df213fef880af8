/* 予約内容の確認・取消 with JavaScript: the guide's two confirmations for card-paid bookings
   (確認, then メッセージ) as modal dialogs instead of pages. The focus moves into each
   dialog (on いいえ, the safe answer) and back to 次へ進む when it closes (いいえ or Esc); after both はい the browser
   goes to 予約の取消 確認 with the ticked bookings. Without JavaScript, or without <dialog>,
   the form's own GET leads through the same words on pages of their own. */
(function () {
  "use strict";
  if (window.cancelDialogsBound) { return; }
  window.cancelDialogsBound = true;

  function ask(dialog, opener, onYes) {
    var proceeding = false;
    var yes = dialog.querySelector("[data-dialog-yes]");
    var no = dialog.querySelector("[data-dialog-no]");
    yes.onclick = function () { proceeding = true; dialog.close(); onYes(); };
    if (no) { no.onclick = function () { dialog.close(); }; }
    dialog.onclose = function () {
      if (!proceeding && opener && opener.focus) { opener.focus(); }
    };
    dialog.showModal();
    // A destructive step starts on いいえ where there is one (issue 11); はい is one
    // Shift+Tab away.
    (no || yes).focus();
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.matches || !form.matches("#cancel-select-form")) { return; }
    if (!form.querySelector("input[name='number'][data-card-paid]:checked")) { return; }
    var first = document.getElementById("cancel-dialog-card-paid");
    var second = document.getElementById("cancel-dialog-refund-note");
    if (!first || !second || typeof first.showModal !== "function") { return; }
    event.preventDefault();
    var opener = event.submitter || document.activeElement;
    ask(first, opener, function () {
      ask(second, opener, function () {
        var url = new URL(form.dataset.confirmAction, window.location.href);
        form.querySelectorAll("input[name='number']:checked").forEach(function (box) {
          url.searchParams.append("number", box.value);
        });
        window.location.assign(url.toString());
      });
    });
  });
})();
