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
//   options.assets  the build's files as bytes, for a page that cannot fetch them (a notebook cell's self-contained
//                   HTML, mountInline below): {wasm: attnplay-app.wasm, fonts: {'attnplay-latin.ttf', 'attnplay-cjk.ttf'}}
//                   (ArrayBuffer or Uint8Array; a font left out draws with the built-in one). attnplay-app.js must
//                   then already be on the page, and training runs in the page (no worker file to start).
// One app per page (it owns the page's keyboard focus and the element id "canvas"); use iframes of embed.html for
// several figures. For numbers without a UI, import attnplay-core.mjs instead.
//
// api: getConfig(), setConfig(partial) (deep merge; resolves with the result once drawn, rejects with an Error naming
// the bad field and changes nothing), result(), on('change', fn) -> unsubscribe, highlight(query, key),
// shareQuery(), applyQuery(query), layout(), stats(), importConfig(text, name), importFile(bytesOrText, name), a11y(),
// setView(name), ready.

const SIMD_PROBE = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 10, 1, 8, 0, 65, 0, 253, 15, 253, 98, 11]);
let mounted = false;
const VIEWS = ['attention', 'mask', 'heads', 'model', 'qkv', 'geometry', 'decode'];  // AppView order

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

// The Train panel's steps in a Web Worker with an engine of its own (train_worker.mjs beside this file), so training
// never waits for frames: Module.attnplayTrain for src/platform/main_web.cpp. Where no worker can start (no module
// workers, this module served from another origin than the page, a CSP without worker-src 'self'), open() says so,
// or the worker's first answer does, and the app trains inside the frame instead.
function workerTrainHost(base, module) {
  let worker = null, broken = false, lastGen = 0;
  const deliver = (gen, params, progress, state) => {
    const M = module();
    if (!M) return;
    const text = JSON.stringify(progress);
    const n = params ? params.length : 0, sn = state ? state.length : 0;
    const p = n ? M._malloc(n * 4) : 0, sp = sn ? M._malloc(sn) : 0;
    const tn = M.lengthBytesUTF8(text), tp = M._malloc(tn + 1);
    try {
      if ((n && !p) || (sn && !sp) || !tp) return;  // no heap for this update: the next one brings newer weights anyway
      if (n) new Float32Array(M.HEAPU8.buffer, p, n).set(params);
      if (sn) M.HEAPU8.set(state, sp);
      M.stringToUTF8(text, tp, tn + 1);
      M._ap_app_train_update(gen, p, n, tp, tn, sp, sn);
    } finally {
      if (p) M._free(p);
      if (sp) M._free(sp);
      if (tp) M._free(tp);
    }
  };
  const start = () => {
    if (worker || broken) return worker;
    if (!base) {  // inline assets (a notebook cell): no worker file to start, training runs in the page
      broken = true;
      return null;
    }
    try {
      worker = new Worker(new URL('train_worker.mjs', base), { type: 'module' });
    } catch (e) {
      broken = true;
      console.warn(`attnplay: no training worker here (${e.message}); training runs in the page`);
      return null;
    }
    worker.onmessage = (e) => {
      if (e.data && e.data.type === 'update') deliver(e.data.gen, e.data.params, e.data.progress, e.data.state);
    };
    worker.onerror = (e) => {
      e.preventDefault();
      console.warn(`attnplay: the training worker failed (${e.message || 'it did not load'}); training runs in the page`);
      broken = true;
      worker = null;
      deliver(lastGen, null, { unavailable: e.message || 'the training worker did not load' }, null);
    };
    return worker;
  };
  return {
    open(gen, config, spec, state) {  // state: a restored session's train_session_snapshot bytes, or null
      lastGen = gen;
      const w = start();
      if (!w) return false;
      w.postMessage({ type: 'open', gen, config, spec, state }, state ? [state.buffer] : []);
      return true;
    },
    post(type, gen, running, spec) { if (worker) worker.postMessage({ type, gen, running, spec }); },
  };
}

