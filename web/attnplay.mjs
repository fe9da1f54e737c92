// attnplay for authors: put the playground into any element of your page.
//
//   import { mount } from './attnplay.mjs';
//   const app = await mount(document.getElementById('figure'), { query: '?preset=scaling&lang=zh' });
//   await app.setConfig({ text: '今天天气很好', tokenizer: 'chars' });
//   app.on('change', (result) => console.log(result.tokens));
//
// mount(target, options) -> Promise<api>
//   target          a <div> (the app fills it) or a <canvas>
//   options.query   URL state to start from ('?preset=..&cfg=..&view=..', as docs/embedding.md lists)
//   options.embed   true: page options of embed.html (view= shows one view alone)
//   options.base    where the build's files are (default: beside this module)
// One app per page (it owns the page's keyboard focus and the element id "canvas"); use iframes of embed.html for
// several figures. For numbers without a UI, import attnplay-core.mjs instead.
//
// api: getConfig(), setConfig(partial) (deep merge; resolves with the result once drawn, rejects with an Error naming
// the bad field and changes nothing), result(), on('change', fn) -> unsubscribe, highlight(query, key),
// shareQuery(), layout(), stats(), importConfig(text, name), importFile(bytesOrText, name), ready.

const SIMD_PROBE = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 10, 1, 8, 0, 65, 0, 253, 15, 253, 98, 11]);
let mounted = false;

export function hasWebGL2() {
  try {
    return !!document.createElement('canvas').getContext('webgl2');
  } catch {
    return false;
  }
}

export function hasWasmSimd() {
  try {
    return typeof WebAssembly === 'object' && WebAssembly.validate(SIMD_PROBE);
  } catch {
    return false;
  }
}

function loadScript(src) {
  return new Promise((resolve, reject) => {
    const s = document.createElement('script');
    s.src = src;
    s.onload = resolve;
    s.onerror = () => reject(new Error(`could not load ${src}`));
    document.head.appendChild(s);
  });
}

// JSON.stringify would turn NaN/Infinity into null ("use the default"): refuse them by name instead.
function configText(config) {
  return JSON.stringify(config, (key, value) => {
    if (typeof value === 'number' && !Number.isFinite(value)) throw new Error(`${key || 'config'} must be a finite number (got ${value})`);
    return value;
  });
}

function el(tag, style, attrs = {}) {
  const e = document.createElement(tag);
  Object.assign(e.style, style);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  return e;
}

