"use strict";
(() => {
  const b = document.getElementById("push-on");
  if (!b || !b.dataset.key || !("PushManager" in window) || !navigator.serviceWorker) return;
  b.hidden = false;
  b.onclick = async () => {
    const r = await navigator.serviceWorker.register("/sw.js");
    await navigator.serviceWorker.ready;
    const s = await r.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: b.dataset.key });
    const res = await fetch("/api/v1/notifications/push-subscriptions/", {
      method: "POST", body: JSON.stringify(s),
      headers: { "Content-Type": "application/json", "X-CSRFToken": b.form.csrfmiddlewaretoken.value },
    });
    if (res.ok) location.reload();
  };
})();