// Autosave's store: one IndexedDB database of the page's own (index.html and embeds keep different keys), one record
// per key, each written whole in one transaction (a killed page leaves the last complete one). Every failure becomes
// a sentence the app shows once (full quota, storage denied in a private window, no IndexedDB at all).
function storageError(e) {
  const name = (e && e.name) || '';
  if (name === 'QuotaExceededError') return 'the browser\'s storage for this page is full';
  if (name === 'SecurityError' || name === 'InvalidStateError') return 'this browser does not let the page store data here (a private window?)';
  return `the browser refused to store it (${name || (e && e.message) || e})`;
}

function autosaveStore() {
  return new Promise((resolve, reject) => {
    if (typeof indexedDB === 'undefined' || !indexedDB) {
      reject(new Error('this browser keeps no storage for pages (IndexedDB is unavailable)'));
      return;
    }
    let req;
    try {
      req = indexedDB.open('attnplay-autosave', 1);
    } catch (e) {
      reject(new Error(storageError(e)));
      return;
    }
    req.onupgradeneeded = () => req.result.createObjectStore('records');
    req.onerror = () => reject(new Error(storageError(req.error)));
    req.onblocked = () => reject(new Error('another attnplay tab is upgrading the storage; reload this one'));
    req.onsuccess = () => {
      const db = req.result;
      const tx = (mode, fn) => new Promise((ok, fail) => {
        let t, out;
        try {
          t = db.transaction('records', mode);
          out = fn(t.objectStore('records'));
        } catch (e) {
          fail(new Error(storageError(e)));
          return;
        }
        t.oncomplete = () => ok(out && out.result);
        t.onabort = t.onerror = () => fail(new Error(storageError(t.error)));
      });
      resolve({
        read: (key) => tx('readonly', (s) => s.get(key)).then((v) => (v && v.bytes instanceof Uint8Array ? v.bytes : null)),
        write: (key, bytes) => tx('readwrite', (s) => s.put({ bytes, saved: Date.now() }, key)),
      });
    };
  });
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

// Pointers. A finger tells the app to treat taps as hover (they stay until the next tap). In an embed, the page
// scrolls under a wheel turn or a swipe unless the app has something of its own there (a scrolling panel, a mask
// to paint, a zoomed heatmap to pan): such events are kept from SDL, which would otherwise swallow them. Ctrl+wheel
// and a two-finger pinch zoom the heatmap under them, as embedded maps do.
function pointers(canvas, box, M, embed) {
  const local = (x, y) => { const r = canvas.getBoundingClientRect(); return [x - r.left, y - r.top]; };
  canvas.addEventListener('pointerdown', (e) => M._ap_app_pointer(e.pointerType === 'touch' ? 1 : 0), { capture: true });
  box.addEventListener('wheel', (e) => {
    const [x, y] = local(e.clientX, e.clientY);
    if (e.ctrlKey) {  // a trackpad pinch arrives as Ctrl+wheel too
      e.preventDefault();
      e.stopPropagation();
      M._ap_app_zoom(Math.pow(1.25, -Math.sign(e.deltaY) * Math.min(4, Math.abs(e.deltaY) / 50 || 1)), x, y);
    } else if (embed && M._ap_app_wants_wheel(x, y) !== 1) {
      e.stopPropagation();  // SDL never sees it: the browser scrolls the article
    }
  }, { capture: true, passive: false });
  const pageTouches = new Set();  // touches that belong to the page (scrolling), not to the app
  let pinch = null;
  const spread = (t) => Math.hypot(t[0].clientX - t[1].clientX, t[0].clientY - t[1].clientY);
  box.addEventListener('touchstart', (e) => {
    if (e.touches.length >= 2) {
      const t = e.touches;
      pinch = { d: spread(t) };
      e.preventDefault();
      e.stopPropagation();
      return;
    }
    const t = e.changedTouches[0];
    const [x, y] = local(t.clientX, t.clientY);
    if (embed && M._ap_app_wants_drag(x, y) !== 1) {
      pageTouches.add(t.identifier);  // a tap still reaches the app as the browser's click
      e.stopPropagation();
    }
  }, { capture: true, passive: false });
  box.addEventListener('touchmove', (e) => {
    if (pinch && e.touches.length >= 2) {
      const t = e.touches;
      const d = spread(t);
      const [x, y] = local((t[0].clientX + t[1].clientX) / 2, (t[0].clientY + t[1].clientY) / 2);
      if (pinch.d > 0 && d > 0) M._ap_app_zoom(d / pinch.d, x, y);
      pinch.d = d;
      e.preventDefault();
      e.stopPropagation();
      return;
    }
    if ([...e.changedTouches].some((t) => pageTouches.has(t.identifier))) e.stopPropagation();
  }, { capture: true, passive: false });
  const end = (e) => {
    if (pinch) {  // SDL sees every end (it may have seen the first finger land before the second made a pinch)
      if (e.touches.length < 2) pinch = null;
      return;
    }
    let page = false;
    for (const t of e.changedTouches) page = pageTouches.delete(t.identifier) || page;
    if (page) e.stopPropagation();
  };
  box.addEventListener('touchend', end, { capture: true });
  box.addEventListener('touchcancel', end, { capture: true });
}

// The DOM mirror for screen readers: a visually hidden region (aria-live polite) with a one-line summary of the
// config, the focused head's weights as a table with token headers (a summary beyond 64 tokens) and the selected
// cell's walkthrough. Built with textContent only: tokens are text, never markup.
function a11yMirror(box, read) {  // read() -> the engine's a11y JSON text
  const root = el('section', { position: 'absolute', width: '1px', height: '1px', overflow: 'hidden', clipPath: 'inset(50%)',
                               whiteSpace: 'nowrap', margin: '-1px', padding: '0', border: '0' },
                  { 'aria-live': 'polite', 'aria-label': 'attention playground, as text', 'data-attnplay-mirror': '' });
  box.appendChild(root);
  let last = '';
  let lastAt = 0;
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
      root.replaceChildren();
      const p = el('p', {}, { 'data-summary': '' });
      p.textContent = data.summary;
      root.appendChild(p);
      const table = el('table', {});
      const cap = el('caption', {});
      cap.textContent = data.caption;
      table.appendChild(cap);
      if (data.weights) {
        const head = el('tr', {});
        head.appendChild(el('th', {}, { scope: 'col' }));
        for (const c of data.cols) { const th = el('th', {}, { scope: 'col' }); th.textContent = c; head.appendChild(th); }
        const thead = el('thead', {});
        thead.appendChild(head);
        table.appendChild(thead);
        const tbody = el('tbody', {});
        data.weights.forEach((row, i) => {
          const tr = el('tr', {});
          const th = el('th', {}, { scope: 'row' });
          th.textContent = data.rows[i];
          tr.appendChild(th);
          for (const v of row) { const td = el('td', {}); td.textContent = v.toFixed(4); tr.appendChild(td); }
          tbody.appendChild(tr);
        });
        table.appendChild(tbody);
      } else {
        const note = el('p', {});
        note.textContent = data.large;
        root.appendChild(note);
        const tbody = el('tbody', {});
        data.top.forEach(([k, v], i) => {
          const tr = el('tr', {});
          const th = el('th', {}, { scope: 'row' });
          th.textContent = data.rows[i];
          const td = el('td', {});
          td.textContent = `${data.cols[k]} ${v.toFixed(4)}`;
          tr.append(th, td);
          tbody.appendChild(tr);
        });
        table.appendChild(tbody);
      }
      root.appendChild(table);
      const walk = el('div', {}, { 'data-walkthrough': '' });
      for (const line of data.walkthrough) { const q = el('p', {}); q.textContent = line; walk.appendChild(q); }
      root.appendChild(walk);
      const hint = el('p', {});
      hint.textContent = data.hint;
      root.appendChild(hint);
    },
  };
}

