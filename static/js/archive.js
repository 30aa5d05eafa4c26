// The archive's search page: how many items are ticked, said as it changes. The page works without it.
"use strict";

function updateSelection(form) {
  const count = form.querySelectorAll("[data-selection-item]:checked").length;
  const status = form.querySelector("[data-selection-count]");
  if (!status) {
    return;
  }
  const template = count === 1 ? form.dataset.textOne : form.dataset.textMany;
  status.textContent = count === 0 ? form.dataset.textNone : template.replace("%(count)s", String(count));
  form.classList.toggle("has-selection", count > 0);
}

document.addEventListener("change", (event) => {
  const form = event.target.closest("[data-archive-selection]");
  if (form && event.target.matches("[data-selection-item]")) {
    updateSelection(form);
  }
});

document.addEventListener("DOMContentLoaded", () => {
  for (const form of document.querySelectorAll("[data-archive-selection]")) {
    const status = form.querySelector("[data-selection-count]");
    if (status) {
      // Shown once the script runs; without it the ticks simply go with the form.
      status.classList.remove("visually-hidden");
    }
    updateSelection(form);
  }
});
