// attnplay-core.mjs (SPEC §6) and the CLI (SPEC §4): native-vs-WASM equality of seeded weights and results,
// the Float32Array fast paths against plain-loop references, and the build description.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { WEB, compareResults, loadCore, runCli, tmpDir } from './helpers.mjs';

const core = await loadCore();
const dir = tmpDir();

// Seeded configs covering every kind, mode, tokenizer, positional scheme and mask.
const SEEDED = {
  default: {},
  chinese_chars: { text: '今天天气很好', tokenizer: 'chars' },
  emoji_words: { text: 'I ❤️ attention 👨‍👩‍👧 !', heads: 4 },
  cross: { text: 'the cat', key_text: 'le chat est là', attention: { mask: { causal: true } } },
  general: { attention: { kind: 'general', scale: 'dk', temperature: 0.5 }, seed: 7 },
  additive: { attention: { kind: 'additive', d_a: 5, mask: { window: 1 } }, seed: 3 },
  dot_padding: { attention: { kind: 'dot', mask: { padding: [1, 2] } }, d_model: 12, heads: 3 },
  dk_dv: { d_k: 5, d_v: 3, heads: 3, d_model: 10 },
  fully_masked: { text: 'a b c', attention: { mask: { cells: [[1, 0], [1, 1], [1, 2]] } } },
  transformer: { mode: 'transformer', transformer: { layers: 3, activation: 'gelu', norm_first: true, positional: 'learned' } },
  transformer_causal: { mode: 'transformer', seed: 42, d_model: 32, heads: 4, attention: { mask: { causal: true } } },
};

function cliCompute(config) {
  const f = path.join(dir, 'cfg.json');
  fs.writeFileSync(f, JSON.stringify(config));
  const r = runCli(['compute', f]);
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout);
}

describe('native and WASM agree', () => {
  for (const [name, config] of Object.entries(SEEDED)) {
    test(`seeded weights are bit-identical: ${name}`, () => {
      const out = path.join(dir, `${name}.safetensors`);
      const cfg = path.join(dir, `${name}.json`);
      fs.writeFileSync(cfg, JSON.stringify(config));
      const r = runCli(['weights', cfg, '-o', out]);
      assert.equal(r.status, 0, r.stderr);
      const native = fs.readFileSync(out);
      const wasm = core.weights(config);
      assert.equal(wasm.length, native.length);
      assert.ok(Buffer.from(wasm).equals(native), 'byte-for-byte equal');
    });
    test(`results agree to 1e-5 rel + 1e-6 abs: ${name}`, () => {
      const a = cliCompute(config), b = core.compute(config);
      const cmp = compareResults(b, a);
      assert.deepEqual(cmp.failures, []);
      assert.deepEqual(b.warnings, a.warnings);
    });
  }
  test('a weights file written natively loads in WASM with the same results', () => {
    const config = SEEDED.transformer;
    const file = path.join(dir, 'tf.safetensors');
    fs.writeFileSync(path.join(dir, 'tf.json'), JSON.stringify(config));
    assert.equal(runCli(['weights', path.join(dir, 'tf.json'), '-o', file]).status, 0);
    const loaded = core.compute(config, new Uint8Array(fs.readFileSync(file)));
    assert.deepEqual(compareResults(loaded, core.compute(config)).failures, []);
  });
});

describe('result shape (SPEC §3)', () => {
  test('default config', () => {
    const r = core.compute({});
    assert.deepEqual(r.tokens, ['The', 'cat', 'sat', 'on', 'the', 'mat', '.']);
    assert.equal(r.layers.length, 1);
    assert.equal(r.layers[0].heads.length, 2);
    const h = r.layers[0].heads[0];
    assert.equal(h.scores.length, 7);
    assert.equal(h.context[0].length, 8);
    assert.equal(r.layers[0].output[0].length, 16);
    for (const row of h.weights) assert.ok(Math.abs(row.reduce((s, x) => s + x, 0) - 1) < 1e-5);
    assert.deepEqual(r.fully_masked_rows, []);
    assert.ok(!('logits' in r));
  });
  test('causal: masked scores are null and their weights 0', () => {
    const r = core.compute({ attention: { mask: { causal: true } } });
    const h = r.layers[0].heads[1];
    for (let i = 0; i < 7; i++) for (let j = 0; j < 7; j++) {
      if (j > i) { assert.equal(h.scores[i][j], null); assert.equal(h.weights[i][j], 0); }
      else assert.equal(typeof h.scores[i][j], 'number');
    }
  });
  test('transformer: logits [n, vocab]', () => {
    const r = core.compute({ mode: 'transformer', text: 'a b a c' });
    assert.equal(r.layers.length, 2);
    assert.equal(r.logits.length, 4);
    assert.equal(r.logits[0].length, 3);
  });
  test('fully masked rows are zero and reported', () => {
    const r = core.compute(SEEDED.fully_masked);
    assert.deepEqual(r.fully_masked_rows, [1]);
    assert.ok(r.layers[0].heads[0].weights[1].every((x) => x === 0));
    assert.ok(r.layers[0].heads[0].context[1].every((x) => x === 0));
  });
  test('±1e30 inputs give finite numbers and a warning, never NaN', () => {
    const big = [[1e30, -1e30], [-1e30, 1e30]];
    const r = core.compute({ inputs: { q: big, k: big, v: [[1, 2], [3, 4]] } });
    const flat = JSON.stringify(r);
    assert.ok(!flat.includes('NaN') && !flat.includes('null'));
    assert.deepEqual(r.layers[0].heads[0].weights, [[1, 0], [0, 1]]);
    assert.ok(r.warnings.some((w) => w.includes('overflowed float32')), JSON.stringify(r.warnings));
  });
  test('running out of the 2 GB WebAssembly heap is a message, not an abort, and the engine keeps working', () => {
    // Under the config caps (1.5 GB of attention matrices) but over what the heap can hold with everything else.
    const text = Array.from({ length: 4096 }, (_, i) => `w${i}`).join(' ');
    assert.throws(() => core.compute({ text, d_model: 11, heads: 11 }),
                  (e) => e instanceof Error && e.message.startsWith('out of memory: the config needs more than the WebAssembly heap can give'));
    assert.deepEqual(core.compute({ text: 'still works' }).tokens, ['still', 'works']);
  });
  test('a config given as JSON text works too', () => {
    assert.deepEqual(core.compute('{"text": "x y"}').tokens, ['x', 'y']);
  });
});

