// The one scanner: four sources (camera, keyboard-wedge scanner, typing, photo) feed one handler, which posts the
// code to the page's target URL with htmx and gives instant feedback (beep, vibration, flash, the answer swapped in).
// Markup: templates/macros/scanner.html. The camera code (and the 1 MB decoder) loads only when the camera opens.

const WEDGE_GAP_MS = 35; // a scanner types faster than any person: median gap between keys below this
const WEDGE_MIN_LENGTH = 3;
const STALE_KEY_MS = 300; // a pause this long starts a new burst
const REPEAT_MS = 1500; // the same code again within this time is the same scan (held trigger, tag still in view)
const RECENT_KEY = "scanapp.recent";
const RECENT_MAX = 8;

let scanner = null; // the page's scanner block (one per page)
let camera = null; // the open camera, see camera.js
let last = { code: "", at: -Infinity };
let queue = Promise.resolve(); // scans are posted one after the other, none dropped
const burst = { text: "", stamps: [] };

const $ = (selector) => scanner?.querySelector(selector);

function init(root) {
  const found = root.matches?.("[data-scanner]") ? root : root.querySelector?.("[data-scanner]");
  if (!found || found.dataset.ready) return;
  scanner = found;
  scanner.dataset.ready = "1";
  $("[data-scanner-form]").addEventListener("submit", (event) => {
    event.preventDefault();
    submitInput();
  });
  $("[data-scanner-input]").addEventListener("pointerdown", () => wantKeyboard(false)); // a tap is on purpose
  $("[data-scanner-type]").addEventListener("click", () => wantKeyboard(true));
  $("[data-scanner-camera]").addEventListener("click", toggleCamera);
  $("[data-scanner-close]").addEventListener("click", closeCamera);
  $("[data-scanner-torch]").addEventListener("click", toggleTorch);
  $("[data-scanner-photo]").addEventListener("change", readPhoto);
  showRecent();
  refocus();
}

// ---------------------------------------------------------------- the one handler
function handle(raw, source) {
  const code = (raw || "").trim();
  if (!code || !scanner) return;
  const now = performance.now();
  const repeat = code.toUpperCase() === last.code && now - last.at < REPEAT_MS;
  // Camera and wedge repeats are ignored; a code typed or photographed on purpose always goes.
  if (repeat && (source === "camera" || source === "wedge")) {
    last.at = now; // the tag is still in view: keep ignoring it until it has been gone a moment
    return;
  }
  last = { code: code.toUpperCase(), at: now };
  feedback(true);
  status("");
  queue = queue
    .then(() => post(code))
    .catch(() => {
      feedback(false);
      status("No connection: that scan was not sent. Scan it again.", true);
    });
}

async function post(code) {
  const form = $("[data-scanner-form]");
  await window.htmx.ajax("POST", form.getAttribute("action"), {
    source: form,
    target: scanner.dataset.target,
    swap: scanner.dataset.swap,
    values: { code },
  });
  const answer = document.querySelector(scanner.dataset.target);
  if (answer?.dataset.scanCode) rememberResult(answer);
}

function submitInput() {
  const input = $("[data-scanner-input]");
  const code = input.value;
  input.value = "";
  handle(code, "typed");
  if (input.inputMode !== "none") {
    // Typed on purpose: hide the soft keyboard again until the next tap on "Type a code".
    input.blur();
    input.inputMode = "none";
  }
  refocus();
}

function wantKeyboard(focus) {
  const input = $("[data-scanner-input]");
  input.inputMode = "text";
  if (focus) {
    input.blur(); // Android shows the keyboard on the next focus after inputmode changes
    input.focus();
  }
}

// Keep the scanner input ready for a wedge scanner, unless the person is busy in another field.
function refocus() {
  const input = $("[data-scanner-input]");
  const active = document.activeElement;
  const editable = "input:not([type=file]), textarea, select, [contenteditable]";
  const busyElsewhere = active && active !== input && active.matches(editable);
  if (input && !busyElsewhere && !document.hidden) input.focus({ preventScroll: true });
}

