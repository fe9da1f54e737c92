// attnplay peer benchmark (./build.sh bench): multi-head self-attention with the four d_model x d_model
// projections, in one Node process, single-threaded WebAssembly SIMD for everyone:
//   attnplay   core.multiHeadAttention (attnplay-core.mjs), on both kernel paths: relaxed SIMD (fused multiply-add;
//              run Node with --experimental-wasm-relaxed-simd, as ./build.sh bench does, for all three alike) and the
//              plain SIMD128 fallback (createCore({kernels: 'simd128'}))
//   TF.js      @tensorflow/tfjs-core + tfjs-backend-wasm, its fast form: rank-2 matMul per head, no transpose flags,
//              the graph built inside tf.tidy and read back once outside it (a dataSync inside tidy costs it 2-3x)
//   ORT        onnxruntime-web, fused com.microsoft Attention + MatMul (bench/make_onnx_models.py), numThreads = 1
// Identical inputs; outputs checked equal (relative error) before timing; rounds interleaved; medians printed.
// Usage: node bench/bench_peers.mjs WEB_DIR MODELS_DIR [rounds]
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const web = path.resolve(process.argv[2] || 'build/web');
const models = path.resolve(process.argv[3] || 'build/bench-models');
const rounds = Number(process.argv[4] || 7);
const require = createRequire(path.join(here, 'package.json'));

const { createCore } = await import(pathToFileURL(path.join(web, 'attnplay-core.mjs')).href);
const core = await createCore();
const core128 = await createCore({ kernels: 'simd128' });

const tf = await import(pathToFileURL(require.resolve('@tensorflow/tfjs-core')).href);
const tfwasm = await import(pathToFileURL(require.resolve('@tensorflow/tfjs-backend-wasm')).href);
tfwasm.setWasmPaths(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm')) + path.sep);
tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
await tf.setBackend('wasm');
await tf.ready();

const ort = await import(pathToFileURL(path.join(path.dirname(require.resolve('onnxruntime-web')), 'ort.node.min.mjs')).href)
  .catch(() => import(pathToFileURL(require.resolve('onnxruntime-web')).href));
ort.env.wasm.numThreads = 1;
// Its fastest documented setting where the engine has relaxed SIMD ('relaxed'), else true. (Its shipped .wasm
// validates in Node 20 without the relaxed flag, so it carries no relaxed instructions either way; nor does TF.js's.)
ort.env.wasm.simd = core.kernels === 'relaxed-simd' ? 'relaxed' : true;

function rand(n, seed, scale = 1) {
  const a = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; a[i] = (s / 2 ** 32 * 2 - 1) * scale; }
  return a;
}

function relErr(a, b) {
  let num = 0, den = 0;
  for (let i = 0; i < a.length; i++) { num = Math.max(num, Math.abs(a[i] - b[i])); den = Math.max(den, Math.abs(b[i])); }
  return num / den;
}

function median(xs) { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; }

