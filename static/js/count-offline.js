// Counting without signal. Every scan and every line form of the count page goes into a queue on the phone
// (IndexedDB), each with its own event id (crypto.randomUUID), and is sent from there in order as soon as there is
// a connection. The server counts an event id once and answers a replay "already recorded", so each scan counts
// exactly once however often it is sent. The queue survives a reload or a closed tab: the page reads it again on
// load and carries on. The service worker (sw.js) keeps the page itself available without signal.
// Markup: templates/counts/detail.html ([data-count], [data-count-queue] forms, [data-count-pending]).

const DB_NAME = "scanapp-counts";
const STORE = "queue";
const RETRY_MS = 15000;

const page = document.querySelector("[data-count]");
let db = null;
let sending = false;
let retry = null;
let sequence = 0;

// ---------------------------------------------------------------- the queue (IndexedDB)
function openQueue() {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open(DB_NAME, 1);
    request.onupgradeneeded = () => request.result.createObjectStore(STORE, { keyPath: "id" });
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

function entries() {
  return new Promise((resolve, reject) => {
    const request = db.transaction(STORE).objectStore(STORE).getAll();
    request.onsuccess = () => resolve(request.result.sort((a, b) => a.at - b.at || a.n - b.n));
    request.onerror = () => reject(request.error);
  });
}

function change(work) {
  return new Promise((resolve, reject) => {
    const transaction = db.transaction(STORE, "readwrite");
    work(transaction.objectStore(STORE));
    transaction.oncomplete = () => resolve();
    transaction.onerror = () => reject(transaction.error);
  });
}

function newId() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

async function enqueue(url, fields, label) {
  const id = newId();
  const entry = { id, at: Date.now(), n: ++sequence, count: page.dataset.count, url, label, state: "waiting" };
  entry.fields = { ...fields, event_id: id };
  await change((store) => store.put(entry));
  await send();
}

// ---------------------------------------------------------------- sending, in order, each once
async function send() {
  if (sending) return;
  sending = true;
  try {
    while (navigator.onLine) {
      const next = (await entries()).find((entry) => entry.state === "waiting");
      if (!next || !(await post(next))) break;
    }
  } finally {
    sending = false;
    await show();
  }
}

// Send one entry. True: done with it (counted, or refused for good); false: try again later.
async function post(entry, tokenRefreshed = false) {
  let response;
  try {
    response = await fetch(entry.url, {
      method: "POST",
      body: new URLSearchParams({ ...entry.fields, ...shownUpTo(entry) }),
      headers: { "HX-Request": "true", "X-CSRFToken": csrfToken() },
      credentials: "same-origin",
      redirect: "manual",
    });
  } catch {
    later();
    return false;
  }
  if (response.type === "opaqueredirect") {
    notice("You were signed out. Sign in again: the scans waiting here are kept and sent then.");
    return false;
  }
  if (response.status === 400 && !tokenRefreshed && (await refreshToken())) return post(entry, true);
  if (response.status >= 500 || response.status === 429) {
    later();
    return false;
  }
  const html = await response.text();
  if (response.ok || response.status === 422) swapLines(entry, html);
  if (response.ok) {
    await change((store) => store.delete(entry.id));
  } else {
    entry.state = "refused";
    navigator.vibrate?.([90, 60, 90]);
    entry.message = messageIn(html) || `Not counted (error ${response.status}).`;
    await change((store) => store.put(entry));
  }
  return true;
}

function later() {
  clearTimeout(retry);
  retry = setTimeout(send, RETRY_MS);
}

// The newest line this page shows, sent as `after`: a scan's answer then lists only the lines newer than it.
function shownUpTo(entry) {
  const newest = document.querySelector("#count-lines")?.dataset.newest;
  return entry.count === page.dataset.count && Number(newest) > 0 ? { after: newest } : {};
}

// The answer replaces the lines block. One that lists only the newer lines (data-after) keeps the lines shown
// before under them, up to the block's length (data-shown); a line this phone is removing stays out.
function swapLines(entry, html) {
  const target = document.querySelector("#count-lines");
  if (entry.count !== page.dataset.count || !target || !html.includes('id="count-lines"')) return;
  const shown = [...target.querySelectorAll(".count-line-list > .count-line:not([hidden])")];
  window.htmx.swap(target, html, { swapStyle: "outerHTML" }, { afterSwapCallback: () => keepShown(shown) });
}

function keepShown(shown) {
  const block = document.querySelector("#count-lines");
  const list = block?.dataset.after && block.querySelector(".count-line-list");
  if (!list) return;
  const listed = new Set([...list.children].map((line) => line.dataset.line));
  const room = Math.max(Number(block.dataset.shown) - list.children.length, 0);
  list.append(...shown.filter((line) => !listed.has(line.dataset.line)).slice(0, room));
}

function messageIn(html) {
  const doc = new DOMParser().parseFromString(html, "text/html");
  return (doc.querySelector("[data-count-answer]") || doc.querySelector("#error-message p"))?.textContent.trim();
}

function csrfToken() {
  try {
    return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"] || "";
  } catch {
    return "";
  }
}

// A page kept from long ago may carry an outdated token: read a fresh one from the page itself.
async function refreshToken() {
  try {
    const response = await fetch(location.pathname, { cache: "no-store", credentials: "same-origin" });
    const doc = new DOMParser().parseFromString(await response.text(), "text/html");
    const headers = doc.body.getAttribute("hx-headers");
    if (!response.ok || !headers || headers === document.body.getAttribute("hx-headers")) return false;
    document.body.setAttribute("hx-headers", headers);
    return true;
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------- what the page shows
async function show() {
  const box = page.querySelector("[data-count-pending]");
  if (!box || !db) return;
  const mine = (await entries()).filter((entry) => entry.count === page.dataset.count);
  const waiting = mine.filter((entry) => entry.state === "waiting");
  box.hidden = mine.length === 0;
  box.querySelector("[data-count-pending-number]").textContent = String(waiting.length);
  box.querySelector("h2").firstChild.textContent = navigator.onLine ? "Sending " : "Waiting for signal ";
  box.querySelector("[data-count-pending-list]").replaceChildren(...mine.map(row));
  const finish = page.querySelector("[data-count-finish]");
  if (finish) {
    finish.querySelector("button").disabled = waiting.length > 0 || !navigator.onLine;
    finish.querySelector("[data-count-finish-hint]").textContent = !navigator.onLine
      ? "Finish when the connection is back."
      : waiting.length
        ? `Wait until the ${waiting.length} waiting scans are sent.`
        : "Everyone counting in this count adds to the same lines; finish when all are done.";
  }
}

function row(entry) {
  const item = document.createElement("li");
  item.className = `count-pending-row ${entry.state}`;
  item.dataset.pending = entry.id;
  const what = document.createElement("span");
  what.className = "mono strong";
  what.textContent = entry.label;
  const note = document.createElement("span");
  note.className = "sub";
  const quantity = entry.fields.pieces ? ` · ${entry.fields.pieces} pcs${entry.fields.weight ? `, ${entry.fields.weight}` : ""}` : "";
  note.textContent = entry.state === "refused" ? entry.message : `${time(entry.at)}${quantity}`;
  item.append(what, note);
  if (entry.state === "refused") {
    item.append(button("OK", () => change((store) => store.delete(entry.id)).then(show)));
  } else if (entry.fields.code && !entry.fields.pieces) {
    item.append(button("Pieces", () => askQuantity(item, entry)));
  }
  return item;
}

function button(text, onClick) {
  const b = document.createElement("button");
  b.type = "button";
  b.className = "count-pending-button";
  b.textContent = text;
  b.addEventListener("click", onClick);
  return b;
}

// A lot scanned without signal: its pieces and weight go with the scan (an item ignores them).
function askQuantity(item, entry) {
  const form = document.createElement("form");
  form.className = "count-pending-qty";
  form.innerHTML =
    '<input name="pieces" inputmode="numeric" pattern="[0-9]*" placeholder="Pieces" aria-label="Pieces" required>' +
    '<input name="weight" inputmode="decimal" placeholder="Weight" aria-label="Weight (ct or g)">' +
    '<button class="primary">Save</button>';
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const data = new FormData(form);
    const [current] = (await entries()).filter((e) => e.id === entry.id && e.state === "waiting");
    if (current) {
      current.fields.pieces = data.get("pieces").trim();
      current.fields.weight = data.get("weight").trim();
      await change((store) => store.put(current));
    }
    await show();
  });
  item.append(form);
  form.querySelector("input").focus();
}

function time(ms) {
  return new Date(ms).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}

function notice(text) {
  const status = document.querySelector("[data-scanner-status]");
  if (status) {
    status.textContent = text;
    status.classList.add("error");
  }
}

// ---------------------------------------------------------------- the place being counted (whole-store counts)
const placeSelect = page?.querySelector("[data-count-place]");
const placeKey = `scanapp.count.${page?.dataset.count}.place`;

function currentPlace() {
  return placeSelect ? placeSelect.value : "";
}

function choosePlace(value) {
  if (!placeSelect) return;
  placeSelect.value = value;
  sessionStorage.setItem(placeKey, value);
  page.querySelectorAll("[data-count-location]").forEach((input) => (input.value = value));
  const status = document.querySelector("[data-scanner-status]");
  if (status && value) {
    status.textContent = `Counting in ${placeSelect.selectedOptions[0].textContent}.`;
    status.classList.remove("error");
  }
}

// A place's tag, bare or as its URL (…/T/<code>): the id of that place of this count, if it is one.
function placeOf(code) {
  if (!placeSelect) return null;
  const bare = code.replace(/^.*\/t\//i, "").replace(/\/$/, "").toUpperCase();
  const option = [...placeSelect.options].find((o) => o.dataset.code && o.dataset.code === bare);
  return option ? option.value : null;
}

// ---------------------------------------------------------------- wiring
// The one scanner posts each code with htmx; on this page the code goes into the queue instead.
document.addEventListener("htmx:configRequest", (event) => {
  if (!page || !event.detail.elt.matches?.("[data-scanner-form]")) return;
  event.preventDefault();
  const code = String(event.detail.parameters.code || "").trim();
  if (!code) return;
  const place = placeOf(code);
  if (place) return choosePlace(place);
  if (placeSelect && !currentPlace()) {
    notice("Choose the place you are counting first (or scan its tag), then scan again.");
    return;
  }
  enqueue(event.detail.path, { code, location_id: currentPlace() }, code.toUpperCase());
});

// Line forms (quantities, untagged pieces, remove) go through the queue too.
document.addEventListener("submit", (event) => {
  const form = event.target;
  if (!page || !form.matches("[data-count-queue]")) return;
  event.preventDefault();
  const fields = Object.fromEntries(new FormData(form));
  delete fields.csrf_token;
  delete fields.event_id;
  if ("location_id" in fields && placeSelect) fields.location_id = currentPlace();
  const label = fields.lot ? `Lot ${fields.lot.trim().toUpperCase()}` : form.dataset.label;
  enqueue(form.action, fields, label);
  if (form.matches(".count-quantity")) form.hidden = true;
  else if (form.closest(".count-line")) form.closest(".count-line").hidden = true;
  else form.reset();
});

window.addEventListener("online", send);
window.addEventListener("offline", show);

async function start() {
  if (!page || !window.indexedDB) return;
  if (placeSelect) {
    choosePlace(sessionStorage.getItem(placeKey) || "");
    placeSelect.addEventListener("change", () => choosePlace(placeSelect.value));
  }
  if ("serviceWorker" in navigator && page.dataset.sw && page.dataset.countStatus === "open") {
    navigator.serviceWorker
      .register(page.dataset.sw, { scope: "/" })
      .then(() => navigator.serviceWorker.ready)
      .then((registration) => registration.active?.postMessage({ type: "keep", urls: JSON.parse(page.dataset.assets) }))
      .catch(() => {}); // without a service worker the queue still works; only a reload offline does not
  }
  db = await openQueue();
  await show();
  await send();
}

start();
