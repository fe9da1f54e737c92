// attnplay: real checkpoints (mode pretrained) off the page's thread. web/attnplay.mjs (pretrained.mjs) starts this
// module worker (same origin, CSP worker-src 'self'); the app (src/platform/main_web.cpp, AppPretrainedHost) sends
//   {type: 'compute', id, config, focus: [layer, head], source}
//       config: SPEC §9's, "model" as the page names it (a URL relative to the page, or "local:<folder>");
//       source: {key, url} or {key, files: {name: File}}: where that model's files are
//   {type: 'init', wasm}   an inline page's first message (see self.attnplayInline below): the engine's bytes
//   {type: 'cancel'}   stop the model download under way (its compute is refused "loading was cancelled")
//   {type: 'sweep', id, config, position, token, source}   the ablation sweep (core.sweep) on that model
//   {type: 'cancel_sweep'}                       stop it (no more answers come for it)
//   {type: 'hash', key, files: {name: File}}     the files' SHA-256 (for the workspace's record of the model)
// and gets
//   {type: 'progress', id, done, total}          bytes of tensors read, while a model loads
//   {type: 'result', id, bytes}                  pretrained_pack.h's bytes (transferred), or
//   {type: 'result', id, error}                  the refusal, naming the file, tensor or field
//   {type: 'sweep', id, json, finished}          the sweep so far (pretrained_sweep_json), a few a second; or
//   {type: 'sweep', id, error, finished: true}   its refusal
//   {type: 'hashed', key, files: [{name, size, sha256}]}
// A compute that arrives during a sweep runs between two of its heads (the model's cache follows whichever ran last).
// One model is kept: a new one replaces it once it has loaded (a refused folder leaves it). Only the newest compute
// runs: one queued behind another is dropped when a newer one arrives (the app shows only the newest answer).
import { createCore } from './attnplay-core.mjs';

let core = null, failed = null;
let model = null, modelKey = null;  // the loaded model and what it was loaded from
let next = null, running = false;   // the newest compute not started yet; a compute (or load) under way
let abort = null;                   // the load under way's AbortController
let sweepNext = null;               // the sweep asked for and not begun
let sweepStop = false;              // the sweep under way is to stop

self.onmessage = (e) => {
  const m = e.data;
  if (!m || typeof m !== 'object') return;
  if (m.type === 'init') {  // (an inline page's first message)
    if (initResolve) initResolve({ wasmBinary: m.wasm });
    return;
  }
  if (m.type === 'cancel') {
    if (abort) abort.abort();
    return;
  }
  if (m.type === 'compute') {
    if (next) self.postMessage({ type: 'result', id: next.id, error: 'model: replaced by a newer edit' });
    next = m;
    pump();
  }
  if (m.type === 'sweep') {
    sweepStop = true;  // (the one under way, if any: this one replaces it)
    sweepNext = m;
    pump();
  }
  if (m.type === 'hash') {  // (between computes: each 4 MB read yields to them)
    ready.then(async () => {
      if (!core) return;
      const files = [];
      for (const [name, f] of Object.entries(m.files).sort(([a], [b]) => (a < b ? -1 : 1))) {
        files.push({ name, size: f.size, sha256: await core.sha256(f).catch(() => '') });
      }
      self.postMessage({ type: 'hashed', key: m.key, files });
    });
    return;
  }
  if (m.type === 'cancel_sweep') {
    sweepStop = true;
    sweepNext = null;
  }
};
// A notebook cell's page (python/attnplay/_html.py) runs this file as a classic script from a blob (a sandboxed
// frame has no URL to fetch from): self.attnplayInline is set, and its first message brings the engine's bytes.
let initResolve = null;
const options = self.attnplayInline ? new Promise((res) => { initResolve = res; }) : Promise.resolve({});
const ready = options.then((o) => createCore(o)).then((c) => { core = c; }, (e) => { failed = String((e && e.message) || e); });

async function pump() {
  if (running) return;
  running = true;
  try {
    await ready;
    while (next || sweepNext) {
      if (next) {
        const m = next;
        next = null;
        await run(m);
      } else {
        const m = sweepNext;
        sweepNext = null;
        await sweep(m);
      }
    }
  } finally {
    running = false;
  }
}

async function load(m) {
  const src = m.source || {};
  if (model && modelKey === src.key) return model;
  if (!src.key) throw new Error('model: the page does not know this model (open it again)');
  if (!src.url && !src.files) throw new Error(`model: ${src.key.replace(/^local:/, '')} is not open in this page (open the folder again)`);
  abort = new AbortController();
  let last = 0;
  try {
    const loaded = await core.loadModel(src.url ?? src.files, {
      signal: abort.signal,
      onProgress: (done, total) => {
        const now = performance.now();
        if (now - last < 50 && done < total) return;  // 20 updates a second at most
        last = now;
        self.postMessage({ type: 'progress', id: m.id, done, total });
      },
    });
    if (model) model.free();
    model = loaded;
    modelKey = src.key;
    return model;
  } finally {
    abort = null;
  }
}

async function run(m) {
  try {
    if (failed) throw new Error(`model: the engine did not load in the worker (${failed})`);
    const loaded = await load(m);
    const config = { ...m.config, model: loaded };
    const bytes = core.computeTrace(config, { focusLayer: m.focus[0], focusHead: m.focus[1] });
    self.postMessage({ type: 'result', id: m.id, bytes }, [bytes.buffer]);
  } catch (e) {
    self.postMessage({ type: 'result', id: m.id, error: String((e && e.message) || e) });
  }
}

// The sweep, ~30 ms of heads at a time; between them the messages that came meanwhile are taken (an edit's compute
// runs first; a newer sweep or a cancel stops this one).
async function sweep(m) {
  sweepStop = false;
  const say = (s) => self.postMessage({ type: 'sweep', id: m.id, json: JSON.stringify(s.state), finished: s.finished });
  try {
    if (failed) throw new Error(`model: the engine did not load in the worker (${failed})`);
    const loaded = await load(m);
    const s = core.sweep({ ...m.config, model: loaded }, { position: m.position, token: m.token });
    say(s);
    while (!s.finished) {
      await new Promise((r) => setTimeout(r, 0));
      if (sweepStop) return;
      if (next) {
        const c = next;
        next = null;
        await run(c);
        if (sweepStop) return;
      }
      const until = performance.now() + 30;
      do s.step(1); while (!s.finished && performance.now() < until);
      say(s);
    }
  } catch (e) {
    self.postMessage({ type: 'sweep', id: m.id, error: String((e && e.message) || e), finished: true });
  }
}
