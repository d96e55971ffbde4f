// Small enhancements; every page works without them.
(function () {
  "use strict";

  // Ask before a destructive form is sent (cancel, rotate a feed link).
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var question = form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) {
      event.preventDefault();
    }
  });

  // Copy buttons next to read-only link fields.
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy]");
    if (!button) return;
    var field = document.getElementById(button.getAttribute("data-copy"));
    if (!field) return;
    field.select();
    var done = function () {
      var text = button.textContent;
      button.textContent = "Copied";
      setTimeout(function () { button.textContent = text; }, 1500);
    };
    if (navigator.clipboard) {
      navigator.clipboard.writeText(field.value).then(done, function () {});
    } else {
      document.execCommand("copy");
      done();
    }
  });

  // Calendars open scrolled to the first appointment or the working day.
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll(".cal[data-scroll-to]").forEach(function (cal) {
      var px = parseInt(cal.getAttribute("data-scroll-to"), 10);
      if (px > 0) cal.scrollTop = px;
    });
  });
})();

(function () {
  "use strict";
  // Selects that reload their page when changed (location pickers).
  document.addEventListener("change", function (event) {
    if (event.target.matches("select[data-autosubmit]")) event.target.form.submit();
  });
  document.addEventListener("click", function (event) {
    if (event.target.closest("[data-print]")) window.print();
  });
})();
