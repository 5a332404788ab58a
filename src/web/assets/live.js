// Keeps a deployment page current: each event on the page's stream fetches the page again and
// swaps its content in, so chart, checklist and timeline move together. Without JavaScript
// the page is the same, and a reload updates it. When golive turns the stream away (too many
// open pages, or it is restarting) the page says so and tries again later from the last event
// it saw, so nothing is missed.
(function () {
  "use strict";
  var live = document.getElementById("live");
  if (!live || !live.getAttribute("data-stream")) return;
  if (!window.EventSource || !window.fetch || !window.DOMParser) return;
  var badge = document.getElementById("live-status");
  var said = document.getElementById("live-news");
  var url = live.getAttribute("data-stream");
  var pending = null;
  var stream = null;
  var retry = 15000;
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
  function connect() {
    stream = new EventSource(url);
    stream.onopen = function () { retry = 15000; state(true, "Live: updates as they happen"); };
    stream.onerror = function () {
      if (stream.readyState !== EventSource.CLOSED) { state(false, "Reconnecting…"); return; }
      // Turned away (503) or gone: the browser will not retry by itself.
      state(false, "Live updates paused; trying again shortly (reload to update now)");
      setTimeout(connect, retry);
      retry = Math.min(retry * 2, 300000);
    };
    stream.addEventListener("event", function (message) {
      if (message.lastEventId) url = url.replace(/after=\d+/, "after=" + message.lastEventId);
      try {
        var e = JSON.parse(message.data);
        if (said) said.textContent = e.who + ": " + e.what;
      } catch (ignored) { /* the refresh shows it anyway */ }
      if (!pending) pending = setTimeout(refresh, 60);
    });
  }
  connect();
})();
