// A technician shares where they are: the phone's location when the browser offers it (the
// button appears only then), else the latitude and longitude typed into the same form. The
// form posts through htmx, so this also runs after htmx puts a fresh form in the page.
(function () {
  "use strict";

  function offer() {
    var button = document.getElementById("locate");
    if (button && navigator.geolocation) { button.hidden = false; }
  }

  document.addEventListener("DOMContentLoaded", offer);
  document.addEventListener("htmx:load", offer);
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("#locate");
    if (!button) { return; }
    var form = document.getElementById("location-form");
    var status = document.getElementById("locate-status");
    status.textContent = button.getAttribute("data-waiting");
    navigator.geolocation.getCurrentPosition(function (pos) {
      form.querySelector('[name="lat"]').value = pos.coords.latitude.toFixed(6);
      form.querySelector('[name="lng"]').value = pos.coords.longitude.toFixed(6);
      form.requestSubmit();
    }, function () {
      status.textContent = button.getAttribute("data-failed");
    }, { enableHighAccuracy: true, timeout: 10000, maximumAge: 30000 });
  });
})();
