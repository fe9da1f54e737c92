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
//   core.kernels                                         the matrix kernels in use: 'relaxed-simd' or 'simd128'
//   core.createTrainer(config, spec) -> trainer          the Train panel's session (one per core; a new one replaces it)
//     spec: {task: 'copy'|'reverse'|'sort'|'induction'|'date'|'numbers'|'numbers_zh'|'sov', length, vocab, batch,
//            optimizer: 'sgd'|'adam', lr}; the config's model, seeded over the task's vocabulary
//     trainer.run(budgetMs = 10, maxSteps) -> {step, loss[], accuracy[], alignment[], error?}  steps until the budget
//     trainer.params() -> Float32Array       every trainable tensor, concatenated (the order of the safetensors names)
//     trainer.set(spec)                       optimizer / lr / batch for the next steps
//     trainer.state() -> Uint8Array           the whole state (batch stream, step, params, Adam's moments)
//     trainer.restore(state)                  continue from state() of a trainer with the same config and spec
//     trainer.close()
// options: {kernels: 'auto' | 'simd128'}: 'auto' (default) takes relaxed SIMD (fused multiply-add) when this
// engine validates it; 'simd128' keeps the plain SIMD128 kernel (to compare the two).
// Errors are thrown as Error with one line naming the bad field.

function attnplayFail(message) {
  const e = new Error(message);
  e.name = 'AttnplayError';
  throw e;
}

// JSON.stringify turns NaN/Infinity into null, which would silently mean "default": refuse them by name.
function attnplayConfigText(config) {
  if (typeof config === 'string') return config;
  if (config === undefined || config === null) return '{}';
  const path = [];
  try {
    return JSON.stringify(config, function (key, value) {
      if (typeof value === 'number' && !Number.isFinite(value)) {
        attnplayFail(`${key === '' ? 'config' : key} must be a finite number (got ${value})`);
      }
      if (typeof value === 'bigint') attnplayFail(`${key} must be a number, not a BigInt`);
      return value;
    });
  } catch (e) {
    if (e && e.name === 'AttnplayError') throw e;
    attnplayFail(`config: cannot be turned into JSON (${e && e.message})`);
  }
}

function attnplayCheckInt(name, v, min) {
  if (!Number.isInteger(v) || v < min) attnplayFail(`${name} must be an integer >= ${min} (got ${v})`);
  return v;
}

