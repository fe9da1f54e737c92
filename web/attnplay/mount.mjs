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
//   options.modelWorker  () -> Worker: the model worker where the page cannot fetch it (a notebook cell's blob)
//   options.modelFiles   File[] of a model folder to open at once (each with relativePath "<folder>/<name>")
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
// views(), setView(name), ready.

import { hasWebGL2, hasWasmSimd, loadScript, el, statusOverlay, missingFeature } from './dom.mjs';
import { assetSource, fontFeeder } from './assets.mjs';
import { pointers, textInput } from './pointers.mjs';
import { startAutosave } from './persistence.mjs';
import { a11yMirror } from './mirror.mjs';
import { workerTrainHost } from './training.mjs';
import { fileImport } from './files.mjs';
import { workerModelHost } from './pretrained.mjs';

export { hasWebGL2, hasWasmSimd };

let mounted = false;

// The canvas the app draws in, inside target (or target itself), and the box that holds it and the overlays.
function canvasIn(target) {
  if (target instanceof HTMLCanvasElement) return { canvas: target, box: target.parentElement };
  if (getComputedStyle(target).position === 'static') target.style.position = 'relative';
  const canvas = el('canvas', { display: 'block', width: '100%', height: '100%', outline: 'none' },
                    { tabindex: '0', 'aria-label': 'attention playground (a text description follows it)' });
  target.appendChild(canvas);
  return { canvas, box: target };
}

// What a page's download and the share link's copy need of the browser.
function download(name, mime, bytes) {
  const url = URL.createObjectURL(new Blob([bytes], { type: mime }));
  const a = el('a', { display: 'none' }, { href: url, download: name });
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60000);
}

async function copyLink(M, linkBase, query) {
  const page = new URL(linkBase ?? location.href);
  const url = `${page.origin}${page.pathname}?${query}`;
  let ok = false;
  try {
    await navigator.clipboard.writeText(url);
    ok = true;
  } catch { /* no clipboard permission: the app shows the link for manual copying */ }
  M.attnplayWithText(url, (p, n) => M._ap_app_link(p, n, ok ? 1 : 0));
}