export async function mount(target, options = {}) {
  if (mounted) throw new Error('attnplay: one app per page; embed more figures with iframes of embed.html');
  if (!(target instanceof HTMLElement)) throw new Error('attnplay: mount() needs an element');
  mounted = true;
  const base = new URL(options.base ?? '.', import.meta.url);

  // The canvas, the hidden text box for IME input, the status overlay and the file picker.
  let canvas;
  let box = target;
  if (target instanceof HTMLCanvasElement) {
    canvas = target;
    box = target.parentElement;
  } else {
    if (getComputedStyle(target).position === 'static') target.style.position = 'relative';
    canvas = el('canvas', { display: 'block', width: '100%', height: '100%', outline: 'none' }, { tabindex: '-1', 'aria-label': 'attention playground' });
    target.appendChild(canvas);
  }
  canvas.id = 'canvas';  // SDL2 and emscripten address the canvas by this id
  const ime = el('textarea', { position: 'fixed', left: '0', top: '0', width: '2px', height: '1.2em', opacity: '0', border: '0',
                               padding: '0', resize: 'none', overflow: 'hidden', pointerEvents: 'none', fontSize: '16px' },
                 { 'aria-hidden': 'true', autocomplete: 'off', autocorrect: 'off', autocapitalize: 'off', spellcheck: 'false' });
  const status = el('div', { position: 'absolute', inset: '0', display: 'flex', alignItems: 'center', justifyContent: 'center',
                             background: '#f0f0f0', color: '#333', textAlign: 'center', padding: '2rem', boxSizing: 'border-box',
                             font: '16px system-ui, sans-serif' }, { role: 'status' });
  status.textContent = options.loadingText ?? 'Loading the attention playground…';
  const picker = el('input', { display: 'none' }, { type: 'file', accept: '.json,application/json,.safetensors,.npy,.npz' });
  box.append(ime, status, picker);

  const fatal = (message) => {
    status.style.display = 'flex';
    status.style.color = '#b00020';
    status.textContent = message;
    status.dataset.error = '1';
    console.error(`attnplay: ${message}`);
    return new Error(message);
  };
  if (typeof WebAssembly !== 'object') throw fatal('This browser cannot run WebAssembly, which attnplay needs.');
  if (!hasWebGL2()) throw fatal('This browser or device has no WebGL2, which attnplay needs to draw. Try a current Chrome, Firefox, Edge or Safari, with hardware acceleration on.');
  if (!hasWasmSimd()) throw fatal('This browser does not support WebAssembly SIMD, which attnplay needs. Chrome 91+, Firefox 89+, Safari 16.4+ and Edge 91+ do.');

  const fontBytes = fetch(new URL('fonts/attnplay-cjk.ttf', base)).then((r) => (r.ok ? r.arrayBuffer() : null)).catch(() => null);
  if (typeof globalThis.attnplayAppModule !== 'function') await loadScript(new URL('attnplay-app.js', base).href);

  const pending = [];
  const listeners = new Set();
  let lastFrame = 0;
  let M = null;
  const read = () => M.UTF8ToString(M._ap_result_ptr(), M._ap_result_len());
  const call = (fn) => {
    const ok = fn();
    const text = read();
    if (!ok) throw new Error(text);
    return text;
  };
  const withText = (text, fn) => {
    const n = M.lengthBytesUTF8(text);
    const p = M._malloc(n + 1);
    if (!p) throw new Error('out of memory');
    try {
      M.stringToUTF8(text, p, n + 1);
      return fn(p, n);
    } finally {
      M._free(p);
    }
  };
  const result = () => JSON.parse(call(() => M._ap_app_result()));
  // Fields are read from the engine on first access: an edit at thousands of tokens does not pay for a JSON nobody reads.
  const lazyResult = () => {
    let full = null;
    const get = () => (full ??= result());
    const out = {};
    for (const key of ['tokens', 'key_tokens', 'layers', 'logits', 'vocab', 'fully_masked_rows', 'warnings']) {
      Object.defineProperty(out, key, { enumerable: true, get: () => get()[key] });
    }
    Object.defineProperty(out, 'toJSON', { value: () => get() });
    return out;
  };
  const importText = (text, name) => withText(text, (p, n) => withText(name, (q, m) => M._ap_app_import(p, n, q, m)));
  // Weights files are binary: their bytes go in as they are (a config's text goes in as UTF-8).
  const importBytes = (bytes, name) => {
    const p = M._malloc(Math.max(1, bytes.length));
    if (!p) throw new Error('out of memory');
    try {
      M.HEAPU8.set(bytes, p);
      return withText(name, (q, m) => M._ap_app_import(p, bytes.length, q, m));
    } finally {
      M._free(p);
    }
  };
  const BINARY = /\.(safetensors|npy|npz)$/i;  // weights, or attention maps exported from another model
  const importFile = async (file) => (BINARY.test(file.name)
    ? importBytes(new Uint8Array(await file.arrayBuffer()), file.name)
    : importText(await file.text(), file.name));

  // While ImGui has an active text box, the hidden textarea holds the focus (over that box, so an IME shows its
  // candidates there) and forwards committed text: SDL2 only turns keypress into text, so IME input would be lost.
  let wantsText = false;
  const forward = (text) => { if (text) withText(text, (p, n) => M._ap_app_add_text(p, n)); };
  ime.addEventListener('input', (e) => {
    if (e.isComposing) return;
    forward(ime.value);
    ime.value = '';
  });
  ime.addEventListener('compositionend', (e) => {
    forward(e.data);
    ime.value = '';
  });
  const syncTextFocus = () => {
    const want = M._ap_app_wants_text() === 1;
    if (want === wantsText) return;
    wantsText = want;
    if (want) {
      const active = JSON.parse(call(() => M._ap_app_layout())).active_text;
      const r = canvas.getBoundingClientRect();
      if (active) {
        ime.style.left = `${r.left + active[0]}px`;
        ime.style.top = `${r.top + active[1]}px`;
      }
      ime.focus({ preventScroll: true });
    } else {
      ime.blur();
      canvas.focus({ preventScroll: true });
    }
  };

  function onFrameDrawn(frame) {
    lastFrame = frame;
    if (frame === 1 && !status.dataset.error) status.style.display = 'none';
    syncTextFocus();
    for (let i = pending.length - 1; i >= 0; i--) {
      if (pending[i].target <= frame) pending.splice(i, 1)[0].resolve(lazyResult());
    }
    if (M._ap_app_take_changed() && listeners.size) {
      const r = lazyResult();
      for (const fn of listeners) {
        try { fn(r); } catch (e) { console.error(e); }
      }
    }
  }

  function onDownload(name, mime, bytes) {
    const url = URL.createObjectURL(new Blob([bytes], { type: mime }));
    const a = el('a', { display: 'none' }, { href: url, download: name });
    document.body.appendChild(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60000);
  }

  async function onCopyLink(query) {
    const page = new URL(options.linkBase ?? location.href);
    const url = `${page.origin}${page.pathname}?${query}`;
    let ok = false;
    try {
      await navigator.clipboard.writeText(url);
      ok = true;
    } catch { /* no clipboard permission: the app shows the link for manual copying */ }
    withText(url, (p, n) => M._ap_app_link(p, n, ok ? 1 : 0));
  }

  picker.addEventListener('change', async () => {
    const file = picker.files && picker.files[0];
    if (file) await importFile(file);
    picker.value = '';
  });
  box.addEventListener('dragover', (e) => { e.preventDefault(); });
  box.addEventListener('drop', async (e) => {
    e.preventDefault();
    const file = e.dataTransfer && e.dataTransfer.files && e.dataTransfer.files[0];
    if (file) await importFile(file);
  });

  const query = options.query ?? '';
  M = await globalThis.attnplayAppModule({
    canvas,
    attnplayEmbed: !!options.embed,
    attnplayQuery: query,
    locateFile: (p) => new URL(p, base).href,
    onFrameDrawn,
    onDownload,
    onCopyLink,
    onOpenConfig: () => picker.click(),
    onFatal: (m) => fatal(m),
    print: (t) => console.log(t),
    printErr: (t) => console.warn(t),
  });

  fontBytes.then((buf) => {
    if (!buf) return console.warn('attnplay: the CJK font did not load; Chinese text will show as ?');
    const bytes = new Uint8Array(buf);
    const p = M._malloc(bytes.length);
    M.HEAPU8.set(bytes, p);
    M._ap_app_set_font(p, bytes.length);  // the app copies it
    M._free(p);
  });

  const api = {
    getConfig: () => JSON.parse(call(() => M._ap_app_config())),
    setConfig(partial) {
      return new Promise((resolve, reject) => {
        if (partial === null || typeof partial !== 'object' || Array.isArray(partial)) {
          reject(new Error(`setConfig takes an object (got ${Array.isArray(partial) ? 'array' : partial === null ? 'null' : typeof partial})`));
          return;
        }
        try {
          withText(configText(partial), (p, n) => call(() => M._ap_app_set_config(p, n)));
        } catch (e) {
          reject(e instanceof Error ? e : new Error(String(e)));
          return;
        }
        pending.push({ target: lastFrame + 1, resolve });
      });
    },
    result,
    on(event, fn) {
      if (event !== 'change') throw new Error(`on: unknown event "${event}" (only "change")`);
      if (typeof fn !== 'function') throw new Error('on: the listener must be a function');
      listeners.add(fn);
      return () => listeners.delete(fn);
    },
    highlight(queryIndex, keyIndex) {
      if (!Number.isInteger(queryIndex) || !Number.isInteger(keyIndex) || queryIndex < 0 || keyIndex < 0) {
        throw new Error(`highlight: query and key must be non-negative integers (got ${queryIndex}, ${keyIndex})`);
      }
      M._ap_app_highlight(queryIndex, keyIndex);
    },
    shareQuery: () => call(() => M._ap_app_share_query()),
    importConfig: (text, name = 'config.json') => importText(String(text), String(name)) === 1,
    // A file's contents as the picker would hand them over: a config (.json), weights (.safetensors) or attention
    // maps (.npy, .npz, .safetensors with an "attention" tensor, JSON {"attention": [...]}). true when accepted.
    importFile: (data, name) => (typeof data === 'string' ? importText(data, String(name))
                                                           : importBytes(new Uint8Array(data), String(name))) === 1,
    layout: () => JSON.parse(call(() => M._ap_app_layout())),
    stats: () => JSON.parse(call(() => M._ap_app_stats())),
  };
  api.ready = Promise.resolve(api);
  return Object.freeze(api);
}
