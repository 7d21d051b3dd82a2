// Behaviour every page shares. A static file, not an inline script: the Content-Security-Policy
// allows scripts from this site only (docs/security, SECURITY.md).
(function () {
  "use strict";
  // An htmx request the server could not answer with a row: say so instead of doing nothing.
  document.addEventListener("htmx:responseError", function () {
    var box = document.getElementById("messages");
    if (!box) { return; }
    var flash = document.createElement("p");
    flash.className = "flash flash-error";
    flash.setAttribute("role", "alert");
    // The text comes with the page, in the reader's language (templates/partials/messages.html).
    flash.textContent = box.dataset.errorText || "That did not work. Reload the page and try again.";
    box.replaceChildren(flash);
  });

  // The navigation: below 768 px, and wherever this person's links do not fit on one row
  // beside the brand and the search, the Menu button opens and closes the panel of links
  // (the stylesheet folds the panel only once this has run, so without it the links stay
  // shown). Measured as the page loads, again when the window is resized and when htmx
  // swaps the links (their counts change).
  var nav = document.querySelector(".site-header nav");
  var toggle = nav && nav.querySelector(".nav-toggle");
  var panel = toggle && document.getElementById(toggle.getAttribute("aria-controls"));
  if (panel) {
    var wide = window.matchMedia("(min-width: 768px)");
    var setOpen = function (open) {
      nav.classList.toggle("nav-open", open);
      toggle.setAttribute("aria-expanded", open ? "true" : "false");
    };
    // One row: every item of the unfolded bar is centred on the same line, none sticks out
    // of the window.
    var fitsOneRow = function () {
      var items = nav.querySelectorAll(":scope > ul > li, #nav-panel > ul > li");
      var right = document.documentElement.clientWidth + 1;
      var centre = null;
      for (var i = 0; i < items.length; i++) {
        if (items[i].offsetParent === null) { continue; }
        var box = items[i].getBoundingClientRect();
        var middle = box.top + box.height / 2;
        if (centre === null) { centre = middle; }
        if (Math.abs(middle - centre) > 4 || box.right > right) { return false; }
      }
      return true;
    };
    var fit = function () {
      var folded = nav.classList.contains("nav-compact");
      // Unfolded only to be measured: the browser paints after this function, not in between.
      nav.classList.remove("nav-compact");
      var fold = !wide.matches || !fitsOneRow();
      nav.classList.toggle("nav-compact", fold);
      if (fold && !folded) { setOpen(false); }
    };
    var pending = false;
    var refit = function () {
      if (pending) { return; }
      pending = true;
      window.requestAnimationFrame(function () { pending = false; fit(); });
    };
    nav.classList.add("nav-collapsible");
    fit();
    window.addEventListener("resize", refit);
    document.addEventListener("htmx:afterSettle", refit);
    if (document.fonts && document.fonts.ready) { document.fonts.ready.then(refit); }
    toggle.addEventListener("click", function () {
      setOpen(toggle.getAttribute("aria-expanded") !== "true");
    });
    // Escape closes the open menu and puts the focus back on its button.
    nav.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && nav.classList.contains("nav-open") && toggle.offsetParent) {
        setOpen(false);
        toggle.focus();
      }
    });
  }
})();
