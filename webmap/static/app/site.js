/* The site-selection page (/site).
 * - The form: fold the per-criterion weight inputs into one `weights` parameter (theme=3,chain=2,…) and leave
 *   empty fields out of the URL. On a narrow screen (a phone) the weights and constraints fold away once there
 *   is a result, behind a button, so the map comes right after the form.
 * - The list and the map (an iframe of /site/map, same origin): selecting a row outlines the park on the map and
 *   opens its popup; a click on a park on the map selects its row (messages checked for origin and source).
 * Values from data are never inserted as HTML here. */
(function () {
  'use strict';
  const form = document.getElementById('site-form');
  if (!form) return;
  form.addEventListener('submit', () => {
    const inputs = [...form.querySelectorAll('input[data-criterion]')];
    form.elements.weights.value = inputs.map((i) => `${i.dataset.criterion}=${i.value || 0}`).join(',');
    inputs.forEach((i) => { i.disabled = true; });
    [...form.elements].forEach((e) => { if (e.name && e.value === '' && e.tagName !== 'BUTTON') e.disabled = true; });
  });

  // weights and constraints fold away on a phone once there is a result (CSS ignores the fold on a wide screen)
  const toggle = document.getElementById('site-form-toggle');
  const setOpen = (open) => {
    form.classList.toggle('collapsed', !open);
    toggle.setAttribute('aria-expanded', String(open));
  };
  if (toggle) {
    toggle.hidden = false;
    toggle.addEventListener('click', () => setOpen(form.classList.contains('collapsed')));
    setOpen(form.dataset.result !== 'true');
  }

  /* -- the list and the map -------------------------------------------------------------------------------- */
  const list = document.getElementById('site-ranking');
  const frame = document.getElementById('site-map');
  if (!list || !frame) return;
  const rows = new Map([...list.querySelectorAll(':scope > li[data-id]')].map((li) => [li.dataset.id, li]));
  let selected = null;

  const toMap = (msg) => {
    if (frame.contentWindow) frame.contentWindow.postMessage(msg, window.location.origin);
  };
  const inView = (el) => {
    const box = el.getBoundingClientRect();
    return box.top >= 0 && box.bottom <= window.innerHeight;
  };

  function selectRow(id, fromMap) {
    const row = rows.get(id);
    if (!row) return;
    if (selected && selected !== row) {
      selected.classList.remove('selected');
      selected.removeAttribute('aria-current');
    }
    selected = row;
    row.classList.add('selected');
    row.setAttribute('aria-current', 'true');
    if (fromMap) {
      if (!inView(row)) row.scrollIntoView({ block: 'nearest' });
    } else {
      toMap({ type: 'site-select', id });
      const box = frame.getBoundingClientRect();
      if (box.bottom < 40 || box.top > window.innerHeight - 40) frame.scrollIntoView({ block: 'nearest' });
    }
  }

  list.addEventListener('click', (event) => {
    const row = event.target.closest('li[data-id]');
    if (!row || !list.contains(row)) return;
    if (event.target.closest('a, input, select, textarea')) return;
    const selection = window.getSelection && window.getSelection();
    if (selection && !selection.isCollapsed && !event.target.closest('button')) return; // selecting text to copy
    selectRow(row.dataset.id, false);
  });

  window.addEventListener('message', (event) => {
    if (event.origin !== window.location.origin || event.source !== frame.contentWindow) return;
    const msg = event.data || {};
    if (msg.type === 'site-select' && typeof msg.id === 'string') selectRow(msg.id, true);
    if (msg.type === 'site-map-ready' && selected) toMap({ type: 'site-select', id: selected.dataset.id });
  });
}());
