/* TilePoints: a point layer drawn from the app's vector tiles (/tiles/<layer>/{z}/{x}/{y}.mvt), for layers too big
 * to send whole (a million projects). The server clusters below its points zoom (exact counts per grid cell) and
 * sends the points from there on (geo/tiles.py); this layer draws each tile on a canvas with Leaflet.VectorGrid
 * (vendored, webmap/static/vendor/leaflet.vectorgrid/; chosen by bench/tile_renderers.py):
 *   - a cluster: a circle in the markercluster colours (green < 10, yellow < 100, orange) with its exact count;
 *     a click zooms in on it;
 *   - a point: the main map's symbol (webmap/static/app/map.js markerSvg): ● project, ■ park, ◆ institution, filled
 *     by status colour with a white edge, a dark ring for the battery chain; a click calls options.onPoint(id, latlng)
 *     (default: window.CorridorsMap.openFeature(id) on the main map, else a popup with the names); points at one
 *     spot (records located to the same place) first give a list to pick from.
 *
 *   const layer = L.tilePoints('/tiles/projects', { statusColors, chainLinks, params: {status: 'planned'} });
 *   layer.setParams({ status: 'planned', as_of: '2024-01-01' });   // the URLs change, the tiles are drawn again
 *   layer.count().then((doc) => doc.count);                         // exact count of the filtered layer (z0 tile),
 *                                                                    //   byStatus and chainLinks (records per link)
 *   layer.drawnFeatures();                                           // what the loaded tiles of this zoom hold
 *   layer.labelPoints(map.getBounds(), 600);                         // the points to label (map.js placeLabels)
 *   layer.symbolsIn(map.getBounds());                                // the symbols drawn there (for labels to avoid)
 * Tiles are 512 px (the server's 256 px tiles of the zoom above: a quarter of the requests), each canvas reaching
 * PAD px over its neighbours so that symbols at an edge are whole; once count() has named the data version, the tile
 * URLs carry it (v=) and the browser keeps them. The canvas on top under the pointer may not be the one that drew the
 * symbol there (a neighbour's, or another TilePoints layer's), so a click or a hover asks every loaded canvas of every
 * TilePoints layer of the map (hitsAt). Leaflet.VectorGrid 1.3 predates Leaflet 1.8: its canvas click handler
 * (which calls the removed L.DomEvent.fakeStop) is replaced here, handing a click on no feature to the map.
 * Positions: tiles are XYZ tiles of Web Mercator; latlngs are WGS84.
 */
