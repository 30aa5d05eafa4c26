// Small progressive enhancements; every page works without them.
"use strict";

document.addEventListener("submit", (event) => {
  // Forms that do something hard to undo ask first (data-confirm="…").
  const question = event.target.dataset.confirm;
  if (question && !window.confirm(question)) {
    event.preventDefault();
  }
});
