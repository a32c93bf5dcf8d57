/* 洛阳都市圈产业走廊地图 · the map's client: clustered layers from the API, filters, buffer queries,
 * permalinks. Every value from data reaches the page through textContent (never innerHTML), so a
 * name like <script> shows as text. Positions are WGS84 (EPSG:4326) throughout. */
(function () {
  'use strict';

  const CM = (window.CorridorMap = {});
  const FILTER_KEYS = ['corridor', 'status', 'chain_link', 'district', 'q'];

  /* -- small DOM helpers ------------------------------------------------------------------- */
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === 'class') node.className = v;
      else if (k === 'dataset') Object.assign(node.dataset, v);
      else if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
      else node.setAttribute(k, v);
    }
    for (const child of children.flat()) {
      node.append(child instanceof Node ? child : document.createTextNode(child == null ? '—' : String(child)));
    }
    return node;
  }
  const $ = (sel) => document.querySelector(sel);
  const fmt = (v, unit) => (v == null || v === '' ? '—' : unit ? `${v} ${unit}` : String(v));

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
    return { view: { lat: num('lat'), lon: num('lon'), z: num('z') }, layers, filters, query };
  }

  function writeState(map, state) {
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
    const url = `${window.location.pathname}?${p.toString()}`;
    window.history.replaceState(null, '', url);
    const link = $('#cm-permalink');
    if (link) link.setAttribute('href', url);
    document.querySelectorAll('[data-export-base]').forEach((a) => {
      a.setAttribute('href', `${a.dataset.exportBase}?${p.toString()}`);
    });
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

  /* -- markers ----------------------------------------------------------------------------- */
  function markerIcon(cfg, layer, status, link) {
    const st = Object.prototype.hasOwnProperty.call(cfg.statusColors, status) ? status : 'unknown';
    const classes = ['cm-pin', `cm-layer-${layer}`, `cm-st-${st}`];
    if (link && Object.prototype.hasOwnProperty.call(cfg.chainLinks, link)) classes.push('cm-chain');
    return L.divIcon({ className: classes.join(' '), html: '', iconSize: [14, 14], iconAnchor: [7, 7] });
  }

  /* units follow from the column names (investment_cny_100m is 亿元, capacity_gwh is GWh, …) */
  const UNITS = [['_cny_100m_per_yr', '亿元/年'], ['_cny_100m', '亿元'], ['_gwh', 'GWh/年'], ['_kt_per_yr', '千吨/年 kt/yr'],
    ['_km2', 'km²'], ['_km', 'km']];
  function withUnit(key, value) {
    if (typeof value !== 'number') return typeof value === 'object' ? JSON.stringify(value) : value;
    const unit = UNITS.find(([suffix]) => key.endsWith(suffix));
    return unit ? `${value} ${unit[1]}` : value;
  }

  /* provenance: shown as the source's title, kind and date (joined from the register), never a file name */
  const SOURCE_KEYS = ['source', 'source_id', 'source_excerpt', 'source_title_zh', 'source_title_en', 'source_kind',
    'source_published_date', 'source_publisher'];
  function kindLabel(cfg, kind) {
    const k = (cfg.sourceKinds || {})[kind];
    return k ? `${k[0]} ${k[1]}` : fmt(kind);
  }
  function sourceLine(cfg, p) {
    if (!p.source_title_zh) return el('p', { class: 'cm-source' }, '出处 Source: 未知 unknown');
    const parts = [el('b', { class: 'cm-source-title' }, p.source_title_zh)];
    if (p.source_title_en) parts.push(' ', el('small', {}, p.source_title_en));
    if (p.source_publisher) parts.push(` · ${p.source_publisher}`);
    parts.push(' · ', el('span', { class: 'cm-source-kind' }, kindLabel(cfg, p.source_kind)));
    parts.push(' · ', el('span', { class: 'cm-source-date' }, p.source_published_date || '无日期 undated'));
    const box = el('p', { class: 'cm-source', dataset: { sourceId: p.source_id || '' } }, '出处 Source: ', parts);
    if (p.source_excerpt) box.append(el('br'), `摘录 excerpt: “${p.source_excerpt}”`);
    return box;
  }
  CM.sourceLine = sourceLine;

  /* a qualified figure (约 about, 近 nearly, 逾 more than, …) is never shown as an exact number */
  function qualified(cfg, props, key, text) {
    const q = (cfg.qualifiers || {})[props[`${key}_qualifier`]];
    return q ? `${q[0]} ${q[1]} ${text}` : text;
  }

  function featureTable(cfg, props) {
    const skip = new Set(['geometry', ...SOURCE_KEYS]);
    const rows = Object.entries(props).filter(([k, v]) => !skip.has(k) && !k.endsWith('_qualifier')
      && v !== null && v !== '');
    return el('table', { class: 'cm-props' },
      rows.map(([k, v]) => el('tr', {}, el('th', {}, k), el('td', {}, qualified(cfg, props, k, withUnit(k, v))))));
  }

  function popupFor(cfg, id) {
    const box = el('div', { class: 'cm-popup' }, el('p', {}, '加载中 loading…'));
    getJSON(`${cfg.api}/features/${encodeURIComponent(id)}`).then((feat) => {
      const p = feat.properties;
      const st = cfg.statusLabels[p.status];
      if (CM.select) CM.select(p);
      box.replaceChildren(
        el('h3', {}, p.name_zh, el('br'), el('small', {}, p.name_en)),
        el('p', { class: 'cm-meta' },
          st ? `${st[0]} ${st[1]} · ` : '', `定位精度 precision: ${fmt(p.location_precision)}`),
        el('p', { class: 'cm-meta cm-located', dataset: { id: p.id } }),
        featureTable(cfg, p),
        sourceLine(cfg, p),
        el('p', {}, el('a', { href: `/${p.layer}/${encodeURIComponent(p.id)}` }, '详情 details →'), ' ',
          el('button', { type: 'button', class: 'cm-query-here',
            onclick: () => CM.runQuery({ feature: p.id, ...CM.queryInputs() }) }, '周边查询 query around')),
      );
    }).catch((err) => box.replaceChildren(el('p', { class: 'cm-error' }, err.message)));
    return box;
  }

  function makeMarker(cfg, layer, rec) {
    const m = L.marker([rec.lat, rec.lon], { icon: markerIcon(cfg, layer, rec.status, rec.chain_link),
      title: `${rec.name_zh || ''} ${rec.name_en || ''}`.trim(), keyboard: false });
    m.featureId = rec.id;
    m.bindTooltip(() => el('span', {}, rec.name_zh, ' · ', rec.name_en), { direction: 'top' });
    m.bindPopup(() => popupFor(cfg, rec.id), { maxWidth: 420 });
    return m;
  }

  function rowsToRecords(doc) {
    const f = doc.fields;
    return doc.rows.map((r) => { const o = {}; for (let i = 0; i < f.length; i++) o[f[i]] = r[i]; return o; });
  }

  /* -- the app ------------------------------------------------------------------------------ */
  CM.init = function (map, cfg) {
    const state = readState(cfg);
    const overlays = {};
    for (const [key, name] of Object.entries(cfg.overlays)) if (key !== 'control') overlays[key] = window[name];
    const clusters = {};
    for (const layer of cfg.pointLayers) clusters[layer] = overlays[layer];
    const nameOf = new Map();
    for (const [key, layer] of Object.entries(overlays)) if (layer) nameOf.set(layer, key);
    for (const [key, layer] of Object.entries(overlays)) {
      if (!layer) continue;
      if (state.layers.has(key)) map.addLayer(layer); else map.removeLayer(layer);
    }
    map.on('overlayadd', (e) => { const k = nameOf.get(e.layer); if (k) { state.layers.add(k); writeState(map, state); } });
    map.on('overlayremove', (e) => { const k = nameOf.get(e.layer); if (k) { state.layers.delete(k); writeState(map, state); } });
    if (state.view.lat != null && state.view.lon != null && state.view.z != null) {
      map.setView([state.view.lat, state.view.lon], state.view.z, { animate: false });
    } else if (cfg.bounds) {
      map.fitBounds(cfg.bounds, { animate: false });
    }
    map.on('moveend', () => writeState(map, state));
    CM.map = map;
    CM.state = state;
    CM.clusters = clusters;

    const queryLayer = L.layerGroup().addTo(map);
    CM.queryLayer = queryLayer;
    const counts = {};

    function showCounts() {
      const box = $('#cm-counts');
      if (!box) return;
      box.replaceChildren(...cfg.pointLayers.map((l) => el('span', { class: 'cm-count', dataset: { layer: l } },
        `${cfg.layerLabels[l][0]} ${cfg.layerLabels[l][1]}: `, el('b', {}, counts[l] == null ? '…' : counts[l]))));
    }

    async function loadPoints() {
      const params = filterParams(state.filters);
      params.set('format', 'compact');
      showError('');
      CM.loading = cfg.pointLayers.length;
      await Promise.all(cfg.pointLayers.map(async (layer) => {
        try {
          const doc = await getJSON(`${cfg.api}/layers/${layer}?${params.toString()}`);
          const recs = rowsToRecords(doc);
          counts[layer] = recs.length;
          clusters[layer].clearLayers();
          clusters[layer].addLayers(recs.map((r) => makeMarker(cfg, layer, r)));
        } catch (err) {
          showError(err.message);
        } finally {
          CM.loading -= 1;
        }
      }));
      showCounts();
      document.body.dataset.loaded = 'true';
    }
    CM.reload = loadPoints;

    function showError(message) {
      const box = $('#cm-error');
      if (box) { box.textContent = message; box.hidden = !message; }
    }

    /* filters */
    const form = $('#cm-filters');
    if (form) {
      for (const k of FILTER_KEYS) {
        const input = form.elements[k];
        if (!input) continue;
        input.value = state.filters[k];
        const onChange = () => { state.filters[k] = input.value.trim(); writeState(map, state); loadPoints(); };
        if (k === 'q') {
          let timer = null;
          input.addEventListener('input', () => { clearTimeout(timer); timer = setTimeout(onChange, 300); });
        } else input.addEventListener('change', onChange);
      }
      form.addEventListener('submit', (e) => e.preventDefault());
      form.addEventListener('reset', () => setTimeout(() => {
        for (const k of FILTER_KEYS) state.filters[k] = '';
        writeState(map, state); loadPoints();
      }, 0));
    }

    /* buffer queries: certain hits (all of where they may lie is within the radius) solid, possible ones
     * hollow (outline only, in the same colour of their layer); each listed with its distance interval */
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
      } catch (err) {
        if (seq === querySeq && box) box.replaceChildren(el('p', { class: 'cm-error' }, err.message));
      }
    }
    CM.runQuery = runQuery;

    const layerColor = (layer) => (Object.prototype.hasOwnProperty.call(cfg.layerColors || {}, layer)
      ? cfg.layerColors[layer] : '#c00000');

    function drawQuery(doc, q) {
      queryLayer.clearLayers();
      L.geoJSON(doc.buffer, { style: { color: '#c00', weight: 2, dashArray: '6 4', fill: true, fillOpacity: 0.05 },
        interactive: false }).addTo(queryLayer);
      if (!q.feature) L.circleMarker([q.lat, q.lon], { radius: 5, color: '#c00', fillOpacity: 1 }).addTo(queryLayer);
      doc.features.forEach((f, i) => {
        const p = f.properties;
        if (!f.geometry || f.geometry.type !== 'Point') return;
        const [lon, lat] = f.geometry.coordinates;
        const certain = p.certainty !== 'possible';
        const color = layerColor(p.layer);
        const hit = L.circleMarker([lat, lon], { radius: 9, color, weight: certain ? 2 : 2.5, fill: certain,
          fillColor: color, fillOpacity: certain ? 0.5 : 0, bubblingMouseEvents: false,
          className: `cm-hit cm-hit-${certain ? 'certain' : 'possible'}` })
          .bindTooltip(el('span', {}, `${i + 1}. `, p.name_zh, ' · ', p.name_en, el('br'), certaintyText(p), ' · ',
            intervalKm(p.distance_min_km, p.distance_max_km)))
          .on('click', () => select(p))
          .addTo(queryLayer);
        const path = hit.getElement && hit.getElement();
        if (path) { path.setAttribute('data-id', String(p.id)); path.setAttribute('data-layer', String(p.layer)); }
      });
      const box = $('#cm-results');
      if (!box) return;
      const s = doc.summary;
      const by = Object.entries(s.by_layer).map(([k, v]) => `${cfg.layerLabels[k] ? cfg.layerLabels[k][0] : k} ${k}: ${v}`);
      const where = q.feature ? q.feature : `${q.lon.toFixed(4)}, ${q.lat.toFixed(4)} (WGS84)`;
      const rows = doc.features.map((f) => {
        const p = f.properties;
        const certain = p.certainty !== 'possible';
        const color = layerColor(p.layer);
        return el('li', { class: `cm-hit-row cm-${certain ? 'certain' : 'possible'}`,
          dataset: { id: p.id, certainty: p.certainty || '' },
          title: `${p.located_to_zh || ''} · ${p.located_to_en || ''} · 到所绘点 to the point drawn: ${fmt(p.distance_km, 'km')}`,
          onclick: () => select(p) },
        el('span', { class: `cm-mark cm-mark-${certain ? 'certain' : 'possible'}`,
          style: `border-color: ${color}; background: ${certain ? color : 'transparent'}` }), ' ',
        el('span', { class: 'cm-dist' }, intervalKm(p.distance_min_km, p.distance_max_km)), ' ',
        el('span', { class: 'cm-lyr' }, p.layer), ' ', p.name_zh, ' · ', p.name_en, el('br'),
        el('span', { class: 'cm-certainty' }, certaintyText(p)));
      });
      box.replaceChildren(
        el('p', { class: 'cm-meta' }, `${q.radius_km} km 内 within ${q.radius_km} km of `, el('b', {}, where), ': ',
          el('b', { id: 'cm-hit-count' }, s.feature_count), ' 个要素 features'),
        el('p', { class: 'cm-meta', id: 'cm-certainty-counts' },
          el('span', { class: 'cm-mark cm-mark-certain' }), ' 确定 certain: ', el('b', { id: 'cm-certain-count' }, s.certain),
          ' · ', el('span', { class: 'cm-mark cm-mark-possible' }), ' 可能 possible: ',
          el('b', { id: 'cm-possible-count' }, s.possible), q.certain_only ? ' （仅确定 certain only）' : ''),
        el('p', { class: 'cm-meta' }, by.join(' · ') || '—'),
        el('p', { class: 'cm-meta' }, '投资 investment: ',
          s.investment_cny_100m == null ? '未知 unknown'
            : `${s.investment_cny_100m_qualifier ? '约 about ' : ''}${s.investment_cny_100m} 亿元`,
          ` (${s.projects_with_investment} 有数据 with a figure, ${s.projects_without_investment} 无 without)`),
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
    }
    CM.clearSelection = clearSelection;
    async function select(p) {
      clearSelection();
      const seq = selectSeq;
      CM.selected = p.id;
      markSelected();
      if (!p.location_precision || p.location_precision === 'site' || !cfg.pointLayers.includes(p.layer)) return;
      try {
        const area = await getJSON(`${cfg.api}/possible-area?feature=${encodeURIComponent(p.id)}`);
        if (seq !== selectSeq) return;  // another feature was selected meanwhile
        const a = area.properties || {};
        L.geoJSON(area, { interactive: false, style: { color: cfg.possibleAreaColor || '#e6550d', weight: 2,
          dashArray: '6 5', fill: true, fillOpacity: 0.06, className: 'cm-possible-area' } }).addTo(areaLayer);
        areaLayer.eachLayer((g) => g.eachLayer && g.eachLayer((l) => {
          const path = l.getElement && l.getElement();
          if (path) path.setAttribute('data-id', String(p.id));
        }));
        const text = `可能位置 possible area: ${a.located_to_zh || ''} · ${a.located_to_en || ''}`;
        showSelection([el('span', { class: 'cm-area-swatch' }), ' ', el('b', {}, a.name_zh), ' · ', a.name_en,
          el('br'), text]);
        document.querySelectorAll('.cm-located').forEach((n) => { if (n.dataset.id === String(p.id)) n.textContent = text; });
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

    writeState(map, state);
    showCounts();
    loadPoints();
    if (state.query) runQuery(state.query);
  };
}());
