/* 洛阳都市圈产业走廊地图 · the export dialog (templates/_export_dialog.html): title, page size and orientation,
 * dpi, extent (the current view or the whole area) and format; a preview (a 50-dpi PNG of the same URL) before
 * the download. The current view is the bounds of the page's Leaflet map (window.CorridorsMap.map or
 * window.CorridorMap.map of map.js, or the map in the page's map iframe), sent as bbox=west,south,east,north
 * (WGS84); without a map object, the permalink's lat/lon/z with extent=view. Positions are WGS84.
 * No inline script or handler (CSP); values reach the page through textContent and URLSearchParams only. */
(function () {
  'use strict';

  const dialog = document.getElementById('ex-dialog');
  if (!dialog || dialog.dataset.ready) return;
  dialog.dataset.ready = 'true';
  const form = document.getElementById('ex-form');
  const openButton = document.getElementById('ex-open');
  const img = document.getElementById('ex-preview-img');
  const status = document.getElementById('ex-status');
  const errorBox = document.getElementById('ex-error');
  const download = document.getElementById('ex-download');
  const viewNote = document.getElementById('ex-view-note');
  /* options the dialog sets itself: dropped from the page's query before they are set */
  const OWN = ['extent', 'bbox', 'size', 'dpi', 'title', 'download', 'format'];
  const PREVIEW_DPI = 50;
  const FORMATS = ['png', 'svg', 'pdf'];

  /* -- the page's map and its view ---------------------------------------------------------- */
  function leafletIn(win) {
    try {
      const app = win.CorridorsMap || win.CorridorMap;
      if (app && app.map && typeof app.map.getBounds === 'function') return app.map;
      if (!win.L || !win.L.Map) return null;
      for (const key of Object.keys(win)) {
        if (key.startsWith('map_') && win[key] instanceof win.L.Map) return win[key]; /* folium's maps */
      }
    } catch (e) { /* a frame of another origin */ }
    return null;
  }
  function pageMap() {
    const own = leafletIn(window);
    if (own) return own;
    for (const frame of document.querySelectorAll('iframe')) {
      const m = frame.contentWindow ? leafletIn(frame.contentWindow) : null;
      if (m) return m;
    }
    return null;
  }
  function viewBox() {
    const map = pageMap();
    if (!map) return null;
    const b = map.getBounds();
    const box = [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()];
    return box.every((v) => Number.isFinite(v)) && box[0] < box[2] && box[1] < box[3] ? box : null;
  }
  function permalinkView() {
    const p = new URLSearchParams(window.location.search);
    return ['lat', 'lon', 'z'].every((k) => p.get(k) && Number.isFinite(+p.get(k)));
  }

  /* -- the request ---------------------------------------------------------------------------- */
  function baseQuery() {
    /* the map pages: their permalink (map.js keeps it in the URL); a corridor or the site: the page's query */
    const p = new URLSearchParams(dialog.dataset.page === 'map' ? window.location.search : dialog.dataset.query || '');
    OWN.forEach((k) => p.delete(k));
    return p;
  }
  function options() {
    const f = form.elements;
    return {
      title: f.title.value.trim(), paper: f.paper.value || 'A4', orientation: f.orientation.value || 'landscape',
      dpi: f.dpi.value || '300', extent: f.extent.value || 'auto',
      format: FORMATS.includes(f.format.value) ? f.format.value : 'png',
    };
  }
  function exportUrl(fmt, o, dpi) {
    const p = baseQuery();
    p.set('size', `${o.paper}-${o.orientation}`);
    p.set('dpi', String(dpi));
    if (o.title) p.set('title', o.title);
    if (o.extent === 'view') {
      const box = viewBox();
      if (box) p.set('bbox', box.map((v) => v.toFixed(6)).join(','));
      else p.set('extent', 'view');
    }
    return `/export/map.${fmt}?${p.toString()}`;
  }

  /* -- the dialog ----------------------------------------------------------------------------- */
  function canShowView() {
    return Boolean(viewBox()) || (dialog.dataset.page === 'map' && permalinkView());
  }
  function describeView() {
    const box = viewBox();
    const viewInput = form.querySelector('input[name=extent][value=view]');
    viewInput.disabled = !canShowView();
    if (viewInput.disabled && viewInput.checked) form.querySelector('input[name=extent][value=auto]').checked = true;
    viewNote.textContent = box
      ? `视图 view: ${box[0].toFixed(3)}–${box[2].toFixed(3)}°E, ${box[1].toFixed(3)}–${box[3].toFixed(3)}°N (WGS84)`
      : (viewInput.disabled ? '无可用视图 no map view on this page' : '按永久链接的视图 the permalink\'s view');
  }
  function update() {
    const o = options();
    download.href = `${exportUrl(o.format, o, o.dpi)}&download=1`;
    download.textContent = `下载 Download ${o.format.toUpperCase()}`;
  }

  let pending = null;
  let objectUrl = null;
  let timer = null;
  function showError(text) {
    errorBox.textContent = text;
    errorBox.hidden = !text;
  }
  async function preview() {
    const o = options();
    const url = exportUrl('png', o, PREVIEW_DPI);
    if (pending) pending.abort();
    const ctl = new AbortController();
    pending = ctl;
    showError('');
    status.textContent = '预览生成中… preparing the preview…';
    dialog.dataset.preview = 'loading';
    try {
      const resp = await fetch(url, { signal: ctl.signal });
      if (!resp.ok) {
        let text = `HTTP ${resp.status}`;
        try {
          const body = await resp.json();
          text = body.field ? `${body.field}: ${body.error}` : body.error || text;
        } catch (e) { /* not JSON */ }
        throw new Error(text);
      }
      const blob = await resp.blob();
      if (ctl.signal.aborted) return;
      if (objectUrl) URL.revokeObjectURL(objectUrl);
      objectUrl = URL.createObjectURL(blob);
      img.src = objectUrl;
      img.hidden = false;
      img.dataset.extent = resp.headers.get('X-Map-Extent') || '';
      img.dataset.url = url;
      const scale = resp.headers.get('X-Map-Scale') || '';
      const extent = (resp.headers.get('X-Map-Extent') || '').split(',').map(Number);
      status.textContent = extent.length === 4 && extent.every(Number.isFinite)
        ? `预览 preview · ${o.paper} ${o.orientation === 'landscape' ? '横向' : '纵向'} · 比例尺 scale ${scale} · `
          + `${extent[0].toFixed(3)}–${extent[2].toFixed(3)}°E, ${extent[1].toFixed(3)}–${extent[3].toFixed(3)}°N`
        : '预览 preview';
      dialog.dataset.preview = 'ready';
    } catch (e) {
      if (ctl.signal.aborted) return;
      img.hidden = true;
      status.textContent = '';
      showError(`无法生成地图 the map cannot be made: ${e.message}`);
      dialog.dataset.preview = 'error';
    } finally {
      if (pending === ctl) pending = null;
    }
  }
  function schedule() {
    update();
    clearTimeout(timer);
    timer = setTimeout(preview, 350);
  }

  function open(fmt) {
    if (fmt && FORMATS.includes(fmt)) form.querySelector(`input[name=format][value=${fmt}]`).checked = true;
    describeView();
    update();
    if (!dialog.open) dialog.showModal();
    preview();
  }
  function close() {
    if (pending) pending.abort();
    clearTimeout(timer);
    if (dialog.open) dialog.close();
  }

  form.addEventListener('change', (e) => {
    if (e.target.name === 'format') update(); /* the preview is the same PNG whatever the format */
    else schedule();
  });
  form.elements.title.addEventListener('input', schedule);
  form.addEventListener('submit', (e) => e.preventDefault());
  dialog.querySelectorAll('.ex-close').forEach((b) => b.addEventListener('click', close));
  document.getElementById('ex-preview-btn').addEventListener('click', preview);
  dialog.addEventListener('click', (e) => { if (e.target === dialog) close(); }); /* a click on the backdrop */
  download.addEventListener('click', update); /* the view may have moved since: the link follows it */

  /* -- the page's export links open the dialog; the button sits beside them -------------------- */
  const links = [...document.querySelectorAll('a[href*="/export/map."]')].filter((a) => !dialog.contains(a));
  links.forEach((a) => {
    a.addEventListener('click', (e) => {
      if (e.button !== 0 || e.ctrlKey || e.metaKey || e.shiftKey || e.altKey) return; /* a new tab: the plain link */
      e.preventDefault();
      const m = /\/export\/map\.(png|svg|pdf)/.exec(a.getAttribute('href') || '');
      open(m ? m[1] : 'png');
    });
  });
  /* a group of links without SVG (the site page) gets one: every format the dialog offers */
  const groups = new Set(links.map((a) => a.parentElement));
  groups.forEach((parent) => {
    const group = links.filter((a) => a.parentElement === parent);
    const png = group.find((a) => /\/export\/map\.png/.test(a.getAttribute('href') || ''));
    if (!png || group.some((a) => /\/export\/map\.svg/.test(a.getAttribute('href') || ''))) return;
    const svg = document.createElement('a');
    svg.setAttribute('href', png.getAttribute('href').replace('/export/map.png', '/export/map.svg'));
    svg.textContent = 'SVG';
    svg.className = 'ex-added';
    svg.addEventListener('click', (e) => {
      if (e.button !== 0 || e.ctrlKey || e.metaKey || e.shiftKey || e.altKey) return;
      e.preventDefault();
      open('svg');
    });
    png.after(document.createTextNode(' · '), svg);
  });
  if (openButton) {
    const first = links[0];
    if (first && first.parentElement) first.parentElement.append(' ', openButton);
    openButton.addEventListener('click', () => open(null));
  }
  window.CorridorsExport = { open, close, exportUrl: (fmt) => exportUrl(fmt, options(), options().dpi), viewBox };
}());
