/* 洛阳都市圈产业走廊地图 · editing a record in place, for a logged-in editor.
 *
 * Asks /api/me who the session is (the map page is shared by every user, so it cannot say); for an editor it
 * registers CorridorsMap.onEdit, so the cards' edit buttons open a non-modal <dialog> with the record's
 * editable fields (those the layer has) and a draggable marker at its point; coordinates pasted in WGS84,
 * GCJ-02 (AMap, Tencent) or BD-09 (Baidu) are converted by the server (/api/convert). Saving sends
 * PATCH /api/features/<id> with If-Match (the ETag of the record as loaded) and the session's CSRF token:
 * a 409 shows the current version (both languages) and offers to load it; a 400 shows its message next to the
 * field it names; success reloads the map. Viewers and anonymous users never register: the buttons stay off.
 * Every value from data reaches the page through textContent or form values.
 */
(function () {
  'use strict';

  const dialog = document.getElementById('cm-edit');
  if (!dialog) return;
  const form = document.getElementById('cm-edit-form');
  const statusBox = document.getElementById('cm-edit-status');
  const $ = (id) => document.getElementById(id);
  const COORD_DECIMALS = 7;
  /* the fields the form offers, as a layer has them (geo.ledger.edits checks them again) */
  const FIELDS = ['name_zh', 'name_en', 'status', 'status_note_zh', 'status_note_en', 'investment_cny_100m',
    'location_precision', 'location_note_zh', 'location_note_en'];
  const NUMBER_FIELDS = new Set(['investment_cny_100m']);
  const LABELS = {
    name_zh: ['名称（中文）', 'name (Chinese)'], name_en: ['名称（英文）', 'name (English)'], status: ['状态', 'status'],
    status_note_zh: ['状态说明（中文）', 'status note (Chinese)'], status_note_en: ['状态说明（英文）', 'status note (English)'],
    investment_cny_100m: ['投资（亿元）', 'investment (CNY 100 m)'], location_precision: ['定位精度', 'location precision'],
    location_note_zh: ['位置说明（中文）', 'location note (Chinese)'], location_note_en: ['位置说明（英文）', 'location note (English)'],
    geometry: ['位置', 'position'],
  };

  const { el, bi } = window.CorridorDom;  // dom.js, loaded just before
  const blank = (v) => v == null || v === '';
  const has = (obj, key) => obj != null && Object.prototype.hasOwnProperty.call(obj, key);

  let me = null;  // {user, can_edit, csrf_token}
  let current = null;  // {id, layer, etag, properties, lonlat: [lon, lat]}
  let marker = null;
  let point = null;  // the edited point [lon, lat] (WGS84)

  /* -- messages ----------------------------------------------------------------------------------------- */
  function say(node) {
    if (!statusBox) return;
    statusBox.replaceChildren(node || '');
    statusBox.hidden = !node;
  }
  function clearErrors() {
    form.querySelectorAll('[data-error-for]').forEach((p) => { p.hidden = true; p.replaceChildren(); });
    form.querySelectorAll('[aria-invalid]').forEach((i) => i.removeAttribute('aria-invalid'));
    $('cm-edit-error').hidden = true;
    $('cm-edit-error').replaceChildren();
  }
  function fieldError(field, message) {
    const box = form.querySelector(`[data-error-for="${CSS.escape(field)}"]`);
    if (!box || (box.parentElement && box.parentElement.closest('[hidden]'))) {  // a field the form does not show: above the form
      $('cm-edit-error').replaceChildren(field ? `${field}: ` : '', message);
      $('cm-edit-error').hidden = false;
      return;
    }
    box.replaceChildren(message);
    box.hidden = false;
    const input = form.elements[field] || (field === 'geometry' ? $('cm-edit-paste') : null);
    if (input) { input.setAttribute('aria-invalid', 'true'); input.focus(); }
  }
  async function errorOf(resp) {
    try {
      const doc = await resp.json();
      return { message: doc.error || `${resp.status}`, field: doc.field || null };
    } catch (err) {
      return { message: `${resp.status} ${resp.statusText}`, field: null };
    }
  }

  /* -- the point and its marker ------------------------------------------------------------------------- */
  const round = (v) => +(+v).toFixed(COORD_DECIMALS);
  function showPoint() {
    $('cm-edit-where').textContent = point ? `${point[0].toFixed(6)}, ${point[1].toFixed(6)}` : '—';
    $('cm-edit-moved').hidden = !moved();
    dialog.dataset.moved = String(moved());
  }
  const moved = () => !!(point && current && current.lonlat
    && (round(point[0]) !== round(current.lonlat[0]) || round(point[1]) !== round(current.lonlat[1])));
  function setPoint(lonlat, { pan = false, fromDrag = false } = {}) {
    point = lonlat ? [round(lonlat[0]), round(lonlat[1])] : null;
    if (marker && point && !fromDrag) marker.setLatLng([point[1], point[0]]);
    if (pan && point) reveal();
    if (moved() && form.elements.location_precision && current
        && form.elements.location_precision.value === (current.properties.location_precision || '')) {
      form.elements.location_precision.value = 'site';  // what the ledger assumes of a moved point
    }
    showPoint();
  }
  function placeMarker() {
    removeMarker();
    if (!point) return;
    const map = window.CorridorsMap.map;
    const icon = L.divIcon({ className: 'cm-edit-marker', iconSize: [22, 22], iconAnchor: [11, 22],
      html: '<span class="cm-edit-pin" aria-hidden="true"></span>' });
    marker = L.marker([point[1], point[0]], { draggable: true, autoPan: true, icon, zIndexOffset: 1000,
      keyboard: true, title: '拖动以移动 drag to move', alt: '编辑位置 edited position' }).addTo(map);
    marker.on('drag', (e) => setPoint([e.latlng.lng, e.latlng.lat], { fromDrag: true }));
    marker.on('dragend', () => { const ll = marker.getLatLng(); setPoint([ll.lng, ll.lat], { fromDrag: true }); });
  }
  /* keep the point in sight: inside the map and clear of the dialog (which floats over the map's right side) */
  function reveal() {
    if (!point) return;
    const map = window.CorridorsMap.map;
    const mapBox = map.getContainer().getBoundingClientRect();
    const box = dialog.getBoundingClientRect();
    const narrow = box.width > mapBox.width * 0.7;  // a phone: the dialog covers the top
    const right = narrow ? 30 : Math.max(30, mapBox.right - box.left + 30);
    const top = narrow ? Math.max(30, box.bottom - mapBox.top + 30) : 40;
    map.panInside([point[1], point[0]], { paddingTopLeft: [30, top], paddingBottomRight: [right, 30], animate: false });
  }
  function removeMarker() {
    if (marker) { marker.remove(); marker = null; }
  }

  /* pasted text: two numbers (lon, lat); a pair in the order lat, lon (as some pickers give it) is turned */
  function parsePasted(text) {
    const nums = String(text || '').trim().split(/[\s,，;；]+/).filter(Boolean);
    if (nums.length !== 2 || !nums.every((n) => /^[-+]?\d+(\.\d+)?$/.test(n))) return null;
    let [a, b] = nums.map(Number);
    if (Math.abs(a) <= 60 && Math.abs(b) > 60) [a, b] = [b, a];
    return [a, b];
  }
  async function placePasted() {
    clearErrors();
    const pair = parsePasted($('cm-edit-paste').value);
    if (!pair) {
      fieldError('geometry', bi('请粘贴“经度, 纬度”两个数，例如 112.7946, 34.7259',
        'paste two numbers, longitude and latitude, like 112.7946, 34.7259'));
      return false;
    }
    const crs = form.elements.crs.value;
    const url = `${dialog.dataset.convertUrl}?lon=${encodeURIComponent(pair[0])}&lat=${encodeURIComponent(pair[1])}&crs=${encodeURIComponent(crs)}`;
    const resp = await fetch(url, { headers: { Accept: 'application/json' }, credentials: 'same-origin' });
    if (!resp.ok) {
      const { message } = await errorOf(resp);
      fieldError('geometry', message);
      return false;
    }
    const doc = await resp.json();
    setPoint([doc.lon, doc.lat], { pan: true });
    $('cm-edit-paste').value = '';
    dialog.dataset.converted = `${crs}:${doc.lon},${doc.lat}`;
    return true;
  }

  /* -- loading a record into the form ------------------------------------------------------------------- */
  async function load(id) {
    const resp = await fetch(`${dialog.dataset.featuresUrl}/${encodeURIComponent(id)}`,
      { headers: { Accept: 'application/geo+json, application/json' }, credentials: 'same-origin', cache: 'no-store' });
    if (!resp.ok) throw new Error((await errorOf(resp)).message);
    const feat = await resp.json();
    const coords = feat.geometry && feat.geometry.type === 'Point' ? feat.geometry.coordinates : null;
    return { id, layer: feat.properties.layer, etag: resp.headers.get('ETag'), properties: feat.properties,
      lonlat: coords ? [coords[0], coords[1]] : null };
  }
  function fill(rec) {
    current = rec;
    const p = rec.properties;
    dialog.dataset.id = rec.id;
    dialog.dataset.etag = rec.etag || '';
    $('cm-edit-name').replaceChildren(bi(p.name_zh, p.name_en, ' · '));
    for (const name of FIELDS) {
      const row = form.querySelector(`.cm-edit-row[data-field="${name}"]`);
      const shown = has(p, name);
      if (row) row.hidden = !shown;
      const input = form.elements[name];
      if (input) {
        input.disabled = !shown;
        input.value = shown && !blank(p[name]) ? String(p[name]) : '';
      }
    }
    $('cm-edit-asof').hidden = !(window.CorridorsMap.state().asOf);
    setPoint(rec.lonlat);
    placeMarker();
    reveal();
  }
  async function open(id) {
    say(null);
    clearErrors();
    $('cm-edit-conflict').hidden = true;
    $('cm-edit-conflict').replaceChildren();
    dialog.dataset.ready = 'false';
    window.CorridorsMap.map.closePopup();
    if (!dialog.open) dialog.show();
    try {
      fill(await load(id));
      dialog.dataset.ready = 'true';
      form.elements.name_zh.focus();
    } catch (err) {
      $('cm-edit-error').replaceChildren(bi('无法载入记录：', 'the record could not be loaded: '), err.message);
      $('cm-edit-error').hidden = false;
    }
  }
  function close() {
    removeMarker();
    current = null;
    point = null;
    if (dialog.open) dialog.close();
  }

  /* -- saving ------------------------------------------------------------------------------------------- */
  function changes() {
    const out = {};
    for (const name of FIELDS) {
      const input = form.elements[name];
      if (!input || input.disabled || !has(current.properties, name)) continue;
      const before = current.properties[name];
      const raw = input.value.trim();
      if (NUMBER_FIELDS.has(name)) {
        if (raw === '') { if (!blank(before)) out[name] = null; continue; }
        const n = Number(raw.replace(/，/g, ''));
        const value = raw !== '' && Number.isFinite(n) ? n : raw;  // not a number: the server names the field
        if (value !== before) out[name] = value;
      } else if (raw !== (blank(before) ? '' : String(before))) {
        out[name] = raw === '' ? null : raw;
      }
    }
    return out;
  }
  async function save(ev) {
    ev.preventDefault();
    if (!current) return;
    clearErrors();
    const properties = changes();
    const body = {};
    if (Object.keys(properties).length) body.properties = properties;
    if (moved()) body.geometry = { type: 'Point', coordinates: [round(point[0]), round(point[1])] };
    if (!Object.keys(body).length) {
      say(bi('没有修改，未保存。', 'Nothing changed: nothing saved.'));
      close();
      return;
    }
    const headers = { 'Content-Type': 'application/json', Accept: 'application/json', 'If-Match': current.etag };
    if (me && me.csrf_token) headers['X-CSRFToken'] = me.csrf_token;
    const saveButton = $('cm-edit-save');
    saveButton.disabled = true;
    dialog.dataset.saving = 'true';
    try {
      const resp = await fetch(`${dialog.dataset.featuresUrl}/${encodeURIComponent(current.id)}`,
        { method: 'PATCH', headers, body: JSON.stringify(body), credentials: 'same-origin' });
      if (resp.ok) {
        const doc = await resp.json();
        const p = doc.properties || {};
        close();
        say(el('span', {}, bi('已保存', 'Saved'), ` ${p.name_zh || ''} `, el('span', { class: 'cm-meta' }, `(${doc.change_id})`), ' — ',
          bi('地图已重新载入。', 'the map has been reloaded.')));
        statusBox.dataset.changeId = doc.change_id || '';
        await window.CorridorsMap.reload();
        statusBox.dataset.reloaded = 'true';
      } else if (resp.status === 409) {
        await conflict();
      } else {
        const { message, field } = await errorOf(resp);
        fieldError(field, message);
      }
    } catch (err) {
      fieldError(null, err.message);
    } finally {
      saveButton.disabled = false;
      dialog.dataset.saving = 'false';
    }
  }

  /* 409: someone changed the record first; show its current version beside what the user typed */
  async function conflict() {
    const box = $('cm-edit-conflict');
    let now;
    try {
      now = await load(current.id);
    } catch (err) {
      box.replaceChildren(el('p', {}, bi('记录已被他人修改或删除：', 'the record was changed or deleted by someone else: '), err.message));
      box.hidden = false;
      return;
    }
    const mine = changes();
    const rows = FIELDS.filter((f) => has(now.properties, f)
      && (has(mine, f) || String(now.properties[f] ?? '') !== String(current.properties[f] ?? '')))
      .map((f) => el('tr', { dataset: { field: f } }, el('th', { scope: 'row' }, bi(...LABELS[f])),
        el('td', { class: 'cm-edit-now' }, blank(now.properties[f]) ? '—' : String(now.properties[f])),
        el('td', {}, has(mine, f) ? (blank(mine[f]) ? '—' : String(mine[f])) : '')));
    if (now.lonlat && current.lonlat && (now.lonlat[0] !== current.lonlat[0] || now.lonlat[1] !== current.lonlat[1] || moved())) {
      rows.push(el('tr', { dataset: { field: 'geometry' } }, el('th', { scope: 'row' }, bi(...LABELS.geometry)),
        el('td', { class: 'cm-edit-now' }, `${now.lonlat[0]}, ${now.lonlat[1]}`),
        el('td', {}, moved() ? `${point[0]}, ${point[1]}` : '')));
    }
    const reloadButton = el('button', { type: 'button', id: 'cm-edit-reload' }, bi('载入当前版本', 'Load the current version'));
    reloadButton.addEventListener('click', () => {
      box.hidden = true;
      box.replaceChildren();
      clearErrors();
      fill(now);
      dialog.dataset.conflict = 'false';
    });
    box.replaceChildren(
      el('p', {}, el('strong', {}, bi('他人已先修改了此记录，未保存。', 'Someone else changed this record first: nothing was saved.'))),
      el('p', {}, bi('当前版本：', 'The current version:'), ' ', bi(now.properties.name_zh, now.properties.name_en, ' · ')),
      el('table', { class: 'cm-edit-diff' },
        el('thead', {}, el('tr', {}, el('th', {}, bi('字段', 'field')), el('th', {}, bi('当前', 'now')), el('th', {}, bi('你的修改', 'yours')))),
        el('tbody', {}, rows)),
      el('p', {}, reloadButton, ' ', el('span', { class: 'cm-note' }, bi('载入后请重新修改并保存。', 'Then make your change again and save.'))));
    box.hidden = false;
    dialog.dataset.conflict = 'true';
  }

  form.addEventListener('submit', save);
  if (statusBox) statusBox.addEventListener('click', () => say(null));  // dismissed by a click
  $('cm-edit-cancel').addEventListener('click', close);
  dialog.addEventListener('cancel', (ev) => { ev.preventDefault(); close(); });  // Esc
  $('cm-edit-place').addEventListener('click', () => { placePasted(); });
  $('cm-edit-paste').addEventListener('keydown', (ev) => { if (ev.key === 'Enter') { ev.preventDefault(); placePasted(); } });
  $('cm-edit-reset-point').addEventListener('click', () => { if (current) { clearErrors(); setPoint(current.lonlat, { pan: true }); } });

  /* -- who is here: editors get the edit buttons -------------------------------------------------------- */
  async function start() {
    try {
      const resp = await fetch(dialog.dataset.meUrl, { headers: { Accept: 'application/json' }, credentials: 'same-origin', cache: 'no-store' });
      me = resp.ok ? await resp.json() : null;
    } catch (err) {
      me = null;
    }
    document.body.dataset.editor = String(!!(me && me.can_edit));
    if (me && me.can_edit) window.CorridorsMap.onEdit((id) => open(id));
    dialog.dataset.started = 'true';
  }
  (function wait(tries) {
    if (window.CorridorsMap && typeof window.CorridorsMap.onEdit === 'function' && window.L) start();
    else if (tries < 600) setTimeout(() => wait(tries + 1), 50);
  }(0));
}());