const sizes = [[256, 128, 8, false], [1024, 256, 8, false], [1024, 256, 8, true], [2048, 256, 8, false], [2048, 256, 8, true]];
const rows = [];
console.log(`attnplay: ${core.build}`);
if (core.kernels !== 'relaxed-simd') console.log('(relaxed SIMD is not available in this Node: run it with --experimental-wasm-relaxed-simd)');
console.log(`TF.js ${tf.version_core} (wasm, SIMD ${await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT')}, 1 thread); onnxruntime-web ${ort.env.versions?.web ?? ''} (1 thread)`);
for (const [n, d, heads, causal] of sizes) {
  const dk = d / heads;
  const x = rand(n * d, 1), wq = rand(d * d, 2, 1 / Math.sqrt(d)), wk = rand(d * d, 3, 1 / Math.sqrt(d)),
        wv = rand(d * d, 4, 1 / Math.sqrt(d)), wo = rand(d * d, 5, 1 / Math.sqrt(d));
  // attnplay
  const runA = () => core.multiHeadAttention({ x, wq, wk, wv, wo, n, dModel: d, heads, causal, weights: false }).output;
  const runS = () => core128.multiHeadAttention({ x, wq, wk, wv, wo, n, dModel: d, heads, causal, weights: false }).output;
  // TF.js: per-head rank-2 matMul; K transposed once per head by tf.transpose (its fast path takes no transpose flags)
  const tx = tf.tensor2d(x, [n, d]), twq = tf.tensor2d(wq, [d, d]), twk = tf.tensor2d(wk, [d, d]), twv = tf.tensor2d(wv, [d, d]), two = tf.tensor2d(wo, [d, d]);
  const maskAdd = causal ? tf.tensor2d(Float32Array.from({ length: n * n }, (_, i) => ((i % n) > Math.floor(i / n) ? -1e30 : 0)), [n, n]) : null;
  const graphT = () => tf.tidy(() => {
    const q = tf.mul(tf.matMul(tx, twq), 1 / Math.sqrt(dk)), k = tf.matMul(tx, twk), v = tf.matMul(tx, twv);
    const outs = [];
    for (let h = 0; h < heads; h++) {
      const qh = tf.slice(q, [0, h * dk], [n, dk]), kh = tf.transpose(tf.slice(k, [0, h * dk], [n, dk])), vh = tf.slice(v, [0, h * dk], [n, dk]);
      let s = tf.matMul(qh, kh);
      if (maskAdd) s = tf.add(s, maskAdd);
      outs.push(tf.matMul(tf.softmax(s), vh));
    }
    return tf.matMul(tf.concat(outs, 1), two);  // kept by tidy (returned); every intermediate is freed
  });
  const runT = () => {  // the graph and one read-back, nothing else
    const y = graphT();
    const data = y.dataSync();
    y.dispose();
    return data;
  };
  // ORT
  const session = await ort.InferenceSession.create(path.join(models, `mha_d${d}_h${heads}_causal${causal ? 1 : 0}.onnx`),
                                                    { executionProviders: ['wasm'], graphOptimizationLevel: 'all' });
  const wqkv = new Float32Array(d * 3 * d);
  for (let r = 0; r < d; r++) {
    wqkv.set(wq.subarray(r * d, (r + 1) * d), r * 3 * d);
    wqkv.set(wk.subarray(r * d, (r + 1) * d), r * 3 * d + d);
    wqkv.set(wv.subarray(r * d, (r + 1) * d), r * 3 * d + 2 * d);
  }
  const feeds = { x: new ort.Tensor('float32', x, [1, n, d]), wqkv: new ort.Tensor('float32', wqkv, [d, 3 * d]),
                  bias: new ort.Tensor('float32', new Float32Array(3 * d), [3 * d]), wo: new ort.Tensor('float32', wo, [d, d]) };
  const runO = async () => (await session.run(feeds)).y.data;
  // Same outputs first.
  const a = runA(), t = runT(), o = await runO(), s128 = runS();
  const eT = relErr(a, t), eO = relErr(a, o), eS = relErr(a, s128);
  if (!(eT < 1e-4 && eO < 1e-4 && eS < 1e-4)) throw new Error(`outputs differ at n=${n}: vs TF.js ${eT}, vs ORT ${eO}, vs SIMD128 ${eS}`);
  const times = { a: [], s: [], t: [], o: [] };
  for (let r = 0; r < rounds; r++) {  // interleaved: a slow moment of the machine hits all three alike
    let t0 = performance.now(); runA(); times.a.push(performance.now() - t0);
    t0 = performance.now(); runS(); times.s.push(performance.now() - t0);
    t0 = performance.now(); runT(); times.t.push(performance.now() - t0);
    t0 = performance.now(); await runO(); times.o.push(performance.now() - t0);
  }
  const [ma, ms, mt, mo] = [median(times.a), median(times.s), median(times.t), median(times.o)];
  rows.push({ n, d, heads, causal, kernels: core.kernels, ma, ms, mt, mo, ratio: ma / Math.min(mt, mo),
              ratio128: ms / Math.min(mt, mo), eT, eO, eS });
  tf.dispose([tx, twq, twk, twv, two]);
  if (maskAdd) maskAdd.dispose();
  await session.release();
}
console.log(`\n| n / d_model / heads | causal | attnplay ${core.kernels} ms | attnplay simd128 ms | TF.js-wasm ms | onnxruntime-web ms | ${core.kernels} / faster peer | simd128 / faster peer | max rel. diff (TF.js, ORT, simd128) |`);
console.log('|---|---|---|---|---|---|---|---|---|');
for (const r of rows) {
  console.log(`| ${r.n} / ${r.d} / ${r.heads} | ${r.causal} | ${r.ma.toFixed(1)} | ${r.ms.toFixed(1)} | ${r.mt.toFixed(1)} | ${r.mo.toFixed(1)} | ${r.ratio.toFixed(2)}x | ${r.ratio128.toFixed(2)}x | ${r.eT.toExponential(1)}, ${r.eO.toExponential(1)}, ${r.eS.toExponential(1)} |`);
}
const out = process.env.ATTNPLAY_BENCH_JSON;
if (out) fs.writeFileSync(out, JSON.stringify(rows, null, 1));
