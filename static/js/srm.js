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
})();
