// The approvals inbox's compact table: select all, and keys for deciding without a mouse.
// j / k move between rows, x selects the row, a approves it, r opens its reject reason.
(function () {
  "use strict";
  var table = document.getElementById("inbox-table");
  if (!table) return;

  var selectAll = document.getElementById("select-all");
  if (selectAll) {
    selectAll.addEventListener("change", function () {
      table.querySelectorAll("input.select-step").forEach(function (box) {
        box.checked = selectAll.checked;
      });
    });
  }

  function rows() { return Array.prototype.slice.call(table.querySelectorAll("tr.inbox-row")); }
  function current() {
    var focused = document.activeElement && document.activeElement.closest
      ? document.activeElement.closest("tr.inbox-row") : null;
    return table.querySelector("tr.inbox-row.is-current") || focused;
  }

  function focusRow(row) {
    if (!row) return;
    rows().forEach(function (r) { r.classList.remove("is-current"); });
    row.classList.add("is-current");
    row.focus({ preventScroll: false });
  }

  function move(by) {
    var all = rows();
    var at = all.indexOf(current());
    var next = all[Math.min(Math.max(at + by, 0), all.length - 1)];
    focusRow(next || all[0]);
  }

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    var tag = (event.target.tagName || "").toLowerCase();
    if (tag === "input" || tag === "textarea" || tag === "select") {
      if (event.key === "Escape") event.target.blur();
      return;
    }
    var row = current();
    if (event.key === "j") { move(1); event.preventDefault(); return; }
    if (event.key === "k") { move(-1); event.preventDefault(); return; }
    if (!row) return;
    if (event.key === "x") {
      var box = row.querySelector("input.select-step");
      if (box) box.checked = !box.checked;
      event.preventDefault();
    } else if (event.key === "a") {
      var approve = row.querySelector("button.btn-approve");
      if (approve) approve.click();
      event.preventDefault();
    } else if (event.key === "r") {
      var panel = row.querySelector("details.reject-panel");
      if (panel) {
        panel.open = true;
        var reason = panel.querySelector("textarea");
        // Focusable once the opened panel has been laid out.
        if (reason) window.setTimeout(function () { reason.focus(); }, 0);
      }
      event.preventDefault();
    }
  });

  // After an in-place decision htmx replaces the row: keep it current, so j moves on (once
  // htmx has settled the new row's attributes) — unless the person already moved to another
  // row while the decision was on its way (keys are faster than the round trip).
  document.body.addEventListener("htmx:afterSettle", function (event) {
    var swapped = event.detail && event.detail.target;
    if (table.querySelector("tr.inbox-row.is-current")) return;
    if (swapped && swapped.id) {
      var row = document.getElementById(swapped.id);
      if (row && row.classList.contains("inbox-row")) focusRow(row);
    }
  });
})();
