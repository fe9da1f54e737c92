// attnplay.mjs, the DOM mirror for screen readers: a visually hidden region (aria-live polite) with a one-line summary
// of the config, the focused head's weights as a table with token headers (a summary beyond 64 tokens) and the
// selected cell's walkthrough (and a real model's predictions). Built with textContent only: tokens are text, never markup.
import { el } from './dom.mjs';

export function a11yMirror(box, read) {  // read() -> the engine's a11y JSON text
  const root = el('section', { position: 'absolute', width: '1px', height: '1px', overflow: 'hidden', clipPath: 'inset(50%)',
                               whiteSpace: 'nowrap', margin: '-1px', padding: '0', border: '0' },
                  { 'aria-live': 'polite', 'aria-label': 'attention playground, as text', 'data-attnplay-mirror': '' });
  box.appendChild(root);
  let last = '';
  let lastAt = 0;
  const cell = (tag, text, attrs = {}) => {
    const e = el(tag, {}, attrs);
    e.textContent = text;
    return e;
  };
  const weightsTable = (table, data) => {
    const head = el('tr', {});
    head.appendChild(el('th', {}, { scope: 'col' }));
    for (const c of data.cols) head.appendChild(cell('th', c, { scope: 'col' }));
    const thead = el('thead', {});
    thead.appendChild(head);
    table.appendChild(thead);
    const tbody = el('tbody', {});
    data.weights.forEach((row, i) => {
      const tr = el('tr', {});
      tr.appendChild(cell('th', data.rows[i], { scope: 'row' }));
      for (const v of row) tr.appendChild(cell('td', v.toFixed(4)));
      tbody.appendChild(tr);
    });
    table.appendChild(tbody);
  };
  const strongestTable = (table, data) => {  // beyond 64 tokens: each query's strongest key
    root.appendChild(cell('p', data.large));
    const tbody = el('tbody', {});
    data.top.forEach(([k, v], i) => {
      const tr = el('tr', {});
      tr.append(cell('th', data.rows[i], { scope: 'row' }), cell('td', `${data.cols[k]} ${v.toFixed(4)}`));
      tbody.appendChild(tr);
    });
    table.appendChild(tbody);
  };
  return {
    root,
    update() {
      const now = performance.now();
      if (now - lastAt < 250) return;  // a few times a second is plenty for a reader
      lastAt = now;
      let text;
      try { text = read(); } catch { return; }
      if (!text || text === last) return;  // the engine caches its answer: unchanged text, nothing to rebuild
      last = text;
      const data = JSON.parse(text);
      if (!data.summary) return;
      root.replaceChildren(cell('p', data.summary, { 'data-summary': '' }));
      const table = el('table', {});
      table.appendChild(cell('caption', data.caption));
      if (data.weights) weightsTable(table, data);
      else strongestTable(table, data);
      root.appendChild(table);
      if (data.predictions) {  // a real model's top tokens at the selected row
        const list = el('ol', {}, { 'data-predictions': '' });
        for (const p of data.predictions.top) {
          const before = p.before === undefined ? '' : `${(100 * p.before).toFixed(1)}% -> `;
          list.appendChild(cell('li', `${p.display} ${before}${(100 * p.prob).toFixed(1)}%`));
        }
        root.append(cell('p', data.predictions.caption), list);
      }
      const walk = el('div', {}, { 'data-walkthrough': '' });
      for (const line of data.walkthrough) walk.appendChild(cell('p', line));
      root.append(walk, cell('p', data.hint));
    },
  };
}
