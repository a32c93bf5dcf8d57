/* The site-selection map (/site/map, in an iframe of /site): keeps every candidate park visible and clickable,
 * and links a marker to its row of the list on the page.
 *
 * Parks often share one stand-in point (a park located only to a district sits at the county seat), and parks
 * a few hundred metres apart draw on top of each other when zoomed out. After every zoom, markers closer than
 * a marker's width are pushed apart (those at one point around it, best rank first at the top), each with a
 * thin leader line to its own point (a dot), so no marker hides another. Selecting a park (a click here, or a row of
 * the list: a message from the page, same origin only) outlines its marker and opens its popup.
 *
 * No value from data is inserted as HTML here: markers, tooltips and popups come escaped from the server. */
(function () {
  'use strict';

  const PAD = 1; // px between the circles around two markers
  const SPRING = 0.08; // pull back towards a marker's own point, per step

  function findMap() {
    for (const key of Object.keys(window)) {
      if (key.startsWith('map_') && window[key] instanceof L.Map) return window[key];
    }
    return null;
  }

  function spread(homes, radii) {
    /* Pixel positions near `homes` (L.Points, in rank order) where no two markers overlap (the circles of
     * `radii` around them do not): markers at one point start on a tiny ring (best rank at the top, clockwise)
     * and are pushed apart pairwise, with a spring back to their own point, so each moves as little as the
     * others allow. */
    const keyOf = (h) => `${Math.round(h.x)},${Math.round(h.y)}`;
    const count = new Map();
    homes.forEach((h) => count.set(keyOf(h), (count.get(keyOf(h)) || 0) + 1));
    const seen = new Map();
    const out = homes.map((h) => {
      const key = keyOf(h);
      const n = count.get(key);
      const k = seen.get(key) || 0;
      seen.set(key, k + 1);
      if (n < 2) return L.point(h.x, h.y);
      const angle = -Math.PI / 2 + (2 * Math.PI * k) / n;
      return L.point(h.x + Math.cos(angle), h.y + Math.sin(angle));
    });
    const separate = () => {
      let moved = false;
      for (let i = 0; i < out.length; i += 1) {
        for (let j = i + 1; j < out.length; j += 1) {
          let dx = out[j].x - out[i].x;
          let dy = out[j].y - out[i].y;
          let dist = Math.hypot(dx, dy);
          const need = radii[i] + radii[j] + PAD;
          if (dist >= need - 0.01) continue;
          if (dist < 1e-6) { dx = 0; dy = 1; dist = 1e-6; } else { dx /= dist; dy /= dist; }
          const push = (need - dist) / 2 + 0.01;
          out[i] = L.point(out[i].x - dx * push, out[i].y - dy * push);
          out[j] = L.point(out[j].x + dx * push, out[j].y + dy * push);
          moved = true;
        }
      }
      return moved;
    };
    for (let step = 0; step < 150; step += 1) {
      out.forEach((p, i) => { out[i] = p.add(homes[i].subtract(p).multiplyBy(SPRING)); });
      if (!separate() && step > 10) break;
    }
    for (let step = 0; step < 200 && separate(); step += 1);
    return out;
  }

  function start() {
    const map = findMap();
    if (!map) return;
    const items = [];
    map.eachLayer((layer) => {
      const el = layer instanceof L.Marker && layer.getElement && layer.getElement();
      const badge = el && el.querySelector('.site-rank[data-id]');
      if (!badge) return;
      const box = badge.getBoundingClientRect(); // the circle around the marker's box
      items.push({ marker: layer, id: badge.dataset.id, rank: +badge.dataset.rank, home: layer.getLatLng(),
        radius: Math.hypot(box.width || 30, box.height || 22) / 2, moved: false });
    });
    items.sort((a, b) => a.rank - b.rank);
    const byId = new Map(items.map((it) => [it.id, it]));
    // popups fit the frame (a phone's is narrow) and pan clear of the controls
    items.forEach((it) => {
      const popup = it.marker.getPopup && it.marker.getPopup();
      if (!popup) return;
      popup.options.maxWidth = Math.max(200, Math.min(popup.options.maxWidth || 340, window.innerWidth - 80));
      popup.options.maxHeight = Math.max(160, Math.min(popup.options.maxHeight || 320, window.innerHeight - 150));
      popup.options.autoPanPaddingTopLeft = L.point(50, 56); // below the zoom buttons and the layer button
    });
    let group = null; // the feature group of the candidates, so its leaders hide with it
    for (const key of Object.keys(window)) {
      const g = window[key];
      if (g instanceof L.FeatureGroup && items.length && g.hasLayer(items[0].marker)) { group = g; break; }
    }
    const leaders = L.layerGroup();
    (group || map).addLayer(leaders);
    let selected = null;

    function paint(it) {
      /* the marker's look; its element is made anew each time the layer is shown again */
      it.marker.setZIndexOffset(it === selected ? 20000 : 10000 - it.rank * 10);
      const el = it.marker.getElement();
      const badge = el && el.querySelector('.site-rank');
      if (!badge) return;
      badge.classList.toggle('selected', it === selected);
      badge.dataset.moved = String(it.moved);
    }
    items.forEach((it) => it.marker.on('add', () => paint(it)));

    function layout() {
      leaders.clearLayers();
      const homes = items.map((it) => map.latLngToLayerPoint(it.home));
      const placed = spread(homes, items.map((it) => it.radius));
      items.forEach((it, i) => {
        it.moved = placed[i].distanceTo(homes[i]) > 2;
        const at = it.moved ? map.layerPointToLatLng(placed[i]) : it.home;
        it.marker.setLatLng(at);
        if (!it.moved) return;
        L.polyline([at, it.home], { color: '#333', weight: 1, opacity: 0.8, interactive: false }).addTo(leaders);
        L.circleMarker(it.home, { radius: 3, color: '#333', weight: 1, fillColor: '#fff', fillOpacity: 1,
          interactive: false }).addTo(leaders);
      });
      items.forEach(paint);
      document.body.dataset.siteLayout = String(map.getZoom());
    }

    function select(id, fromMap) {
      const it = byId.get(id);
      if (!it) return;
      const before = selected;
      selected = it;
      if (before) paint(before);
      paint(it);
      if (!fromMap) {
        const at = it.marker.getLatLng();
        if (!map.getBounds().pad(-0.1).contains(at)) map.panTo(at, { animate: false });
        it.marker.openPopup();
        const popup = it.marker.getPopup();
        if (popup && popup.update) popup.update(); // laid out now: pan it whole into the frame
      }
      document.body.dataset.siteSelected = id;
    }

    const toPage = (msg) => {
      if (window.parent !== window) window.parent.postMessage(msg, window.location.origin);
    };
    items.forEach((it) => {
      it.marker.on('click', () => {
        select(it.id, true);
        toPage({ type: 'site-select', id: it.id });
      });
    });
    window.addEventListener('message', (event) => {
      if (event.origin !== window.location.origin || event.source !== window.parent) return;
      const msg = event.data || {};
      if (msg.type === 'site-select' && typeof msg.id === 'string') select(msg.id, false);
    });
    map.on('zoomend', layout);
    layout();

    // branca's colour scale (a Leaflet control drawn by d3, 450 px wide) goes into the legend, scaled to fit
    const scale = document.querySelector('.legend.leaflet-control');
    const svg = scale && scale.querySelector('svg');
    const slot = document.getElementById('site-legend-scale');
    if (svg && slot) {
      svg.setAttribute('viewBox', `0 0 ${svg.getAttribute('width') || 450} ${svg.getAttribute('height') || 40}`);
      svg.setAttribute('width', '100%');
      svg.removeAttribute('height');
      slot.append(scale);
    }
    // a narrow frame (a phone, or the column beside the list) folds the legend and the layer list; in the page
    // the explanation sits right under the map
    const legend = document.getElementById('site-legend');
    const embedded = window.parent !== window;
    if (legend && (window.innerWidth < 560 || (embedded && window.innerWidth < 700))) legend.open = false;
    const control = document.querySelector('.leaflet-control-layers');
    const toggle = control && control.querySelector('.leaflet-control-layers-toggle');
    if (toggle && window.innerWidth < 700) {
      const expanded = 'leaflet-control-layers-expanded';
      control.classList.remove(expanded);
      toggle.setAttribute('role', 'button');
      toggle.title = '图层 Layers';
      toggle.addEventListener('click', (event) => { // Leaflet opens it on focus; a click opens it too
        event.preventDefault();
        control.classList.add(expanded);
      });
      map.on('click', () => control.classList.remove(expanded));
    }
    window.SiteMap = { map, select, layout, items };
    document.body.dataset.siteReady = 'true';
    toPage({ type: 'site-map-ready' });
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
}());
