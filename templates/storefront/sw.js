{% comment %}
Service worker (served at /sw.js so its scope is the whole site).
Pages: network first, the last good copy when offline, else /offline/.
Pictures and static files: cache first (their URLs are content-hashed).
Hard caps on entries and bytes; the oldest entries go first.
Comments are template comments so the worker ships without them (JS budget).
{% endcomment %}
"use strict";
const V = "{{ version }}", SHELL = {{ shell_json|safe }};
const STATIC = "static-" + V;
{# [entries, bytes] per cache by its first letter (m: pictures; static files have none), about 5 MB at most on phones with little storage. "p" and "o": one shopper's pages, and their cart and orders apart, so browsing never pushes out the order a shopper must show at the door. #}
const CAPS = { p: [25, 1500000], o: [20, 600000], m: [150, 3000000] };
{% comment %}
Per shopper: a page the server rendered for a known shopper carries X-Shopper, a keyed
hash of that shopper (storefront/middleware.py); only such pages are kept, in caches
named "p-<key>-<version>" and "o-<key>-<version>". The first page that arrives with
another key (another shopper signed in, the cookie was replaced, the profile erased)
deletes every other shopper's caches before anything is stored, so offline the phone
shows only the last shopper's copies. Signing in or out changes the key whenever it changes the shopper.
{% endcomment %}
let K;
async function own(k) {
  if (k != K) for (const n of await caches.keys()) if (/^[po]-/.test(n) && n.slice(2, -V.length - 1) != k) await caches.delete(n);
  K = k;
}

self.addEventListener("install", (e) => {
  e.waitUntil(caches.open(STATIC).then((c) => c.addAll(SHELL)).then(() => self.skipWaiting()));
});
self.addEventListener("activate", (e) => {
  e.waitUntil(caches.keys()
    .then((ks) => Promise.all(ks.filter((k) => !k.endsWith(V)).map((k) => caches.delete(k))))
    .then(() => self.clients.claim()));
});

async function put(name, req, res) {
  const body = await res.blob();
  const headers = new Headers(res.headers);
  headers.set("x-sw-size", body.size);
  headers.set("x-sw-at", Date.now());
  const c = await caches.open(name);
  await c.put(req, new Response(body, { status: res.status, headers }));
  const caps = CAPS[name[0]];
  if (!caps) return;
  {# keys() lists oldest first: keep the newest that fit both caps. #}
  const keys = await c.keys();
  let bytes = 0;
  for (let i = keys.length - 1; i >= 0; i--) {
    const r = await c.match(keys[i]);
    bytes += +(r && r.headers.get("x-sw-size")) || 0;
    if (keys.length - i > caps[0] || bytes > caps[1]) await c.delete(keys[i]);
  }
}

{# A saved copy says so: base.html's hidden #off note is shown with the time it was saved, as the phone writes times. #}
async function old(r) {
  return new Response((await r.text()).replace(/(id="off") hidden(.*?<time>)/, "$1$2" + new Date(+r.headers.get("x-sw-at")).toLocaleString()), r);
}

self.addEventListener("fetch", (e) => {
  {# Only navigations, pictures and static files: the API, admin, the feed's fragments and beacons go straight to the network. #}
  const req = e.request, url = new URL(req.url);
  if (req.method !== "GET" || url.origin !== location.origin) return;
  if (req.mode === "navigate") {
    e.respondWith(fetch(req).then((res) => {
      const k = res.headers.get("x-shopper"), copy = res.clone();
      {# The key is learnt from every page; no-store pages (checkout, errors) are never kept. #}
      if (k) e.waitUntil(own(k).then(() => res.ok && !/no-store/.test(res.headers.get("cache-control"))
        && put((/^\/(cart|orders)\//.test(url.pathname) ? "o-" : "p-") + k + "-" + V, req, copy)));
      return res;
    }).catch(() => caches.match(req, { ignoreVary: true })
      .then((hit) => hit ? old(hit) : caches.match("/offline/", { ignoreVary: true }))));
    return;
  }
  const m = url.pathname.match(/^\/(media|static)\//);
  if (!m) return;
  const name = m[1] + "-" + V;
  e.respondWith(caches.match(req, { ignoreVary: true }).then((hit) => hit || fetch(req).then((res) => {
    if (res.ok) e.waitUntil(put(name, req, res.clone()));
    return res;
  })));
});
{# Web Push (notifications app): show the message; a tap opens it through /notifications/<id>/go/, which records the click; its one button POSTs the message's signed stop link (notifications/stoplinks.py). #}
self.addEventListener("push", (e) => {
  const m = e.data ? e.data.json() : {};
  e.waitUntil(self.registration.showNotification(m.title || "", { body: m.body, tag: m.kind, data: m,
    actions: m.stop ? [{ action: "stop", title: m.stopLabel }] : [] }));
});
self.addEventListener("notificationclick", (e) => {
  const m = e.notification.data || {};
  e.notification.close();
  e.waitUntil(e.action === "stop" ? fetch(m.stop, { method: "POST" }) : clients.openWindow(m.url || "/notifications/"));
});
