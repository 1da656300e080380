// Progressive enhancement only: every page works without JavaScript.
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    // The language switch submits on change; its button stays for keyboard and no-script users.
    document.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
      var form = select.form;
      var fallback = form.querySelector("[data-autosubmit-fallback]");
      if (fallback) { fallback.classList.add("visually-hidden"); }
      select.addEventListener("change", function () { form.submit(); });
    });
    // Move focus to the error summary so screen reader users hear what to fix.
    var summary = document.querySelector(".error-summary");
    if (summary) { summary.focus(); }
  });
})();
