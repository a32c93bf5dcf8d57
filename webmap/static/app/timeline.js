/* 洛阳都市圈产业走廊地图 · the time slider: the map as the ledger stood at the end of a day (China time).
 *
 * A range over the days from the ledger's first day (the earliest valid_from of its first change, else the
 * panel's data-first-day) to today (China time, UTC+8); its right end is "now" (the latest data, no as_of).
 * Moving it calls CorridorsMap.setAsOf(day) (debounced), which reloads the layers, the counts and the buffer
 * query and writes as_of into the permalink; a permalink with as_of opens with the slider on that day. The
 * corridor standing on that day (/api/corridors?as_of=) is listed under it. Built only on the public API of
 * map.js (window.CorridorsMap); every value from data reaches the page through textContent.
 */
(function () {
  'use strict';

  const DAY_MS = 86400000;
  const DAY_RE = /^\d{4}-\d{2}-\d{2}$/;
  const DEBOUNCE_MS = 300;
  const root = document.getElementById('cm-timeline');
  if (!root) return;

  const $ = (id) => document.getElementById(id);
  const range = $('cm-timeline-range');
  const out = $('cm-timeline-day');
  const nowButton = $('cm-timeline-now');
  const standingBox = $('cm-timeline-standing');

  /* today in China time (the ledger's days end at midnight UTC+8) */
  const todayChina = () => new Date(Date.now() + 8 * 3600 * 1000).toISOString().slice(0, 10);
  const dayMs = (day) => Date.parse(`${day}T00:00:00Z`);
  const addDays = (day, n) => new Date(dayMs(day) + n * DAY_MS).toISOString().slice(0, 10);

  let first = DAY_RE.test(root.dataset.firstDay || '') ? root.dataset.firstDay : '2021-07-23';
  let last = todayChina();
  const indexOf = (day) => Math.round((dayMs(day) - dayMs(first)) / DAY_MS);
  const dayAt = (i) => addDays(first, i);

  const { el, bi } = window.CorridorDom;  // dom.js, loaded just before

  /* the day the slider shows (null: now) */
  const shownDay = () => (+range.value >= +range.max ? null : dayAt(+range.value));

  function label(day) {
    if (day == null) out.replaceChildren(bi('现在', 'now'), ` (${last})`);
    else out.replaceChildren(day);
    root.dataset.day = day || '';
    nowButton.disabled = day == null;
    $('cm-timeline-prev').disabled = +range.value <= 0;
    $('cm-timeline-next').disabled = day == null;
  }

  function setRange(day) {
    range.min = '0';
    range.max = String(Math.max(0, indexOf(last)));
    const i = day == null ? +range.max : Math.min(Math.max(indexOf(day), 0), +range.max);
    range.value = String(i);
    $('cm-timeline-first').textContent = first;
    $('cm-timeline-last').replaceChildren(bi('今天', 'today'), ` ${last}`);
    label(day == null ? null : shownDay());
  }

  /* -- the corridor standing on the shown day ---------------------------------------------------------- */
  let standingSeq = 0;
  const num = (v) => (v == null ? '—' : String(+(+v).toFixed(1)));
  async function showStanding(day) {
    if (!standingBox || !root.dataset.standingUrl) return;
    const seq = ++standingSeq;
    const url = new URL(root.dataset.standingUrl, window.location.href);
    if (day) url.searchParams.set('as_of', day);
    try {
      const resp = await fetch(url, { headers: { Accept: 'application/json' }, credentials: 'same-origin' });
      if (!resp.ok) throw new Error(`${resp.status}`);
      const doc = await resp.json();
      if (seq !== standingSeq) return;
      const rows = (doc.corridors || []).map((c) => el('tr', { dataset: { corridor: c.id } },
        el('th', { scope: 'row' }, bi(c.name_zh, c.name_en)),
        el('td', { class: 'cm-num', dataset: { known: c.investment_known_cny_100m == null ? '' : String(c.investment_known_cny_100m) } },
          num(c.investment_known_cny_100m)),
        el('td', { class: 'cm-num' }, num(c.investment_target_2021_cny_100m)),
        el('td', { class: 'cm-num' }, String(c.projects_named == null ? '—' : c.projects_named))));
      standingBox.replaceChildren(
        el('h3', {}, bi('产业带进展', 'Corridor standing'), ' ', el('small', { class: 'cm-meta' }, day ? [bi('截至', 'as of'), ` ${day}`] : bi('最新', 'latest'))),
        el('table', { class: 'cm-timeline-table' },
          el('thead', {}, el('tr', {}, el('th', {}, bi('产业带', 'corridor')), el('th', {}, bi('已知投资', 'known'), ' (亿元)'),
            el('th', {}, bi('2021 目标', '2021 target')), el('th', {}, bi('规划项目', 'named projects')))),
          el('tbody', {}, rows)),
        el('p', { class: 'cm-note' }, bi('已知投资：规划点名、有金额的项目之和（亿元 = 1 亿元人民币）。详情见产业带页（最新数据）。',
          'known: sum of the named projects with a figure (CNY 100 m). Details on the corridors page (latest data).'),
          ' ', el('a', { href: '/corridors' }, bi('产业带', 'Corridors'))));
      standingBox.dataset.day = day || '';
    } catch (err) {
      if (seq === standingSeq) standingBox.replaceChildren(el('p', { class: 'cm-error' }, bi('产业带进展无法加载', 'corridor standing could not be loaded')));
    }
  }

  /* -- moving the slider ----------------------------------------------------------------------------- */
  let timer = null;
  let applied;  // the day the map shows (undefined before the map is ready)
  function apply() {
    clearTimeout(timer);
    timer = null;
    const day = shownDay();
    if (day === applied || !window.CorridorsMap) return;
    applied = day;
    root.dataset.applied = 'false';
    Promise.resolve(window.CorridorsMap.setAsOf(day)).catch(() => undefined).then(() => {
      if (applied === day) root.dataset.applied = 'true';
    });
    showStanding(day);
  }
  function schedule() {
    label(shownDay());
    clearTimeout(timer);
    timer = setTimeout(apply, DEBOUNCE_MS);
  }
  range.addEventListener('input', schedule);
  range.addEventListener('change', () => { label(shownDay()); apply(); });
  nowButton.addEventListener('click', () => { range.value = range.max; label(null); apply(); });
  $('cm-timeline-prev').addEventListener('click', () => { range.value = String(Math.max(0, +range.value - 1)); schedule(); });
  $('cm-timeline-next').addEventListener('click', () => { range.value = String(Math.min(+range.max, +range.value + 1)); schedule(); });

  /* the ledger's first day: the earliest valid_from of its first change (the seed) */
  async function firstDay() {
    try {
      const resp = await fetch(root.dataset.historyUrl, { headers: { Accept: 'application/json' }, credentials: 'same-origin' });
      if (!resp.ok) return null;
      const days = ((await resp.json()).changes || []).map((c) => c.valid_from).filter((d) => DAY_RE.test(d || ''));
      return days.length ? days.sort()[0] : null;
    } catch (err) {
      return null;
    }
  }

  function start() {
    const state = window.CorridorsMap.state();
    applied = state.asOf || null;
    if (applied && applied < first) first = applied;
    if (applied && applied > last) last = applied;
    setRange(applied);
    range.disabled = false;
    root.dataset.applied = 'true';
    root.dataset.ready = 'true';
    showStanding(applied);
    if (root.dataset.historyUrl) {
      firstDay().then((day) => {
        if (!day || day === first) return;
        const shown = shownDay();  // kept where it is while the scale changes
        first = shown && shown < day ? shown : day;
        setRange(shown);
      });
    }
  }

  /* map.js makes window.CorridorsMap once the page (and folium's scripts) have run */
  (function wait(tries) {
    if (window.CorridorsMap && typeof window.CorridorsMap.setAsOf === 'function') start();
    else if (tries < 600) setTimeout(() => wait(tries + 1), 50);
  }(0));
}());
