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

  // A person's action inside a live part wins over the part's refresh: a refresh in flight
  // is abandoned (its answer, rendered before the action, would put the old state back on
  // the screen and a button the person just pressed), and none starts until the action's
  // answer is in (or 10 s have passed).
  document.addEventListener("htmx:beforeRequest", function (event) {
    var elt = event.detail.elt;
    var live = elt.closest ? elt.closest("[data-live]") : null;
    if (!live) { return; }
    if (elt === live) {
      if (live.lcActingUntil && Date.now() < live.lcActingUntil) { event.preventDefault(); }
      return;
    }
    live.lcActingUntil = Date.now() + 10000;
    htmx.trigger(live, "htmx:abort");
    event.detail.xhr.addEventListener("loadend", function () { live.lcActingUntil = 0; });
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