(function () {
  'use strict';

  if (!window.L || !L.VectorGrid || !L.Canvas.Tile) {
    throw new Error('tile_points.js needs Leaflet and Leaflet.VectorGrid (bundled) loaded first');
  }

  const CLUSTER_COLORS = [[10, 'rgba(110, 204, 57, 0.85)', 'rgba(181, 226, 140, 0.6)'],
    [100, 'rgba(240, 194, 12, 0.85)', 'rgba(241, 211, 87, 0.6)'],
    [Infinity, 'rgba(241, 128, 23, 0.85)', 'rgba(253, 156, 115, 0.6)']];
  const FONT = '600 11px "Helvetica Neue", Arial, Helvetica, sans-serif';
  const POINT_HIT_RADIUS = 11;  // > 10: Leaflet takes a target of radius <= 10 for a marker and asks for its latlng
  /* each tile's canvas reaches PAD px into its neighbours, so a symbol or a cluster near a tile's edge is drawn whole
   * (a tile holds only the features inside it); a click is tested against every tile's features */
  const PAD = 24;
  /* px: a point shares a cell of this size with no other symbol to be offered a label (labelPoints) */
  const LABEL_ROOM = 40;
  const has = (obj, key) => obj != null && Object.prototype.hasOwnProperty.call(obj, key);
  let measure = null;

  const COUNT_FORMAT = new Intl.NumberFormat('en-US');  // made once: toLocaleString builds one per call (~1 ms)
  function countText(n) { return COUNT_FORMAT.format(Number(n)); }
  function clusterRadius(count) {
    if (!measure) { measure = document.createElement('canvas').getContext('2d'); measure.font = FONT; }
    return Math.max(14, Math.ceil(measure.measureText(countText(count)).width / 2) + 8);
  }

  /* the symbol of a point, as markerSvg draws it in a 20 x 20 box centred on the point */
  function shapePath(ctx, layer, x, y, r) {
    ctx.beginPath();
    if (layer === 'parks') {
      ctx.rect(x - r, y - r, 2 * r, 2 * r);
    } else if (layer === 'institutions') {
      const d = r * 1.3;
      ctx.moveTo(x, y - d); ctx.lineTo(x + d, y); ctx.lineTo(x, y + d); ctx.lineTo(x - d, y); ctx.closePath();
    } else {
      ctx.arc(x, y, r, 0, Math.PI * 2);
    }
  }
  function drawPoint(ctx, p, props, opts) {
    const colors = opts.statusColors || {};
    const fill = colors[has(colors, props.status) ? props.status : 'unknown'] || '#8c8c8c';
    const chain = !!props.chain_link && (!opts.chainLinks || has(opts.chainLinks, props.chain_link));
    const layer = props.layer || opts.layer;
    ctx.globalAlpha = 1;
    shapePath(ctx, layer, p.x, p.y, chain ? 8 : 7.5);
    ctx.lineWidth = chain ? 3 : 1;
    ctx.strokeStyle = chain ? '#222' : '#333';
    ctx.stroke();
    shapePath(ctx, layer, p.x, p.y, 6);
    ctx.fillStyle = fill;
    ctx.fill();
    ctx.lineWidth = 2;
    ctx.strokeStyle = '#fff';
    ctx.stroke();
  }
  function drawCluster(ctx, p, props, r) {
    const [, inner, outer] = CLUSTER_COLORS.find(([limit]) => props.count < limit);
    ctx.globalAlpha = 1;
    ctx.beginPath(); ctx.arc(p.x, p.y, r, 0, Math.PI * 2); ctx.fillStyle = outer; ctx.fill();
    ctx.beginPath(); ctx.arc(p.x, p.y, r - 5, 0, Math.PI * 2); ctx.fillStyle = inner; ctx.fill();
    ctx.fillStyle = '#000';
    ctx.font = FONT;
    ctx.textAlign = 'center';
    ctx.textBaseline = 'middle';
    ctx.fillText(countText(props.count), p.x, p.y + 0.5);
  }

  /* one tile's canvas: VectorGrid's canvas tile, drawing our symbols, and handing a click that hits nothing to the
   * map (Leaflet 1.9's canvas does; VectorGrid 1.3's override calls L.DomEvent.fakeStop, gone since Leaflet 1.8) */
  const TileCanvas = L.Canvas.Tile.extend({
    initialize(tileCoord, tileSize, options) {
      L.Canvas.Tile.prototype.initialize.call(this, tileCoord, tileSize, options);
      this._container.setAttribute('width', tileSize.x + 2 * PAD);  // resets the context: then shift it
      this._container.setAttribute('height', tileSize.y + 2 * PAD);
      this._ctx.translate(PAD, PAD);
    },
    _updateCircle(layer) {
      if (!this._drawing || layer._empty()) return;
      const props = layer.properties || {};
      if (props.cluster) drawCluster(this._ctx, layer._point, props, layer._radius);
      else drawPoint(this._ctx, layer._point, props, this.options);
    },
    _onClick(e) {
      if (!this._map) return;
      const hits = hitsAt(this, e);  // a symbol may reach over an edge
      const hit = hits.length ? hits[hits.length - 1] : null;  // the one drawn last, on top
      if (hit) hit.hits = hits.filter((h) => !(h.properties || {}).cluster).map((h) => h.properties);
      this._fireEvent(hit ? [hit] : false, e);
    },
    /* Leaflet's hover test (mouseover, mouseout, the pointer's cursor), asking every canvas as a click does; at most
     * one test in 32 ms, as Leaflet's, but the last move is tested too (a pointer stopping on a symbol names it) */
    _handleMouseHover(e) {
      if (!this._map) return;
      if (this._mouseHoverThrottled) { this._hoverLater = e; return; }
      const hits = hitsAt(this, e);
      const hit = hits.length ? hits[hits.length - 1] : null;
      if (hit !== this._hoveredLayer) {
        this._handleMouseOut(e);
        if (hit) {
          L.DomUtil.addClass(this._container, 'leaflet-interactive');
          this._fireEvent([hit], e, 'mouseover');
          this._hoveredLayer = hit;
        }
      }
      this._fireEvent(this._hoveredLayer ? [this._hoveredLayer] : false, e);
      this._mouseHoverThrottled = true;
      setTimeout(() => {
        this._mouseHoverThrottled = false;
        const later = this._hoverLater;
        this._hoverLater = null;
        if (later) this._handleMouseHover(later);
      }, 32);
    },
    _handleMouseOut(e) {
      this._hoverLater = null;  // the pointer left this canvas
      L.Canvas.Tile.prototype._handleMouseOut.call(this, e);
    },
  });

  function tileCanvas(coords, size, options) { return new TileCanvas(coords, size, options); }

  const shown = new Set();  // the TilePoints layers on a map

  /* the features under a pointer event on a tile's canvas, the one drawn last (on top) last: a symbol near a tile's
   * edge is drawn by its own tile over the neighbour's area, where the neighbour's canvas (later in the page, so on
   * top) gets the events, and the canvases of another tile layer (parks over projects) may lie on top too, so every
   * loaded canvas of the zoom, of every TilePoints layer of the map, whose drawn area holds the pointer is asked */
  function hitsAt(canvas, e) {
    const map = canvas._map;
    const owner = canvas.options.owner;
    const at = map.mouseEventToLayerPoint(e);
    const clicking = e.type === 'click' || e.type === 'preclick';
    const owners = owner ? [...shown].filter((l) => l._map === map) : [];
    if (owner && !owners.includes(owner)) owners.push(owner);
    const hits = [];
    for (const tile of owner ? owners.flatMap((l) => l._canvasesAt(canvas._tileCoord.z)) : [canvas]) {
      const point = at.subtract(tile.getOffset());
      if (point.x < -PAD || point.y < -PAD || point.x > tile._size.x + PAD || point.y > tile._size.y + PAD) continue;
      for (const id of Object.keys(tile._layers)) {
        const layer = tile._layers[id];
        if (layer.options.interactive && layer._containsPoint(point) && !(clicking && map._draggableMoved(layer))) {
          hits.push(layer);
        }
      }
    }
    return hits;
  }

  function query(params) {
    const p = new URLSearchParams();
    for (const [k, v] of Object.entries(params || {})) if (v != null && v !== '') p.set(k, v);
    const s = p.toString();
    return s ? `?${s}` : '';
  }

  L.TilePoints = L.VectorGrid.Protobuf.extend({
    options: {
      layer: null,           // the point layer (parks, projects, institutions): taken from the URL when not given
      params: null,          // filters and as_of, as on /api/layers/<layer>
      statusColors: null,    // status -> colour (geo.style.STATUS_COLORS)
      chainLinks: null,      // chain links that get the dark ring (null: any chain_link)
      onPoint: null,         // function(id, latlng, properties) on a click on a point
      interactive: true,
      tileSize: 512,         // a 512 px tile is the server's tile of the zoom above (zoomOffset -1): a quarter of
      zoomOffset: -1,        //   the requests of 256 px tiles (bench/tile_renderers.py), cells of 64 px
      maxNativeZoom: 20,
      pane: 'markerPane',
    },

    initialize(base, options) {
      this._base = String(base).replace(/\/+$/, '');
      const opts = L.extend({}, options);
      if (!opts.layer) opts.layer = this._base.split('/').pop();
      opts.rendererFactory = tileCanvas;
      opts.owner = this;  // each tile's canvas asks the others on a click
      opts.getFeatureId = (f) => (f.properties.id != null ? f.properties.id : `cluster:${f.properties.count}`);
      const style = (props) => (props.cluster
        ? { radius: clusterRadius(props.count), interactive: true, bubblingMouseEvents: false }
        : { radius: POINT_HIT_RADIUS, interactive: true, bubblingMouseEvents: false });
      opts.vectorTileLayerStyles = { [opts.layer]: style };
      L.VectorGrid.Protobuf.prototype.initialize.call(this, this._template(opts.params), opts);
      this._held = {};  // tile key -> [{properties, latlng}]
      this.on('tileunload', (e) => { delete this._held[this._tileCoordsToKey(e.coords)]; });
      this.on('click', this._onFeatureClick, this);
      this.on('mouseover', this._onOver, this);
      this.on('mouseout', this._onOut, this);
    },

    /* a tile shows at once, without Leaflet's fade-in (the map's fadeAnimation): while tiles fade, the last zoom's
     * clusters stay drawn under the new ones for 250 ms, two sets of counts at once, and every frame repaints */
    _tileReady(coords, err, tile) {
      const map = this._map;
      const fade = map && map._fadeAnimated;
      if (map) map._fadeAnimated = false;
      try {
        return L.VectorGrid.Protobuf.prototype._tileReady.call(this, coords, err, tile);
      } finally {
        if (map) map._fadeAnimated = fade;
      }
    },

    /* a tile's element reaches PAD px over its neighbours, as its canvas does (TileCanvas) */
    _initTile(tile) {
      L.VectorGrid.Protobuf.prototype._initTile.call(this, tile);
      const size = this.getTileSize();
      tile.style.width = `${size.x + 2 * PAD}px`;
      tile.style.height = `${size.y + 2 * PAD}px`;
      tile.style.margin = `-${PAD}px 0 0 -${PAD}px`;
    },

    /* the canvases of the loaded tiles of zoom z (VectorGrid keeps them by tile when getFeatureId is set) */
    _canvasesAt(z) {
      return Object.values(this._vectorTiles || {}).filter((t) => t._map && t._tileCoord.z === z);
    },

    _template(params) {
      return `${this._base}/{z}/{x}/{y}.mvt${query(L.extend({}, params, this._version ? { v: this._version } : {}))}`;
    },

    /* new filters or day: new tile URLs, every tile drawn again */
    setParams(params) {
      this.options.params = L.extend({}, params);
      this.setUrl(this._template(this.options.params), false);
      return this;
    },

    /* the exact number of features of the filtered layer (and per status): its tile of zoom 0 */
    count() {
      return fetch(`${this._base}/0/0/0.json${query(this.options.params)}`, { headers: { Accept: 'application/json' } })
        .then((r) => r.json().then((doc) => {
          if (!r.ok) throw new Error(doc.error || `HTTP ${r.status}`);
          const version = r.headers.get('X-Data-Version');
          if (version && version !== this._version) {
            this._version = version;
            this.setUrl(this._template(this.options.params), true);
          }
          const byStatus = {};
          for (const f of doc.features) {
            for (const [k, v] of Object.entries(f.properties)) {
              if (k.startsWith('count_')) byStatus[k.slice(6)] = (byStatus[k.slice(6)] || 0) + v;
            }
          }
          /* records per chain link (null from a server that does not say: any may have one) */
          return { count: doc.count, byStatus, chainLinks: doc.chain_links || null };
        }));
    },

    /* what the loaded tiles of the map's zoom hold: [{properties, latlng}] (clusters carry count) */
    drawnFeatures() {
      const z = this._tileZoom;
      const out = [];
      for (const [key, feats] of Object.entries(this._held)) {
        if (+key.split(':')[2] === z) out.push(...feats);
      }
      return out;
    },

    /* the points to label: those of the loaded point tiles (never clusters) of the map's zoom inside bounds (a
     * LatLngBounds), each alone at its spot (records located to one place share one symbol and get no label, as a
     * marker cluster would), at most max of them: [{key, layer, latlng, properties}] */
    labelPoints(bounds, max = Infinity) {
      const out = [];
      if (!(max > 0) || !this._map) return out;
      /* a point sharing its LABEL_ROOM cell with another symbol has no room for a label: not offered (in a dense
       * view, hundreds of labels would be made only to be hidden) */
      const cells = new Map();
      const cellOf = (latlng) => {
        const p = this._map.latLngToContainerPoint(latlng);
        return `${Math.floor(p.x / LABEL_ROOM)}:${Math.floor(p.y / LABEL_ROOM)}`;
      };
      const alone = [];  // [feature, its cell]
      for (const feats of this._heldIn(bounds)) {
        if (!feats.length || (feats[0].properties || {}).cluster) continue;
        const at = new Map();
        for (const f of feats) {
          if (!f.latlng || f.properties.cluster) continue;
          const spot = `${f.latlng.lat},${f.latlng.lng}`;
          if (at.has(spot)) { at.set(spot, null); continue; }
          const cell = cellOf(f.latlng);
          cells.set(cell, (cells.get(cell) || 0) + 1);
          at.set(spot, [f, cell]);
        }
        for (const held of at.values()) if (held && bounds.contains(held[0].latlng)) alone.push(held);
      }
      for (const [f, cell] of alone) {
        if (cells.get(cell) > 1) continue;
        out.push({ key: `${this.options.layer}:${f.properties.id}`, layer: this.options.layer, latlng: f.latlng,
          properties: f.properties });
        if (out.length >= max) break;
      }
      return out;
    },

    /* the symbols drawn inside bounds (a LatLngBounds) at the map's zoom, one per spot: [{latlng, radius}] (px), for
     * the map's labels to keep clear of */
    symbolsIn(bounds) {
      const out = [];
      for (const feats of this._heldIn(bounds)) {
        const seen = new Set();
        for (const f of feats) {
          const spot = f.latlng && `${f.latlng.lat},${f.latlng.lng}`;
          if (!spot || seen.has(spot) || !bounds.contains(f.latlng)) continue;
          seen.add(spot);
          out.push({ latlng: f.latlng, radius: f.properties.cluster ? clusterRadius(f.properties.count) : 10 });
        }
      }
      return out;
    },

    /* the features of each loaded tile of the map's zoom that meets bounds (tiles kept beyond the view are left out) */
    _heldIn(bounds) {
      const z = this._tileZoom;
      if (!this._map || z == null) return [];
      const size = this.getTileSize();
      const out = [];
      for (const [key, feats] of Object.entries(this._held)) {
        const [x, y, tz] = key.split(':').map(Number);
        if (tz !== z) continue;
        const nw = this._map.unproject(L.point(x * size.x, y * size.y), z);
        const se = this._map.unproject(L.point((x + 1) * size.x, (y + 1) * size.y), z);
        if (bounds.intersects(L.latLngBounds(nw, se))) out.push(feats);
      }
      return out;
    },

    _getVectorTilePromise(coords) {
      const key = this._tileCoordsToKey(coords);
      const size = this.getTileSize();
      const asked = L.point(coords.x, coords.y);  // the server's tile: the map's zoom plus zoomOffset
      asked.z = coords.z + (this.options.zoomOffset || 0);
      return L.VectorGrid.Protobuf.prototype._getVectorTilePromise.call(this, asked).then((tile) => {
        const feats = [];
        for (const name of Object.keys(tile.layers || {})) {
          const layer = tile.layers[name];
          for (let i = 0; i < layer.features.length; i++) {
            const f = layer.features[i];
            const g = f.geometry[0][0];
            const px = L.point(coords.x * size.x + (g.x * size.x) / layer.extent,
              coords.y * size.y + (g.y * size.y) / layer.extent);
            feats.push({ properties: f.properties, latlng: this._map ? this._map.unproject(px, coords.z) : null });
          }
        }
        this._held[key] = feats;
        return tile;
      });
    },

    _onFeatureClick(e) {
      const p = (e.layer && e.layer.properties) || {};
      if (!this._map) return;
      if (p.cluster) {
        const z = Math.min(this._map.getZoom() + 2, this._map.getMaxZoom());
        this._map.setView(e.latlng, z);
        return;
      }
      const hits = (e.layer && e.layer.hits) || [p];
      if (hits.length > 1) {  // points at one spot (records located to the same place): a list to pick from
        const list = document.createElement('ul');
        list.className = 'cm-tile-pick';
        const popup = L.popup({ maxHeight: 260 }).setLatLng(e.latlng);
        for (const h of hits) {
          const item = document.createElement('li');
          const link = document.createElement('a');
          link.href = '#';
          link.dataset.id = String(h.id);
          link.textContent = [h.name_zh, h.name_en].filter(Boolean).join(' · ') || String(h.id);
          link.addEventListener('click', (ev) => { ev.preventDefault(); this._map.closePopup(popup); this._openPoint(h, e.latlng); });
          item.append(link);
          list.append(item);
        }
        popup.setContent(list).openOn(this._map);
        return;
      }
      this._openPoint(p, e.latlng);
    },

    _openPoint(p, latlng) {
      if (typeof this.options.onPoint === 'function') this.options.onPoint(p.id, latlng, p);
      else if (window.CorridorsMap && window.CorridorsMap.openFeature) window.CorridorsMap.openFeature(p.id);
      else {
        const text = [p.name_zh, p.name_en].filter(Boolean).join(' · ') || String(p.id);
        L.popup().setLatLng(latlng).setContent(document.createTextNode(text)).openOn(this._map);
      }
    },

    _onOver(e) {
      const p = (e.layer && e.layer.properties) || {};
      if (!this._map) return;
      this._onOut();
      const text = p.cluster ? `${countText(p.count)}` : [p.name_zh, p.name_en].filter(Boolean).join(' · ');
      if (!text) return;
      this._tip = L.tooltip({ direction: 'top', className: 'cm-tip', offset: [0, -8] })
        .setLatLng(e.latlng).setContent(document.createTextNode(text)).addTo(this._map);
    },

    _onOut() {
      if (this._tip) { this._tip.remove(); this._tip = null; }
    },

    onAdd(map) {
      shown.add(this);
      return L.VectorGrid.Protobuf.prototype.onAdd.call(this, map);
    },

    onRemove(map) {
      shown.delete(this);
      this._onOut();
      return L.VectorGrid.Protobuf.prototype.onRemove.call(this, map);
    },
  });

  L.tilePoints = (base, options) => new L.TilePoints(base, options);
}());
