/* 洛阳都市圈产业走廊地图 · the map's client: clustered layers from the API, filters, buffer queries, labels, popups,
 * language, permalinks. Every value from data reaches the page through textContent (never innerHTML), so a
 * name like <script> shows as text; the only HTML strings are the app's own constants (marker shapes, layer
 * names). Positions are WGS84 (EPSG:4326) throughout.
 *
 * Public API for other modules of the page (a time slider, editing in place), stable:
 *
 *   window.CorridorsMap = {
 *     map,               // the Leaflet map
 *     state(),           // a copy of the page state: {view, layers, filters, query, lang, asOf}
 *     reload(),          // reload every point layer and the counts (a Promise)
 *     onPopup(fn),       // fn(cardElement, feature) after a popup card is built (add buttons to it);
 *                        //   returns a function that unregisters fn
 *     onEdit(fn),        // fn(featureId, feature) when a card's edit button (.cm-edit[data-edit-id]) is pressed;
 *                        //   the buttons are disabled until a handler is registered; returns an unregister function
 *     setAsOf(isoDate),  // 'YYYY-MM-DD' or null: every layer, the counts and the buffer query as the ledger stood
 *                        //   that day (as_of= on /api/layers, /api/near, /api/possible-area); kept in the permalink
 *     setLang(lang),     // 'zh' | 'en' | 'both': the page's language, kept in the permalink (lang=)
 *     openFeature(id),   // open a feature's popup (panning to it)
 *   }
 *
 * window.CorridorMap is the same app's internals (tests and the pages' own wiring use it).
 */
