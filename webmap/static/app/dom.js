/* 洛阳都市圈产业走廊地图 · DOM helpers of the map page's own modules (timeline.js, edit.js): window.CorridorDom.
 *
 *   el(tag, attrs, ...children)  an element; attrs: class, dataset, other attributes (true: present, null or
 *                                false: absent); children: nodes, or text (through text nodes, never HTML;
 *                                null and false are skipped)
 *   bi(zh, en, sep)              both languages side by side (map.js's bi when loaded: .zh / .en spans that the
 *                                language switch shows or hides)
 */
(function () {
  'use strict';

  if (window.CorridorDom) return;  // each module's partial loads it; once is enough

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v == null || v === false) continue;
      if (k === 'class') node.className = v;
      else if (k === 'dataset') Object.assign(node.dataset, v);
      else node.setAttribute(k, v === true ? '' : v);
    }
    for (const child of children.flat()) {
      if (child == null || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }
  function bi(zh, en, sep) {
    const CM = window.CorridorMap;
    if (CM && typeof CM.bi === 'function') return CM.bi(zh, en, sep);
    return el('span', { class: 'cm-bi' }, el('span', { class: 'zh' }, zh), ' ', el('span', { class: 'en' }, en));
  }

  window.CorridorDom = { el, bi };
})();