export async function mount(target, options = {}) {
  if (mounted) throw new Error('attnplay: one app per page; embed more figures with iframes of embed.html');
  if (!(target instanceof HTMLElement)) throw new Error('attnplay: mount() needs an element');
  mounted = true;
  const assets = options.assets ?? null;
  const base = assets && options.base === undefined ? null : new URL(options.base ?? '.', import.meta.url);
  const { canvas, box } = canvasIn(target);
  canvas.id = 'canvas';  // SDL2 and emscripten address the canvas by this id
  let M = null;
  const module = () => M;
  const text = textInput(box, canvas, module);
  const status = statusOverlay(box, options.loadingText ?? 'Loading the attention playground…');
  const models = workerModelHost(base, module, box, options.modelWorker ?? null);
  const files = fileImport(box, module, models.drop);
  const mirror = a11yMirror(box, () => M && M.attnplayCall(() => M._ap_app_a11y()));
  const missing = missingFeature();
  if (missing) throw status.fatal(missing);
  const fonts = fontFeeder(assetSource(base, assets), module);
  if (typeof globalThis.attnplayAppModule !== 'function') {
    if (!base) throw status.fatal('attnplay-app.js is not on this page (options.assets needs it loaded first)');
    await loadScript(new URL('attnplay-app.js', base).href);
  }

  // setConfig's promises resolve with the first frame drawn after their edit; on('change') listeners hear every edit.
  const pending = [], listeners = new Set();
  let lastFrame = 0;
  const result = () => JSON.parse(M.attnplayCall(() => M._ap_app_result()));
  // result() is lazy (README "result() at real sizes"): the engine's parts are read on first access, a head's matrices
  // when that head is read, so a 12 x 12 model at 1024 tokens costs nothing until someone looks. Every matrix has a
  // typed-array twin (layers[l].heads[h].weightsArray(), .scoresArray() with -Infinity where masked, .contextArray(),
  // layers[l].outputArray(), logitsArray()); toJSON() is the whole SPEC §3 / §9 JSON. Reads see the state at the time
  // of the read.
  const part = (name, l = 0, h = 0) => M.attnplayWithText(name, (p, n) => M.attnplayCall(() => M._ap_app_result_part(p, n, l, h)));
  const matrix = (name, l = 0, h = 0) => {
    const [rows, cols] = JSON.parse(M.attnplayWithText(name, (p, n) => M.attnplayCall(() => M._ap_app_result_matrix(p, n, l, h))));
    const at = M._ap_app_matrix_ptr() >>> 2;
    return Object.freeze({ data: M.HEAPF32.slice(at, at + rows * cols), rows, cols });
  };
  const hidden = (o, k, value) => Object.defineProperty(o, k, { value });
  const cached = (o, k, make) => {
    let v, done = false;
    Object.defineProperty(o, k, { enumerable: true, get: () => (done ? v : ((done = true), (v = make()))) });
  };
  const lazyResult = () => {
    const meta = JSON.parse(part('meta'));
    if (!meta.lazy) {  // mode seq2seq: small by construction, read whole
      const whole = result();
      hidden(whole, 'toJSON', () => result());
      return whole;
    }
    const out = {};
    for (const key of meta.keys) {
      if (key === 'layers') {
        out.layers = Array.from({ length: meta.layers }, (_, l) => {
          const heads = Array.from({ length: meta.heads[l] }, (_, h) => {
            const head = {};
            let got = null;
            for (const m of ['scores', 'weights', 'context']) {
              Object.defineProperty(head, m, { enumerable: true, get: () => (got ??= JSON.parse(part('head', l, h)))[m] });
              hidden(head, `${m}Array`, () => matrix(m, l, h).data);
            }
            return head;
          });
          const layer = { heads };
          cached(layer, 'output', () => JSON.parse(part('output', l)));
          hidden(layer, 'outputArray', () => matrix('output', l).data);
          return layer;
        });
      } else if (key === 'logits') {
        cached(out, 'logits', () => JSON.parse(part('logits')));
        hidden(out, 'logitsArray', () => matrix('logits').data);
      } else {
        out[key] = meta[key];
      }
    }
    hidden(out, 'matrix', (name, l = 0, h = 0) => matrix(name, l, h));
    hidden(out, 'toJSON', () => result());
    return out;
  };
  const onFrameDrawn = (frame) => {
    lastFrame = frame;
    if (frame === 1) status.loaded();
    text.sync();
    fonts.poll();
    mirror.update();
    for (let i = pending.length - 1; i >= 0; i--) {
      const p = pending[i];
      if (p.target > frame) continue;
      // A real model's edit waits for the worker's answer (mode pretrained): resolved once it is drawn, rejected with
      // the refusal (the app has returned to the config on screen).
      const outcome = p.request ? M._ap_app_pretrained_outcome(p.request) : 1;
      if (outcome === 0) continue;
      pending.splice(i, 1);
      if (outcome === 1) p.resolve(lazyResult());
      else p.reject(new Error(M.attnplayAnswer()));
    }
    if (M._ap_app_take_changed() && listeners.size) {
      const r = lazyResult();
      for (const fn of listeners) {
        try { fn(r); } catch (e) { console.error(e); }
      }
    }
  };

  M = await globalThis.attnplayAppModule({
    canvas,
    attnplayTrain: workerTrainHost(base, module),
    attnplayModel: models.host,
    attnplayEmbed: !!options.embed,
    attnplayQuery: options.query ?? '',
    locateFile: (p) => (base ? new URL(p, base).href : p),
    ...(assets && assets.wasm ? { wasmBinary: assets.wasm } : {}),
    onFrameDrawn,
    onDownload: download,
    onCopyLink: (query) => copyLink(M, options.linkBase, query),
    onOpenConfig: files.pick,
    onFatal: (m) => status.fatal(m),
    // The browser took the WebGL context (a tab in the background on a phone, a GPU reset): say so over the figure
    // until it is back; the app keeps its state and rebuilds its GL resources.
    onGraphicsLost: () => status.lost(options.graphicsLostText ?? 'Graphics paused, restoring…'),
    onGraphicsRestored: () => status.restored(),
    print: (t) => console.log(t),
    printErr: (t) => console.warn(t),
  });
  fonts.start();
  pointers(canvas, box, M, !!options.embed);
  if (options.autosave) {
    await startAutosave(M, box, String(options.autosaveKey ?? (options.embed ? 'embed' : 'index')), options.restore !== false);
  }
  // A model folder handed over as files (a notebook cell's playground(model=...)): opened as the picker would.
  if (options.modelFiles) models.open(options.modelFiles);
  const api = publicApi(M, { result: lazyResult, lazyResult, files, pending, listeners, lastFrame: () => lastFrame });
  api.ready = Promise.resolve(api);
  return Object.freeze(api);
}