export async function mount(target, options = {}) {
  if (mounted) throw new Error('attnplay: one app per page; embed more figures with iframes of embed.html');
  if (!(target instanceof HTMLElement)) throw new Error('attnplay: mount() needs an element');
  mounted = true;
  const assets = options.assets ?? null;
  const base = assets && options.base === undefined ? null : new URL(options.base ?? '.', import.meta.url);

  // The canvas, the hidden text box for IME input, the status overlay and the file picker.
  let canvas;
  let box = target;
  if (target instanceof HTMLCanvasElement) {
    canvas = target;
    box = target.parentElement;
  } else {
    if (getComputedStyle(target).position === 'static') target.style.position = 'relative';
    canvas = el('canvas', { display: 'block', width: '100%', height: '100%', outline: 'none' }, { tabindex: '0', 'aria-label': 'attention playground (a text description follows it)' });
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
  const picker = el('input', { display: 'none' }, { type: 'file', accept: '.json,application/json,.safetensors,.npy,.npz,.attnplay' });
  const mirror = a11yMirror(box, () => M && call(() => M._ap_app_a11y()));
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

  // Fonts on demand: the Latin cut of the face comes with the app; the CJK cut (≈ 0.7 MB) only once a glyph in use,
  // or lang=zh, needs it (until then such glyphs draw as placeholders, then redraw).
  const fetchFont = (name) => (assets ? Promise.resolve(assets.fonts?.[name] ?? null)
    : fetch(new URL(`fonts/${name}`, base)).then((r) => (r.ok ? r.arrayBuffer() : null)).catch(() => null));
  const latinBytes = fetchFont('attnplay-latin.ttf');
  if (typeof globalThis.attnplayAppModule !== 'function') {
    if (!base) throw fatal('attnplay-app.js is not on this page (options.assets needs it loaded first)');
    await loadScript(new URL('attnplay-app.js', base).href);
  }

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
  const BINARY = /\.(safetensors|npy|npz|attnplay)$/i;  // weights, attention maps from another model, a workspace
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
  // A tap on a text box opens the on-screen keyboard: focus must be given inside the gesture (iOS, Android).
  canvas.addEventListener('pointerup', (e) => {
    if (e.pointerType !== 'touch' || !M) return;
    const l = JSON.parse(call(() => M._ap_app_layout()));
    const r = canvas.getBoundingClientRect();
    const x = e.clientX - r.left, y = e.clientY - r.top;
    for (const name of ['text_input', 'key_text_input', 'chip_editor']) {
      const b = l[name];
      if (b && x >= b[0] && y >= b[1] && x < b[0] + b[2] && y < b[1] + b[3]) {
        ime.style.left = `${r.left + b[0]}px`;
        ime.style.top = `${r.top + b[1]}px`;
        ime.focus({ preventScroll: true });
        return;
      }
    }
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

  let cjkRequested = false;
  const giveFont = (buf, setter) => {
    const bytes = new Uint8Array(buf);
    const p = M._malloc(bytes.length);
    M.HEAPU8.set(bytes, p);
    setter(p, bytes.length);  // the app copies it
    M._free(p);
  };
  const requestCjk = () => {
    cjkRequested = true;
    fetchFont('attnplay-cjk.ttf').then((buf) => {
      if (!buf) return console.warn('attnplay: the CJK font did not load; Chinese text will show as ?');
      giveFont(buf, (p, n) => M._ap_app_set_font(p, n));
    });
  };

  function onFrameDrawn(frame) {
    lastFrame = frame;
    if (frame === 1 && !status.dataset.error) status.style.display = 'none';
    syncTextFocus();
    if (!cjkRequested && M._ap_app_needs_cjk() === 1) requestCjk();
    mirror.update();
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
    attnplayTrain: workerTrainHost(base, () => M),
    attnplayEmbed: !!options.embed,
    attnplayQuery: query,
    locateFile: (p) => (base ? new URL(p, base).href : p),
    ...(assets && assets.wasm ? { wasmBinary: assets.wasm } : {}),
    onFrameDrawn,
    onDownload,
    onCopyLink,
    onOpenConfig: () => picker.click(),
    onFatal: (m) => fatal(m),
    // The browser took the WebGL context (a tab in the background on a phone, a GPU reset): say so over the figure
    // until it is back; the app keeps its state and rebuilds its GL resources.
    onGraphicsLost: () => {
      status.style.display = 'flex';
      status.dataset.lost = '1';
      status.textContent = options.graphicsLostText ?? 'Graphics paused, restoring…';
    },
    onGraphicsRestored: () => {
      delete status.dataset.lost;
      if (!status.dataset.error) status.style.display = 'none';
    },
    print: (t) => console.log(t),
    printErr: (t) => console.warn(t),
  });

  latinBytes.then((buf) => {
    if (!buf) return console.warn('attnplay: the font did not load; the UI uses the built-in bitmap font');
    giveFont(buf, (p, n) => M._ap_app_set_latin_font(p, n));
  });
  pointers(canvas, box, M, !!options.embed);
  if (options.autosave) await startAutosave(String(options.autosaveKey ?? (options.embed ? 'embed' : 'index')), options.restore !== false);

  // Autosave (issue 15): restore the saved workspace unless the URL chose a state, then save a second after each
  // change, at pagehide and when the page is hidden. The notice offers "Start fresh" (the record stays until the next
  // save replaces it). A refused record is kept aside under KEY:refused and never applied.
  async function startAutosave(key, restore) {
    const failed = (message) => withText(message, (p, n) => M._ap_app_autosave_done(0, p, n));
    let store;
    try {
      store = await autosaveStore();
    } catch (e) {
      failed(e.message);
      return;
    }
    if (restore) {
      const saved = await store.read(key).catch(() => null);
      if (saved) {
        const p = M._malloc(Math.max(1, saved.length));
        let ok = 0;
        try {
          M.HEAPU8.set(saved, p);
          ok = M._ap_app_restore(p, saved.length);
        } finally {
          M._free(p);
        }
        const info = JSON.parse(read());
        if (ok) banner(info.notice, info.fresh, () => M._ap_app_start_fresh());
        else {
          console.warn(`attnplay: ${info.notice}`);
          await store.write(`${key}:refused`, saved).catch(() => {});
        }
      }
    }
    M.attnplayAutosave = {
      write(bytes) {
        store.write(key, bytes).then(() => M._ap_app_autosave_done(1, 0, 0), (e) => failed(e.message));
      },
    };
    M._ap_app_autosave_start();
    addEventListener('pagehide', () => M._ap_app_autosave_flush());
    document.addEventListener('visibilitychange', () => { if (document.visibilityState === 'hidden') M._ap_app_autosave_flush(); });
  }

  function banner(text, freshLabel, onFresh) {
    const b = el('div', { position: 'absolute', left: '50%', bottom: '12px', transform: 'translateX(-50%)', maxWidth: 'calc(100% - 24px)',
                          display: 'flex', gap: '10px', alignItems: 'center', flexWrap: 'wrap', justifyContent: 'center',
                          background: '#1f2430', color: '#fff', padding: '8px 12px', borderRadius: '8px', boxSizing: 'border-box',
                          font: '15px system-ui, sans-serif', boxShadow: '0 2px 8px rgba(0,0,0,.3)', zIndex: '2' },
                   { role: 'status', 'data-restored': '' });
    const t = el('span', {});
    t.textContent = text;
    const fresh = el('button', { font: 'inherit', padding: '6px 12px', minHeight: '36px', borderRadius: '6px', border: '0',
                                 background: '#fff', color: '#1f2430', cursor: 'pointer' }, { type: 'button', 'data-start-fresh': '' });
    fresh.textContent = freshLabel;
    fresh.addEventListener('click', () => { onFresh(); b.remove(); });
    const close = el('button', { font: 'inherit', padding: '6px 10px', minHeight: '36px', border: '0', background: 'transparent',
                                 color: '#fff', cursor: 'pointer' }, { type: 'button', 'aria-label': 'close' });
    close.textContent = '×';
    close.addEventListener('click', () => b.remove());
    b.append(t, fresh, close);
    box.appendChild(b);
    setTimeout(() => b.remove(), 20000);
  }

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
    // URL state applied as a link would apply it ('?view=heads&layer=1&head=2', a preset, cfg=): all or nothing;
    // throws an Error naming the bad parameter.
    applyQuery(query) { withText(String(query), (p, n) => call(() => M._ap_app_load_url(p, n))); },
    importConfig: (text, name = 'config.json') => importText(String(text), String(name)) === 1,
    // A file's contents as the picker would hand them over: a config (.json), weights (.safetensors) or attention
    // maps (.npy, .npz, .safetensors with an "attention" tensor, JSON {"attention": [...]}). true when accepted.
    importFile: (data, name) => (typeof data === 'string' ? importText(data, String(name))
                                                           : importBytes(new Uint8Array(data), String(name))) === 1,
    layout: () => JSON.parse(call(() => M._ap_app_layout())),
    stats: () => JSON.parse(call(() => M._ap_app_stats())),
    // What the DOM mirror holds: {summary, caption, rows, cols, weights | top, walkthrough, cell, layer, head}.
    a11y: () => JSON.parse(call(() => M._ap_app_a11y())),
    // Show one view: 'attention' | 'mask' | 'heads' | 'model' | 'qkv' | 'geometry' | 'decode' (as the URL's view=).
    setView(name) {
      const i = VIEWS.indexOf(name);
      if (i < 0) throw new Error(`setView: view must be one of ${VIEWS.join(', ')} (got ${JSON.stringify(name)})`);
      M._ap_app_set_view(i);
    },
  };
  api.ready = Promise.resolve(api);
  return Object.freeze(api);
}

// A self-contained page (the Python package's notebook cells, python/attnplay/_html.py): everything arrives inside
// the document as data, nothing is fetched. Two JSON script elements (never executed, so no token in them is ever
// script text):
//   #attnplay-assets   {wasm, latin, cjk}: gzip'd files in base64 (cjk may be null)
//   #attnplay-payload  {query, file (a file in base64, or null), file_name, view_query (applied after the file),
//                       view (shown first, tabs kept)}
// The app mounts on #app as an embed; window.attnplay is its API (SPEC §6), as in embed.html.
export async function mountInline(doc = document) {
  const data = (id) => JSON.parse(doc.getElementById(id).textContent);
  const bytes = (b64) => {
    const s = atob(b64);
    const out = new Uint8Array(s.length);
    for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
    return out;
  };
  const gunzip = async (b64) => (b64 ? new Uint8Array(await new Response(new Blob([bytes(b64)]).stream()
    .pipeThrough(new DecompressionStream('gzip'))).arrayBuffer()) : null);
  const target = doc.getElementById('app');
  if (typeof DecompressionStream !== 'function') {  // Firefox before 113 has WebAssembly SIMD but not this
    target.textContent = 'This browser cannot unpack the figure (it has no DecompressionStream): Chrome 80+, Firefox 113+ and Safari 16.4+ can.';
    throw new Error(target.textContent);
  }
  const files = data('attnplay-assets');
  const payload = data('attnplay-payload');
  const [wasm, latin, cjk] = await Promise.all([gunzip(files.wasm), gunzip(files.latin), gunzip(files.cjk)]);
  const api = await mount(target, { query: payload.query || '', embed: true, autosave: false,
                                    assets: { wasm, fonts: { 'attnplay-latin.ttf': latin, 'attnplay-cjk.ttf': cjk } } });
  window.attnplay = api;
  // A file to open as the picker would (attention maps, weights or a workspace; a refusal shows in the app), then the
  // view over it (the layer and head in focus exist only once the file is in).
  if (payload.file) {
    api.importFile(bytes(payload.file), payload.file_name);
    if (payload.view_query) api.applyQuery(payload.view_query);
  }
  if (payload.view) api.setView(payload.view);  // with the tabs (a view= query would show that view alone)
  return api;
}
