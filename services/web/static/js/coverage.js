// The planner's coverage map: the district outline and the H3 cells of data-coverage (the
// coverage_area GeoJSON, each cell's colour chosen by the server), no tile server unless
// configured. Clicking a cell loads what it lacks into #cell-info (htmx).
(function () {
  "use strict";

  function draw(el) {
    var area = JSON.parse(el.getAttribute("data-coverage"));
    var map = L.map(el, { attributionControl: false, zoomSnap: 0.25 });
    var tiles = el.getAttribute("data-tiles");
    if (tiles) { L.tileLayer(tiles, { maxZoom: 19 }).addTo(map); }
    fetch(el.getAttribute("data-outline"), { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (geo) {
        if (geo) {
          L.geoJSON(geo, { interactive: false,
            style: { color: "#1c232b", weight: 3, fill: false } }).addTo(map);
        }
      })
      .catch(function () { /* no outline: the cells still show */ });
    var chosen = null;
    var cells = L.geoJSON(area, {
      style: function (f) {
        return { color: "#ffffff", weight: 1, fillColor: f.properties.colour, fillOpacity: 0.7,
                 className: "cell cell-" + f.properties.cell };
      },
      onEachFeature: function (f, layer) {
        var p = f.properties;
        layer.bindTooltip(p.basic_covered + " / " + p.basic_total);
        layer.on("click", function () {
          if (chosen) { chosen.setStyle({ color: "#ffffff", weight: 1 }); }
          chosen = layer;
          layer.setStyle({ color: "#1c232b", weight: 3 });
          var url = el.getAttribute("data-cell-url") + "?lat=" + p.centre.lat + "&lng=" + p.centre.lng;
          htmx.ajax("GET", url, { target: "#cell-info", swap: "innerHTML" });
        });
      }
    }).addTo(map);
    if (area.features.length) { map.fitBounds(cells.getBounds(), { padding: [8, 8] }); }
    else { map.setView([30.5801, 114.2701], 13); }
  }

  document.addEventListener("DOMContentLoaded", function () {
    Array.prototype.forEach.call(document.querySelectorAll(".map[data-coverage]"), draw);
  });
})();
