// attnplay engine page: loads attnplay-core.mjs and draws layer 0's weights for the config being edited.
// User text only ever reaches the page through textContent and canvas fillText (never innerHTML).
import { createCore } from './attnplay-core.mjs';

const $ = (id) => document.getElementById(id);
const state = { config: { text: 'The cat sat on the mat.', tokenizer: 'words', attention: { kind: 'scaled_dot', mask: { causal: false } } }, head: 0, result: null };

function viridis(t) {  // 5-stop approximation of matplotlib's viridis
  const stops = [[68, 1, 84], [59, 82, 139], [33, 145, 140], [94, 201, 98], [253, 231, 37]];
  const x = Math.min(1, Math.max(0, t)) * (stops.length - 1), i = Math.min(stops.length - 2, Math.floor(x)), f = x - i;
  const c = stops[i].map((v, k) => Math.round(v + f * (stops[i + 1][k] - v)));
  return `rgb(${c[0]},${c[1]},${c[2]})`;
}

function draw() {
  const canvas = $('heatmap'), g = canvas.getContext('2d');
  g.clearRect(0, 0, canvas.width, canvas.height);
  const r = state.result;
  if (!r) return;
  const head = r.layers[0].heads[Math.min(state.head, r.layers[0].heads.length - 1)];
  const keys = r.key_tokens || r.tokens, n = r.tokens.length, m = keys.length, pad = 90;
  const cell = Math.max(4, Math.floor(Math.min((canvas.width - pad) / m, (canvas.height - pad) / n)));
  g.font = '12px system-ui, "Noto Sans CJK SC", sans-serif';
  g.fillStyle = getComputedStyle(document.body).color;
  g.textAlign = 'right'; g.textBaseline = 'middle';
  r.tokens.forEach((t, i) => g.fillText(t.slice(0, 12), pad - 6, pad + i * cell + cell / 2));
  keys.forEach((t, j) => {
    g.save(); g.translate(pad + j * cell + cell / 2, pad - 6); g.rotate(-Math.PI / 3); g.textAlign = 'left';
    g.fillText(t.slice(0, 12), 0, 0); g.restore();
  });
  for (let i = 0; i < n; i++) for (let j = 0; j < m; j++) {
    const masked = head.scores[i][j] === null;
    g.fillStyle = masked ? '#7774' : viridis(head.weights[i][j]);
    g.fillRect(pad + j * cell, pad + i * cell, cell - 1, cell - 1);
  }
  canvas.onmousemove = (e) => {
    const b = canvas.getBoundingClientRect(), sx = canvas.width / b.width;
    const j = Math.floor(((e.clientX - b.left) * sx - pad) / cell), i = Math.floor(((e.clientY - b.top) * sx - pad) / cell);
    if (i >= 0 && i < n && j >= 0 && j < m) {
      const s = head.scores[i][j];
      $('hover').textContent = `${r.tokens[i]} → ${keys[j]}: weight ${head.weights[i][j].toFixed(4)}, score ${s === null ? 'masked' : s.toFixed(4)}`;
    }
  };
}

let core;
function recompute() {
  try {
    state.result = core.compute(state.config);
    $('error').textContent = state.result.warnings.join('\n');
    const heads = state.result.layers[0].heads.length, sel = $('head');
    if (sel.options.length !== heads) {
      sel.replaceChildren(...Array.from({ length: heads }, (_, h) => new Option(String(h), String(h))));
      state.head = Math.min(state.head, heads - 1);
      sel.value = String(state.head);
    }
  } catch (e) {
    $('error').textContent = e.message;
  }
  $('config').value = JSON.stringify(state.config, null, 2);
  draw();
}

function bind(id, apply) { $(id).addEventListener('input', () => { apply($(id)); recompute(); }); }

async function main() {
  core = await createCore();
  $('build').textContent = `${core.build} — SIMD ${core.simd ? 'on' : 'off'}`;
  const params = new URLSearchParams(location.search);
  if (params.has('text')) { state.config.text = params.get('text'); $('text').value = state.config.text; }
  bind('text', (el) => { state.config.text = el.value; });
  bind('tokenizer', (el) => { state.config.tokenizer = el.value; });
  bind('kind', (el) => { state.config.attention.kind = el.value; });
  bind('causal', (el) => { state.config.attention.mask.causal = el.checked; });
  $('head').addEventListener('change', (e) => { state.head = Number(e.target.value); draw(); });
  $('config').addEventListener('change', (e) => {
    try { state.config = JSON.parse(e.target.value); recompute(); } catch (err) { $('error').textContent = `config: ${err.message}`; }
  });
  recompute();
  document.title = 'attnplay — ready';
}

main().catch((e) => { $('build').textContent = `The engine failed to load: ${e.message}`; });
