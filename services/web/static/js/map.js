// Maps: drawn from data-map on a .map element (home, walk ring in metres, points), with the
// district outline when the server has it; a tile layer only when MAP_TILE_URL is set.
(function () {
  "use strict";

  function draw(el) {
    var data = JSON.parse(el.getAttribute("data-map"));
    var map = L.map(el, { attributionControl: false, zoomSnap: 0.25 });
    var tiles = el.getAttribute("data-tiles");
    if (tiles) { L.tileLayer(tiles, { maxZoom: 19 }).addTo(map); }
    var bounds = [];
    fetch(el.getAttribute("data-outline"), { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (geo) {
        if (geo) {
          L.geoJSON(geo, { interactive: false,
            style: { color: "#5b6b7a", weight: 2, fill: true, fillColor: "#eef2f5", fillOpacity: 0.6 } })
            .addTo(map).bringToBack();
        }
      })
      .catch(function () { /* no outline: the map still shows the points */ });
    if (data.home) {
      var home = [data.home.lat, data.home.lng];
      bounds.push(home);
      if (data.ring_m) {
        L.circle(home, { radius: data.ring_m, color: "#1f6f43", weight: 2, fillOpacity: 0.06 }).addTo(map);
        var box = L.latLng(home).toBounds(data.ring_m * 2);
        bounds.push(box.getNorthEast(), box.getSouthWest());
      }
      L.circleMarker(home, { radius: 9, color: "#ffffff", weight: 3, fillColor: "#c0392b", fillOpacity: 1 })
        .addTo(map).bindTooltip(data.home.label || "", { permanent: !!data.home.label, direction: "top" });
    }
    (data.points || []).forEach(function (p) {
      // p.color / p.stroke / p.radius: a status colour chosen by the page (dispatch console)
      var marker = L.circleMarker([p.lat, p.lng], { radius: p.radius || 8, color: p.stroke || "#ffffff", weight: 2,
        fillColor: p.color || (p.open === false ? "#7f8c8d" : "#1f5fa8"), fillOpacity: 1 }).addTo(map);
      marker.bindTooltip(p.name, { direction: "top" });
      if (p.url) { marker.on("click", function () { window.location.href = p.url; }); }
      bounds.push([p.lat, p.lng]);
    });
    if (bounds.length > 1) { map.fitBounds(bounds, { padding: [16, 16] }); }
    else if (bounds.length === 1) { map.setView(bounds[0], 16); }
    else { map.setView([30.5801, 114.2701], 14); }

    // A place picker: clicking the map fills the named latitude/longitude inputs.
    var pick = el.getAttribute("data-pick");
    if (pick) {
      var names = pick.split(",");
      var picked = null;
      map.on("click", function (e) {
        document.getElementById(names[0]).value = e.latlng.lat.toFixed(6);
        document.getElementById(names[1]).value = e.latlng.lng.toFixed(6);
        if (picked) { map.removeLayer(picked); }
        picked = L.circleMarker(e.latlng, { radius: 9, color: "#ffffff", weight: 3, fillColor: "#e67e22", fillOpacity: 1 }).addTo(map);
      });
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    Array.prototype.forEach.call(document.querySelectorAll(".map[data-map]"), draw);
  });
})();