// The public API (SPEC §6's page object; docs/embedding.md). Views are named as view_table.h names them: the list is
// the module's (views()), never typed here.
function publicApi(M, app) {
  const call = (fn) => M.attnplayCall(fn);
  const withText = (t, fn) => M.attnplayWithText(t, fn);
  return {
    getConfig: () => JSON.parse(call(() => M._ap_app_config())),
    setConfig(partial) {
      return new Promise((resolve, reject) => {
        if (partial === null || typeof partial !== 'object' || Array.isArray(partial)) {
          reject(new Error(`setConfig takes an object (got ${Array.isArray(partial) ? 'array' : partial === null ? 'null' : typeof partial})`));
          return;
        }
        try {
          withText(M.attnplayJson(partial, 'config'), (p, n) => call(() => M._ap_app_set_config(p, n)));
        } catch (e) {
          reject(e instanceof Error ? e : new Error(String(e)));
          return;
        }
        const request = M._ap_app_pretrained_wanted();  // mode pretrained: the worker's answer to wait for (0: none)
        app.pending.push({ target: app.lastFrame() + 1, resolve, reject, request });
      });
    },
    result: app.result,
    on(event, fn) {
      if (event !== 'change') throw new Error(`on: unknown event "${event}" (only "change")`);
      if (typeof fn !== 'function') throw new Error('on: the listener must be a function');
      app.listeners.add(fn);
      return () => app.listeners.delete(fn);
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
    importConfig: (t, name = 'config.json') => app.files.text(String(t), String(name)) === 1,
    // A file's contents as the picker would hand them over: a config (.json), weights (.safetensors) or attention
    // maps (.npy, .npz, .safetensors with an "attention" tensor, JSON {"attention": [...]}). true when accepted.
    importFile: (data, name) => (typeof data === 'string' ? app.files.text(data, String(name))
                                                           : app.files.bytes(new Uint8Array(data), String(name))) === 1,
    layout: () => JSON.parse(call(() => M._ap_app_layout())),
    stats: () => JSON.parse(call(() => M._ap_app_stats())),
    // What the DOM mirror holds: {summary, caption, rows, cols, weights | top, walkthrough, cell, layer, head}.
    a11y: () => JSON.parse(call(() => M._ap_app_a11y())),
    // The ablation sweep of a real model (the predictions' "Which heads matter" button, or the model view's sort):
    // null before one is asked; else {position, token_id, token, display, baseline, layers, heads, done, probs
    // [layers][heads], ranking [[layer, head, change], ...] largest |change| first, running, stopped, error, current}.
    sweep: () => JSON.parse(call(() => M._ap_app_sweep())),
    // The table of views (view_table.h): [{name, needs_qkv, caption_en, caption_zh, offered}], offered: for this state.
    views: () => JSON.parse(call(() => M._ap_app_views())),
    // Show one view by its name (as the URL's view=); an unknown name throws an Error listing the names.
    setView(name) { withText(String(name), (p, n) => call(() => M._ap_app_set_view(p, n))); },
  };
}

// A self-contained page (the Python package's notebook cells, python/attnplay/_html.py): everything arrives inside
// the document as data, nothing is fetched. Two JSON script elements (never executed, so no token in them is ever
// script text):
//   #attnplay-assets   {wasm, latin, cjk}: gzip'd files in base64 (cjk may be null)
//   #attnplay-payload  {query, file (a file in base64, or null), file_name, view_query (applied after the file),
//                       view (shown first, tabs kept), model ({name, files: {name: base64}} or absent)}
//   with a model, assets also hold worker (the model worker as one classic script: _html.py's worker_script) and
//   core_wasm: the worker runs from a blob (a sandboxed frame's module workers cannot start), sent the engine first.
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
  const model = {};
  if (payload.model) {
    const [text, coreWasm] = await Promise.all([gunzip(files.worker), gunzip(files.core_wasm)]);
    const url = URL.createObjectURL(new Blob([text], { type: 'text/javascript' }));
    model.modelWorker = () => {
      const w = new Worker(url);
      w.postMessage({ type: 'init', wasm: coreWasm });
      return w;
    };
    model.modelFiles = Object.entries(payload.model.files).map(([name, b64]) => {
      const f = new File([bytes(b64)], name);
      f.relativePath = `${payload.model.name}/${name}`;
      return f;
    });
  }
  const api = await mount(target, { query: payload.query || '', embed: true, autosave: false, ...model,
                                    assets: { wasm, fonts: { 'attnplay-latin.ttf': latin, 'attnplay-cjk.ttf': cjk } } });
  window.attnplay = api;
  // A file to open as the picker would (attention maps, weights or a workspace; a refusal shows in the app), then the
  // view over it (the layer and head in focus exist only once the file is in).
  if (payload.file) {
    api.importFile(bytes(payload.file), payload.file_name);
    if (payload.view_query) api.applyQuery(payload.view_query);
  }
  if (payload.model) {  // the model opened above: its text and settings, then the view over its answer
    api.setConfig(payload.model.config ?? {}).then(() => {
      if (payload.view_query) api.applyQuery(payload.view_query);
      if (payload.view) api.setView(payload.view);
    }, (e) => console.error(`attnplay: ${e.message}`));
  } else if (payload.view) {
    api.setView(payload.view);  // with the tabs (a view= query would show that view alone)
  }
  return api;
}
