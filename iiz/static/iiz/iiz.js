// Progressive enhancement only: every page works without JavaScript.
(function () {
  "use strict";

  // ---------------------------------------------------------------------------------------------------
  // What a user typed survives a submit that failed because the platform was unavailable (503). Each POST
  // form's fields are kept in this tab's sessionStorage when it is submitted. The next page either is the
  // outage page, which marks the draft as failed, or any other page, which drops it (the submit worked,
  // or the server re-showed the form with the input). Back on the form after a failure, the fields are
  // filled in again and the draft is dropped. Passwords, files and the CSRF token are never kept.
  var DRAFT = "iiz-form-draft";
  var MAX_AGE_MS = 30 * 60 * 1000;

  function storage() {
    try { return window.sessionStorage; } catch (e) { return null; }
  }

  function keepable(field) {
    var type = (field.type || "").toLowerCase();
    return field.name && !field.disabled && type !== "password" && type !== "file" &&
      type !== "submit" && type !== "button" && field.name !== "csrfmiddlewaretoken";
  }

  function fieldsOf(form) {
    var fields = [];
    Array.prototype.forEach.call(form.elements, function (field) {
      if (!keepable(field)) { return; }
      var type = (field.type || "").toLowerCase();
      if (type === "checkbox" || type === "radio") {
        if (field.checked) { fields.push([field.name, field.value]); }
      } else if (field.tagName === "SELECT" && field.multiple) {
        Array.prototype.forEach.call(field.selectedOptions, function (option) { fields.push([field.name, option.value]); });
      } else {
        fields.push([field.name, field.value]);
      }
    });
    return fields;
  }

  function here() { return window.location.pathname + window.location.search; }

  function draftKeep(event) {
    var form = event.target;
    var store = storage();
    if (!store || !(form instanceof HTMLFormElement) || (form.getAttribute("method") || "").toLowerCase() !== "post") { return; }
    if (form.hasAttribute("data-no-draft")) { return; }
    try {
      store.setItem(DRAFT, JSON.stringify({
        path: here(), id: form.id || "", action: form.getAttribute("action") || "", fields: fieldsOf(form),
        failed: false, at: Date.now()
      }));
    } catch (e) { /* a full or disabled storage only loses the convenience */ }
  }

  function formOf(draft) {
    if (draft.id) { return document.getElementById(draft.id); }
    var match = null;
    Array.prototype.forEach.call(document.querySelectorAll("form[method=post], form[method=POST]"), function (form) {
      if (!match && (form.getAttribute("action") || "") === draft.action) { match = form; }
    });
    return match;
  }

  function fill(form, fields) {
    var values = {};
    fields.forEach(function (pair) { (values[pair[0]] = values[pair[0]] || []).push(pair[1]); });
    var seen = {};
    Array.prototype.forEach.call(form.elements, function (field) {
      if (!keepable(field) || !(field.name in values)) { return; }
      var list = values[field.name];
      var type = (field.type || "").toLowerCase();
      if (type === "checkbox" || type === "radio") {
        field.checked = list.indexOf(field.value) !== -1;
      } else if (field.tagName === "SELECT" && field.multiple) {
        Array.prototype.forEach.call(field.options, function (option) { option.selected = list.indexOf(option.value) !== -1; });
      } else {
        var index = seen[field.name] || 0;
        if (index < list.length) { field.value = list[index]; }
        seen[field.name] = index + 1;
      }
    });
  }

  function draftRestore() {
    var store = storage();
    var raw = store && store.getItem(DRAFT);
    if (!raw) { return; }
    var draft;
    try { draft = JSON.parse(raw); } catch (e) { store.removeItem(DRAFT); return; }
    if (document.querySelector("[data-submit-failed='1']")) {
      draft.failed = true;
      store.setItem(DRAFT, JSON.stringify(draft));
      return;
    }
    store.removeItem(DRAFT);
    if (!draft.failed || Date.now() - draft.at > MAX_AGE_MS || draft.path !== here()) { return; }
    var form = formOf(draft);
    if (!form) { return; }
    fill(form, draft.fields || []);
    var details = form.closest("details");
    if (details) { details.open = true; }
    var note = document.createElement("p");
    note.className = "message";
    note.setAttribute("role", "status");
    note.setAttribute("tabindex", "-1");
    note.textContent = document.body.getAttribute("data-draft-restored") || "";
    form.insertBefore(note, form.firstChild);
    note.focus();
  }

  // A request sent by htmx that fails (5xx, or no answer at all) swaps nothing: the form keeps the input,
  // and the user is told that nothing was saved.
  function requestFailed(event) {
    var source = event.detail && event.detail.elt;
    if (!source || !source.closest) { return; }
    var form = source.closest("form") || source;
    var note = form.previousElementSibling;
    if (!note || !note.hasAttribute("data-request-failed")) {
      note = document.createElement("p");
      note.className = "message message--error";
      note.setAttribute("role", "alert");
      note.setAttribute("data-request-failed", "");
      form.parentNode.insertBefore(note, form);
    }
    note.textContent = document.body.getAttribute("data-request-failed") || "";
  }

  document.addEventListener("submit", draftKeep, true);
  document.addEventListener("htmx:responseError", requestFailed);
  document.addEventListener("htmx:sendError", requestFailed);

  document.addEventListener("DOMContentLoaded", function () {
    // "Back to the form" on the outage page goes back in the history, where the form is.
    document.querySelectorAll("[data-history-back]").forEach(function (link) {
      link.addEventListener("click", function (event) {
        if (window.history.length > 1) { event.preventDefault(); window.history.back(); }
      });
    });
    draftRestore();
    // Move focus to the error summary so screen reader users hear what to fix.
    var summary = document.querySelector(".error-summary");
    if (summary) { summary.focus(); }
  });
  // A page shown again from the browser's back-forward cache runs no DOMContentLoaded.
  window.addEventListener("pageshow", function (event) { if (event.persisted) { draftRestore(); } });
})();
