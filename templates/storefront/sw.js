{% comment %}
Service worker (served at /sw.js so its scope is the whole site).
Pages: network first, the last good copy when offline, else /offline/.
Pictures and static files: cache first (their URLs are content-hashed).
Hard caps on entries and bytes; the oldest entries go first.
Comments are template comments so the worker ships without them (JS budget).
{% endcomment %}
"use strict";
const V = "{{ version }}", SHELL = {{ shell_json|safe }};
const PAGES = "pages-" + V, IMGS = "img-" + V, STATIC = "static-" + V;
{# [entries, bytes]: about 4.5 MB at most, on phones with little storage. #}
const CAPS = { [PAGES]: [25, 1500000], [IMGS]: [150, 3000000] };

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
  const c = await caches.open(name);
  await c.put(req, new Response(body, { status: res.status, statusText: res.statusText, headers }));
  const caps = CAPS[name];
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

self.addEventListener("fetch", (e) => {
  const req = e.request, url = new URL(req.url);
  if (req.method !== "GET" || url.origin !== location.origin) return;
  if (/^\/(admin|api|cart|checkout|orders)\//.test(url.pathname) || url.searchParams.has("fragment")) return;
  if (req.mode === "navigate") {
    e.respondWith(fetch(req).then((res) => {
      if (res.ok && !/no-store/.test(res.headers.get("cache-control") || "")) {
        e.waitUntil(put(PAGES, req, res.clone()));
      }
      return res;
    }).catch(() => caches.match(req, { ignoreVary: true })
      .then((hit) => hit || caches.match("/offline/", { ignoreVary: true }))));
    return;
  }
  const name = url.pathname.startsWith("/media/") ? IMGS : url.pathname.startsWith("/static/") ? STATIC : null;
  if (!name) return;
  e.respondWith(caches.match(req, { ignoreVary: true }).then((hit) => hit || fetch(req).then((res) => {
    if (res.ok) e.waitUntil(put(name, req, res.clone()));
    return res;
  })));
});
