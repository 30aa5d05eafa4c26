// Production pages: progressive enhancements only; every form works without them.
"use strict";

// The run sheet's "Move up"/"Move down" buttons replace the run sheet with htmx.
// Keep the keyboard where it was: focus the moved slot's button again (or its
// other button when the slot reached the top or the bottom).
document.addEventListener("htmx:afterSettle", (event) => {
  const sheet = event.detail.target;
  if (!sheet || sheet.id !== "run-sheet") {
    return;
  }
  const current = document.getElementById("run-sheet");
  const wanted = current && current.dataset.focus;
  if (!wanted) {
    return;
  }
  const other = wanted.startsWith("move-up-") ? wanted.replace("move-up-", "move-down-") : wanted.replace("move-down-", "move-up-");
  const button = document.getElementById(wanted) || document.getElementById(other);
  if (button) {
    button.focus();
  }
});

// The idea form warns while an idea is aimed only at children (Instagram is 13+).
function updateChildrenWarning() {
  const warning = document.querySelector("[data-children-warning]");
  if (!warning) {
    return;
  }
  const checked = Array.from(document.querySelectorAll('input[name="audiences"]:checked')).map((box) => box.value);
  warning.hidden = !(checked.length === 1 && checked[0] === "children");
}
document.addEventListener("change", (event) => {
  if (event.target.name === "audiences") {
    updateChildrenWarning();
  }
});
document.addEventListener("DOMContentLoaded", updateChildrenWarning);

// Print buttons (data-print) and read-only addresses that select themselves for copying.
document.addEventListener("click", (event) => {
  if (event.target.closest("[data-print]")) {
    window.print();
  }
});
document.addEventListener("focusin", (event) => {
  if (event.target.matches("[data-select-on-focus]")) {
    event.target.select();
  }
});
