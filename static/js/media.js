// The crop preview on a photo's page follows the shape and position chosen in the form at once.
// The same arithmetic as production.media.plan_crop; the saved rendition is the final word.
"use strict";

(function () {
  const preview = document.querySelector("[data-crop-preview]");
  const form = document.querySelector("[data-crop-form]");
  if (!preview || !form) {
    return;
  }
  const ASPECTS = { "1:1": 1, "4:5": 4 / 5, "1.91:1": 1.91, "9:16": 9 / 16 };
  const FEED_MIN = 4 / 5;
  const FEED_MAX = 1.91;
  const TOLERANCE = 0.01;
  const width = Number(preview.dataset.width);
  const height = Number(preview.dataset.height);
  const box = preview.querySelector("[data-crop-box]");
  const shade = preview.querySelector("[data-crop-shade]");
  const focusX = form.querySelector('[data-crop-focus="x"]');
  const focusY = form.querySelector('[data-crop-focus="y"]');

  function plan(aspect, fx, fy) {
    const ratio = width / height;
    let target = aspect in ASPECTS ? ASPECTS[aspect] : Math.min(Math.max(ratio, FEED_MIN), FEED_MAX);
    if (Math.abs(ratio - target) / target <= TOLERANCE) {
      target = ratio;
    }
    const cropWidth = ratio > target ? height * target : width;
    const cropHeight = ratio > target ? height : width / target;
    const left = Math.min(Math.max(fx * width - cropWidth / 2, 0), width - cropWidth);
    const top = Math.min(Math.max(fy * height - cropHeight / 2, 0), height - cropHeight);
    return { x: Math.round(left), y: Math.round(top), w: Math.round(cropWidth), h: Math.round(cropHeight) };
  }

  function update() {
    const chosen = form.querySelector('input[name="aspect"]:checked');
    const crop = plan(chosen ? chosen.value : "", Number(focusX.value) / 100, Number(focusY.value) / 100);
    box.setAttribute("x", crop.x);
    box.setAttribute("y", crop.y);
    box.setAttribute("width", crop.w);
    box.setAttribute("height", crop.h);
    shade.setAttribute("d", `M0 0H${width}V${height}H0Z M${crop.x} ${crop.y}h${crop.w}v${crop.h}h-${crop.w}Z`);
  }

  form.addEventListener("input", update);
  form.addEventListener("change", update);
  // A click on the picture centres the crop there (the sliders do the same from the keyboard).
  preview.addEventListener("click", (event) => {
    const point = preview.getBoundingClientRect();
    focusX.value = Math.round(((event.clientX - point.left) / point.width) * 100);
    focusY.value = Math.round(((event.clientY - point.top) / point.height) * 100);
    update();
  });
  update();
})();
