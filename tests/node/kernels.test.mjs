// attnplay-core.mjs on both matrix-kernel paths (issue 14): relaxed SIMD (fused multiply-add, a module of its own
// built by clang-19) where the engine validates it, the SIMD128 kernel compiled into the module otherwise.
// This process runs Node 20 without --experimental-wasm-relaxed-simd (the SIMD128 path); a child with the flag
// loads the relaxed path. Both must give the same numbers within float32 rounding.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, test } from 'node:test';
import { WEB, loadCore } from './helpers.mjs';

const core = await loadCore();

// Runs in a child Node: every case on both paths, the largest relative difference per output.
const CHILD = `
const { createCore } = await import(${JSON.stringify(path.join(WEB, 'attnplay-core.mjs'))});
const fast = await createCore(), plain = await createCore({ kernels: 'simd128' });
function rand(n, seed, scale = 1) {
  const a = new Float32Array(n); let s = seed >>> 0;
  for (let i = 0; i < n; i++) { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; a[i] = (s / 2 ** 32 * 2 - 1) * scale; }
  return a;
}
function rel(a, b) {
  let num = 0, den = 0;
  for (let i = 0; i < a.length; i++) { num = Math.max(num, Math.abs(a[i] - b[i])); den = Math.max(den, Math.abs(b[i])); }
  return num / Math.max(den, 1e-30);
}
const out = { kernels: [fast.kernels, plain.kernels], cases: [] };
for (const [n, d, heads, causal] of [[1, 8, 1, false], [7, 12, 3, true], [65, 32, 4, false], [130, 64, 8, true], [257, 128, 8, false]]) {
  const x = rand(n * d, 1), w = [2, 3, 4, 5].map((s) => rand(d * d, s, 1 / Math.sqrt(d)));
  const args = { x, wq: w[0], wk: w[1], wv: w[2], wo: w[3], n, dModel: d, heads, causal };
  const a = fast.multiHeadAttention(args), b = plain.multiHeadAttention(args);
  out.cases.push({ name: 'mha n=' + n + ' d=' + d + ' heads=' + heads + ' causal=' + causal,
                   output: rel(a.output, b.output), weights: rel(a.weights, b.weights) });
}
for (const config of [{}, { mode: 'transformer', d_model: 32, heads: 4, text: '今天天气很好', tokenizer: 'chars' },
                      { mode: 'transformer', transformer: { layers: 3, norm_first: true }, attention: { mask: { causal: true } } }]) {
  const a = fast.compute(config), b = plain.compute(config);
  let worst = 0;
  a.layers.forEach((layer, l) => layer.heads.forEach((h, i) => {
    worst = Math.max(worst, rel(h.weights.flat(), b.layers[l].heads[i].weights.flat()));
  }));
  out.cases.push({ name: 'compute ' + JSON.stringify(config), weights: worst });
}
console.log(JSON.stringify(out));
`;

describe('matrix kernels', () => {
  test('without relaxed SIMD (Node 20 default) the SIMD128 kernel runs, and says so', () => {
    assert.equal(core.kernels, 'simd128');
    assert.match(core.build, /matrix kernels simd128/);
    assert.equal(core.simd, true);  // SPEC §6: true when the build uses WASM SIMD, whichever kernel
  });

  test('a bad kernels option is refused by name', async () => {
    const { createCore } = await import(path.join(WEB, 'attnplay-core.mjs'));
    await assert.rejects(createCore({ kernels: 'avx' }), /kernels must be 'auto' or 'simd128' \(got avx\)/);
  });

  test('with relaxed SIMD the fused multiply-add kernel runs and agrees with SIMD128', () => {
    const r = spawnSync(process.execPath, ['--no-experimental-fetch', '--experimental-wasm-relaxed-simd', '--input-type=module', '-e', CHILD],
                        { encoding: 'utf8', timeout: 120000 });
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    assert.deepEqual(out.kernels, ['relaxed-simd', 'simd128']);
    for (const c of out.cases) {
      console.log(`  ${c.name}: max relative difference ${JSON.stringify(c)}`);
      // Fused multiply-add rounds once where mul + add rounds twice: float32 rounding only, over sums of <= 257 terms.
      for (const k of ['output', 'weights']) if (k in c) assert.ok(c[k] < 2e-5, `${c.name}: ${k} differs by ${c[k]}`);
    }
  });
});
