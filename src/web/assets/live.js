// Keeps a deployment page current: each event on the page's stream fetches the page again and
// swaps its content in, so chart, checklist and timeline move together. Without JavaScript
// the page is the same, and a reload updates it.
(function () {
  "use strict";
  var live = document.getElementById("live");
  if (!live || !live.getAttribute("data-stream")) return;
  if (!window.EventSource || !window.fetch || !window.DOMParser) return;
  var badge = document.getElementById("live-status");
  var said = document.getElementById("live-news");
  var pending = null;
  function state(on, text) {
    if (!badge) return;
    badge.textContent = text;
    badge.className = on ? "live on" : "live";
  }
  function refresh() {
    pending = null;
    fetch(window.location.href, { cache: "no-store", credentials: "same-origin" })
      .then(function (r) { if (!r.ok) throw new Error("HTTP " + r.status); return r.text(); })
      .then(function (html) {
        var fresh = new DOMParser().parseFromString(html, "text/html").getElementById("live");
        if (fresh) live.innerHTML = fresh.innerHTML;
      })
      .catch(function () { state(false, "Could not update; reload the page"); });
  }
  var stream = new EventSource(live.getAttribute("data-stream"));
  stream.onopen = function () { state(true, "Live: updates as they happen"); };
  stream.onerror = function () { state(false, "Reconnecting…"); };
  stream.addEventListener("event", function (message) {
    try {
      var e = JSON.parse(message.data);
      if (said) said.textContent = e.who + ": " + e.what;
    } catch (ignored) { /* the refresh shows it anyway */ }
    if (!pending) pending = setTimeout(refresh, 60);
  });
})();
