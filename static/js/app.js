// Small progressive enhancements; every page works without them.
"use strict";

document.addEventListener("submit", (event) => {
  // Forms that do something hard to undo ask first (data-confirm="…").
  const question = event.target.dataset.confirm;
  if (question && !window.confirm(question)) {
    event.preventDefault();
  }
});

// The menu folds behind a "Menu" button on small screens (the stylesheet hides it there while it is closed).
document.documentElement.classList.add("has-js");
document.querySelectorAll("[data-menu-toggle]").forEach((toggle) => {
  const menu = document.getElementById(toggle.getAttribute("aria-controls"));
  toggle.hidden = false;
  toggle.addEventListener("click", () => {
    const open = toggle.getAttribute("aria-expanded") !== "true";
    toggle.setAttribute("aria-expanded", String(open));
    menu.classList.toggle("is-open", open);
  });
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && toggle.getAttribute("aria-expanded") === "true") {
      toggle.click();
      toggle.focus();
    }
  });
});

// After a failed form the error summary takes the focus, so that it is read first and the keyboard starts there.
// (A form's "Please correct the fields marked below." is its summary; data-error-summary marks any other.)
const errorSummary = document.querySelector("[data-error-summary], main form .message--error");
if (errorSummary) {
  errorSummary.setAttribute("tabindex", "-1");
  errorSummary.focus();
}

// Back on the plan after moving a post with the keyboard: the moved post's link takes the focus.
const arrivedAt = window.location.hash && document.getElementById(window.location.hash.slice(1));
if (arrivedAt && arrivedAt.matches(".plan-post__title")) {
  arrivedAt.focus();
}
