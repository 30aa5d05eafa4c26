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

// --- The Instagram preview: step through a carousel with buttons, arrow keys or a swipe ---
// The track scrolls sideways with snap points, so touch swipes natively; the
// buttons and keys move it one item, and the counter follows either way.
function carouselParts(carousel) {
  const track = carousel.querySelector("[data-carousel-track]");
  const slides = track ? Array.from(track.querySelectorAll("[data-slide]")) : [];
  return { track, slides };
}

function carouselIndex(carousel) {
  const { track, slides } = carouselParts(carousel);
  if (!track || !slides.length || !track.clientWidth) {
    return Number(carousel.dataset.index || 0);
  }
  return Math.max(0, Math.min(slides.length - 1, Math.round(track.scrollLeft / track.clientWidth)));
}

function showCarouselIndex(carousel, index) {
  const { slides } = carouselParts(carousel);
  carousel.dataset.index = String(index);
  const counter = carousel.querySelector("[data-carousel-counter]");
  if (counter) {
    counter.textContent = `${index + 1} / ${slides.length}`;
  }
  const back = carousel.querySelector('[data-carousel-step="-1"]');
  const next = carousel.querySelector('[data-carousel-step="1"]');
  if (back) back.disabled = index === 0;
  if (next) next.disabled = index === slides.length - 1;
  slides.forEach((slide, n) => {
    slide.toggleAttribute("data-current", n === index);
    // A video out of sight stops: one plays at a time, as on Instagram.
    const video = slide.querySelector("video");
    if (video && n !== index && !video.paused) video.pause();
  });
}

function stepCarousel(carousel, index, { instant = false } = {}) {
  const { track, slides } = carouselParts(carousel);
  if (!track || !slides.length) {
    return;
  }
  const wanted = Math.max(0, Math.min(slides.length - 1, index));
  const reduce = window.matchMedia("(prefers-reduced-motion: reduce)").matches;
  track.scrollTo({ left: wanted * track.clientWidth, behavior: instant || reduce ? "auto" : "smooth" });
  showCarouselIndex(carousel, wanted);
}

document.addEventListener("click", (event) => {
  const button = event.target.closest && event.target.closest("[data-carousel-step]");
  const carousel = button && button.closest("[data-carousel]");
  if (carousel) {
    stepCarousel(carousel, Number(carousel.dataset.index || 0) + Number(button.dataset.carouselStep));
  }
});

document.addEventListener("keydown", (event) => {
  const carousel = event.target.closest && event.target.closest("[data-carousel]");
  if (!carousel || event.target.closest("video, input, textarea, select")) {
    return;
  }
  const now = Number(carousel.dataset.index || 0);
  const last = carouselParts(carousel).slides.length - 1;
  const moves = { ArrowRight: now + 1, ArrowLeft: now - 1, Home: 0, End: last };
  if (event.key in moves) {
    event.preventDefault();
    stepCarousel(carousel, moves[event.key]);
  }
});

let scrollTimer = null;
document.addEventListener(
  "scroll",
  (event) => {
    const track = event.target.closest && event.target.closest("[data-carousel-track]");
    if (!track) {
      return;
    }
    clearTimeout(scrollTimer);
    scrollTimer = setTimeout(() => {
      const carousel = track.closest("[data-carousel]");
      showCarouselIndex(carousel, carouselIndex(carousel));
    }, 80);
  },
  true,
);

// The compose form's preview is made again as the editor types: keep the item they were looking at.
let previewIndex = 0;
document.addEventListener("htmx:beforeSwap", (event) => {
  const carousel = event.detail.target && event.detail.target.querySelector("[data-carousel]");
  previewIndex = carousel ? Number(carousel.dataset.index || 0) : 0;
});
document.addEventListener("htmx:afterSettle", (event) => {
  const preview = document.getElementById("post-preview");
  const carousel = preview && preview.querySelector("[data-carousel]");
  if (carousel && previewIndex) {
    stepCarousel(carousel, previewIndex, { instant: true });
  }
});

// --- The media picker: the marks for the kind of post chosen now ---
function updatePickerMarks(form) {
  const kind = form.querySelector('input[name="media_kind"]:checked');
  form.querySelectorAll("[data-unfit-for]").forEach((mark) => {
    mark.hidden = !kind || mark.dataset.unfitFor !== kind.value;
  });
  form.querySelectorAll("[data-media-choice]").forEach((choice) => {
    const unfit = Array.from(choice.querySelectorAll("[data-unfit-for]")).some((mark) => !mark.hidden);
    choice.classList.toggle("media-choice--unfit", unfit);
  });
}

function describeChoices(form) {
  // The checkbox names the media; its facts and marks are read after the name.
  form.querySelectorAll("[data-media-choice]").forEach((choice) => {
    const box = choice.querySelector('input[name="assets"]');
    const ids = Array.from(choice.querySelectorAll(".media-choice__facts, .media-choice__marks"))
      .map((element) => element.id)
      .filter(Boolean);
    if (box && ids.length) box.setAttribute("aria-describedby", ids.join(" "));
  });
}

// --- Collaborators: at most three, refused while ticking (the server checks again) ---
function updateCollaboratorCap(group) {
  const max = Number(group.dataset.collaboratorCap);
  const boxes = Array.from(group.querySelectorAll('input[type="checkbox"][name="collaborators"]'));
  const full = boxes.filter((box) => box.checked).length >= max;
  boxes.forEach((box) => {
    box.disabled = full && !box.checked;
  });
  const note = group.querySelector("[data-cap-reached]");
  if (note) note.hidden = !full;
}

document.addEventListener("change", (event) => {
  const form = event.target.closest && event.target.closest("#post-form");
  if (!form) {
    return;
  }
  if (event.target.name === "media_kind") updatePickerMarks(form);
  const group = event.target.closest("[data-collaborator-cap]");
  if (group) updateCollaboratorCap(group);
});

document.addEventListener("DOMContentLoaded", () => {
  const form = document.getElementById("post-form");
  if (form) {
    updatePickerMarks(form);
    describeChoices(form);
    form.querySelectorAll("[data-collaborator-cap]").forEach(updateCollaboratorCap);
  }
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
