// allot console behaviour. No inline scripts (the Content-Security-Policy
// forbids them), no build step: plain DOM code loaded after htmx.
(function () {
  "use strict";

  // Tenant switcher: choosing a tenant opens its dashboard.
  document.addEventListener("change", function (e) {
    var t = e.target;
    if (t.id === "tenant-switch") {
      window.location.href = t.value;
    } else if (t.hasAttribute("data-autosubmit")) {
      t.form.submit();
    } else if (t.hasAttribute("data-select-all")) {
      var name = t.getAttribute("data-select-all");
      t.closest("form").querySelectorAll('input[type=checkbox][name="' + name + '"]').forEach(function (c) {
        c.checked = t.checked;
      });
    }
  });

  // Forms with data-confirm ask before submitting (deletes, applying plans).
  document.addEventListener("submit", function (e) {
    var msg = e.target.getAttribute("data-confirm");
    if (msg && !window.confirm(msg)) {
      e.preventDefault();
    }
  });

  // Keyboard: "/" focuses the page's search box; Alt+key (accesskey) moves
  // between sections.
  document.addEventListener("keydown", function (e) {
    if (e.key !== "/" || e.ctrlKey || e.metaKey || e.altKey) return;
    var tag = (document.activeElement && document.activeElement.tagName) || "";
    if (tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT") return;
    var box = document.querySelector("[data-search]");
    if (box) {
      e.preventDefault();
      box.focus();
      box.select();
    }
  });
})();
