// attnplay-core.mjs, part 3 of 3 (extern-post-js): the JS API of ../shared/SPEC.md §6 over the listed wasm
// exports. Part 2 is emscripten's loader (attnplayCoreModule).
//
//   const core = await createCore();
//   core.compute(config[, weightsBytes]) -> result      config object (or JSON text); weights: safetensors Uint8Array
//   core.weights(config) -> Uint8Array                   the safetensors file the config's seed makes
//   core.importAttention(bytes, name) -> {tokens, layers} attention maps from another model (.npy/.npz/.safetensors/JSON)
//   core.attention({q, k, v, heads, nq, nk, dk, dv, causal, scale, weights}) -> {context, weights}
//   core.multiHeadAttention({x, wq, wk, wv, wo, n, dModel, heads, causal, weights}) -> {output, weights}
//   core.version, core.simd, core.build
//   core.loadModel(files | url, {maxMB, onProgress(bytes, total), signal}) -> Promise<model>
//                                        a Hugging Face folder (SPEC §9): files an object of file name -> ArrayBuffer |
//                                        Uint8Array | Blob (a File the user opened; read in slices), or the folder's URL
//                                        (fetched and streamed); in Node also a folder path. onProgress after each MB of
//                                        tensors; signal an AbortSignal (aborted: rejects "loading was cancelled")
//     model.info                          {model_type, layers, heads, kv_heads, hidden_size, vocab_size, parameters, dtype, ...}
//     model.stats() -> {recomputed_from_layer, rows_computed}   what the last compute on it computed anew
//     model.free()                        its memory back; a compute naming it afterwards is refused
//   core.compute({mode: 'pretrained', model, text | token_ids, ...}) runs on such a model (its cache: an edit that
//   appends tokens computes the new rows only)
//   core.computeTrace(config, {focusLayer, focusHead, budgetMB}) -> Uint8Array   the same compute as the page's app
//                                        reads it (src/model/pretrained_pack.h: tensors + metadata, predictions)
//   core.sweep(config, {position, token}) -> sweep       the ablation sweep of mode pretrained: every head ablated
//                                        alone, the probability of one token at one position; sweep.step(count) -> the
//                                        sweep so far ({baseline, probs [layers][heads], ranking, done, ...}),
//                                        sweep.run() -> the whole; one sweep at a time (pretrained_sweep.h)
//   core.sha256(blob | bytes) -> Promise<hex>           a file's SHA-256, read 4 MB at a time (the workspace's record)
//   core.kernels                                         the matrix kernels in use: 'relaxed-simd' or 'simd128'
//   core.createTrainer(config, spec) -> trainer          the Train panel's session (one per core; a new one replaces it)
//     spec: {task: 'copy'|'reverse'|'sort'|'induction'|'date'|'numbers'|'numbers_zh'|'sov', length, vocab, batch,
//            optimizer: 'sgd'|'adam', lr}; the config's model, seeded over the task's vocabulary
//     trainer.run(budgetMs = 10, maxSteps) -> {step, loss[], accuracy[], alignment[], error?}  steps until the budget
//     trainer.params() -> Float32Array       every trainable tensor, concatenated (the order of the safetensors names)
//     trainer.set(spec)                       optimizer / lr / batch for the next steps
//     trainer.state() -> Uint8Array           the whole state (batch stream, step, params, Adam's moments)
//     trainer.restore(state)                  continue from state() of a trainer with the same config and spec
//     trainer.step() -> number                the steps taken (its own, or a restored state's)
//     trainer.close()
// options: {kernels: 'auto' | 'simd128'}: 'auto' (default) takes relaxed SIMD (fused multiply-add) when this
// engine validates it; 'simd128' keeps the plain SIMD128 kernel (to compare the two).
// Errors are thrown as Error with one line naming the bad field.

// The wasm-memory helpers and the argument checks (Module.attnplay*) are web/common/bridge.js's, shared with the app.
function attnplayFail(message) {
  const e = new Error(message);
  e.name = 'AttnplayError';
  throw e;
}

function attnplayCheckInt(name, v, min) {
  if (!Number.isInteger(v) || v < min) attnplayFail(`${name} must be an integer >= ${min} (got ${v})`);
  return v;
}

function attnplayCheckArray(name, a, expected, shape) {
  if (!(a instanceof Float32Array)) attnplayFail(`${name} must be a Float32Array`);
  if (a.length !== expected) attnplayFail(`${name} has ${a.length} values, expected ${expected} = ${shape}`);
}