// ---------------------------------------------------------------- keyboard-wedge scanner
// Capture phase on the document: a burst is caught wherever the focus is, even on a button or another field.
document.addEventListener(
  "keydown",
  (event) => {
    if (!scanner || event.isComposing) return;
    const input = $("[data-scanner-input]");
    if (event.key === "Enter") {
      const fast = burst.text.length >= WEDGE_MIN_LENGTH && median(gaps(burst.stamps)) < WEDGE_GAP_MS;
      const text = burst.text;
      burst.text = "";
      burst.stamps = [];
      if (document.activeElement === input) {
        event.preventDefault();
        if (fast) {
          input.value = "";
          handle(text, "wedge");
        } else {
          submitInput(); // typed by hand: whatever the input holds now
        }
      } else if (fast) {
        event.preventDefault();
        event.stopPropagation();
        stripFrom(document.activeElement, text);
        handle(text, "wedge");
        refocus();
      }
      return;
    }
    if (event.key.length !== 1 || event.ctrlKey || event.metaKey || event.altKey) return;
    const stamps = burst.stamps;
    if (stamps.length && event.timeStamp - stamps[stamps.length - 1] > STALE_KEY_MS) {
      burst.text = "";
      burst.stamps = [];
    }
    burst.text += event.key;
    burst.stamps.push(event.timeStamp);
  },
  true,
);

// A burst that landed in another text field is not that field's content.
function stripFrom(element, text) {
  if (element && "value" in element && typeof element.value === "string" && element.value.endsWith(text)) {
    element.value = element.value.slice(0, -text.length);
  }
}

function gaps(stamps) {
  return stamps.slice(1).map((t, i) => t - stamps[i]);
}

