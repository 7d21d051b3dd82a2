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
    flash.textContent = "That did not work. Reload the page and try again.";
    box.replaceChildren(flash);
  });

  // The navigation below 768 px: the Menu button opens and closes the panel of links (the
  // stylesheet hides the panel only once this has run, so without it the links stay shown).
  var nav = document.querySelector(".site-header nav");
  var toggle = nav && nav.querySelector(".nav-toggle");
  var panel = toggle && document.getElementById(toggle.getAttribute("aria-controls"));
  if (panel) {
    var setOpen = function (open) {
      nav.classList.toggle("nav-open", open);
      toggle.setAttribute("aria-expanded", open ? "true" : "false");
    };
    nav.classList.add("nav-collapsible");
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
