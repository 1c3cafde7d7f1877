// A technician shares where they are: the phone's location when the browser offers it (the
// button appears only then), else the latitude and longitude typed into the same form.
(function () {
  "use strict";

  document.addEventListener("DOMContentLoaded", function () {
    var button = document.getElementById("locate");
    var form = document.getElementById("location-form");
    var status = document.getElementById("locate-status");
    if (!button || !form || !navigator.geolocation) { return; }
    button.hidden = false;
    button.addEventListener("click", function () {
      status.textContent = button.getAttribute("data-waiting") || "…";
      navigator.geolocation.getCurrentPosition(function (pos) {
        form.querySelector('[name="lat"]').value = pos.coords.latitude.toFixed(6);
        form.querySelector('[name="lng"]').value = pos.coords.longitude.toFixed(6);
        form.submit();
      }, function () {
        status.textContent = button.getAttribute("data-failed");
      }, { enableHighAccuracy: true, timeout: 10000, maximumAge: 30000 });
    });
  });
})();
