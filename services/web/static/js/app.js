// Every page: the CSRF header on htmx requests, and live updates. Elements that show live
// state carry hx-trigger="lc:live from:body, every Ns": they refresh when the person's
// notification stream (server-sent events, cookie session) says something happened, and
// at least every N seconds if the stream is unavailable.
(function () {
  "use strict";

  document.addEventListener("htmx:configRequest", function (event) {
    var meta = document.querySelector('meta[name="csrf-token"]');
    if (meta) { event.detail.headers["X-CSRF-Token"] = meta.content; }
  });

  function liveStream() {
    // Only pages with live parts (data-live) hold a stream: each one holds a server thread.
    var url = document.body.getAttribute("data-stream");
    if (!url || !window.EventSource || !document.querySelector("[data-live]")) { return; }
    var source = new EventSource(url);
    source.addEventListener("notification", function () {
      document.body.dispatchEvent(new CustomEvent("lc:live", { bubbles: true }));
    });
    // Leaving the page closes the stream at once, so the server frees its slot.
    window.addEventListener("pagehide", function () { source.close(); });
  }

  document.addEventListener("DOMContentLoaded", liveStream);
})();
