// attnplay page shell (index.html and embed.html): feature checks, loading indicator, the app module, the CJK
// font, window.attnplay (../shared/SPEC.md §6) and, in embed.html, the postMessage bridge.
//
// window.attnplay
//   ready                  Promise resolved once the API below works
//   getConfig()            the config (every field explicit)
//   setConfig(partial)     deep-merges objects, arrays replace, null restores a default; resolves with the result
//                          once computed and drawn, or rejects with an Error naming the bad field (state unchanged)
//   result()               the SPEC §3 result of what is on screen
//   on("change", fn)       fn(result) after every config change (UI or API); returns an unsubscribe function
//   layout(), stats()      widget rectangles and timings (used by the browser tests)
// Untrusted text (URL, messages) only ever reaches the app as config JSON; nothing is inserted as HTML.

const statusBox = document.getElementById('status');
const statusText = document.getElementById('status-text');
const canvas = document.getElementById('canvas');
const embedded = document.body.classList.contains('embed');

function fatal(message) {
  statusBox.classList.remove('hidden');
  statusBox.classList.add('error');
  statusText.textContent = message;
  console.error(`attnplay: ${message}`);
}

function hasWebGL2() {
  try {
    return !!document.createElement('canvas').getContext('webgl2');
  } catch {
    return false;
  }
}

function hasWasmSimd() {
  // A module whose one function uses a v128 instruction: it validates only where SIMD128 is supported.
  const bytes = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 10, 1, 8, 0, 65, 0, 253, 15, 253, 98, 11]);
  try {
    return typeof WebAssembly === 'object' && WebAssembly.validate(bytes);
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

async function start() {
  if (typeof WebAssembly !== 'object') return fatal('This browser cannot run WebAssembly, which attnplay needs.');
  if (!hasWebGL2()) return fatal('This browser or device has no WebGL2, which attnplay needs to draw. Try a current Chrome, Firefox, Edge or Safari, with hardware acceleration on.');
  if (!hasWasmSimd()) return fatal('This browser does not support WebAssembly SIMD, which attnplay needs. Chrome 91+, Firefox 89+, Safari 16.4+ and Edge 91+ do.');

  const base = new URL('.', import.meta.url);
  const fontBytes = fetch(new URL('fonts/attnplay-cjk.ttf', base)).then((r) => (r.ok ? r.arrayBuffer() : null)).catch(() => null);
  await loadScript(new URL('attnplay-app.js', base).href);

  const pending = [];          // setConfig promises waiting for their frame
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
  // The result promised by setConfig and passed to "change" listeners: its fields are read from the engine on
  // first access, so an edit at thousands of tokens does not pay for a JSON it may never read.
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

  // While ImGui has an active text box, keep the hidden textarea focused (over that box, so an IME shows its
  // candidates there) and forward committed text; otherwise give focus back to the canvas.
  const ime = document.getElementById('ime');
  let wantsText = false;
  const forward = (text) => {
    if (!text) return;
    withText(text, (p, n) => M._ap_app_add_text(p, n));
  };
  ime.addEventListener('input', (e) => {
    if (e.isComposing) return;
    forward(ime.value);
    ime.value = '';
  });
  ime.addEventListener('compositionend', (e) => {
    forward(e.data);
    ime.value = '';
  });
  function syncTextFocus() {
    const want = M._ap_app_wants_text() === 1;
    if (want === wantsText) return;
    wantsText = want;
    if (want) {
      const box = JSON.parse(call(() => M._ap_app_layout())).active_text;
      if (box) {
        ime.style.left = `${box[0]}px`;
        ime.style.top = `${box[1]}px`;
      }
      ime.focus({ preventScroll: true });
    } else {
      ime.blur();
      canvas.focus({ preventScroll: true });
    }
  }

  function onFrameDrawn(frame) {
    lastFrame = frame;
    syncTextFocus();
    if (frame === 1) statusBox.classList.add('hidden');
    for (let i = pending.length - 1; i >= 0; i--) {
      if (pending[i].target <= frame) {
        const p = pending.splice(i, 1)[0];
        p.resolve(lazyResult());
      }
    }
    if (M._ap_app_take_changed() && listeners.size) {
      const r = lazyResult();
      for (const fn of listeners) {
        try { fn(r); } catch (e) { console.error(e); }
      }
    }
  }

  M = await attnplayAppModule({
    canvas,
    locateFile: (path) => new URL(path, base).href,
    onFrameDrawn,
    onFatal: fatal,
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
          reject(new Error(`setConfig takes an object (got ${Array.isArray(partial) ? 'array' : typeof partial})`));
          return;
        }
        try {
          const text = configText(partial);
          withText(text, (p, n) => call(() => M._ap_app_set_config(p, n)));
        } catch (e) {
          reject(e instanceof Error ? e : new Error(String(e)));
          return;
        }
        pending.push({ target: lastFrame + 1, resolve, reject });
      });
    },
    result,
    on(event, fn) {
      if (event !== 'change') throw new Error(`on: unknown event "${event}" (only "change")`);
      if (typeof fn !== 'function') throw new Error('on: the listener must be a function');
      listeners.add(fn);
      return () => listeners.delete(fn);
    },
    layout: () => JSON.parse(call(() => M._ap_app_layout())),
    stats: () => JSON.parse(call(() => M._ap_app_stats())),
  };
  api.ready = Promise.resolve(api);
  window.attnplay = Object.freeze(api);

  if (embedded) {
    window.addEventListener('message', (event) => {
      const msg = event.data;
      if (!msg || typeof msg !== 'object' || typeof msg.type !== 'string' || !msg.type.startsWith('attnplay:')) return;
      const reply = (data) => { if (event.source) event.source.postMessage(data, event.origin === 'null' ? '*' : event.origin); };
      if (msg.type === 'attnplay:setConfig') {
        api.setConfig(msg.config).then((r) => reply({ type: 'attnplay:result', result: r }),
                                       (e) => reply({ type: 'attnplay:error', message: e.message }));
      } else {
        console.warn(`attnplay: ignored message of unknown type ${JSON.stringify(msg.type).slice(0, 60)}`);
      }
    });
  }
}

start().catch((e) => fatal(`attnplay failed to start: ${e.message}`));
