/* Progressive enhancement only: every page works without this file.
   Appends the next feed page near the end of the list, sends event beacons,
   hides "not interested" cards in place, offers the Web Share sheet, and
   registers the service worker. Kept tiny (budget: 3 KB compressed, all JS). */
(function () {
  "use strict";
  var d = document, n = navigator, q = [], seen = {}, busy = 0;
  var feed = d.getElementById("feed"), more = d.getElementById("more"), st = d.getElementById("feed-status");
  function uid() {
    if (crypto.randomUUID) return crypto.randomUUID();
    return Array.prototype.map.call(crypto.getRandomValues(new Uint8Array(16)), function (b) {
      return (b + 256).toString(16).slice(1);
    }).join("");
  }
  function ctx(el) { var c = el.closest("[data-ctx]"); return c ? c.dataset.ctx : "feed"; }
  function ev(type, p, c) {
    q.push({ id: uid(), type: type, product: +p, context: c });
    if (q.length > 19) flush();
  }
  // text/plain body: a "simple" request, so the beacon needs no preflight.
  function flush() {
    if (q.length && n.sendBeacon) n.sendBeacon("/api/v1/events/", JSON.stringify({ events: q }));
    q = [];
  }
  function say(key) { if (st) st.textContent = st.dataset[key] || ""; }
  d.addEventListener("visibilitychange", function () { if (d.visibilityState === "hidden") flush(); });
  d.addEventListener("click", function (e) {
    var a = e.target.closest("a.cl,#wa,#share"), g = e.target.closest(".gn a,a.nx"), li;
    // A photo replaces the history entry: Back leaves the page.
    if (g) { e.preventDefault(); location.replace(g.hash); }
    if (!a) return;
    if (a.id === "share") {
      n.share({ title: a.dataset.shareTitle, url: a.dataset.shareUrl }).catch(function () {});
    }
    li = a.closest("[data-p]");
    if (li) { ev(a.id ? "share" : "click", li.dataset.p, ctx(a)); flush(); }
  });
  d.addEventListener("submit", function (e) {
    var f = e.target;
    if (!f.classList.contains("hide")) return;
    e.preventDefault();
    fetch(f.action, { method: "POST", body: new FormData(f), headers: { "X-Requested-With": "fetch" } })
      .then(function (r) { if (!r.ok) throw r; f.closest("li").remove(); say("hid"); })
      .catch(function () { f.submit(); });
  });
  var pr = d.getElementById("product"), sh = d.getElementById("share");
  if (pr) ev("view", pr.dataset.p, "product");
  if (sh && n.share) sh.hidden = false;
  if ("IntersectionObserver" in window) {
    // Impressions for lists the server did not record (the feed records its own).
    var vio = new IntersectionObserver(function (es) {
      es.forEach(function (x) {
        if (x.isIntersecting) { vio.unobserve(x.target); ev("view", x.target.dataset.p, ctx(x.target)); }
      });
    }, { threshold: 0.5 });
    d.querySelectorAll("[data-ctx]:not([data-ctx=feed]) li[data-p]").forEach(function (li) { vio.observe(li); });
    if (feed && more) {
      feed.querySelectorAll("li[data-p]").forEach(function (li) { seen[li.dataset.p] = 1; });
      // Data saver: no prefetching; fetch only once "Load more" is on screen.
      // A slow phone may batch several entries into one call: the last is now.
      var io = new IntersectionObserver(function (es) { if (es[es.length - 1].isIntersecting) load(); },
        { rootMargin: d.body.dataset.saveData ? "0px" : "800px" });
      var load = function () {
        var a = more.querySelector("a[rel=next]");
        if (!a || busy) return;
        busy = 1;
        fetch(a.href + "&fragment=1", { credentials: "same-origin" })
          .then(function (r) { if (!r.ok) throw r; return r.text(); })
          .then(function (h) {
            var t = d.createElement("template"), nx;
            t.innerHTML = h;
            // The cursor never repeats an item; this guards against a replayed page.
            t.content.querySelectorAll("li[data-p]").forEach(function (li) {
              if (!seen[li.dataset.p]) { seen[li.dataset.p] = 1; feed.appendChild(li); }
            });
            nx = t.content.querySelector("a[rel=next]");
            if (nx) a.href = nx.getAttribute("href"); else a.remove();
            say("more");
            busy = 0;
            io.unobserve(more); io.observe(more);
          })
          .catch(function () { busy = 0; });
      };
      io.observe(more);
    }
  }
  if ("serviceWorker" in n) addEventListener("load", function () { n.serviceWorker.register("/sw.js"); });
})();