// [Models] One file of a model folder as the loader reads it: its size, then byte ranges in increasing order (a fetched
// body is a stream: it is read once, front to back; a Blob and a buffer are read where asked).
const attnplayModelChunk = 1 << 20;  // bytes per copy into the heap (a multiple of 4, as ap_model_feed asks; small
                                     // enough that V8 tiers the converting code up early in a load)

function attnplayBytesSource(bytes) {
  const b = bytes instanceof ArrayBuffer ? new Uint8Array(bytes) : new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return { size: b.length, read: async (begin, end) => b.subarray(begin, Math.min(end, b.length)) };
}

function attnplayBlobSource(blob) {
  return { size: blob.size, read: async (begin, end) => new Uint8Array(await blob.slice(begin, end).arrayBuffer()) };
}

function attnplayStreamSource(response, size) {
  const reader = response.body.getReader();
  let pos = 0, chunks = [], have = 0;  // chunks hold bytes [pos, pos + have)
  return {
    size,
    async read(begin, end) {
      if (begin < pos) attnplayFail(`internal: a stream read went back (${begin} < ${pos})`);
      while (pos + have < end) {
        const { done, value } = await reader.read();
        if (done) break;
        chunks.push(value);
        have += value.length;
        while (chunks.length && pos + chunks[0].length <= begin) { pos += chunks[0].length; have -= chunks[0].length; chunks.shift(); }
      }
      const out = new Uint8Array(Math.max(0, Math.min(end, pos + have) - begin));
      let at = pos;
      for (const c of chunks) {
        const lo = Math.max(begin, at), hi = Math.min(end, at + c.length);
        if (hi > lo) out.set(c.subarray(lo - at, hi - at), lo - begin);
        at += c.length;
      }
      return out;
    },
    close: () => reader.cancel().catch(() => {}),
  };
}

// The folder's files by name -> sources: a files object, a URL (fetch) or, in Node, a folder path.
async function attnplayModelFiles(where) {
  const small = ['config.json', 'tokenizer.json', 'tokenizer_config.json', 'model.safetensors.index.json'];
  if (where && typeof where === 'object' && !(where instanceof URL)) {
    const out = {};
    for (const [key, value] of Object.entries(where)) {
      const name = String(key).split(/[\\/]/).pop();  // a directory picker's "gpt2/config.json"
      if (value instanceof ArrayBuffer || ArrayBuffer.isView(value)) out[name] = attnplayBytesSource(value);
      else if (typeof Blob !== 'undefined' && value instanceof Blob) out[name] = attnplayBlobSource(value);
      else if (typeof value === 'string') out[name] = attnplayBytesSource(new TextEncoder().encode(value));
      else attnplayFail(`loadModel: files["${key}"] must be an ArrayBuffer, a Uint8Array, a Blob or text`);
    }
    return { get: async (name) => out[name] };
  }
  if (typeof where !== 'string' && !(where instanceof URL)) attnplayFail('loadModel takes the folder\'s files ({name: bytes}) or its URL');
  const text = String(where);
  if (attnplayIsNode && !/^(https?|blob|data):/i.test(text)) {  // a folder on disk (or a file: URL)
    const fs = await import('fs'), url = await import('url'), path = await import('path');
    const dir = text.startsWith('file:') ? url.fileURLToPath(text) : text;
    return {
      get: async (name) => {
        const f = path.join(dir, name);
        if (!fs.existsSync(f)) return undefined;
        if (fs.openAsBlob) return attnplayBlobSource(await fs.openAsBlob(f));
        return attnplayBytesSource(fs.readFileSync(f));
      },
    };
  }
  if (typeof fetch !== 'function') attnplayFail(`loadModel: cannot fetch ${text} here (no fetch); pass the files instead`);
  const base = new URL(text.endsWith('/') ? text : text + '/', typeof location === 'object' ? location.href : undefined);
  return {
    remote: true,
    get: async (name) => {
      const u = new URL(name, base).href;
      let r;
      try { r = await fetch(u); } catch (e) { attnplayFail(`model: ${u}: cannot fetch (${e && e.message})`); }
      if (r.status === 404) return undefined;
      if (!r.ok) attnplayFail(`model: ${u}: HTTP ${r.status}`);
      const length = r.headers.get('content-length');  // (none: a chunked response, read whole)
      const size = length === null ? NaN : Number(length);
      if (small.includes(name) || !(size >= 0) || !r.body || r.headers.get('content-encoding'))
        return attnplayBytesSource(new Uint8Array(await r.arrayBuffer()));
      return attnplayStreamSource(r, size);
    },
  };
}

