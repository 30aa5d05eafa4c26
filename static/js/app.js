// Small progressive enhancements; every page works without them.
"use strict";

// Forms that undo work ask first (data-confirm="…"): a <dialog> with the question, the form's own button
// as the answer that goes ahead and "Keep it as it is" (focused first) as the one that does not. The
// dialog's words come from the page (<template id="confirm-dialog">); without it, the browser's confirm().
document.addEventListener("submit", (event) => {
  const form = event.target;
  const question = form.dataset.confirm;
  if (!question || form.dataset.confirmed === "yes" || event.submitter?.hasAttribute("data-no-confirm")) {
    return;
  }
  event.preventDefault();
  const template = document.getElementById("confirm-dialog");
  if (!template) {
    if (window.confirm(question)) {
      form.dataset.confirmed = "yes";
      form.requestSubmit(event.submitter);
    }
    return;
  }
  const dialog = template.content.firstElementChild.cloneNode(true);
  dialog.querySelector("[data-confirm-question]").textContent = question;
  const go = dialog.querySelector("[data-confirm-go]");
  go.textContent = (event.submitter || form.querySelector("button[type=submit]") || go).textContent.trim();
  document.body.append(dialog);
  const opener = event.submitter || document.activeElement;
  dialog.addEventListener("close", () => {
    const confirmed = dialog.returnValue === "go";
    dialog.remove();
    if (confirmed) {
      form.dataset.confirmed = "yes";
      form.requestSubmit(event.submitter);
    } else if (opener instanceof HTMLElement) {
      opener.focus();
    }
  });
  dialog.showModal();
  dialog.querySelector("[data-confirm-keep]").focus();
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

// A part of a page that asks for itself every few seconds (htmx polling: the post's status, an upload's
// state, the inbox's count) stops asking when the answer is not for it: the login page after the session
// ended (a redirect), or a refusal (the person may no longer see it). What it showed stays, nothing else
// is put in its place, and no request follows every few seconds for nothing.
document.addEventListener("htmx:beforeSwap", (event) => {
  const { elt, xhr, pathInfo } = event.detail;
  if (!/\bevery\b/.test(elt.getAttribute("hx-trigger") || "")) {
    return;
  }
  const asked = new URL(pathInfo.requestPath, window.location.href).pathname;
  const answered = xhr.responseURL ? new URL(xhr.responseURL).pathname : asked;
  if (answered === asked && xhr.status < 400) {
    return;
  }
  event.detail.shouldSwap = false;
  const quiet = elt.cloneNode(true); // a copy htmx has not seen: it asks nothing
  for (const name of ["hx-get", "hx-trigger", "hx-swap"]) {
    quiet.removeAttribute(name);
  }
  elt.replaceWith(quiet);
});

// On a phone, filters no one has set are folded away so the page's own content comes first
// (<details data-fold-when-narrow open>: open without JavaScript and on wide screens).
for (const details of document.querySelectorAll("details[data-fold-when-narrow]")) {
  const fields = details.querySelectorAll("select, input:not([type=hidden])");
  const inUse = [...fields].some((field) => field.value !== "");
  if (!inUse && window.matchMedia("(max-width: 40rem)").matches) {
    details.open = false;
  }
}
