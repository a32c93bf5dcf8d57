/* The ledger page: preview an office's file (POST /api/import?dry_run=1), commit it (all rows, or the valid
   ones with skip_invalid=1), undo the change (POST /api/history/<id>/revert).

   Everything that comes from the file or the server is written with textContent / createElement, never as
   HTML: a project named <script>alert(1)</script> shows as that text. Session writes carry the form's CSRF
   token in the X-CSRFToken header. */
(function () {
  'use strict';
  const form = document.getElementById('ledger-form');
  if (!form) return; // not signed in, or a role that cannot write: the page says so itself

  const FEATURE_PAGES = { parks: '/parks/', projects: '/projects/', institutions: '/institutions/' };
  const COUNTS = [
    ['add', '新增', 'new'], ['update', '更新', 'updates'], ['unchanged', '未变', 'unchanged'],
    ['duplicate', '可能重复', 'possible duplicates'], ['rejected', '拒绝', 'rejected rows'],
  ];
  const $ = (id) => document.getElementById(id);
  const statusLine = $('ledger-status');
  const errorLine = $('ledger-error');
  const preview = $('ledger-preview');
  const result = $('ledger-result');
  const previewButton = $('ledger-preview-button');
  const commitAll = $('ledger-commit');
  const commitValid = $('ledger-commit-valid');
  const maxBytes = Number(form.dataset.maxBytes) || 0;
  let previewed = null; // {layer, report} of the preview the commit buttons stand for
  let busy = false;

  /** An element with attributes and children (strings become text nodes, never HTML). */
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    Object.entries(attrs || {}).forEach(([k, v]) => {
      if (v === null || v === undefined || v === false) return;
      if (k === 'className') node.className = v;
      else if (k === 'dataset') Object.assign(node.dataset, v);
      else node.setAttribute(k, v === true ? '' : String(v));
    });
    children.flat().forEach((c) => {
      if (c === null || c === undefined || c === false) return;
      node.append(c instanceof Node ? c : document.createTextNode(String(c)));
    });
    return node;
  }

  const bilingual = (zh, en) => [el('span', { lang: 'zh-CN' }, zh), el('br'), el('span', { className: 'meta', lang: 'en' }, en)];
  const text = (v) => (v === null || v === undefined || v === '' ? '—' : String(v));

  function featureLink(layer, id) {
    const base = FEATURE_PAGES[layer];
    return base && id ? el('a', { href: base + encodeURIComponent(id) }, id) : text(id);
  }

  function csrfToken() {
    const field = form.querySelector('input[name="csrf_token"]') || document.querySelector('input[name="csrf_token"]');
    return field ? field.value : '';
  }

  function setStatus(message) { statusLine.textContent = message || ''; }

  function showError(status, message, loginLink) {
    errorLine.replaceChildren(status ? `${status}: ` : '', message || '');
    if (loginLink) {
      errorLine.append(' ', el('a', { href: '/login?next=/ledger' }, '登录 Log in'));
    }
    errorLine.hidden = false;
  }

  function clearError() { errorLine.hidden = true; errorLine.replaceChildren(); }

  function setButtons() {
    previewButton.disabled = busy;
    const report = previewed && previewed.report;
    const writable = report && (report.counts.add + report.counts.update) > 0;
    commitAll.disabled = busy || !writable || report.counts.rejected > 0;
    commitValid.disabled = busy || !writable;
  }

  /** POST and read the JSON answer: {status, body} (body null when the answer is not JSON). */
  async function post(url, body) {
    const headers = { 'X-CSRFToken': csrfToken(), Accept: 'application/json' };
    const resp = await fetch(url, { method: 'POST', body, headers, credentials: 'same-origin' });
    let json = null;
    try { json = await resp.json(); } catch (e) { json = null; }
    return { status: resp.status, body: json, statusText: resp.statusText };
  }

  function errorOf(answer) {
    const message = answer.body && answer.body.error
      ? answer.body.error
      : `请求失败 the request failed (${answer.statusText || 'no JSON answer'})`;
    showError(answer.status, message, answer.status === 401);
  }

  function importUrl(options) {
    const p = new URLSearchParams();
    p.set('layer', form.elements.layer.value);
    p.set('crs', form.elements.crs.value);
    const sheet = form.elements.sheet.value.trim();
    if (sheet) p.set('sheet', sheet);
    if (options.dryRun) p.set('dry_run', '1');
    if (options.skipInvalid) p.set('skip_invalid', '1');
    return `/api/import?${p}`;
  }

  function chosenFile() {
    const file = form.elements.file.files[0];
    if (!file) {
      showError(null, '请选择文件 · Choose a file first');
      return null;
    }
    if (maxBytes && file.size > maxBytes) {
      showError(413, `文件太大（${(file.size / 1048576).toFixed(1)} MB），上限 ${maxBytes / 1048576} MB · the file is too large (limit ${maxBytes / 1048576} MB)`);
      return null;
    }
    return file;
  }

  // -- the report ------------------------------------------------------------------------------------

  function counts(report) {
    return el('ul', { id: 'ledger-counts', className: 'ledger-counts' },
      COUNTS.map(([key, zh, en]) => el('li', { dataset: { count: key }, className: key === 'rejected' && report.counts[key] ? 'bad' : null },
        el('b', {}, String(report.counts[key] || 0)), ` ${zh} ${en}`)));
  }

  function messages(list) {
    if (!list || !list.length) return '';
    return el('ul', { className: 'ledger-notes' }, list.map((m) => el('li', {},
      m.column ? `${m.column}${m.value !== null && m.value !== undefined ? ` = ${m.value}` : ''}: ` : '',
      bilingual(m.message_zh, m.message_en))));
  }

  function table(id, headings, rows) {
    return el('table', { id, className: 'data ledger-table' },
      el('thead', {}, el('tr', {}, headings.map(([zh, en]) => el('th', {}, zh, el('br'), el('small', {}, en))))),
      el('tbody', {}, rows));
  }

  function section(key, zh, en, count, content, collapsed) {
    const title = [`${zh} `, el('small', {}, en), ` (${count})`];
    if (collapsed) {
      return el('details', { id: `ledger-${key}`, className: 'ledger-section' }, el('summary', {}, title), content);
    }
    return el('section', { id: `ledger-${key}`, className: 'ledger-section' }, el('h3', {}, title), content);
  }

  const byRow = (a, b) => (a.row - b.row);
  const ROW = ['行', 'Row (as in the file)'];
  const NAME = ['名称', 'Name'];
  const NOTES = ['提示', 'Notes'];

  function renderReport(layer, report) {
    const out = [];
    const state = report.committed
      ? ['已提交', 'Committed']
      : report.dry_run ? ['预览（尚未写入）', 'Preview (nothing written yet)'] : ['未写入', 'Nothing written'];
    out.push(el('h2', {}, `${state[0]} `, el('small', {}, state[1])));
    out.push(el('p', { className: 'meta' },
      `文件 File: ${report.file_name}`, report.sheet ? ` · 工作表 sheet: ${report.sheet}` : '',
      ` · 图层 layer: ${report.layer} · 坐标 coordinates: ${report.input_crs} → ${report.output_crs}`));
    out.push(counts(report));
    const columns = Object.entries(report.columns || {});
    if (columns.length) {
      out.push(el('p', { className: 'meta', id: 'ledger-columns' }, '识别的列 Columns read: ',
        columns.map(([from, to]) => `${from} → ${to}`).join(' · '),
        (report.ignored_columns || []).length ? ` · 忽略的列 ignored: ${report.ignored_columns.join(', ')}` : '',
        Object.entries(report.units || {}).map(([c, u]) => ` · ${c}: ${u}`).join('')));
    }
    if ((report.warnings || []).length) {
      out.push(el('div', { id: 'ledger-warnings', className: 'ledger-warnings' }, el('b', {}, '提示 Warnings'),
        messages(report.warnings.map((w) => ({ ...w, column: w.row ? `行 row ${w.row}${w.column ? ` ${w.column}` : ''}` : w.column })))));
    }

    const rejected = [...(report.rejected || [])].sort(byRow);
    if (rejected.length) {
      out.push(section('rejected', '拒绝的行', 'Rejected rows', report.counts.rejected, table('ledger-rejected-table',
        [ROW, ['列', 'Column'], ['值', 'Value'], ['问题', 'Problem']],
        rejected.map((m) => el('tr', { dataset: { row: m.row } },
          el('td', { className: 'num' }, String(m.row)), el('td', {}, text(m.column)), el('td', {}, el('code', {}, text(m.value))),
          el('td', {}, bilingual(m.message_zh, m.message_en)))))));
    }
    const duplicates = [...(report.duplicates || [])].sort(byRow);
    if (duplicates.length) {
      out.push(section('duplicates', '可能重复', 'Possible duplicates (not written)', duplicates.length, table('ledger-duplicates-table',
        [ROW, NAME, ['重复于', 'Duplicate of'], ['说明', 'Note']],
        duplicates.map((o) => el('tr', { dataset: { row: o.row } },
          el('td', { className: 'num' }, String(o.row)), el('td', {}, text(o.name_zh)),
          el('td', {}, featureLink(layer, o.duplicate_of)), el('td', {}, bilingual(o.message_zh, o.message_en), messages(o.warnings)))))));
    }
    const updated = [...(report.updated || [])].sort(byRow);
    if (updated.length) {
      out.push(section('updated', '更新', 'Updates', updated.length, table('ledger-updated-table',
        [ROW, NAME, ['记录', 'Record'], ['变更的字段', 'Fields that change'], NOTES],
        updated.map((o) => el('tr', { dataset: { row: o.row } },
          el('td', { className: 'num' }, String(o.row)), el('td', {}, text(o.name_zh)), el('td', {}, featureLink(layer, o.id)),
          el('td', {}, (o.fields || []).join(', ')), el('td', {}, messages(o.warnings)))))));
    }
    const added = [...(report.added || [])].sort(byRow);
    if (added.length) {
      out.push(section('added', '新增', 'Additions', added.length, table('ledger-added-table',
        [ROW, NAME, ['新记录', 'New record'], NOTES],
        added.map((o) => el('tr', { dataset: { row: o.row } },
          el('td', { className: 'num' }, String(o.row)), el('td', {}, text(o.name_zh)),
          el('td', {}, report.committed ? featureLink(layer, o.id) : text(o.id)), el('td', {}, messages(o.warnings)))))));
    }
    const unchanged = [...(report.unchanged || [])].sort(byRow);
    if (unchanged.length) {
      out.push(section('unchanged', '未变', 'Unchanged', unchanged.length, table('ledger-unchanged-table',
        [ROW, NAME, ['记录', 'Record'], NOTES],
        unchanged.map((o) => el('tr', { dataset: { row: o.row } },
          el('td', { className: 'num' }, String(o.row)), el('td', {}, text(o.name_zh)),
          el('td', {}, featureLink(layer, o.id)), el('td', {}, messages(o.warnings))))), true));
    }
    preview.replaceChildren(...out);
    preview.hidden = false;
  }

  // -- after a commit: the change, its history, undo, the map -------------------------------------------

  function renderResult(report) {
    const cid = report.change_id;
    const history = `/api/history?change=${encodeURIComponent(cid)}`;
    const undo = el('button', { type: 'button', id: 'ledger-undo' }, '撤销 Undo');
    const undone = el('p', { id: 'ledger-undone', hidden: true });
    undo.addEventListener('click', () => { undoChange(cid, undo, undone); });
    result.replaceChildren(
      el('p', {}, '已提交修改 Committed change ', el('b', { id: 'ledger-change-id' }, cid),
        `：新增 ${report.counts.add} added, 更新 ${report.counts.update} updated.`),
      el('p', {},
        el('a', { id: 'ledger-history-link', href: history }, '本次修改的记录 History of this change'), ' · ',
        el('a', { id: 'ledger-map-link', href: '/' }, '在地图上查看 See them on the map'), ' · ', undo),
      undone);
    result.hidden = false;
  }

  async function undoChange(cid, button, line) {
    clearError();
    button.disabled = true;
    setStatus('正在撤销… Undoing…');
    let answer;
    try {
      answer = await post(`/api/history/${encodeURIComponent(cid)}/revert`, null);
    } catch (e) {
      setStatus('');
      showError(null, `连接失败 the server cannot be reached (${e.message})`);
      button.disabled = false;
      return;
    }
    setStatus('');
    if (answer.status !== 200) {
      errorOf(answer);
      button.disabled = answer.status === 409; // a later edit: undoing again will not help
      return;
    }
    const done = answer.body;
    line.replaceChildren('已撤销，新修改 Undone by change ', el('b', {}, text(done.change_id)), ' · ',
      el('a', { href: `/api/history?change=${encodeURIComponent(done.change_id)}` }, '记录 history'));
    line.hidden = false;
  }

  // -- the requests --------------------------------------------------------------------------------------

  async function send(options) {
    clearError();
    const file = chosenFile();
    if (!file) return;
    const layer = form.elements.layer.value;
    const body = new FormData();
    body.append('file', file, file.name);
    busy = true;
    setButtons();
    setStatus(options.dryRun ? '正在读取文件… Reading the file…' : '正在提交… Committing…');
    let answer;
    try {
      answer = await post(importUrl(options), body);
    } catch (e) {
      busy = false;
      setButtons();
      setStatus('');
      showError(null, `连接失败 the server cannot be reached (${e.message})`);
      return;
    }
    busy = false;
    setStatus('');
    const report = answer.body && answer.body.counts ? answer.body : null;
    if (answer.status === 200 && report) {
      renderReport(layer, report);
      if (options.dryRun) {
        previewed = { layer, report };
        result.hidden = true;
        if (!(report.counts.add + report.counts.update)) {
          setStatus('没有需要写入的行 · Nothing to write: no row adds or changes a record');
        }
      } else {
        previewed = null;
        if (report.committed) {
          renderResult(report);
        } else {
          setStatus('没有写入任何修改 · Nothing was written: no row adds or changes a record');
        }
      }
    } else if (answer.status === 422 && report) {
      previewed = { layer, report };
      renderReport(layer, report);
      showError(422, '有被拒绝的行，未写入任何内容：请修正后重新预览，或提交有效行 · rows were rejected and nothing was '
        + 'written: fix them and preview again, or commit the valid rows');
    } else {
      errorOf(answer);
    }
    setButtons();
  }

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    if (!busy) send({ dryRun: true });
  });
  commitAll.addEventListener('click', () => { if (!busy) send({}); });
  commitValid.addEventListener('click', () => { if (!busy) send({ skipInvalid: true }); });
  // another file or other options: the preview no longer says what a commit would do
  form.addEventListener('change', () => {
    if (!previewed) return;
    previewed = null;
    preview.hidden = true;
    setStatus('文件或选项已更改，请重新预览 · The file or the options changed: preview again');
    setButtons();
  });
  form.addEventListener('input', (event) => {
    if (event.target === form.elements.sheet && previewed) form.dispatchEvent(new Event('change'));
  });
  setButtons();
}());