// core.loadModel's work on the engine M: the folder's small files whole, each safetensors file's header, the
// engine's plan (checked before anything large is allocated), then every tensor's bytes in 1 MB slices; a refusal
// anywhere drops the load (the loaded models stay).
async function attnplayLoadModel(M, where, opts) {
  const maxMB = opts.maxMB ?? 0;
  if (typeof maxMB !== 'number' || !(maxMB >= 0)) attnplayFail(`maxMB must be a number of megabytes >= 0 (got ${maxMB})`);
  const folder = await attnplayModelFiles(where);
  const files = {};
  const feedFile = (name, bytes) => M.attnplayWithText(name, (q, m) => M.attnplayWithBytes(bytes, (p, n) => M._ap_model_file(q, m, p, n)));
  try {
    // config.json and tokenizer.json whole (tokenizer_config.json too from files: the engine reads nothing from it,
    // so a URL's folder is not asked for it); then model.safetensors, or, where there is none, the index of shards
    // (in that order, so that a folder served over HTTP answers 404 to nothing it has).
    for (const name of ['config.json', 'tokenizer.json', ...(folder.remote ? [] : ['tokenizer_config.json'])]) {
      const src = await folder.get(name);
      if (src) feedFile(name, await src.read(0, src.size));
    }
    let shards = ['model.safetensors'];
    const single = await folder.get('model.safetensors');
    if (single) files['model.safetensors'] = single;
    const index = single ? undefined : await folder.get('model.safetensors.index.json');
    if (index) {
      const bytes = await index.read(0, index.size);
      feedFile('model.safetensors.index.json', bytes);
      shards = [];
      try {  // the shards its weight_map names (a broken index: the engine names it)
        for (const f of Object.values(JSON.parse(new TextDecoder().decode(bytes)).weight_map || {})) if (typeof f === 'string' && !shards.includes(f)) shards.push(f);
      } catch (e) { /* refused by the engine with the file's name */ }
    }
    for (const name of shards) {
      const src = files[name] ?? await folder.get(name);
      if (!src) continue;  // the engine names the missing file
      files[name] = src;
      const len = await src.read(0, 8);
      let n = 0;
      for (let i = 7; i >= 0; --i) n = n * 256 + (len[i] || 0);
      const head = await src.read(0, 8 + Math.min(n, Math.max(0, src.size - 8), 256 << 20));
      M.attnplayWithText(name, (q, m) => M.attnplayWithBytes(head, (p, k) => M._ap_model_header(q, m, p, k, src.size)));
    }
    const reads = JSON.parse(M.attnplayCall(() => M._ap_model_begin(maxMB)));
    // Each file front to back (a stream reads once), in chunks copied into one staging buffer.
    const order = reads.map((r, i) => ({ file: r[0], begin: r[1], end: r[2], i })).sort((a, b) => a.file < b.file ? -1 : a.file > b.file ? 1 : a.begin - b.begin);
    const stage = M.attnplayMalloc(attnplayModelChunk, 'the staging buffer');
    const total = reads.reduce((a, r) => a + (r[2] - r[1]), 0);
    let done = 0;
    try {
      for (const r of order) {
        for (let off = 0; off < r.end - r.begin; off += attnplayModelChunk) {
          if (opts.signal && opts.signal.aborted) attnplayFail('model: loading was cancelled');
          const bytes = await files[r.file].read(r.begin + off, Math.min(r.end, r.begin + off + attnplayModelChunk));
          M.HEAPU8.set(bytes, stage);
          if (!M._ap_model_feed(r.i, off, stage, bytes.length)) attnplayFail(M.attnplayAnswer());
          done += bytes.length;
          if (opts.onProgress) opts.onProgress(done, total);
          if (bytes.length < Math.min(attnplayModelChunk, r.end - r.begin - off)) break;  // a truncated file: finish names it
        }
      }
    } finally {
      M._free(stage);
    }
    const handle = M._ap_model_finish();
    const info = JSON.parse(M.attnplayAnswer().startsWith('{') ? M.attnplayAnswer() : 'null');
    if (!handle) attnplayFail(M.attnplayAnswer());
    let freed = false;
    return Object.freeze({
      handle,
      info: Object.freeze(info),
      stats: () => JSON.parse(M.attnplayCall(() => M._ap_model_stats(handle))),
      free() { if (!freed) { freed = true; M._ap_model_free(handle); } },
    });
  } catch (e) {
    M._ap_model_abort();
    throw e;
  } finally {
    for (const src of Object.values(files)) if (src.close) src.close();
  }
}

