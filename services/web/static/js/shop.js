// The shopkeeper's order board: a new order (an id not on the board before a refresh) is
// highlighted and, once the shopkeeper has turned the sound on (browsers allow sound only
// after a click), announced by a short chime.
(function () {
  "use strict";
  var seen = null;
  var arrived = [];
  var soundOn = false;
  var chime = null;

  function ids() {
    return Array.prototype.map.call(document.querySelectorAll("#open-orders [data-order-id]"),
      function (el) { return el.getAttribute("data-order-id"); });
  }

  document.addEventListener("DOMContentLoaded", function () {
    seen = ids();
    var toggle = document.getElementById("sound-toggle");
    if (toggle) {
      chime = new Audio(toggle.getAttribute("data-sound"));
      toggle.addEventListener("click", function () {
        soundOn = !soundOn;
        toggle.setAttribute("aria-pressed", soundOn ? "true" : "false");
        if (soundOn) { chime.play().catch(function () { soundOn = false; }); }
      });
    }
  });

  document.addEventListener("htmx:afterSwap", function (event) {
    if (!event.detail.target || event.detail.target.id !== "incoming" || seen === null) { return; }
    var fresh = ids().filter(function (id) { return seen.indexOf(id) === -1; });
    arrived = arrived.concat(fresh);
    // every refresh re-renders the list: keep marking what arrived while the page was open
    arrived.forEach(function (id) {
      var el = document.querySelector('[data-order-id="' + id + '"]');
      if (el) { el.classList.add("new-order"); }
    });
    if (fresh.length) {
      document.body.setAttribute("data-new-orders", String(fresh.length));
      if (soundOn && chime) { chime.currentTime = 0; chime.play().catch(function () {}); }
    }
    seen = ids();
  });
})();
