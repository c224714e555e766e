// When a form comes back with errors, the focus goes to the first field in error, so a
// keyboard or screen-reader user lands where the work is; the field's
// aria-describedby reads its hint and its error. The summary above the form
// (role="alert") has already been announced. Without this script the summary's links
// lead to each field.
(function () {
  "use strict";

  function focusable(element) {
    // A group of checkboxes is marked on its fieldset: its first box takes the focus.
    if (element.tagName === "FIELDSET") {
      return element.querySelector("input, select, textarea");
    }
    return element;
  }

  function focusFirstError() {
    var first = document.querySelector(
      "form [aria-invalid='true'], form fieldset.has-error"
    );
    var target = first && focusable(first);
    if (target && document.activeElement !== target) {
      target.focus();
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", focusFirstError);
  } else {
    focusFirstError();
  }
})();