function median(values) {
  if (!values.length) return Infinity;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

// ---------------------------------------------------------------- camera
let cameraWanted = false; // false again when closed while still starting (a second tap, the page hidden)

async function toggleCamera() {
  if (cameraWanted) return closeCamera();
  cameraWanted = true;
  $("[data-scanner-camera]").setAttribute("aria-pressed", "true");
  $("[data-scanner-view]").hidden = false;
  status("Starting the camera…");
  unlockAudio();
  try {
    const { openCamera } = await import(scanner.dataset.cameraModule);
    const opened = await openCamera($("[data-scanner-video]"), {
      onCode: (text) => handle(text, "camera"),
      onReady: (hasTorch) => {
        if (!cameraWanted) return;
        $("[data-scanner-torch]").hidden = !hasTorch;
        status("Point at a tag, about a hand's width away.");
      },
    });
    if (cameraWanted) camera = opened;
    else opened.stop();
  } catch (error) {
    closeCamera();
    status(error.message || String(error), true);
  }
}

function closeCamera() {
  cameraWanted = false;
  camera?.stop();
  camera = null;
  if (!scanner) return;
  $("[data-scanner-camera]").setAttribute("aria-pressed", "false");
  $("[data-scanner-view]").hidden = true;
  const torch = $("[data-scanner-torch]");
  torch.hidden = true;
  torch.setAttribute("aria-pressed", "false");
  status("");
}

async function toggleTorch() {
  const torch = $("[data-scanner-torch]");
  const on = torch.getAttribute("aria-pressed") !== "true";
  if (camera && (await camera.torch(on))) torch.setAttribute("aria-pressed", String(on));
}

// ---------------------------------------------------------------- photo (decoded on the server)
async function readPhoto(event) {
  const input = event.target;
  const file = input.files?.[0];
  input.value = ""; // choosing the same photo again must fire "change" again
  if (!file) return;
  status("Reading the photo…");
  let answer;
  try {
    const body = new FormData();
    body.append("photo", await shrink(file), file.name || "photo.jpg");
    const response = await fetch(scanner.dataset.photoUrl, {
      method: "POST",
      body,
      headers: { Accept: "application/json", ...csrfHeader() },
    });
    answer = await response.json().catch(() => ({ error: `The photo could not be read (error ${response.status}).` }));
  } catch {
    answer = { error: "No connection: the photo was not sent. Try again." };
  }
  if (answer.code) {
    handle(answer.code, "photo");
  } else {
    feedback(false);
    status(answer.error || "The photo could not be read. Try again.", true);
  }
}

// Phone photos are large; send at most 2000 px (what the server reads anyway). Formats the browser cannot draw
// (HEIC outside Safari) go as they are: the server reads them.
async function shrink(file) {
  const MAX = 2000;
  try {
    const bitmap = await createImageBitmap(file); // honours EXIF orientation
    const scale = Math.min(1, MAX / Math.max(bitmap.width, bitmap.height));
    if (scale === 1 && file.size < 2_000_000) return file;
    const canvas = document.createElement("canvas");
    canvas.width = Math.round(bitmap.width * scale);
    canvas.height = Math.round(bitmap.height * scale);
    canvas.getContext("2d").drawImage(bitmap, 0, 0, canvas.width, canvas.height);
    return await new Promise((resolve) => canvas.toBlob((blob) => resolve(blob || file), "image/jpeg", 0.92));
  } catch {
    return file;
  }
}

function csrfHeader() {
  try {
    return JSON.parse(document.body.getAttribute("hx-headers") || "{}");
  } catch {
    return {};
  }
}

// ---------------------------------------------------------------- feedback
let audio = null;

function unlockAudio() {
  const Context = window.AudioContext || window.webkitAudioContext;
  if (!audio && Context) audio = new Context();
  if (audio?.state === "suspended") audio.resume();
}

function tone(frequency, seconds, delay = 0) {
  if (!audio) return;
  const start = audio.currentTime + delay;
  const oscillator = audio.createOscillator();
  const gain = audio.createGain();
  oscillator.type = "square";
  oscillator.frequency.value = frequency;
  gain.gain.setValueAtTime(0.08, start);
  gain.gain.exponentialRampToValueAtTime(0.0001, start + seconds);
  oscillator.connect(gain).connect(audio.destination);
  oscillator.start(start);
  oscillator.stop(start + seconds);
}

function feedback(ok) {
  try {
    unlockAudio();
    if (ok) tone(1760, 0.08);
    else [0, 0.16].forEach((delay) => tone(220, 0.12, delay));
  } catch {
    // No sound on this device: the flash and the answer on screen still show.
  }
  navigator.vibrate?.(ok ? 40 : [90, 60, 90]);
  if (!scanner) return;
  scanner.classList.remove("scanner-hit", "scanner-miss");
  void scanner.offsetWidth; // restart the flash animation
  scanner.classList.add(ok ? "scanner-hit" : "scanner-miss");
}

function status(message, isError = false) {
  const line = $("[data-scanner-status]");
  if (!line) return;
  line.textContent = message;
  line.classList.toggle("error", isError);
}

// ---------------------------------------------------------------- recent scans (this tab only)
function rememberResult(element) {
  const { scanCode: code, scanLabel: label } = element.dataset;
  if (!code || !label) return;
  const recent = loadRecent().filter((entry) => entry.code !== code);
  recent.unshift({ code, label });
  sessionStorage.setItem(RECENT_KEY, JSON.stringify(recent.slice(0, RECENT_MAX)));
  showRecent();
}

function loadRecent() {
  try {
    return JSON.parse(sessionStorage.getItem(RECENT_KEY) || "[]");
  } catch {
    return [];
  }
}

function showRecent() {
  const box = document.querySelector("[data-scan-recent]");
  if (!box) return;
  const recent = loadRecent();
  const list = box.querySelector("ol");
  list.replaceChildren(
    ...recent.map(({ code, label }) => {
      const item = document.createElement("li");
      const button = document.createElement("button");
      button.type = "button";
      button.className = "recent-scan";
      button.textContent = label;
      button.addEventListener("click", () => handle(code, "recent"));
      item.append(button);
      return item;
    }),
  );
  box.hidden = recent.length === 0;
}

// ---------------------------------------------------------------- wiring
document.addEventListener("htmx:afterRequest", (event) => {
  if (scanner && event.target === $("[data-scanner-form]") && event.detail.xhr.status >= 400) feedback(false);
});
document.addEventListener("htmx:afterSettle", () => {
  if (scanner && !scanner.isConnected) {
    closeCamera();
    scanner = null;
  }
  refocus();
});
document.addEventListener("htmx:load", (event) => init(event.detail.elt));
document.addEventListener("visibilitychange", () => {
  if (document.hidden) closeCamera();
  else refocus();
});
window.addEventListener("pagehide", closeCamera);

init(document);