(function () {
  'use strict';

  const CM = (window.CorridorMap = {});
  const FILTER_KEYS = ['corridor', 'status', 'chain_link', 'district', 'q'];
  const LANGS = ['zh', 'en', 'both'];
  const DAY_RE = /^\d{4}-\d{2}-\d{2}$/;
  const has = (obj, key) => obj != null && Object.prototype.hasOwnProperty.call(obj, key);

  /* -- small DOM helpers ------------------------------------------------------------------- */
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v == null || v === false) continue;
      if (k === 'class') node.className = v;
      else if (k === 'dataset') Object.assign(node.dataset, v);
      else if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
      else node.setAttribute(k, v === true ? '' : v);
    }
    for (const child of children.flat()) {
      if (child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(child == null ? '—' : String(child)));
    }
    return node;
  }
  const $ = (sel) => document.querySelector(sel);
  const fmt = (v, unit) => (v == null || v === '' ? '—' : unit ? `${v} ${unit}` : String(v));
  const blank = (v) => v == null || v === '' || (typeof v === 'number' && Number.isNaN(v));
  /* a text in both languages: each in its own span, which the language switch shows or hides; sep between them */
  function bi(zh, en, sep = ' ') {
    const parts = [];
    if (!blank(zh)) parts.push(el('span', { class: 'zh' }, zh));
    if (!blank(zh) && !blank(en) && sep) parts.push(el('span', { class: 'cm-sep' }, sep));
    if (!blank(en)) parts.push(el('span', { class: 'en' }, en));
    return el('span', { class: 'cm-bi' }, parts);
  }
  CM.bi = bi;
  const pairOf = (table, key) => (has(table, key) ? table[key] : null);

  /* distances of a query hit: the interval over where it may lie (nearest rounded down, farthest up, so the
   * text holds the true interval), one figure only for an exact site (min == max) */
  function kmText(v, decimals, how) {
    const step = 10 ** decimals;
    const r = how === 'down' ? Math.floor(v * step + 1e-9) / step
      : how === 'up' ? Math.ceil(v * step - 1e-9) / step : Math.round(v * step) / step;
    return String(+r.toFixed(decimals));
  }
  function intervalKm(lo, hi) {
    if (lo == null || hi == null || lo === hi) return `${kmText(lo == null ? hi : lo, 2)} km`;
    let d = hi >= 10 ? 0 : hi >= 1 ? 1 : 2;
    while (d < 3 && kmText(lo, d, 'down') === kmText(hi, d, 'up')) d += 1;
    return `${kmText(lo, d, 'down')}–${kmText(hi, d, 'up')} km`;
  }
  CM.intervalKm = intervalKm;
  /* "located to 偃师区 (Yanshi District) only" reads "located to 偃师区 only" inside the parentheses of
   * "possibly within (…)"; the full text stays in the row's tooltip */
  function locatedShort(en) {
    const m = /^located to (.+) \(([^()]*)\) only$/.exec(en || '');
    return m ? `located to ${m[1]} only` : String(en || '').replace(/ \(([^()]*)\)/g, ', $1');
  }
  function certaintyText(p) {
    if (p.certainty === 'certain') return 'certain · 确定在范围内';
    return `possibly within (${locatedShort(p.located_to_en)}) · 可能在范围内（${p.located_to_zh || ''}）`;
  }
  CM.certaintyText = certaintyText;
  function certaintyNode(p) {
    if (p.certainty === 'certain') {
      return el('span', { class: 'cm-bi' }, el('span', { class: 'en' }, 'certain'), el('span', { class: 'cm-sep' }, ' · '),
        el('span', { class: 'zh' }, '确定在范围内'));
    }
    return el('span', { class: 'cm-bi' }, el('span', { class: 'en' }, `possibly within (${locatedShort(p.located_to_en)})`),
      el('span', { class: 'cm-sep' }, ' · '), el('span', { class: 'zh' }, `可能在范围内（${p.located_to_zh || ''}）`));
  }

  /* -- state and permalinks ---------------------------------------------------------------- */
  function readState(cfg) {
    const p = new URLSearchParams(window.location.search);
    const num = (k) => (p.has(k) && p.get(k) !== '' && isFinite(+p.get(k)) ? +p.get(k) : null);
    const layers = p.has('layers') ? new Set(p.get('layers').split(',').filter(Boolean))
      : new Set(['districts', 'belts', 'corridors', ...cfg.pointLayers]);
    const filters = {};
    const defaults = cfg.defaultFilters || {};
    for (const k of FILTER_KEYS) filters[k] = p.get(k) || defaults[k] || '';
    const query = num('qr') != null && ((num('qlon') != null && num('qlat') != null) || p.get('qfeature'))
      ? { lon: num('qlon'), lat: num('qlat'), feature: p.get('qfeature') || '', radius_km: num('qr'),
          layer: p.get('qlayer') || 'all', certain_only: p.get('qcertain') === 'true' }
      : null;
    const lang = LANGS.includes(p.get('lang')) ? p.get('lang') : 'both';
    const asOf = DAY_RE.test(p.get('as_of') || '') ? p.get('as_of') : null;
    return { view: { lat: num('lat'), lon: num('lon'), z: num('z') }, layers, filters, query, lang, asOf };
  }

  function permalinkParams(map, state) {
    const p = new URLSearchParams();
    const c = map.getCenter();
    p.set('lat', c.lat.toFixed(5));
    p.set('lon', c.lng.toFixed(5));
    p.set('z', String(map.getZoom()));
    p.set('layers', [...state.layers].sort().join(','));
    for (const k of FILTER_KEYS) if (state.filters[k]) p.set(k, state.filters[k]);
    if (state.query) {
      if (state.query.feature) p.set('qfeature', state.query.feature);
      else { p.set('qlon', state.query.lon.toFixed(6)); p.set('qlat', state.query.lat.toFixed(6)); }
      p.set('qr', String(state.query.radius_km));
      if (state.query.layer && state.query.layer !== 'all') p.set('qlayer', state.query.layer);
      if (state.query.certain_only) p.set('qcertain', 'true');
    }
    if (state.asOf) p.set('as_of', state.asOf);
    if (state.lang && state.lang !== 'both') p.set('lang', state.lang);
    return p;
  }

  function writeState(map, state) {
    const p = permalinkParams(map, state);
    const url = `${window.location.pathname}?${p.toString()}`;
    window.history.replaceState(null, '', url);
    const link = $('#cm-permalink');
    if (link) link.setAttribute('href', url);
    /* data downloads: the buffer query when there is one, else the layer picked (filtered as the map) */
    const picker = $('#cm-data-layer');
    const dataParams = new URLSearchParams(p);
    if (!state.query) dataParams.set('layer', picker ? picker.value : 'projects');
    document.querySelectorAll('[data-export-base]').forEach((a) => {
      const params = a.dataset.dataLink ? dataParams : p;
      a.setAttribute('href', `${a.dataset.exportBase}?${params.toString()}`);
    });
    if (picker) picker.hidden = !!state.query;
    /* charts of the projects shown: the filters and the day only (so panning asks for nothing new) */
    const chartParams = filterParams(state.filters);
    if (state.asOf) chartParams.set('as_of', state.asOf);
    document.querySelectorAll('[data-chart-base]').forEach((node) => {
      const attr = node.tagName === 'IMG' ? 'src' : 'href';
      const url = `${node.dataset.chartBase}?${chartParams.toString()}`;
      if (node.getAttribute(attr) !== url) node.setAttribute(attr, url);
    });
    const what = $('#cm-data-what');
    if (what) {
      what.replaceChildren(state.query ? bi('查询结果', 'the query hits') : bi('筛选后的图层', 'the filtered layer'));
    }
  }

  /* -- fetching ---------------------------------------------------------------------------- */
  async function getJSON(url) {
    const resp = await fetch(url, { headers: { Accept: 'application/json' } });
    const body = await resp.json();
    if (!resp.ok) throw new Error(body.error || `HTTP ${resp.status}`);
    return body;
  }

  function filterParams(filters) {
    const p = new URLSearchParams();
    for (const k of FILTER_KEYS) if (filters[k]) p.set(k, filters[k]);
    return p;
  }

  /* -- markers: the shape by layer (● project, ■ park, ◆ institution) drawn in the icon's own SVG, so Leaflet's
   * positioning (a transform on the icon element) never undoes it; the colour by status; a dark ring for the chain */
  const SHAPES = {
    projects: (r) => `<circle cx="10" cy="10" r="${r}"/>`,
    parks: (r) => `<rect x="${10 - r}" y="${10 - r}" width="${2 * r}" height="${2 * r}" rx="1.5"/>`,
    institutions: (r) => `<path d="M10 ${10 - r * 1.3}L${10 + r * 1.3} 10L10 ${10 + r * 1.3}L${10 - r * 1.3} 10Z"/>`,
  };
  function markerSvg(cfg, layer, status, chain) {
    const shape = SHAPES[layer] || SHAPES.projects;
    const st = has(cfg.statusColors, status) ? status : 'unknown';
    const fill = cfg.statusColors[st];
    const ring = chain ? `<g fill="none" stroke="#222" stroke-width="3">${shape(8)}</g>`
      : `<g fill="none" stroke="#333" stroke-width="1">${shape(7.5)}</g>`;
    return `<svg width="20" height="20" viewBox="0 0 20 20" aria-hidden="true">${ring}`
      + `<g fill="${fill}" stroke="#fff" stroke-width="2">${shape(6)}</g></svg>`;
  }
  CM.markerSvg = markerSvg;
  function isChain(cfg, link) { return !!link && has(cfg.chainLinks, link); }
  function markerIcon(cfg, layer, status, link) {
    const st = has(cfg.statusColors, status) ? status : 'unknown';
    const classes = ['cm-pin', `cm-layer-${layer}`, `cm-st-${st}`];
    if (isChain(cfg, link)) classes.push('cm-chain');
    return L.divIcon({ className: classes.join(' '), html: markerSvg(cfg, layer, st, isChain(cfg, link)),
      iconSize: [20, 20], iconAnchor: [10, 10], popupAnchor: [0, -8], tooltipAnchor: [0, -8] });
  }

  /* provenance: shown as the source's title, kind and date (joined from the register), never a file name */
  function kindLabel(cfg, kind) {
    const k = (cfg.sourceKinds || {})[kind];
    return k ? bi(k[0], k[1]) : fmt(kind);
  }
  function sourceLine(cfg, p) {
    if (!p.source_title_zh) return el('p', { class: 'cm-source' }, bi('出处', 'Source'), ': ', bi('未知', 'unknown'));
    const parts = [el('b', { class: 'cm-source-title' }, p.source_title_zh)];
    if (p.source_title_en) parts.push(' ', el('small', { class: 'en' }, p.source_title_en));
    if (p.source_publisher) parts.push(` · ${p.source_publisher}`);
    parts.push(' · ', el('span', { class: 'cm-source-kind' }, kindLabel(cfg, p.source_kind)));
    parts.push(' · ', el('span', { class: 'cm-source-date' },
      p.source_published_date || bi('无日期', 'undated')));
    const box = el('p', { class: 'cm-source', dataset: { sourceId: p.source_id || '' } }, bi('出处', 'Source'), ': ', parts);
    if (p.source_excerpt) box.append(el('br'), bi('摘录', 'excerpt'), `: “${p.source_excerpt}”`);
    return box;
  }
  CM.sourceLine = sourceLine;

  /* -- the popup card ------------------------------------------------------------------------ */
  const LAYER_KIND = { parks: ['园区', 'park'], projects: ['项目', 'project'], institutions: ['高校与企业', 'institution'],
    corridors: ['产业带', 'corridor'], districts: ['行政区', 'district'] };
  const DETAIL_PAGES = { parks: '/parks/', projects: '/projects/', institutions: '/institutions/', corridors: '/corridors/' };
  /* fields the card shows in words (or never: a file name, the raw codes it names), not repeated under "other fields" */
  const SHOWN = new Set(['id', 'layer', 'name_zh', 'name_en', 'kind', 'status', 'status_note_zh', 'status_note_en',
    'district_code', 'corridor_id', 'park_id', 'parent_park_id', 'partner_district_codes', 'chain_link',
    'chain_link_note', 'industry', 'themes', 'location_precision', 'location_note_zh', 'location_note_en', 'lon', 'lat',
    'address_zh', 'functional_zone_zh', 'reported_date', 'reported_date_text_zh', 'planned_date',
    'planned_milestone_en', 'code', 'city_code', 'city_zh', 'city_en', 'level', 'source_crs', 'work_items_zh',
    'work_items_en', 'cities_zh', 'cities_en', 'plan_year']);

  function placeName(cfg, code) {
    const pair = pairOf(cfg.placeNames, String(code));
    return pair ? bi(pair[0], pair[1]) : String(code);
  }
  function slugWords(cfg, slugs) {
    return String(slugs).split(';').filter(Boolean).map((s) => {
      const pair = pairOf(cfg.industryNames, s);
      return pair ? bi(pair[0], pair[1]) : s.replace(/-/g, ' ');
    });
  }
  function joinNodes(nodes, sep) {
    const out = [];
    nodes.forEach((n, i) => { if (i) out.push(sep); out.push(n); });
    return out;
  }
  function figureValue(cfg, p, col, unitZh, unitEn) {
    const q = pairOf(cfg.qualifiers, p[`${col}_qualifier`]);
    const v = p[col];
    const num = typeof v === 'number' ? String(+v.toFixed(2)) : String(v);
    return el('span', { class: 'cm-fig' }, q ? [el('span', { class: 'zh' }, q[0]), ' ', el('span', { class: 'en' }, q[1]), ' '] : [],
      num, unitZh || unitEn ? ' ' : '', unitZh === unitEn ? unitZh : bi(unitZh, unitEn));
  }

  function cardContent(cfg, feat, ctx) {
    const p = feat.properties || {};
    const layer = p.layer;
    const rows = [];
    const row = (zh, en, value) => rows.push(el('dt', {}, bi(zh, en)), el('dd', {}, value));
    for (const [col, zh, en, uzh, uen] of cfg.figures || []) {
      if (!blank(p[col])) row(zh, en, figureValue(cfg, p, col, uzh, uen));
    }
    for (const [czh, cen, zh, en] of cfg.textPairs || []) {
      if (!blank(p[czh]) || !blank(p[cen])) row(zh, en, bi(p[czh], p[cen], ' · '));
    }
    if (!blank(p.chain_link)) {
      const pair = pairOf(cfg.chainLinks, p.chain_link);
      row('产业链环节', 'chain link', pair ? bi(pair[0], pair[1], ' · ') : p.chain_link);
    }
    if (!blank(p.industry)) row('产业', 'industry', slugWords(cfg, p.industry));
    if (!blank(p.themes)) row('主题', 'themes', joinNodes(slugWords(cfg, p.themes), ', '));
    for (const [col, zh, en] of [['park_id', '所在园区', 'in park'], ['parent_park_id', '所属园区', 'part of']]) {
      if (blank(p[col])) continue;
      const pair = pairOf(cfg.parkNames, p[col]);
      row(zh, en, el('a', { href: `/parks/${encodeURIComponent(p[col])}` }, pair ? bi(pair[0], pair[1], ' · ') : p[col]));
    }
    if (!blank(p.address_zh)) row('地址', 'address', p.address_zh);
    if (!blank(p.functional_zone_zh)) row('功能区', 'functional zone', p.functional_zone_zh);
    if (!blank(p.reported_date) || !blank(p.reported_date_text_zh)) {
      row('报道日期', 'reported', [p.reported_date || '', p.reported_date_text_zh ? ` ${p.reported_date_text_zh}` : '']);
    }
    if (!blank(p.planned_date)) {
      row('计划', 'planned', [p.planned_date, p.planned_milestone_en ? el('span', { class: 'en' }, ` (${p.planned_milestone_en})`) : '']);
    }
    /* where: the district and corridor by name, and how the position was set */
    const place = [];
    if (!blank(p.district_code)) {
      const code = String(p.district_code);
      const d = [placeName(cfg, code)];
      const city = pairOf(cfg.placeNames, String(p.city_code || ''));
      if (city && p.city_code !== code) d.push(' (', bi(city[0], city[1]), ')');
      place.push(el('div', { class: 'cm-card-district' }, el('b', {}, bi('区县', 'district')), ': ', d));
    }
    if (!blank(p.partner_district_codes)) {
      place.push(el('div', {}, el('b', {}, bi('合作区县', 'partner districts')), ': ',
        joinNodes(String(p.partner_district_codes).split(';').filter(Boolean).map((c) => placeName(cfg, c)), ', ')));
    }
    if (!blank(p.corridor_id)) {
      const pair = pairOf(cfg.corridorNames, p.corridor_id);
      place.push(el('div', { class: 'cm-card-corridor' }, el('b', {}, bi('产业带', 'corridor')), ': ',
        pair ? bi(pair[0], pair[1], ' · ') : p.corridor_id, ' ', el('small', {}, bi('（规划点名）', '(named in the plan)'))));
    }
    const prec = pairOf(cfg.precisionLabels, p.location_precision);
    const position = el('div', { class: 'cm-card-position' }, el('b', {}, bi('定位', 'position')), ': ',
      prec ? bi(prec[0], prec[1]) : fmt(p.location_precision));
    if (!blank(p.location_note_zh) || !blank(p.location_note_en)) {
      position.append(el('br'), el('small', {}, bi(p.location_note_zh, p.location_note_en, ' · ')));
    }
    place.push(position, el('div', { class: 'cm-meta cm-located', dataset: { id: p.id } }));
    /* what else the record holds (raw), folded away */
    const other = Object.entries(p).filter(([k, v]) => !SHOWN.has(k) && !k.includes('source') && !k.endsWith('_qualifier')
      && !(cfg.figures || []).some((f) => f[0] === k) && !(cfg.textPairs || []).some((t) => t[0] === k || t[1] === k)
      && !blank(v));
    /* the status, in words and colour; institutions carry none */
    const kind = pairOf(cfg.kindLabels, p.kind);
    const layerKind = LAYER_KIND[layer];
    const head = [layerKind ? bi(layerKind[0], layerKind[1]) : layer || ''];
    if (kind) head.push(' · ', bi(kind[0], kind[1]));
    if (!blank(p.status)) {
      const st = has(cfg.statusLabels, p.status) ? p.status : 'unknown';
      head.push(' · ', el('span', { class: `cm-status cm-status-${st}`, style: `background: ${cfg.statusColors[st]}` },
        bi(cfg.statusLabels[st][0], cfg.statusLabels[st][1])));
    } else if (layer === 'institutions') {
      head.push(' · ', el('small', {}, bi('无状态记录', 'no status recorded')));
    }
    const links = [];
    if (has(DETAIL_PAGES, layer)) {
      links.push(el('a', { class: 'cm-details', href: `${DETAIL_PAGES[layer]}${encodeURIComponent(p.id)}` }, bi('详情', 'details'), ' →'));
    }
    links.push(el('button', { type: 'button', class: 'cm-query-here', onclick: () => ctx.queryAround(p.id) },
      bi('周边查询', 'query around')));
    links.push(ctx.editButton(p, feat));
    return [
      el('h3', {}, el('span', { class: 'zh cm-block' }, p.name_zh), el('small', { class: 'en cm-block' }, p.name_en)),
      el('p', { class: 'cm-kind' }, head),
      blank(p.status_note_zh) && blank(p.status_note_en) ? false
        : el('p', { class: 'cm-card-section cm-status-note' }, bi(p.status_note_zh, p.status_note_en, ' · ')),
      rows.length ? el('dl', { class: 'cm-card-figs' }, rows) : false,
      el('div', { class: 'cm-card-section cm-card-place' }, place),
      sourceLine(cfg, p),
      other.length ? el('details', { class: 'cm-more' }, el('summary', {}, bi('其他字段', 'other fields')),
        el('table', { class: 'cm-props' }, other.map(([k, v]) => el('tr', {}, el('th', {}, k),
          el('td', {}, typeof v === 'object' ? JSON.stringify(v) : String(v)))))) : false,
      el('p', { class: 'cm-card-links' }, links),
    ];
  }

  function rowsToRecords(doc) {
    const f = doc.fields;
    return doc.rows.map((r) => { const o = {}; for (let i = 0; i < f.length; i++) o[f[i]] = r[i]; return o; });
  }

  /* -- the app ------------------------------------------------------------------------------ */
  /* map: the Leaflet map; cfg: webmap.maps.client_config; handles: the page's layers by key (districts, belts,
   * corridors, points: the cluster group, control: the layer switcher), else found by cfg.overlays' names */
  CM.init = function (map, cfg, handles) {
    const state = readState(cfg);
    let labelFrame = null;  // a label placement waiting for the next frame
    const handle = (key) => (handles && handles[key]) || window[cfg.overlays[key]];
    const control = handle('control');
    const points = handle('points');  // one cluster group for every point layer
    const overlays = {};
    for (const key of Object.keys(cfg.overlays)) {
      if (key !== 'control' && key !== 'points' && !key.startsWith('tiles:')) overlays[key] = handle(key);
    }

    /* each point layer is a switch over its markers in the shared cluster group, or (a layer bigger than
     * cfg.bigLayerFeatures after the filters) over its tile layer (tile_points.js: server clusters, exact counts) */
    const PointLayer = L.Layer.extend({
      initialize(key) { this.key = key; this._markers = []; this._tiles = null; },
      onAdd(m) { points.addLayers(this._markers); if (this._tiles) m.addLayer(this._tiles); },
      onRemove(m) { points.removeLayers(this._markers); if (this._tiles) m.removeLayer(this._tiles); },
      setTiles(tiles) {
        if (this._tiles === tiles) return this;
        if (this._tiles && this._map) this._map.removeLayer(this._tiles);
        this._tiles = tiles;
        if (tiles && this._map) this._map.addLayer(tiles);
        return this;
      },
      setMarkers(markers) {
        if (this._map) points.removeLayers(this._markers);
        this._markers = markers;
        if (this._map) points.addLayers(markers);
        return this;
      },
      getLayers() { return this._markers.slice(); },
      eachLayer(fn, ctx) { this._markers.forEach((m) => fn.call(ctx, m)); return this; },
      hasLayer(m) { return this._markers.includes(m); },
      clearLayers() { return this.setMarkers([]); },
      getVisibleParent(m) { return points.getVisibleParent(m); },
      zoomToShowLayer(m, cb) { return points.zoomToShowLayer(m, cb); },
    });
    const clusters = {};
    const tileLayers = {};  // layer -> its TilePoints (made by webmap/maps.py), shown instead of markers when big
    for (const layer of cfg.pointLayers) {
      clusters[layer] = new PointLayer(layer);
      overlays[layer] = clusters[layer];
      tileLayers[layer] = handle(`tiles:${layer}`) || null;
      if (tileLayers[layer]) tileLayers[layer].on('load', () => scheduleLabels());  // its points' labels
    }
    /* the layer switcher's names, bilingual (constants of the app, not data) */
    const nameHtml = (key) => {
      const pair = cfg.layerLabels[key] || [key, key];
      return `<span class="zh">${pair[0]}</span> <span class="en">${pair[1]}</span>`;
    };
    const nameOf = new Map();
    for (const [key, layer] of Object.entries(overlays)) if (layer) nameOf.set(layer, key);
    if (control) {
      for (const item of control._layers || []) {
        const key = nameOf.get(item.layer);
        if (key) item.name = nameHtml(key);
      }
      for (const layer of cfg.pointLayers) control.addOverlay(clusters[layer], nameHtml(layer));
    }
    for (const [key, layer] of Object.entries(overlays)) {
      if (!layer) continue;
      if (state.layers.has(key)) map.addLayer(layer); else map.removeLayer(layer);
    }
    const corridorFeatures = [];  // [{id, kind: corridors|belts, layer, parent}] of the embedded corridor layers
    for (const key of ['corridors', 'belts']) {
      const group = overlays[key];
      if (!group) continue;
      const walk = (parent) => (l) => {
        if (l.feature && l.feature.properties) {
          const id = l.feature.properties.id;
          l._cmBase = { weight: l.options.weight, opacity: l.options.opacity, fillOpacity: l.options.fillOpacity };
          corridorFeatures.push({ id, kind: key, layer: l, parent });
        } else if (l.eachLayer) l.eachLayer(walk(l));
      };
      group.eachLayer(walk(group));
    }

    CM.map = map;
    CM.state = state;
    CM.clusters = clusters;
    CM.points = points;
    CM.tileLayers = tileLayers;
    const tileMode = {};  // layer -> {count, byStatus} while drawn from tiles
    CM.tileMode = tileMode;

    const queryLayer = L.layerGroup().addTo(map);
    CM.queryLayer = queryLayer;
    const counts = {};
    const records = {};  // layer -> records drawn
    const markerById = new Map();
    const editHandlers = [];
    const popupHooks = [];

    /* -- language ------------------------------------------------------------------------ */
    function applyLang() {
      const lang = state.lang;
      document.body.classList.remove(...LANGS.map((l) => `cm-lang-${l}`));
      document.body.classList.add(`cm-lang-${lang}`);
      document.documentElement.setAttribute('lang', lang === 'en' ? 'en' : 'zh');
      document.querySelectorAll('#cm-lang [data-lang]').forEach((b) => b.setAttribute('aria-pressed', String(b.dataset.lang === lang)));
      document.querySelectorAll('option[data-zh]').forEach((o) => {
        const { zh, en } = o.dataset;
        o.textContent = lang === 'zh' ? zh : lang === 'en' ? (en || zh) : (en && en !== zh ? `${zh} · ${en}` : zh);
      });
      scheduleLabels();
    }
    function setLang(lang) {
      if (!LANGS.includes(lang)) throw new Error(`lang must be one of ${LANGS.join(', ')}`);
      state.lang = lang;
      applyLang();
      writeState(map, state);
    }
    CM.setLang = setLang;
    document.querySelectorAll('#cm-lang [data-lang]').forEach((b) => b.addEventListener('click', () => setLang(b.dataset.lang)));

    /* -- the panel: collapsible (collapsed at first on a narrow screen, so the map is not covered) ------- */
    const toggle = $('#cm-panel-toggle');
    function setPanel(open) {
      document.body.classList.toggle('cm-panel-collapsed', !open);
      if (toggle) toggle.setAttribute('aria-expanded', String(open));
      map.invalidateSize({ animate: false });  // keeps the centre where it was
      scheduleLabels();
    }
    CM.setPanel = setPanel;
    if (toggle) toggle.addEventListener('click', () => setPanel(document.body.classList.contains('cm-panel-collapsed')));
    const narrow = !!(window.matchMedia && window.matchMedia('(max-width: 700px)').matches);
    setPanel(!narrow);
    if (narrow && control && control.collapse) {  // on a phone the layer switcher folds into its button
      control.collapse();
      map.on('click', () => control.collapse());
      L.DomEvent.on(control.getContainer(), 'mouseleave', () => control.collapse());
    }

    if (state.view.lat != null && state.view.lon != null && state.view.z != null) {
      map.setView([state.view.lat, state.view.lon], state.view.z, { animate: false });
    } else if (state.filters.corridor && corridorBounds(state.filters.corridor)) {
      map.fitBounds(corridorBounds(state.filters.corridor), { animate: false, padding: [20, 20] });
    } else if (cfg.bounds) {
      map.fitBounds(cfg.bounds, { animate: false });
    }
    /* the view goes into the URL once the map has settled (a history write costs ~5 ms: not on every step of a pan) */
    let viewWrite = null;
    map.on('moveend', () => { clearTimeout(viewWrite); viewWrite = setTimeout(() => writeState(map, state), 150); });
    map.on('overlayadd', (e) => {
      const k = nameOf.get(e.layer);
      if (k) { state.layers.add(k); writeState(map, state); updateLegend(); scheduleLabels(); }
    });
    map.on('overlayremove', (e) => {
      const k = nameOf.get(e.layer);
      if (k) { state.layers.delete(k); writeState(map, state); updateLegend(); scheduleLabels(); }
    });

    /* -- counts, legend -------------------------------------------------------------------- */
    function showCounts() {
      const box = $('#cm-counts');
      if (!box) return;
      box.replaceChildren(...cfg.pointLayers.map((l) => el('span', { class: 'cm-count', dataset: { layer: l } },
        bi(cfg.layerLabels[l][0], cfg.layerLabels[l][1]), ': ', el('b', {}, counts[l] == null ? '…' : counts[l]))));
      const asOf = $('#cm-as-of');
      if (asOf) {
        asOf.hidden = !state.asOf;
        asOf.replaceChildren(...(state.asOf ? [bi('截至', 'as of'), ` ${state.asOf}`] : []));
      }
    }

    /* the legend lists what is drawn: the layers shown, the statuses and the chain ring of the markers drawn,
     * the corridors drawn, the query's marks while there is a query */
    function updateLegend() {
      const legend = $('#cm-legend');
      if (!legend) return;
      const shown = (k) => state.layers.has(k) && map.hasLayer(overlays[k]);
      const drawn = cfg.pointLayers.filter((l) => shown(l) && ((records[l] || []).length || (tileMode[l] && tileMode[l].count)));
      const statuses = new Set();
      let chain = false;
      for (const l of drawn) {
        if (tileMode[l]) {  // drawn from tiles: the statuses and chain links the server counted
          for (const [st, n] of Object.entries(tileMode[l].byStatus)) {
            if (n) statuses.add(has(cfg.statusColors, st) ? st : 'unknown');
          }
          const links = tileMode[l].chainLinks;
          if (!links || Object.entries(links).some(([link, n]) => n && isChain(cfg, link))) chain = true;
          continue;
        }
        for (const r of records[l]) {
          statuses.add(has(cfg.statusColors, r.status) ? r.status : 'unknown');
          if (isChain(cfg, r.chain_link)) chain = true;
        }
      }
      const corridorIds = new Set(corridorFeatures.filter((f) => f.kind === 'corridors' && f.parent.hasLayer(f.layer))
        .map((f) => f.id));
      legend.querySelectorAll('li').forEach((li) => {
        let visible = true;
        const layer = li.dataset.legendLayer;
        if (layer) visible = cfg.pointLayers.includes(layer) ? drawn.includes(layer) : shown(layer);
        if (li.dataset.corridor) visible = visible && corridorIds.has(li.dataset.corridor);
        if (li.dataset.legendStatus) visible = statuses.has(li.dataset.legendStatus);
        if (li.dataset.legend === 'chain') visible = chain;
        if (li.dataset.legend === 'cluster') visible = drawn.length > 0;
        if (li.dataset.legend === 'seats') visible = visible && (cfg.seats || []).length > 0;
        if (li.dataset.legend === 'query') visible = !!state.query;
        if (li.dataset.legend === 'area') visible = areaLayer.getLayers().length > 0;
        li.hidden = !visible;
      });
    }
    CM.updateLegend = updateLegend;
    document.querySelectorAll('.cm-legend-mark').forEach((m) => {
      m.innerHTML = markerSvg(cfg, m.dataset.mark, m.dataset.chain ? 'operating' : 'unknown', !!m.dataset.chain);
    });

    /* -- points -------------------------------------------------------------------------- */
    /* a popup fits the map: as wide as its card allows, no taller than the map, kept clear of the layer switcher
     * (top right) when the map is tall enough */
    function popupSize() {
      const size = map.getSize();
      let top = 16;
      const box = control && control.getContainer && control.getContainer();
      if (box && box.offsetHeight && size.y - box.offsetHeight > 420) top = box.offsetTop + box.offsetHeight + 12;
      return { maxWidth: Math.max(220, Math.min(380, size.x - 60)), minWidth: Math.min(260, Math.max(180, size.x - 80)),
        maxHeight: Math.max(160, size.y - top - 40), autoPanPaddingTopLeft: [16, top],
        autoPanPaddingBottomRight: [16, 16] };
    }
    function makeMarker(layer, rec) {
      rec.layer = layer;
      const m = L.marker([rec.lat, rec.lon], { icon: markerIcon(cfg, layer, rec.status, rec.chain_link),
        title: `${rec.name_zh || ''} ${rec.name_en || ''}`.trim(), keyboard: false });
      m.featureId = rec.id;
      m.rec = rec;
      /* the card is built (afresh) each time the popup opens; set as an element, not a function, so that laying
       * it out again once loaded does not build it again */
      m.bindPopup('', popupSize());
      m.bindTooltip(() => bi(rec.name_zh, rec.name_en, ' · '), { direction: 'top', className: 'cm-tip' });
      m.on('popupopen', () => {
        m.closeTooltip();
        const popup = m.getPopup();
        Object.assign(popup.options, popupSize());
        popup.setContent(popupFor(rec.id, popup));
      });
      m.on('tooltipopen', () => { if (m.isPopupOpen()) m.closeTooltip(); });
      return m;
    }

    /* a layer with more than cfg.bigLayerFeatures features after the filters is drawn from its tiles: asked only
     * when the whole layer (or a day of the time view) may be that big; the answer is the exact count */
    async function bigCount(layer, tileParams) {
      const big = cfg.bigLayerFeatures;
      const tiles = tileLayers[layer];
      if (!big || !tiles) return null;
      if (!state.asOf && cfg.layerTotals && cfg.layerTotals[layer] != null && cfg.layerTotals[layer] <= big) return null;
      tiles.options.params = Object.fromEntries(tileParams);
      const doc = await tiles.count();
      return doc.count > big ? doc : null;
    }

    let loadSeq = 0;
    async function loadPoints() {
      const seq = ++loadSeq;
      const params = filterParams(state.filters);
      if (state.asOf) params.set('as_of', state.asOf);
      const tileParams = new URLSearchParams(params);
      params.set('format', 'compact');
      showError('');
      CM.loading = cfg.pointLayers.length;
      document.body.dataset.loaded = 'false';
      const got = {};
      const gotTiles = {};
      await Promise.all(cfg.pointLayers.map(async (layer) => {
        try {
          const big = await bigCount(layer, tileParams);
          if (big) { gotTiles[layer] = big; return; }
          const doc = await getJSON(`${cfg.api}/layers/${layer}?${params.toString()}`);
          got[layer] = rowsToRecords(doc);
        } catch (err) {
          if (seq === loadSeq) showError(err.message);
        } finally {
          CM.loading -= 1;
        }
      }));
      if (seq !== loadSeq) return;  // a later load was asked for meanwhile
      for (const layer of cfg.pointLayers) {
        if (gotTiles[layer]) {  // drawn from tiles: no markers, the server's exact count
          tileMode[layer] = gotTiles[layer];
          records[layer] = [];
          counts[layer] = gotTiles[layer].count;
          for (const m of clusters[layer].getLayers()) markerById.delete(m.featureId);
          clusters[layer].setMarkers([]);
          tileLayers[layer].setParams(Object.fromEntries(tileParams));
          clusters[layer].setTiles(tileLayers[layer]);
          continue;
        }
        if (!got[layer]) continue;
        delete tileMode[layer];
        clusters[layer].setTiles(null);
        records[layer] = got[layer];
        counts[layer] = got[layer].length;
        for (const m of clusters[layer].getLayers()) markerById.delete(m.featureId);
        const markers = got[layer].map((r) => makeMarker(layer, r));
        markers.forEach((m) => markerById.set(m.featureId, m));
        clusters[layer].setMarkers(markers);
      }
      showCounts();
      updateLegend();
      scheduleLabels();
      document.body.dataset.loaded = 'true';
    }
    CM.reload = () => { featureCache.clear(); return loadPoints(); };

    function showError(message) {
      const box = $('#cm-error');
      if (box) { box.textContent = message; box.hidden = !message; }
    }

    /* -- popups: a card built once the record has loaded, then laid out again (size, pan) --------- */
    /* records by id and day (the time view asks /api/features with as_of); emptied by every reload, so an
     * edit or a new data version shows in the next card */
    const featureCache = new Map();
    function fetchFeature(id) {
      const key = `${id}@${state.asOf || ''}`;
      if (!featureCache.has(key)) {
        const day = state.asOf ? `?as_of=${encodeURIComponent(state.asOf)}` : '';
        featureCache.set(key, getJSON(`${cfg.api}/features/${encodeURIComponent(id)}${day}`).catch((err) => {
          featureCache.delete(key);
          throw err;
        }));
      }
      return featureCache.get(key);
    }
    function editButton(p, feat) {
      return el('button', { type: 'button', class: 'cm-edit', dataset: { editId: p.id, layer: p.layer || '' },
        disabled: editHandlers.length === 0,
        title: editHandlers.length ? '编辑 edit' : '编辑功能尚未启用 editing is not available yet',
        onclick: () => editHandlers.forEach((fn) => fn(p.id, feat)) }, bi('编辑', 'edit'));
    }
    const ctx = {
      queryAround: (id) => runQuery({ feature: id, ...queryInputs() }),
      editButton,
    };
    function popupFor(id, popup) {
      const box = el('div', { class: 'cm-popup', dataset: { id } }, el('p', {}, bi('加载中…', 'loading…')));
      fetchFeature(id).then((feat) => {
        box.replaceChildren(...cardContent(cfg, feat, ctx).filter(Boolean));
        box.dataset.loaded = 'true';
        for (const fn of popupHooks) fn(box, feat);
        if (popup) {
          Object.assign(popup.options, popupSize());
          if (popup.isOpen()) popup.update();  // laid out for its content, and panned into view
        }
        if (!popup || popup.isOpen()) select(feat.properties);
      }).catch((err) => {
        box.replaceChildren(el('p', { class: 'cm-error' }, err.message));
        if (popup && popup.isOpen()) popup.update();
      });
      return box;
    }
    CM.popupFor = popupFor;
    let openPopup = null;
    /* tooltips are hidden while a popup is open (the popups open, not those still fading out after closing) */
    const openPopups = new Set();
    map.on('popupopen', (e) => { openPopup = e.popup; openPopups.add(e.popup); document.body.classList.add('cm-popup-open'); });
    map.on('popupclose', (e) => {
      openPopups.delete(e.popup);
      if (!openPopups.size) document.body.classList.remove('cm-popup-open');
    });

    /* open a feature's popup: its marker when it is drawn (zooming in or spiderfying as needed), else a popup
     * at the given position (a corridor, a district, a feature the filters hide) */
    function openFeature(id, latlng) {
      const m = markerById.get(id);
      if (m && map.hasLayer(clusters[m.rec.layer])) {
        points.zoomToShowLayer(m, () => m.openPopup());
        return;
      }
      const at = latlng || null;
      const show = (where) => {
        const popup = L.popup(popupSize()).setLatLng(where);
        popup.setContent(popupFor(id, popup)).openOn(map);
      };
      if (at) show(at);
      else fetchFeature(id).then((feat) => show(L.geoJSON(feat).getBounds().getCenter())).catch((err) => showError(err.message));
    }
    CM.openFeature = openFeature;

    /* -- labels: district names, county seats, and features from cfg.featureLabelZoom on; a label overlapping
     * one placed before it (districts first, biggest first; then features; then seats) is hidden ------------- */
    const labelLayer = L.layerGroup().addTo(map);
    /* where a seat's or a feature's label may go, tried in turn: right of its point, left, below, above (clear of a
     * cluster's bubble), then further out */
    const LABEL_SPOTS = [8, 22].flatMap((d) => [`translate(${d}px, -50%)`, `translate(calc(-100% - ${d}px), -50%)`,
      `translate(-50%, ${d}px)`, `translate(-50%, calc(-100% - ${d}px))`]);
    /* where each spot puts a label of w x h px whose point is at 0, 0 (the left and top of its box) */
    const SPOT_AT = [8, 22].flatMap((d) => [(w, h) => [d, -h / 2], (w, h) => [-w - d, -h / 2], (w) => [-w / 2, d],
      (w, h) => [-w / 2, -h - d]]);
    const labelMarker = (latlng, cls, content) => L.marker(latlng, { pane: 'cm-labels', interactive: false,
      keyboard: false, icon: L.divIcon({ className: `cm-label ${cls}`, html: el('span', { class: 'cm-label-text' }, content),
        iconSize: [0, 0], iconAnchor: [0, 0] }) });
    const districtLabels = (cfg.districtLabels || []).map((d) => {
      const m = labelMarker([d.lat, d.lon], 'cm-label-district', [el('span', { class: 'zh' }, d.zh), el('small', { class: 'en' }, d.en)]);
      m.labelKey = `district:${d.code}`;
      return m;
    });
    const seatLayer = L.layerGroup();
    const seatLabels = (cfg.seats || []).map((s) => {
      L.marker([s.lat, s.lon], { interactive: true, keyboard: false, zIndexOffset: -1000,
        icon: L.divIcon({ className: 'cm-seat-icon', html: '<span class="cm-seat"></span>', iconSize: [8, 8], iconAnchor: [4, 4] }) })
        .bindTooltip(bi(`${s.zh}驻地`, `${s.en} seat`, ' · '), { direction: 'top', className: 'cm-tip' }).addTo(seatLayer);
      const m = labelMarker([s.lat, s.lon], 'cm-label-seat', [el('span', { class: 'zh' }, `${s.zh}驻地`), el('small', { class: 'en' }, `${s.en} seat`)]);
      m.labelKey = `seat:${s.code}`;
      return m;
    });
    const featureLabels = new Map();
    function featureLabel(m) {
      let label = featureLabels.get(m);
      if (!label) {
        label = labelMarker(m.getLatLng(), 'cm-label-feature',
          [el('span', { class: 'zh' }, m.rec.name_zh || ''), el('small', { class: 'en' }, m.rec.name_en || '')]);
        label.labelKey = `feature:${m.featureId}`;
        featureLabels.set(m, label);
      }
      return label;
    }
    /* labels of the points of a layer drawn from tiles (tile_points.js labelPoints), kept while wanted */
    let tileLabels = new Map();
    function tileLabel(p) {
      const key = `${p.key}@${p.latlng.lat},${p.latlng.lng}`;
      let label = tileLabels.get(key);
      if (!label || label.names !== `${p.properties.name_zh}|${p.properties.name_en}`) {
        label = labelMarker(p.latlng, 'cm-label-feature',
          [el('span', { class: 'zh' }, p.properties.name_zh || ''), el('small', { class: 'en' }, p.properties.name_en || '')]);
        label.labelKey = `feature:${p.properties.id}`;
        label.names = `${p.properties.name_zh}|${p.properties.name_en}`;
      }
      return [key, label];
    }
    function scheduleLabels() {
      if (labelFrame != null) return;
      labelFrame = window.requestAnimationFrame(() => { labelFrame = null; placeLabels(); });
    }
    CM.placeLabels = () => placeLabels();
    function placeLabels() {
      const z = map.getZoom();
      const bounds = map.getBounds().pad(0.1);
      const wanted = [];
      const districtsOn = state.layers.has('districts') && map.hasLayer(overlays.districts);
      if (districtsOn) wanted.push(...districtLabels);
      const keptTileLabels = new Map();
      if (z >= (cfg.featureLabelZoom || 12)) {
        for (const layer of cfg.pointLayers) {
          if (!map.hasLayer(clusters[layer])) continue;
          if (tileMode[layer] && map.hasLayer(tileLayers[layer])) {  // drawn from tiles: the points of those in view
            for (const p of tileLayers[layer].labelPoints(bounds, 600 - wanted.length)) {
              const [key, label] = tileLabel(p);
              keptTileLabels.set(key, label);
              wanted.push(label);
            }
          }
          for (const m of clusters[layer].getLayers()) {
            if (wanted.length > 600) break;
            if (points.getVisibleParent(m) === m && bounds.contains(m.getLatLng())) wanted.push(featureLabel(m));
          }
        }
      }
      tileLabels = keptTileLabels;  // only those wanted now are kept
      if (districtsOn && z >= 10) wanted.push(...seatLabels);
      if (districtsOn) seatLayer.addTo(map); else seatLayer.remove();
      const keep = new Set(wanted);
      labelLayer.eachLayer((l) => { if (!keep.has(l)) labelLayer.removeLayer(l); });
      for (const l of wanted) if (!labelLayer.hasLayer(l)) labelLayer.addLayer(l);
      const box = map.getContainer().getBoundingClientRect();
      /* the map's controls (layer switcher, zoom, scale) cover labels: nothing is placed under them */
      const placed = [...map.getContainer().querySelectorAll('.leaflet-control')].map((c) => c.getBoundingClientRect())
        .filter((r) => r.width > 0);
      /* markers and clusters drawn: a seat's or a feature's label goes beside them, never over them (where they
       * come to rest, read from the cluster group, not from icons that may still be moving) */
      const icons = [];
      const drawnPoints = points._featureGroup || points;
      drawnPoints.eachLayer((l) => {
        if (!l.getLatLng) return;
        const icon = l._iconObj || l.options.icon;  // a cluster's own icon is made when first drawn
        const size = L.point((icon && icon.options && icon.options.iconSize) || [40, 40]);
        const c = map.latLngToContainerPoint(l.getLatLng());
        const left = box.left + c.x - size.x / 2;
        const top = box.top + c.y - size.y / 2;
        if (left < box.right && left + size.x > box.left && top < box.bottom && top + size.y > box.top) {
          icons.push({ left, top, right: left + size.x, bottom: top + size.y });
        }
      });
      for (const layer of cfg.pointLayers) {  // and the symbols of the layers drawn from tiles
        if (!tileMode[layer] || !map.hasLayer(tileLayers[layer])) continue;
        for (const { latlng, radius } of tileLayers[layer].symbolsIn(map.getBounds())) {
          const c = map.latLngToContainerPoint(latlng);
          icons.push({ left: box.left + c.x - radius, top: box.top + c.y - radius, right: box.left + c.x + radius,
            bottom: box.top + c.y + radius });
        }
      }
      /* the icons by cells of 64 px: a label is tested against those of the cells it covers (thousands of points) */
      const cells = new Map();
      const cellKeys = (r, gap) => {
        const keys = [];
        for (let cx = Math.floor((r.left - gap) / 64); cx <= Math.floor((r.right + gap) / 64); cx++) {
          for (let cy = Math.floor((r.top - gap) / 64); cy <= Math.floor((r.bottom + gap) / 64); cy++) keys.push(`${cx}:${cy}`);
        }
        return keys;
      };
      for (const o of icons) for (const k of cellKeys(o, 0)) (cells.get(k) || cells.set(k, []).get(k)).push(o);
      const overlaps = (r, o, gap) => r.left < o.right + gap && r.right + gap > o.left && r.top < o.bottom + gap
        && r.bottom + gap > o.top;
      const overIcon = (r) => cellKeys(r, 1).some((k) => (cells.get(k) || []).some((o) => overlaps(r, o, 1)));
      const fits = (r, avoidIcons) => r.left >= box.left && r.right <= box.right && r.top >= box.top && r.bottom <= box.bottom
        && !placed.some((o) => overlaps(r, o, 2)) && !(avoidIcons && overIcon(r));
      /* every label's box read at once, centred on its point (one layout, not one per label and spot: hundreds of
       * labels of points drawn from tiles), then each spot's box computed from it */
      const nodes = [];
      for (const l of wanted) {
        const node = l.getElement();
        if (!node) continue;
        const text = node.querySelector('.cm-label-text');
        node.classList.remove('cm-label-hidden');
        text.style.transform = '';  // the stylesheet's: translate(-50%, -50%)
        nodes.push([node, text]);
      }
      const centredBoxes = nodes.map(([, text]) => text.getBoundingClientRect());
      nodes.forEach(([node, text], i) => {
        const c = centredBoxes[i];
        const [w, h, x, y] = [c.width, c.height, c.left + c.width / 2, c.top + c.height / 2];
        const centred = node.classList.contains('cm-label-district');
        let found = null;
        for (let k = 0; k < (centred ? 1 : LABEL_SPOTS.length); k++) {
          const [dx, dy] = centred ? [-w / 2, -h / 2] : SPOT_AT[k](w, h);
          const r = { left: x + dx, top: y + dy, right: x + dx + w, bottom: y + dy + h };
          if (fits(r, !centred)) { found = r; text.style.transform = centred ? '' : LABEL_SPOTS[k]; break; }
        }
        if (found) placed.push(found); else node.classList.add('cm-label-hidden');
      });
    }
    map.on('zoomend moveend resize', scheduleLabels);
    points.on('animationend spiderfied unspiderfied', scheduleLabels);

    /* -- corridor filter: the chosen corridor's axis and belt stand out, and the map goes to it ---------- */
    function corridorBounds(id) {
      const parts = corridorFeatures.filter((f) => f.id === id);
      if (!parts.length) return null;
      const b = L.latLngBounds([]);
      parts.forEach((f) => b.extend(f.layer.getBounds()));
      return b.isValid() ? b : null;
    }
    function highlightCorridor(id) {
      for (const f of corridorFeatures) {
        const base = f.layer._cmBase;
        const chosen = !!id && f.id === id;
        const style = !id ? base : f.kind === 'corridors'
          ? { weight: chosen ? 9 : 3, opacity: chosen ? 1 : 0.35 }
          : { weight: chosen ? 2.5 : 1, opacity: chosen ? 0.9 : 0.3, fillOpacity: chosen ? 0.24 : 0.04 };
        f.layer.setStyle(style);
        const path = f.layer.getElement && f.layer.getElement();
        if (path) {
          path.setAttribute('data-corridor', String(f.id));
          path.classList.toggle('cm-corridor-chosen', chosen);
        }
        if (chosen && f.kind === 'corridors' && f.layer.bringToFront && map.hasLayer(f.layer)) f.layer.bringToFront();
      }
    }
    CM.highlightCorridor = highlightCorridor;

    /* -- filters ------------------------------------------------------------------------ */
    const form = $('#cm-filters');
    if (form) {
      for (const k of FILTER_KEYS) {
        const input = form.elements[k];
        if (!input) continue;
        input.value = state.filters[k];
        const onChange = () => {
          state.filters[k] = input.value.trim();
          if (k === 'corridor') {
            highlightCorridor(state.filters.corridor);
            const b = state.filters.corridor && corridorBounds(state.filters.corridor);
            if (b) map.fitBounds(b, { padding: [20, 20] });
          }
          writeState(map, state); loadPoints();
        };
        if (k === 'q') {
          let timer = null;
          input.addEventListener('input', () => { clearTimeout(timer); timer = setTimeout(onChange, 300); });
        } else input.addEventListener('change', onChange);
      }
      form.addEventListener('submit', (e) => e.preventDefault());
      form.addEventListener('reset', () => setTimeout(() => {
        for (const k of FILTER_KEYS) state.filters[k] = '';
        highlightCorridor('');
        writeState(map, state); loadPoints();
      }, 0));
    }
    const picker = $('#cm-data-layer');
    if (picker) picker.addEventListener('change', () => writeState(map, state));

    /* -- buffer queries: certain hits (all of where they may lie is within the radius) solid, possible ones
     * hollow (outline only, in the same colour of their layer); each listed with its distance interval ---- */
    const qform = $('#cm-query');
    function queryInputs() {
      return { radius_km: qform ? +qform.elements.radius_km.value : 10,
               layer: qform ? qform.elements.qlayer.value : 'all',
               certain_only: qform && qform.elements.certain_only ? qform.elements.certain_only.checked : false };
    }
    CM.queryInputs = queryInputs;
    function nearParams(q) {
      const p = new URLSearchParams({ radius_km: String(q.radius_km) });
      if (q.feature) p.set('feature', q.feature); else { p.set('lon', String(q.lon)); p.set('lat', String(q.lat)); }
      if (q.layer && q.layer !== 'all') p.set('layer', q.layer);
      if (q.certain_only) p.set('certain_only', 'true');
      if (state.asOf) p.set('as_of', state.asOf);
      return p;
    }
    let querySeq = 0;
    async function runQuery(q) {
      const seq = ++querySeq;
      const box = $('#cm-results');
      try {
        const doc = await getJSON(`${cfg.api}/near?${nearParams(q).toString()}`);
        if (seq !== querySeq) return;  // a later query has been asked meanwhile
        state.query = q;
        writeState(map, state);
        drawQuery(doc, q);
        updateLegend();
      } catch (err) {
        if (seq === querySeq && box) box.replaceChildren(el('p', { class: 'cm-error' }, err.message));
      }
    }
    CM.runQuery = runQuery;

    /* a feature's name, for the heading of a query around it: from the page's catalogues, else the API */
    const nameCache = new Map();
    async function featureName(id) {
      const known = pairOf(cfg.corridorNames, id) || pairOf(cfg.parkNames, id) || pairOf(cfg.placeNames, id);
      if (known) return known;
      const m = markerById.get(id);
      if (m) return [m.rec.name_zh, m.rec.name_en];
      if (!nameCache.has(id)) nameCache.set(id, fetchFeature(id).then((f) => [f.properties.name_zh, f.properties.name_en]));
      return nameCache.get(id);
    }

    const layerColor = (layer) => (has(cfg.layerColors, layer) ? cfg.layerColors[layer] : '#c00000');
    const hitLatLng = (f) => {
      if (!f.geometry) return null;
      if (f.geometry.type === 'Point') return L.latLng(f.geometry.coordinates[1], f.geometry.coordinates[0]);
      const b = L.geoJSON(f).getBounds();
      return b.isValid() ? b.getCenter() : null;
    };

    function drawQuery(doc, q) {
      queryLayer.clearLayers();
      L.geoJSON(doc.buffer, { style: { color: cfg.queryColor, weight: 2, dashArray: '6 4', fill: true, fillOpacity: 0.05 },
        interactive: false }).addTo(queryLayer);
      if (!q.feature) L.circleMarker([q.lat, q.lon], { radius: 5, color: cfg.queryColor, fillOpacity: 1 }).addTo(queryLayer);
      doc.features.forEach((f, i) => {
        const p = f.properties;
        if (!f.geometry || f.geometry.type !== 'Point') return;
        const [lon, lat] = f.geometry.coordinates;
        const certain = p.certainty !== 'possible';
        const color = layerColor(p.layer);
        const hit = L.circleMarker([lat, lon], { radius: 9, color, weight: certain ? 2 : 2.5, fill: certain,
          fillColor: color, fillOpacity: certain ? 0.5 : 0, bubblingMouseEvents: false,
          className: `cm-hit cm-hit-${certain ? 'certain' : 'possible'}` })
          .bindTooltip(el('span', {}, `${i + 1}. `, bi(p.name_zh, p.name_en, ' · '), el('br'), certaintyNode(p), ' · ',
            intervalKm(p.distance_min_km, p.distance_max_km)), { className: 'cm-tip' })
          .on('click', () => { select(p); openFeature(p.id, L.latLng(lat, lon)); })
          .addTo(queryLayer);
        const path = hit.getElement && hit.getElement();
        if (path) { path.setAttribute('data-id', String(p.id)); path.setAttribute('data-layer', String(p.layer)); }
      });
      const box = $('#cm-results');
      if (!box) return;
      const s = doc.summary;
      const by = Object.entries(s.by_layer).map(([k, v]) => el('span', {},
        cfg.layerLabels[k] ? bi(cfg.layerLabels[k][0], cfg.layerLabels[k][1]) : k, `: ${v}`));
      const whereName = el('b', { class: 'cm-query-where', dataset: { feature: q.feature || '' } },
        q.feature ? q.feature : `${q.lon.toFixed(4)}, ${q.lat.toFixed(4)} (WGS84)`);
      if (q.feature) {
        featureName(q.feature).then((pair) => whereName.replaceChildren(bi(pair[0], pair[1], ' · ')))
          .catch(() => { /* the id stays */ });
      }
      const rows = doc.features.map((f) => {
        const p = f.properties;
        const certain = p.certainty !== 'possible';
        const color = layerColor(p.layer);
        const lyr = cfg.layerLabels[p.layer];
        return el('li', { class: `cm-hit-row cm-${certain ? 'certain' : 'possible'}`, tabindex: '0',
          dataset: { id: p.id, certainty: p.certainty || '' },
          title: `${p.located_to_zh || ''} · ${p.located_to_en || ''} · 到所绘点 to the point drawn: ${fmt(p.distance_km, 'km')}`,
          onclick: () => { select(p); openFeature(p.id, hitLatLng(f)); },
          onkeydown: (e) => { if (e.key === 'Enter') { select(p); openFeature(p.id, hitLatLng(f)); } } },
        el('span', { class: `cm-mark cm-mark-${certain ? 'certain' : 'possible'}`,
          style: `border-color: ${color}; background: ${certain ? color : 'transparent'}` }), ' ',
        el('span', { class: 'cm-dist' }, intervalKm(p.distance_min_km, p.distance_max_km)), ' ',
        el('span', { class: 'cm-lyr' }, lyr ? bi(lyr[0], lyr[1]) : p.layer), ' ', bi(p.name_zh, p.name_en, ' · '), el('br'),
        el('span', { class: 'cm-certainty' }, certaintyNode(p)));
      });
      box.replaceChildren(
        el('p', { class: 'cm-meta cm-query-head' }, el('span', { class: 'zh' }, `${q.radius_km} km 内`), ' ',
          el('span', { class: 'en' }, `within ${q.radius_km} km of`), ' ', whereName, ': ',
          el('b', { id: 'cm-hit-count' }, s.feature_count), ' ', bi('个要素', 'features')),
        el('p', { class: 'cm-meta', id: 'cm-certainty-counts' },
          el('span', { class: 'cm-mark cm-mark-certain' }), ' ', bi('确定', 'certain'), ': ', el('b', { id: 'cm-certain-count' }, s.certain),
          ' · ', el('span', { class: 'cm-mark cm-mark-possible' }), ' ', bi('可能', 'possible'), ': ',
          el('b', { id: 'cm-possible-count' }, s.possible), q.certain_only ? [' ', bi('（仅确定）', '(certain only)')] : ''),
        el('p', { class: 'cm-meta' }, by.length ? joinNodes(by, ' · ') : '—'),
        el('p', { class: 'cm-meta' }, bi('投资', 'investment'), ': ',
          s.investment_cny_100m == null ? bi('未知', 'unknown')
            : [s.investment_cny_100m_qualifier ? [bi('约', 'about'), ' '] : '', `${s.investment_cny_100m} 亿元`],
          ' (', bi(`${s.projects_with_investment} 个有数据`, `${s.projects_with_investment} with a figure`), ', ',
          bi(`${s.projects_without_investment} 个无`, `${s.projects_without_investment} without`), ')'),
        el('ol', { class: 'cm-hits' }, rows),
        el('p', {}, el('a', { href: `${cfg.api}/near?${nearParams(q).toString()}` }, 'GeoJSON')),
      );
      markSelected();
    }

    /* selecting a feature (its marker's popup, a hit, a row of the list): a stand-in (not located to its
     * site) shows where it may lie, its possible area, as a dashed outline; one at a time */
    const areaLayer = L.layerGroup().addTo(map);
    CM.areaLayer = areaLayer;
    CM.selected = null;
    let selectSeq = 0;
    function markSelected() {
      document.querySelectorAll('#cm-results li').forEach((li) => {
        li.classList.toggle('cm-selected', CM.selected != null && li.dataset.id === String(CM.selected));
      });
    }
    function showSelection(children) {
      const note = $('#cm-selection');
      if (!note) return;
      note.replaceChildren(...children);
      note.hidden = children.length === 0;
    }
    function clearSelection() {
      selectSeq += 1;
      areaLayer.clearLayers();
      CM.selected = null;
      markSelected();
      showSelection([]);
      updateLegend();
    }
    CM.clearSelection = clearSelection;
    async function select(p) {
      if (CM.selected != null && CM.selected === p.id) return;  // already selected (its area drawn or on its way)
      clearSelection();
      const seq = selectSeq;
      CM.selected = p.id;
      markSelected();
      if (!p.location_precision || p.location_precision === 'site' || !cfg.pointLayers.includes(p.layer)) return;
      try {
        const params = new URLSearchParams({ feature: p.id });
        if (state.asOf) params.set('as_of', state.asOf);
        const area = await getJSON(`${cfg.api}/possible-area?${params.toString()}`);
        if (seq !== selectSeq) return;  // another feature was selected meanwhile
        const a = area.properties || {};
        L.geoJSON(area, { interactive: false, style: { color: cfg.possibleAreaColor || '#e6550d', weight: 2,
          dashArray: '6 5', fill: true, fillOpacity: 0.06, className: 'cm-possible-area' } }).addTo(areaLayer);
        areaLayer.eachLayer((g) => g.eachLayer && g.eachLayer((l) => {
          const path = l.getElement && l.getElement();
          if (path) path.setAttribute('data-id', String(p.id));
        }));
        const text = () => [bi('可能位置', 'possible area'), ': ', bi(a.located_to_zh, a.located_to_en, ' · ')];
        showSelection([el('span', { class: 'cm-area-swatch' }), ' ', bi(a.name_zh, a.name_en, ' · '), el('br'), ...text()]);
        let grown = false;
        document.querySelectorAll('.cm-located').forEach((n) => {
          if (n.dataset.id === String(p.id)) { n.replaceChildren(...text()); grown = true; }
        });
        if (grown && openPopup && openPopup.isOpen()) openPopup.update();  // the card grew: lay it out again
        updateLegend();
      } catch (err) {
        if (seq === selectSeq) showError(err.message);
      }
    }
    CM.select = select;

    if (qform) {
      qform.addEventListener('submit', (e) => {
        e.preventDefault();
        const feature = qform.elements.feature.value;
        if (feature) runQuery({ feature, ...queryInputs() });
      });
      const clear = qform.querySelector('[name=clear]');
      if (clear) clear.addEventListener('click', () => {
        querySeq += 1;
        state.query = null; queryLayer.clearLayers(); clearSelection(); writeState(map, state);
        const box = $('#cm-results'); if (box) box.replaceChildren();
        updateLegend();
      });
      const certainOnly = qform.elements.certain_only;
      if (certainOnly) certainOnly.addEventListener('change', () => {
        if (state.query) runQuery({ ...state.query, certain_only: certainOnly.checked });
      });
      if (state.query) {
        qform.elements.radius_km.value = state.query.radius_km;
        qform.elements.qlayer.value = state.query.layer || 'all';
        if (state.query.feature) qform.elements.feature.value = state.query.feature;
        if (certainOnly) certainOnly.checked = !!state.query.certain_only;
      }
    }
    map.on('click', (e) => {
      const clickMode = qform ? qform.elements.click.checked : true;
      if (!clickMode) return;
      runQuery({ lon: e.latlng.lng, lat: e.latlng.lat, ...queryInputs() });
    });

    /* -- time: the ledger as it stood on a day ------------------------------------------- */
    /* the time view: an axis and belt whose corridor the ledger did not hold that day are taken off the map (and
     * put back for a later day or today); the districts have no history */
    let daySeq = 0;
    async function corridorsOfDay(day) {
      const seq = ++daySeq;
      let ids = null;
      if (day) {
        try {
          const doc = await getJSON(`${cfg.api}/layers/corridors?format=json&as_of=${encodeURIComponent(day)}`);
          ids = new Set((doc.features || []).map((r) => r.id));
        } catch (err) {
          if (seq === daySeq) showError(err.message);
          return;
        }
      }
      if (seq !== daySeq) return;  // a later day was asked for meanwhile
      for (const f of corridorFeatures) {
        const keep = !ids || ids.has(f.id);
        if (keep && !f.parent.hasLayer(f.layer)) f.parent.addLayer(f.layer);
        else if (!keep && f.parent.hasLayer(f.layer)) {
          if (f.layer.closeTooltip) f.layer.closeTooltip();
          f.parent.removeLayer(f.layer);
        }
      }
      highlightCorridor(state.filters.corridor);
      updateLegend();
    }

    function setAsOf(day) {
      if (day != null && !DAY_RE.test(String(day))) throw new Error('as_of must be YYYY-MM-DD or null');
      state.asOf = day == null ? null : String(day);
      writeState(map, state);
      showCounts();
      const jobs = [loadPoints(), corridorsOfDay(state.asOf)];
      if (state.query) jobs.push(runQuery(state.query));
      return Promise.all(jobs).then(() => undefined);
    }
    CM.setAsOf = setAsOf;

    /* -- the public API ------------------------------------------------------------------ */
    const snapshot = () => ({
      view: { lat: map.getCenter().lat, lon: map.getCenter().lng, z: map.getZoom() },
      layers: [...state.layers].sort(), filters: { ...state.filters }, query: state.query ? { ...state.query } : null,
      lang: state.lang, asOf: state.asOf,
    });
    const unregister = (list, fn) => () => { const i = list.indexOf(fn); if (i >= 0) list.splice(i, 1); };
    window.CorridorsMap = {
      map,
      state: snapshot,
      reload: () => CM.reload(),
      onPopup(fn) {
        if (typeof fn !== 'function') throw new TypeError('onPopup takes a function(cardElement, feature)');
        popupHooks.push(fn);
        return unregister(popupHooks, fn);
      },
      onEdit(fn) {
        if (typeof fn !== 'function') throw new TypeError('onEdit takes a function(featureId, feature)');
        editHandlers.push(fn);
        document.querySelectorAll('.cm-edit').forEach((b) => { b.disabled = false; b.title = '编辑 edit'; });
        return unregister(editHandlers, fn);
      },
      setAsOf,
      setLang,
      openFeature: (id) => openFeature(id),
    };

    highlightCorridor(state.filters.corridor);
    applyLang();
    writeState(map, state);
    showCounts();
    updateLegend();
    loadPoints();
    if (state.asOf) corridorsOfDay(state.asOf);
    if (state.query) runQuery(state.query);
  };
}());