function attnplayCheckArray(name, a, expected, shape) {
  if (!(a instanceof Float32Array)) attnplayFail(`${name} must be a Float32Array`);
  if (a.length !== expected) attnplayFail(`${name} has ${a.length} values, expected ${expected} = ${shape}`);
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
    const base = M._malloc(Math.max(total, 4));
    if (!base) attnplayFail('out of memory: the WebAssembly heap cannot hold these arrays');
    const ptrs = [];
    let off = base;
    for (const n of arrays) { ptrs.push(off); off += n * 4; }
    return { base, ptrs };
  };

  const readResult = () => {
    const ptr = M._ap_result_ptr(), len = M._ap_result_len();
    return { ptr, len };
  };

  const callWithText = (text, fn) => {
    const n = M.lengthBytesUTF8(text);
    const p = M._malloc(n + 1);
    if (!p) attnplayFail('out of memory: the config text does not fit in the WebAssembly heap');
    try {
      M.stringToUTF8(text, p, n + 1);
      return fn(p, n);
    } finally {
      M._free(p);
    }
  };

  const core = {
    version: '',
    simd: M._ap_simd() === 1,
    build: M.UTF8ToString(M._ap_version()),
    kernels: M.UTF8ToString(M._ap_kernels()),

    compute(config, weightsBytes) {
      const text = attnplayConfigText(config);
      let wp = 0, wn = 0;
      if (weightsBytes !== undefined && weightsBytes !== null) {
        if (weightsBytes instanceof ArrayBuffer) weightsBytes = new Uint8Array(weightsBytes);
        if (!(weightsBytes instanceof Uint8Array)) attnplayFail('weights must be a Uint8Array of a .safetensors file');
        wn = weightsBytes.length;
        wp = M._malloc(Math.max(wn, 1));
        if (!wp) attnplayFail('out of memory: the weights file does not fit in the WebAssembly heap');
        M.HEAPU8.set(weightsBytes, wp);
      }
      try {
        const ok = callWithText(text, (p, n) => M._ap_compute(p, n, wp, wn));
        const { ptr, len } = readResult();
        const s = M.UTF8ToString(ptr, len);
        if (!ok) attnplayFail(s);
        return JSON.parse(s);
      } finally {
        if (wp) M._free(wp);
      }
    },

    weights(config) {
      const text = attnplayConfigText(config);
      const ok = callWithText(text, (p, n) => M._ap_weights(p, n));
      const { ptr, len } = readResult();
      if (!ok) attnplayFail(M.UTF8ToString(ptr, len));
      return M.HEAPU8.slice(ptr, ptr + len);
    },

    // Attention maps exported from another model (tools/export_attention.py): .npy / .npz / .safetensors bytes or
    // JSON text -> {tokens, key_tokens?, layers: [{heads: [{weights}]}], warnings}. name: the file name (its
    // extension tells .safetensors apart; the others are recognised by their content).
    importAttention(bytes, name = 'attention') {
      if (typeof bytes === 'string') bytes = new TextEncoder().encode(bytes);
      if (bytes instanceof ArrayBuffer) bytes = new Uint8Array(bytes);
      if (!(bytes instanceof Uint8Array)) attnplayFail('importAttention takes a Uint8Array (or JSON text)');
      const p = M._malloc(Math.max(bytes.length, 1));
      if (!p) attnplayFail('out of memory: the file does not fit in the WebAssembly heap');
      try {
        M.HEAPU8.set(bytes, p);
        const ok = callWithText(String(name), (q, m) => M._ap_import_attention(p, bytes.length, q, m));
        const { ptr, len } = readResult();
        const s = M.UTF8ToString(ptr, len);
        if (!ok) attnplayFail(s);
        return JSON.parse(s);
      } finally {
        M._free(p);
      }
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
        M.HEAPF32.set(args.q, ptrs[0] >> 2);
        M.HEAPF32.set(args.k, ptrs[1] >> 2);
        M.HEAPF32.set(args.v, ptrs[2] >> 2);
        M._ap_attention(ptrs[0], ptrs[1], ptrs[2], heads, nq, nk, dk, dv, args.causal ? 1 : 0, scale, ptrs[3],
                        wantWeights ? ptrs[4] : 0);
        const out = { context: M.HEAPF32.slice(ptrs[3] >> 2, (ptrs[3] >> 2) + sizes[3]) };
        if (wantWeights) out.weights = M.HEAPF32.slice(ptrs[4] >> 2, (ptrs[4] >> 2) + sizes[4]);
        return out;
      } finally {
        M._free(base);
      }
    },

    createTrainer(config, spec = {}) {
      const text = attnplayConfigText(config);
      let specText;
      try { specText = JSON.stringify(spec); } catch (e) { attnplayFail(`spec: cannot be turned into JSON (${e && e.message})`); }
      const ok = callWithText(text, (p, n) => callWithText(specText, (q, m) => M._ap_train_open(p, n, q, m)));
      if (!ok) { const { ptr, len } = readResult(); attnplayFail(M.UTF8ToString(ptr, len)); }
      const trainer = {
        run(budgetMs = 10, maxSteps = 1e9) {
          if (!(budgetMs >= 0)) attnplayFail(`budgetMs must be a number >= 0 (got ${budgetMs})`);
          const steps = Math.max(1, Math.min(Math.floor(maxSteps) || 1, 2 ** 31 - 1));
          M._ap_train_run(budgetMs, steps);
          const { ptr, len } = readResult();
          return JSON.parse(M.UTF8ToString(ptr, len));
        },
        params() {
          const ok = M._ap_train_params();
          const { ptr, len } = readResult();
          if (!ok) attnplayFail(M.UTF8ToString(ptr, len));
          return new Float32Array(M.HEAPU8.slice(ptr, ptr + len).buffer);
        },
        set(next) {
          const ok = callWithText(JSON.stringify(next ?? {}), (q, m) => M._ap_train_set(q, m));
          if (!ok) { const { ptr, len } = readResult(); attnplayFail(M.UTF8ToString(ptr, len)); }
        },
        state() {
          const ok = M._ap_train_state();
          const { ptr, len } = readResult();
          if (!ok) attnplayFail(M.UTF8ToString(ptr, len));
          return M.HEAPU8.slice(ptr, ptr + len);
        },
        restore(state) {
          if (!(state instanceof Uint8Array)) attnplayFail('state must be a Uint8Array (trainer.state())');
          const p = M._malloc(Math.max(state.length, 1));
          if (!p) attnplayFail('out of memory: the training state does not fit in the WebAssembly heap');
          let ok;
          try {
            M.HEAPU8.set(state, p);
            ok = M._ap_train_restore(p, state.length);
          } finally {
            M._free(p);
          }
          if (!ok) { const { ptr, len } = readResult(); attnplayFail(M.UTF8ToString(ptr, len)); }
        },
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
        M.HEAPF32.set(args.x, ptrs[0] >> 2);
        M.HEAPF32.set(args.wq, ptrs[1] >> 2);
        M.HEAPF32.set(args.wk, ptrs[2] >> 2);
        M.HEAPF32.set(args.wv, ptrs[3] >> 2);
        M.HEAPF32.set(args.wo, ptrs[4] >> 2);
        M._ap_mha(ptrs[0], ptrs[1], ptrs[2], ptrs[3], ptrs[4], n, dModel, heads, args.causal ? 1 : 0, ptrs[5],
                  wantWeights ? ptrs[6] : 0);
        const out = { output: M.HEAPF32.slice(ptrs[5] >> 2, (ptrs[5] >> 2) + sizes[5]) };
        if (wantWeights) out.weights = M.HEAPF32.slice(ptrs[6] >> 2, (ptrs[6] >> 2) + sizes[6]);
        return out;
      } finally {
        M._free(base);
      }
    },
  };
  core.version = core.build.split(' ')[1] || '';
  return Object.freeze(core);
}