// Plain-loop reference for the fast paths: q [H, nq, dk] ... -> context [H, nq, dv], weights [H, nq, nk].
function attentionRef(q, k, v, H, nq, nk, dk, dv, causal, scale) {
  const ctx = new Float64Array(H * nq * dv), w = new Float64Array(H * nq * nk);
  for (let h = 0; h < H; h++) for (let i = 0; i < nq; i++) {
    const s = [];
    for (let j = 0; j < nk; j++) {
      let acc = 0;
      for (let d = 0; d < dk; d++) acc += q[(h * nq + i) * dk + d] * k[(h * nk + j) * dk + d];
      s.push(causal && j > i ? -Infinity : acc * scale);
    }
    const m = Math.max(...s), e = s.map((x) => Math.exp(x - m)), z = e.reduce((a, b) => a + b, 0);
    for (let j = 0; j < nk; j++) {
      w[(h * nq + i) * nk + j] = e[j] / z;
      for (let d = 0; d < dv; d++) ctx[(h * nq + i) * dv + d] += (e[j] / z) * v[(h * nk + j) * dv + d];
    }
  }
  return { ctx, w };
}

function rand(n, seed) {
  const a = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; a[i] = s / 2 ** 32 * 2 - 1; }
  return a;
}

function assertClose(got, want, what, rel = 1e-5, abs = 1e-6) {
  assert.equal(got.length, want.length, `${what} length`);
  for (let i = 0; i < want.length; i++) {
    const err = Math.abs(got[i] - want[i]);
    if (!(err <= abs + rel * Math.abs(want[i]))) assert.fail(`${what}[${i}]: got ${got[i]}, want ${want[i]}`);
  }
}

describe('core.attention', () => {
  const shapes = [
    { heads: 1, nq: 1, nk: 1, dk: 1, dv: 1, causal: false },
    { heads: 2, nq: 5, nk: 5, dk: 4, dv: 3, causal: true },
    { heads: 3, nq: 7, nk: 11, dk: 8, dv: 5, causal: false },
    { heads: 4, nq: 33, nk: 33, dk: 16, dv: 16, causal: true, scale: 0.3 },
    { heads: 1, nq: 6, nk: 4, dk: 3, dv: 2, causal: true },
  ];
  for (const s of shapes) {
    test(JSON.stringify(s), () => {
      const q = rand(s.heads * s.nq * s.dk, 1), k = rand(s.heads * s.nk * s.dk, 2), v = rand(s.heads * s.nk * s.dv, 3);
      const scale = s.scale ?? 1 / Math.sqrt(s.dk);
      const out = core.attention({ q, k, v, ...s });
      assert.ok(out.context instanceof Float32Array && out.weights instanceof Float32Array);
      const ref = attentionRef(q, k, v, s.heads, s.nq, s.nk, s.dk, s.dv, s.causal, scale);
      assertClose(out.context, ref.ctx, 'context');
      assertClose(out.weights, ref.w, 'weights');
      const noW = core.attention({ q, k, v, ...s, weights: false });
      assert.ok(!('weights' in noW));
      assertClose(noW.context, ref.ctx, 'context without weights');
    });
  }
  test('agrees with core.compute on explicit inputs', () => {
    const H = 2, n = 4, d = 3;
    const q = rand(H * n * d, 7), k = rand(H * n * d, 8), v = rand(H * n * d, 9);
    const to3 = (a) => Array.from({ length: H }, (_, h) => Array.from({ length: n }, (_, i) => Array.from(a.slice((h * n + i) * d, (h * n + i + 1) * d))));
    const r = core.compute({ inputs: { q: to3(q), k: to3(k), v: to3(v) }, attention: { mask: { causal: true } } });
    const fast = core.attention({ q, k, v, heads: H, nq: n, nk: n, dk: d, dv: d, causal: true });
    assertClose(fast.weights, r.layers[0].heads.flatMap((h) => h.weights.flat()), 'weights');
    assertClose(fast.context, r.layers[0].heads.flatMap((h) => h.context.flat()), 'context');
  });
});

