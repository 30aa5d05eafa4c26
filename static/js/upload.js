// Uploading photos and videos: several at once, by drag and drop or the file input, each with its
// own progress bar. Uses the tus resumable-upload protocol (tus-js-client, static/js/vendor/), so a
// dropped connection resumes where it stopped instead of starting again, and one failed file does
// not stop the others. Without this script the same form uploads the files in one plain POST.
"use strict";

(function () {
  const root = document.querySelector("[data-uploader]");
  if (!root || !window.tus || !window.tus.isSupported) {
    return;
  }
  const texts = JSON.parse(document.getElementById(root.dataset.texts).textContent);
  const form = root.querySelector("form");
  const dropzone = root.querySelector("[data-dropzone]");
  const list = root.querySelector("[data-upload-list]");
  const announcer = document.getElementById("asset-announcer");
  const CHUNK_SIZE = 8 * 1024 * 1024; // one PATCH at most; proxies must allow bodies this big
  const PARALLEL = 3;
  const queue = [];
  let running = 0;
  let counter = 0;

  root.classList.add("uploader--enhanced");
  root.querySelector("[data-upload-submit]").hidden = true;
  root.querySelector("[data-dropzone-hint]").hidden = false;

  function format(text, values) {
    return text.replace(/%\((\w+)\)s/g, (match, key) => (key in values ? values[key] : match)).replace(/%%/g, "%");
  }

  function announce(text) {
    // Cleared first, so that the same words twice are read out twice.
    announcer.textContent = "";
    window.setTimeout(() => {
      announcer.textContent = text;
    }, 50);
  }

  function refusalMessage(error) {
    const response = error && error.originalResponse;
    if (!response) {
      return null;
    }
    try {
      const body = JSON.parse(response.getBody());
      if (body && body.error) {
        return body.error;
      }
    } catch (_ignored) {
      // Not our JSON (a proxy's page, for example).
    }
    const status = response.getStatus();
    return status >= 400 && status < 500 ? texts.refused : null;
  }

  function button(label, name, handler) {
    const element = document.createElement("button");
    element.type = "button";
    element.className = "button button--small button--secondary";
    element.textContent = label;
    const hidden = document.createElement("span");
    hidden.className = "visually-hidden";
    hidden.textContent = `: ${name}`;
    element.append(hidden);
    element.addEventListener("click", handler);
    return element;
  }

  function createItem(file) {
    counter += 1;
    const id = `upload-${counter}`;
    const item = { file, id, upload: null, element: document.createElement("li") };
    item.element.className = "upload";
    item.element.dataset.state = "waiting";

    const label = document.createElement("label");
    label.className = "upload__name";
    label.htmlFor = `${id}-progress`;
    label.textContent = file.name;

    const progress = document.createElement("progress");
    progress.id = `${id}-progress`;
    progress.max = 100;
    progress.value = 0;
    progress.textContent = "0 %";
    progress.setAttribute("aria-describedby", `${id}-state`);

    const state = document.createElement("span");
    state.className = "upload__state";
    state.id = `${id}-state`;
    state.textContent = texts.waiting;

    const message = document.createElement("p");
    message.className = "upload__message";
    message.id = `${id}-message`;
    message.hidden = true;

    const actions = document.createElement("div");
    actions.className = "upload__actions";

    item.element.append(label, progress, state, actions, message);
    Object.assign(item, { progress, state, message, actions });
    list.hidden = false;
    list.append(item.element);
    return item;
  }

  function setActions(item, ...buttons) {
    item.actions.replaceChildren(...buttons);
  }

  function setProgress(item, sent, total) {
    const percent = total ? Math.floor((sent / total) * 100) : 100;
    item.progress.value = percent;
    item.progress.textContent = `${percent} %`;
    return percent;
  }

  function finish(item) {
    running -= 1;
    pump();
  }

  function start(item) {
    running += 1;
    item.element.dataset.state = "uploading";
    item.message.hidden = true;
    item.progress.removeAttribute("aria-invalid");
    setActions(
      item,
      button(texts.cancel, item.file.name, () => {
        item.upload.abort(true); // tells the server to delete what arrived (tus termination)
        item.element.remove();
        announce(format(texts.cancelled, { name: item.file.name }));
        finish(item);
      }),
    );
    if (!item.upload) {
      item.upload = new window.tus.Upload(item.file, {
        endpoint: root.dataset.endpoint,
        chunkSize: CHUNK_SIZE,
        retryDelays: [0, 1000, 3000, 5000, 10000],
        metadata: { filename: item.file.name, filetype: item.file.type },
        headers: { "X-CSRFToken": root.dataset.csrfToken },
        removeFingerprintOnSuccess: true,
        onProgress(sent, total) {
          const percent = setProgress(item, sent, total);
          item.state.textContent = percent >= 100 ? texts.checking : format(texts.uploading, { percent });
        },
        onSuccess(payload) {
          setProgress(item, 1, 1);
          item.element.dataset.state = "done";
          item.state.textContent = texts.done;
          const location = payload && payload.lastResponse && payload.lastResponse.getHeader("Asset-Location");
          if (location) {
            const link = document.createElement("a");
            link.href = location;
            link.textContent = texts.open;
            const hidden = document.createElement("span");
            hidden.className = "visually-hidden";
            hidden.textContent = `: ${item.file.name}`;
            link.append(hidden);
            setActions(item, link);
          } else {
            setActions(item);
          }
          announce(format(texts.doneAnnouncement, { name: item.file.name }));
          followAsset(item, payload && payload.lastResponse && payload.lastResponse.getHeader("Asset-State-Location"));
          // The list of media reloads itself (htmx: hx-trigger="assets-changed from:body").
          if (window.htmx) {
            window.htmx.trigger(document.body, "assets-changed");
          }
          finish(item);
        },
        onError(error) {
          const refusal = refusalMessage(error);
          item.element.dataset.state = refusal ? "refused" : "interrupted";
          item.message.textContent = refusal || texts.interrupted;
          item.message.hidden = false;
          item.progress.setAttribute("aria-invalid", "true");
          item.state.textContent = refusal ? texts.refused : format(texts.paused, { percent: item.progress.value });
          announce(format(texts.failedAnnouncement, { name: item.file.name, message: item.message.textContent }));
          const dismiss = button(texts.dismiss, item.file.name, () => item.element.remove());
          if (refusal) {
            // Sending the same file again would be refused again.
            item.upload = null;
            setActions(item, dismiss);
          } else {
            // start() again asks the server how much arrived (HEAD) and sends the rest.
            setActions(
              item,
              button(texts.retry, item.file.name, () => {
                queue.push(item);
                pump();
              }),
              dismiss,
            );
          }
          finish(item);
        },
      });
      // The same file chosen again after a reload goes on from where it stopped.
      item.upload.findPreviousUploads().then((previous) => {
        if (previous.length) {
          item.upload.resumeFromPreviousUpload(previous[0]);
        }
        item.upload.start();
      });
    } else {
      item.upload.start();
    }
  }

  // After the last byte the row follows what the worker does with the file: the server's words for its
  // state replace "Making the Instagram version…" every 3 s (htmx polling, the same as the media cards)
  // until it is ready or could not be made; then the asking stops (the answer has no hx-trigger).
  function followAsset(item, url) {
    if (!url || !window.htmx) {
      return;
    }
    const asking = document.createElement("span");
    asking.className = "upload__asset-state";
    asking.dataset.assetState = "processing";
    asking.textContent = texts.done;
    asking.setAttribute("hx-get", url);
    asking.setAttribute("hx-trigger", "every 3s");
    asking.setAttribute("hx-swap", "outerHTML");
    item.state.replaceChildren(asking);
    window.htmx.process(asking);
  }

  // htmx:load fires on each answer put in place (the asking element itself is gone by then).
  list.addEventListener("htmx:load", (event) => {
    const answer = event.target;
    const row = answer.closest && answer.closest(".upload");
    if (!row || !answer.dataset.assetState || answer.dataset.assetState === "processing") {
      return;
    }
    row.dataset.state = answer.dataset.assetState === "failed" ? "failed" : "done";
    // A page with the media list hears it from the list's own card; elsewhere (the compose form) from here.
    if (!document.getElementById("asset-list")) {
      announce(`${row.querySelector(".upload__name").textContent}: ${answer.textContent}`);
    }
  });

  function pump() {
    while (running < PARALLEL && queue.length) {
      start(queue.shift());
    }
  }

  function add(files) {
    for (const file of Array.from(files)) {
      queue.push(createItem(file));
    }
    pump();
  }

  // The file input and the phone's camera input both start uploads as soon as something is chosen.
  const inputs = form.querySelectorAll('input[type="file"]');
  for (const each of inputs) {
    each.addEventListener("change", () => {
      add(each.files);
      each.value = "";
    });
  }
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    for (const each of inputs) {
      add(each.files);
      each.value = "";
    }
  });

  // Drag and drop onto the drop zone; the file input stays for the keyboard.
  for (const name of ["dragenter", "dragover"]) {
    dropzone.addEventListener(name, (event) => {
      if (event.dataTransfer && Array.from(event.dataTransfer.types).includes("Files")) {
        event.preventDefault();
        dropzone.classList.add("dropzone--active");
      }
    });
  }
  for (const name of ["dragleave", "drop"]) {
    dropzone.addEventListener(name, () => dropzone.classList.remove("dropzone--active"));
  }
  dropzone.addEventListener("drop", (event) => {
    event.preventDefault();
    if (event.dataTransfer && event.dataTransfer.files.length) {
      add(event.dataTransfer.files);
    }
  });
})();
