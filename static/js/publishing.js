// Publishing pages: progressive enhancements only; every form works without them.
"use strict";

// --- The caption editor's live counters ---
// Mirrors publishing/captions.py: code points (an emoji counts once), hashtags
// and mentions as Instagram counts them, the credit line added on its own
// paragraph. The server checks again on save: it is the authority.
const HASHTAG = /(?<![\p{L}\p{N}_#])#[\p{L}\p{N}_]+/gu;
const MENTION = /(?<![\p{L}\p{N}_@])@[\p{L}\p{N}_.]+/gu;

function normalise(text) {
  return text.replace(/\r\n?/g, "\n");
}

function fullCaption(caption, credit) {
  const body = normalise(caption).trim();
  const line = normalise(credit).trim();
  if (!line) {
    return body;
  }
  return body ? `${body}\n\n${line}` : line;
}

function countCaption(text) {
  return {
    characters: Array.from(text).length,
    hashtags: (text.match(HASHTAG) || []).length,
    mentions: (text.match(MENTION) || []).length,
  };
}

function updateCaptionCounts(editor) {
  const caption = editor.querySelector("[data-caption-input]");
  const credit = editor.querySelector("[data-caption-credit]");
  const texts = document.getElementById("caption-count-texts");
  if (!caption || !texts) {
    return;
  }
  const counts = countCaption(fullCaption(caption.value, credit ? credit.value : ""));
  let over = false;
  for (const name of ["characters", "hashtags", "mentions"]) {
    const max = Number(editor.dataset[`max${name[0].toUpperCase()}${name.slice(1)}`]);
    const element = editor.querySelector(`[data-count="${name}"]`);
    const template = texts.content.querySelector(`[data-text="${name}"]`);
    if (!element || !template) {
      continue;
    }
    element.textContent = template.textContent.replace("{n}", counts[name]).replace("{max}", max);
    element.classList.toggle("caption-count--over", counts[name] > max);
    over = over || counts[name] > max;
  }
  // Screen readers hear about the limit when it is crossed, not on every key.
  const alert = editor.querySelector("[data-caption-alert]");
  const overText = texts.content.querySelector('[data-text="over"]');
  if (alert && overText) {
    const wanted = over ? overText.textContent : "";
    if (alert.textContent !== wanted) {
      alert.textContent = wanted;
    }
  }
}

document.addEventListener("input", (event) => {
  const editor = event.target.closest("[data-caption-editor]");
  if (editor) {
    updateCaptionCounts(editor);
  }
});
document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("[data-caption-editor]").forEach(updateCaptionCounts);
});

// --- The plan: drag a post to another day (the keyboard uses each post's own form) ---
let dragged = null;

document.addEventListener("dragstart", (event) => {
  const post = event.target.closest && event.target.closest("[data-plan-post]");
  if (!post) {
    return;
  }
  dragged = post;
  event.dataTransfer.effectAllowed = "move";
  event.dataTransfer.setData("text/plain", post.dataset.planPost);
  post.classList.add("is-dragged");
});

document.addEventListener("dragend", () => {
  if (dragged) {
    dragged.classList.remove("is-dragged");
  }
  dragged = null;
  document.querySelectorAll(".is-drop-target").forEach((day) => day.classList.remove("is-drop-target"));
});

document.addEventListener("dragover", (event) => {
  const day = event.target.closest && event.target.closest("[data-plan-date]");
  if (day && dragged) {
    event.preventDefault();
    event.dataTransfer.dropEffect = "move";
    day.classList.add("is-drop-target");
  }
});

document.addEventListener("dragleave", (event) => {
  const day = event.target.closest && event.target.closest("[data-plan-date]");
  if (day && !day.contains(event.relatedTarget)) {
    day.classList.remove("is-drop-target");
  }
});

document.addEventListener("drop", (event) => {
  const day = event.target.closest && event.target.closest("[data-plan-date]");
  if (!day || !dragged) {
    return;
  }
  event.preventDefault();
  const form = dragged.querySelector("form[data-move-form]");
  if (!form || day.dataset.planDate === dragged.dataset.planPostDate) {
    return;
  }
  // The same form the keyboard uses: the new day, the time of day unchanged.
  form.querySelector('[name="at"]').value = "";
  form.querySelector('[name="date"]').value = day.dataset.planDate;
  form.submit();
});

// --- Uploading from the compose form ---
// Shown only where the resumable upload works; each upload goes to the idea chosen in the form at the
// moment it starts (the idea's address), else to the post's recording day or the county (the default).
(function () {
  const section = document.querySelector("[data-compose-uploader]");
  if (!section || !window.tus || !window.tus.isSupported) {
    return;
  }
  section.hidden = false;
  const link = document.querySelector("[data-compose-upload-link]");
  if (link) {
    link.hidden = false;
  }
  const uploader = section.querySelector("[data-uploader]");
  const text = section.querySelector("[data-upload-target-text]");
  const words = document.getElementById("upload-target-text").content.textContent.trim();
  document.addEventListener("change", (event) => {
    if (!(event.target instanceof HTMLSelectElement) || event.target.id !== "id_idea") {
      return;
    }
    const select = event.target;
    const chosen = select.value;
    uploader.dataset.endpoint = chosen
      ? uploader.dataset.ideaEndpoint.replace("/0/", `/${chosen}/`)
      : uploader.dataset.defaultEndpoint;
    const name = chosen ? select.options[select.selectedIndex].text : text.dataset.defaultTarget;
    text.textContent = words.replace("{target}", name);
  });
})();
