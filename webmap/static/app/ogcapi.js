// The small map of an OGC API item page (/ogcapi/collections/<id>/items/<featureId>?f=html):
// draws the feature's geometry (CRS84 GeoJSON in the map element's data-geometry) with the app's own
// Leaflet; a basemap only when the service has one configured (data-tiles), else a blank offline map.
(function () {
  'use strict';
  var el = document.getElementById('ogc-map');
  if (!el || typeof L === 'undefined') { return; }
  var geometry = JSON.parse(el.getAttribute('data-geometry') || 'null');
  var map = L.map(el, { scrollWheelZoom: false });
  var tiles = el.getAttribute('data-tiles');
  if (tiles) {
    L.tileLayer(tiles, { attribution: el.getAttribute('data-attribution') || '' }).addTo(map);
  }
  if (!geometry) { map.setView([34.62, 112.45], 9); return; }
  var layer = L.geoJSON(geometry, {
    style: { color: '#c0392b', weight: 3, fillOpacity: 0.15 },
    pointToLayer: function (feature, latlng) {
      return L.circleMarker(latlng, { radius: 8, color: '#c0392b', fillOpacity: 0.6 });
    }
  }).addTo(map);
  var bounds = layer.getBounds();
  if (bounds.getNorthEast().equals(bounds.getSouthWest())) {
    map.setView(bounds.getCenter(), 12);
  } else {
    map.fitBounds(bounds, { padding: [20, 20] });
  }
}());
