// Accessibility fixes for the Django admin's own widgets (WCAG 4.1.2), loaded by templates/admin/base_site.html.
(function () {
  "use strict";
  var labelCount = 0;

  function text(element) {
    return element ? element.textContent.replace(/\s+/g, " ").replace(/:$/, "").trim() : "";
  }

  function header(cell) {
    // The text of the column header above a table cell (list_editable rows, tabular inlines).
    var table = cell && cell.closest("table");
    var head = table && table.querySelector("thead tr");
    if (!head) { return ""; }
    var index = Array.prototype.indexOf.call(cell.parentElement.children, cell);
    return text(head.children[index]);
  }

  function named(field) {
    if (field.getAttribute("aria-label") || field.getAttribute("aria-labelledby")) { return true; }
    var label = field.id && document.querySelector('label[for="' + field.id + '"]');
    if (label && text(label)) { return true; }
    return Boolean(field.closest("label") && text(field.closest("label")));
  }

  function labelId(label) {
    if (!label.id) { labelCount += 1; label.id = "iiz-admin-label-" + labelCount; }
    return label.id;
  }

  function fix() {
    // Fields without a name of their own: the column header (list_editable rows, tabular inlines), the label of
    // their form row (split date and time), or their title (the search bar).
    document.querySelectorAll("#content input, #content select, #content textarea").forEach(function (field) {
      if (field.type === "hidden" || named(field)) { return; }
      var row = field.closest(".form-row, .fieldBox");
      var own = field.id && document.querySelector('label[for="' + field.id + '"] img[alt]');
      var name = header(field.closest("td")) || text(row && row.querySelector("label")) || (own && own.alt) ||
        field.title || field.placeholder;
      if (name) { field.setAttribute("aria-label", name); }
    });
    // Select2 (autocomplete fields) draws a combobox of its own: it takes the label of the select it replaces.
    document.querySelectorAll("select.admin-autocomplete").forEach(function (select) {
      var label = select.id && document.querySelector('label[for="' + select.id + '"]');
      var container = select.nextElementSibling;
      if (!label || !container) { return; }
      container.querySelectorAll('[role="combobox"], [role="textbox"]').forEach(function (box) {
        box.setAttribute("aria-labelledby", labelId(label));
      });
    });
    // The filter widgets' search icons carry an aria-label without a role.
    document.querySelectorAll(".search-label-icon[aria-label]").forEach(function (icon) {
      icon.setAttribute("role", "img");
    });
  }

  // The admin's own scripts set up their widgets when the page is ready (jQuery runs that asynchronously).
  document.addEventListener("DOMContentLoaded", function () { fix(); window.setTimeout(fix, 0); });
  window.addEventListener("load", fix);
  document.addEventListener("formset:added", fix);
})();