export async function createCore(options = {}) {
  const moduleArgs = {};
  const kernels = options.kernels === undefined ? 'auto' : options.kernels;
  if (kernels !== 'auto' && kernels !== 'simd128') attnplayFail(`kernels must be 'auto' or 'simd128' (got ${kernels})`);
  moduleArgs.attnplayKernels = kernels;
  if (options.wasmBinary) {
    moduleArgs.wasmBinary = options.wasmBinary;
  } else if (attnplayIsNode) {
    // Read the .wasm beside this file ourselves: no fetch() of a file:// URL (Node's fetch cannot do it).
    const fs = await import('fs');
    moduleArgs.wasmBinary = fs.readFileSync(new URL('attnplay-core.wasm', import.meta.url));
  } else {
    moduleArgs.locateFile = (path) => new URL(path, import.meta.url).href;
  }
  const M = await attnplayCoreModule(moduleArgs);

  const heapCopyIn = (arrays) => {
    // One allocation for all inputs and outputs of a call; returns byte pointers.
    let total = 0;
    for (const n of arrays) total += n * 4;
    const base = M.attnplayMalloc(total, 'the arrays');
    const ptrs = [];
    let off = base;
    for (const n of arrays) { ptrs.push(off); off += n * 4; }
    return { base, ptrs };
  };

  const answer = (ok) => {  // the engine's answer to a call that returned ok (1) or refused (0)
    const text = M.attnplayAnswer();
    if (!ok) attnplayFail(text);
    return text;
  };
  const bytesOf = (what, b) => {
    if (b instanceof ArrayBuffer) return new Uint8Array(b);
    if (!(b instanceof Uint8Array)) attnplayFail(`${what} must be a Uint8Array of a .safetensors file`);
    return b;
  };

  // [Models] One load at a time (the engine plans one load); each model a handle into the engine's table.
  let modelQueue = Promise.resolve();
  let shaQueue = Promise.resolve();
  const modelHandle = (m) => {
    if (m && typeof m === 'object' && typeof m.handle === 'number') return m.handle;
    attnplayFail('model must be a model core.loadModel returned');
  };

  const core = {
    version: '',
    simd: M._ap_simd() === 1,
    build: M.UTF8ToString(M._ap_version()),
    kernels: M.UTF8ToString(M._ap_kernels()),

    compute(config, weightsBytes) {
      if (config && typeof config === 'object' && config.model && typeof config.model === 'object')
        config = { ...config, model: modelHandle(config.model) };  // a loaded model: the engine knows it by its handle
      const text = M.attnplayJson(config, 'config');
      const run = (wp, wn) => JSON.parse(M.attnplayWithText(text, (p, n) => answer(M._ap_compute(p, n, wp, wn))));
      if (weightsBytes === undefined || weightsBytes === null) return run(0, 0);
      return M.attnplayWithBytes(bytesOf('weights', weightsBytes), run);
    },

    // Mode pretrained as pretrained_pack.h's bytes (the page's model worker sends them to the app): every head's
    // matrices within budgetMB (default 128), else the focused head's and thumbnails.
    computeTrace(config, { focusLayer = 0, focusHead = 0, budgetMB = 128 } = {}) {
      if (config && typeof config === 'object' && config.model && typeof config.model === 'object')
        config = { ...config, model: modelHandle(config.model) };
      const text = M.attnplayJson(config, 'config');
      M.attnplayWithText(text, (p, n) => answer(M._ap_compute_packed(p, n, focusLayer | 0, focusHead | 0, Number(budgetMB))));
      return M.attnplayAnswerBytes();
    },

    // The ablation sweep (pretrained_sweep.h): every head ablated alone, the probability of one token at one position
    // (position -1: the last token; token -1: the most probable one there). Stepped, so a caller (the page's worker)
    // can report progress and stop: step(count) computes count more heads and returns the sweep so far,
    // {position, token_id, token, display, baseline, layers, heads, done, probs [layers][heads], ranking
    // [[layer, head, change], ...] largest |change| first}; done === layers * heads when finished. One sweep at a time.
    sweep(config, { position = -1, token = -1 } = {}) {
      if (config && typeof config === 'object' && config.model && typeof config.model === 'object')
        config = { ...config, model: modelHandle(config.model) };
      const text = M.attnplayJson(config, 'config');
      let state = JSON.parse(M.attnplayWithText(text, (p, n) => answer(M._ap_sweep_begin(p, n, position | 0, token | 0))));
      return {
        get state() { return state; },
        get finished() { return state.done >= state.layers * state.heads; },
        step(count = 1) {
          state = JSON.parse(answer(M._ap_sweep_step(Math.max(1, count | 0))));
          return state;
        },
        run() { while (!this.finished) this.step(64); return state; },
      };
    },

    // SHA-256 of a Blob/File (or bytes), read 4 MB at a time: resolves with the hex digest. Queued: one at a time.
    sha256(data) {
      const run = shaQueue.then(async () => {
        const blob = data instanceof Blob ? data : new Blob([data]);
        M._ap_sha256_begin();
        for (let at = 0; at < blob.size; at += 4 << 20) {
          const chunk = new Uint8Array(await blob.slice(at, Math.min(blob.size, at + (4 << 20))).arrayBuffer());
          M.attnplayWithBytes(chunk, (p, n) => M._ap_sha256_update(p, n));
        }
        return answer(M._ap_sha256_end());
      });
      shaQueue = run.catch(() => {});
      return run;
    },

    loadModel(where, opts = {}) {
      const run = modelQueue.then(() => attnplayLoadModel(M, where, opts ?? {}));
      modelQueue = run.catch(() => {});
      return run;
    },

    weights(config) {
      const ok = M.attnplayWithText(M.attnplayJson(config, 'config'), (p, n) => M._ap_weights(p, n));
      answer(ok);
      return M.attnplayAnswerBytes();
    },

    // Attention maps exported from another model (tools/export_attention.py): .npy / .npz / .safetensors bytes or
    // JSON text -> {tokens, key_tokens?, layers: [{heads: [{weights}]}], warnings}. name: the file name (its
    // extension tells .safetensors apart; the others are recognised by their content).
    importAttention(bytes, name = 'attention') {
      if (typeof bytes === 'string') bytes = new TextEncoder().encode(bytes);
      if (!(bytes instanceof Uint8Array) && !(bytes instanceof ArrayBuffer)) attnplayFail('importAttention takes a Uint8Array (or JSON text)');
      return JSON.parse(M.attnplayWithBytes(bytes, (p, n) => M.attnplayWithText(String(name), (q, m) => answer(M._ap_import_attention(p, n, q, m)))));
    },

    attention(args) {
      if (!args || typeof args !== 'object') attnplayFail('attention() takes an object {q, k, v, heads, nq, nk, dk, dv, ...}');
      const heads = attnplayCheckInt('heads', args.heads ?? 1, 1);
      const dk = attnplayCheckInt('dk', args.dk, 1);
      if (!(args.q instanceof Float32Array)) attnplayFail('q must be a Float32Array');
      if (!(args.k instanceof Float32Array)) attnplayFail('k must be a Float32Array');
      if (!(args.v instanceof Float32Array)) attnplayFail('v must be a Float32Array');
      const nq = attnplayCheckInt('nq', args.nq ?? args.q.length / (heads * dk), 1);
      const nk = attnplayCheckInt('nk', args.nk ?? args.k.length / (heads * dk), 1);
      const dv = attnplayCheckInt('dv', args.dv ?? args.v.length / (heads * nk), 1);
      attnplayCheckArray('q', args.q, heads * nq * dk, `heads*nq*dk (${heads}*${nq}*${dk})`);
      attnplayCheckArray('k', args.k, heads * nk * dk, `heads*nk*dk (${heads}*${nk}*${dk})`);
      attnplayCheckArray('v', args.v, heads * nk * dv, `heads*nk*dv (${heads}*${nk}*${dv})`);
      const scale = args.scale ?? 1 / Math.sqrt(dk);
      if (typeof scale !== 'number' || !Number.isFinite(scale)) attnplayFail(`scale must be a finite number (got ${scale})`);
      const wantWeights = args.weights !== false;
      const sizes = [args.q.length, args.k.length, args.v.length, heads * nq * dv, wantWeights ? heads * nq * nk : 0];
      const { base, ptrs } = heapCopyIn(sizes);
      try {
        M.HEAPF32.set(args.q, ptrs[0] >>> 2);
        M.HEAPF32.set(args.k, ptrs[1] >>> 2);
        M.HEAPF32.set(args.v, ptrs[2] >>> 2);
        M._ap_attention(ptrs[0], ptrs[1], ptrs[2], heads, nq, nk, dk, dv, args.causal ? 1 : 0, scale, ptrs[3],
                        wantWeights ? ptrs[4] : 0);
        const out = { context: M.HEAPF32.slice(ptrs[3] >>> 2, (ptrs[3] >>> 2) + sizes[3]) };
        if (wantWeights) out.weights = M.HEAPF32.slice(ptrs[4] >>> 2, (ptrs[4] >>> 2) + sizes[4]);
        return out;
      } finally {
        M._free(base);
      }
    },

    createTrainer(config, spec = {}) {
      const text = M.attnplayJson(config, 'config'), specText = M.attnplayJson(spec ?? {}, 'spec');
      M.attnplayWithText(text, (p, n) => M.attnplayWithText(specText, (q, m) => answer(M._ap_train_open(p, n, q, m))));
      const trainer = {
        run(budgetMs = 10, maxSteps = 1e9) {
          if (!(budgetMs >= 0)) attnplayFail(`budgetMs must be a number >= 0 (got ${budgetMs})`);
          const steps = Math.max(1, Math.min(Math.floor(maxSteps) || 1, 2 ** 31 - 1));
          M._ap_train_run(budgetMs, steps);
          return JSON.parse(M.attnplayAnswer());
        },
        params() {
          answer(M._ap_train_params());
          return new Float32Array(M.attnplayAnswerBytes().buffer);
        },
        set(next) { M.attnplayWithText(M.attnplayJson(next ?? {}, 'spec'), (q, m) => answer(M._ap_train_set(q, m))); },
        state() {
          answer(M._ap_train_state());
          return M.attnplayAnswerBytes();
        },
        restore(state) {
          if (!(state instanceof Uint8Array)) attnplayFail('state must be a Uint8Array (trainer.state())');
          M.attnplayWithBytes(state, (p, n) => answer(M._ap_train_restore(p, n)));
        },
        step: () => M._ap_train_step(),  // the steps taken (after a restore: the restored state's)
        close() { M._ap_train_close(); },
      };
      return trainer;
    },

    multiHeadAttention(args) {
      if (!args || typeof args !== 'object') attnplayFail('multiHeadAttention() takes an object {x, wq, wk, wv, wo, n, dModel, heads, ...}');
      const dModel = attnplayCheckInt('dModel', args.dModel, 1);
      const heads = attnplayCheckInt('heads', args.heads ?? 1, 1);
      if (dModel % heads !== 0) attnplayFail(`heads must divide dModel (got dModel=${dModel}, heads=${heads})`);
      if (!(args.x instanceof Float32Array)) attnplayFail('x must be a Float32Array');
      const n = attnplayCheckInt('n', args.n ?? args.x.length / dModel, 1);
      attnplayCheckArray('x', args.x, n * dModel, `n*dModel (${n}*${dModel})`);
      for (const w of ['wq', 'wk', 'wv', 'wo']) attnplayCheckArray(w, args[w], dModel * dModel, `dModel*dModel (${dModel}*${dModel})`);
      const wantWeights = args.weights !== false;
      const sizes = [n * dModel, dModel * dModel, dModel * dModel, dModel * dModel, dModel * dModel, n * dModel,
                     wantWeights ? heads * n * n : 0];
      const { base, ptrs } = heapCopyIn(sizes);
      try {
        M.HEAPF32.set(args.x, ptrs[0] >>> 2);
        M.HEAPF32.set(args.wq, ptrs[1] >>> 2);
        M.HEAPF32.set(args.wk, ptrs[2] >>> 2);
        M.HEAPF32.set(args.wv, ptrs[3] >>> 2);
        M.HEAPF32.set(args.wo, ptrs[4] >>> 2);
        M._ap_mha(ptrs[0], ptrs[1], ptrs[2], ptrs[3], ptrs[4], n, dModel, heads, args.causal ? 1 : 0, ptrs[5],
                  wantWeights ? ptrs[6] : 0);
        const out = { output: M.HEAPF32.slice(ptrs[5] >>> 2, (ptrs[5] >>> 2) + sizes[5]) };
        if (wantWeights) out.weights = M.HEAPF32.slice(ptrs[6] >>> 2, (ptrs[6] >>> 2) + sizes[6]);
        return out;
      } finally {
        M._free(base);
      }
    },
  };
  core.version = core.build.split(' ')[1] || '';
  return Object.freeze(core);
}
