// The service worker of the counting page (served at /sw.js so that it may control /counts/…). It keeps the page
// and the files it needs so that a count page opens again in a vault without signal: network first (fresh when
// there is a connection), the saved copy when there is none. Scans themselves are queued by count-offline.js.

const CACHE = "scanapp-count-v1";
const COUNT_PAGE = /\/counts\/\d+$/;
const NETWORK_MS = 4000; // a vault's "one bar" can hang a request for ages: use the saved copy after this

self.addEventListener("install", () => self.skipWaiting());

self.addEventListener("activate", (event) => {
  event.waitUntil(
    (async () => {
      const names = await caches.keys();
      await Promise.all(names.filter((n) => n.startsWith("scanapp-count-") && n !== CACHE).map((n) => caches.delete(n)));
      await self.clients.claim();
    })(),
  );
});

// The count page asks to keep itself and its files: the page is fetched again every time, files once.
self.addEventListener("message", (event) => {
  if (event.data?.type === "keep" && Array.isArray(event.data.urls)) event.waitUntil(keep(event.data.urls));
});

async function keep(urls) {
  const cache = await caches.open(CACHE);
  for (const url of urls) {
    const page = COUNT_PAGE.test(new URL(url, self.location.origin).pathname);
    if (!page && (await cache.match(url))) continue;
    try {
      const response = await fetch(url, { credentials: "same-origin", cache: "no-cache" });
      if (usable(response)) await cache.put(url, response);
    } catch {
      // No connection now: kept the next time the page is opened online.
    }
  }
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return; // scans are posted by the page's queue, never answered from here
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.mode === "navigate" && COUNT_PAGE.test(url.pathname)) {
    event.respondWith(networkFirst(request, true));
  } else if (url.pathname.includes("/static/")) {
    event.respondWith(networkFirst(request, false));
  }
});

// The network's answer, kept for later; or, when the network fails or is too slow, the kept copy.
async function networkFirst(request, isPage) {
  const cache = await caches.open(CACHE);
  const kept = await cache.match(request, { ignoreVary: true, ignoreSearch: isPage });
  const network = fetch(request).then(async (response) => {
    if (usable(response) && (isPage || kept)) await cache.put(request, response.clone());
    return response;
  });
  if (!kept) {
    return network.catch(() => (isPage ? offlinePage() : Response.error()));
  }
  const slow = new Promise((resolve) => setTimeout(() => resolve(kept), NETWORK_MS));
  return Promise.race([network.catch(() => kept), slow]);
}

function usable(response) {
  return response.ok && !response.redirected && response.type === "basic";
}

function offlinePage() {
  const body =
    "<!doctype html><meta charset=utf-8><meta name=viewport content='width=device-width'>" +
    "<title>No signal</title><p>No signal, and this count was not opened on this phone before. " +
    "Open it once with a connection; after that it works without one.</p>";
  return new Response(body, { status: 503, headers: { "Content-Type": "text/html; charset=utf-8" } });
}