describe('core.multiHeadAttention', () => {
  for (const causal of [false, true]) {
    test(`n=9 dModel=12 heads=3 causal=${causal}`, () => {
      const n = 9, D = 12, H = 3, dk = D / H;
      const x = rand(n * D, 11), wq = rand(D * D, 12), wk = rand(D * D, 13), wv = rand(D * D, 14), wo = rand(D * D, 15);
      const mm = (a, b, r, m, c) => { const o = new Float64Array(r * c); for (let i = 0; i < r; i++) for (let k = 0; k < m; k++) for (let j = 0; j < c; j++) o[i * c + j] += a[i * m + k] * b[k * c + j]; return o; };
      const Q = mm(x, wq, n, D, D), K = mm(x, wk, n, D, D), V = mm(x, wv, n, D, D);
      const split = (M) => { const o = new Float64Array(n * D); for (let h = 0; h < H; h++) for (let i = 0; i < n; i++) for (let d = 0; d < dk; d++) o[(h * n + i) * dk + d] = M[i * D + h * dk + d]; return o; };
      const ref = attentionRef(split(Q), split(K), split(V), H, n, n, dk, dk, causal, 1 / Math.sqrt(dk));
      const concat = new Float64Array(n * D);
      for (let h = 0; h < H; h++) for (let i = 0; i < n; i++) for (let d = 0; d < dk; d++) concat[i * D + h * dk + d] = ref.ctx[(h * n + i) * dk + d];
      const want = mm(concat, wo, n, D, D);
      const out = core.multiHeadAttention({ x, wq, wk, wv, wo, n, dModel: D, heads: H, causal });
      // 1e-4 relative: float32 chains of three products over d=12 against a float64 reference.
      assertClose(out.output, want, 'output', 1e-4, 1e-5);
      assertClose(out.weights, ref.w, 'weights', 1e-4, 1e-6);
    });
  }
});

describe('build description', () => {
  test('core.version and core.simd', () => {
    assert.match(core.version, /^\d+\.\d+\.\d+$/);
    assert.equal(core.simd, true);
    assert.match(core.build, /wasm32/);
    assert.match(core.build, /SIMD on/);
    assert.match(core.build, /SIMD128/);
  });
  test('attnplay --version names the same version, SIMD and Eigen instruction sets', () => {
    const r = runCli(['--version']);
    assert.equal(r.status, 0);
    assert.ok(r.stdout.includes(`attnplay ${core.version} (native`), r.stdout);
    assert.match(r.stdout, /SIMD on/);
    assert.match(r.stdout, /instruction sets: .*SSE2/);
  });
  test('the wasm module uses SIMD128 instructions', () => {
    // v128 opcodes are prefixed 0xFD; a scalar build has none. Cheap structural check of the shipped file.
    const wasm = fs.readFileSync(path.join(WEB, 'attnplay-core.wasm'));  // the build under test (ATTNPLAY_WEB)
    assert.ok(WebAssembly.validate(wasm));
    let count = 0;
    for (const b of wasm) if (b === 0xfd) count++;
    assert.ok(count > 1000, `${count} SIMD-prefix bytes`);
  });
});

describe('CLI', () => {
  test('compute from stdin to a file, and weights', () => {
    const out = path.join(dir, 'out.json');
    const r = runCli(['compute', '-', '-o', out], '{"text": "今天天气很好", "tokenizer": "chars"}');
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, '');
    assert.deepEqual(JSON.parse(fs.readFileSync(out, 'utf8')).tokens, ['今', '天', '天', '气', '很', '好']);
    const wout = path.join(dir, 'w.safetensors');
    assert.equal(runCli(['weights', '-', '-o', wout], '{}').status, 0);
    const buf = fs.readFileSync(wout);
    const hlen = Number(buf.readBigUInt64LE(0));
    const header = JSON.parse(buf.subarray(8, 8 + hlen).toString('utf8'));
    assert.deepEqual(JSON.parse(header.__metadata__.vocab), ['The', 'cat', 'sat', 'on', 'the', 'mat', '.']);
    assert.deepEqual(header['encoder.layers.0.self_attn.in_proj_weight'], { dtype: 'F32', shape: [48, 16], data_offsets: header['encoder.layers.0.self_attn.in_proj_weight'].data_offsets });
    assert.ok(!('pos_embedding.weight' in header));
  });
  test('compute --weights with a file from weights reproduces the seeded result', () => {
    const w = path.join(dir, 'seeded.safetensors');
    assert.equal(runCli(['weights', '-', '-o', w], '{"mode": "transformer"}').status, 0);
    const a = runCli(['compute', '-'], '{"mode": "transformer"}');
    const b = runCli(['compute', '-', '--weights', w], '{"mode": "transformer"}');
    assert.equal(a.status, 0);
    assert.equal(a.stdout, b.stdout);
  });
});
