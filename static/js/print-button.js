/* The Print button of a sheet's controls (templates/sheets/_print_hint.html): shown only when
   this script runs (without JavaScript the hint beside it says to use the browser's Print
   command), and it opens the browser's print dialog once per tap. */
(function () {
  "use strict";
  function ready() {
    Array.prototype.forEach.call(document.querySelectorAll("button[data-print]"), function (button) {
      if (button.dataset.printReady) return;
      button.dataset.printReady = "1";
      button.hidden = false;
      button.addEventListener("click", function () {
        window.print();
      });
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", ready);
  } else {
    ready();
  }
})();
