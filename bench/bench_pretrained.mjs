// attnplay pretrained-model benchmark (issue 26, ./build.sh bench): a GPT-2-small-shaped folder (12 layers, 768
// wide, 12 heads, vocabulary 50257, random F16 weights), 128 tokens, every attention map kept, timed side by side in
// interleaved rounds (this VM's speed swings within a minute):
//   attnplay     the engine's forward in WASM (relaxed SIMD) under Node: build/wasm/attnplay_bench_pretrained.js
//                (load, forward with every row's logits and with the last row's, one token appended through the
//                cache, the heap's high-water mark); and the JS API: core.loadModel + core.compute (with its JSON)
//   PyTorch      1.13, one thread, OpenBLAS (bench/bench_pretrained_torch.py: GPT2LMHeadModel's maths, maps kept)
//   ORT-web      onnxruntime-web, one thread, its fastest graph that outputs the maps (bench/make_pretrained_onnx.py)
// Every library computes from the same float32 values and the same token ids.
//   node bench/bench_pretrained.mjs BUILD_DIR [ROUNDS]        (ROUNDS default 5; ./build.sh bench makes the inputs)
// Internal modes (one process per library per round, so each starts alike):
//   --ort ONNX IDS N REPS | --core WEB FOLDER IDS N REPS
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, 'package.json'));
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };
const idsOf = (file, n) => JSON.parse(fs.readFileSync(file, 'utf8')).token_ids[String(n)];
const rssMB = () => process.memoryUsage().rss / 1048576;

if (process.argv[2] === '--ort') {  // one round of onnxruntime-web
  const [onnx, idsFile, n, reps] = process.argv.slice(3);
  const ort = await import(pathToFileURL(path.join(path.dirname(require.resolve('onnxruntime-web')), 'ort.node.min.mjs')).href);
  ort.env.wasm.numThreads = 1;
  ort.env.wasm.simd = 'relaxed';  // its fastest documented setting (its .wasm carries no relaxed opcodes either way)
  const t0 = performance.now();
  const session = await ort.InferenceSession.create(onnx, { executionProviders: ['wasm'], graphOptimizationLevel: 'all' });
  const load_ms = performance.now() - t0;
  const ids = BigInt64Array.from(idsOf(idsFile, Number(n)).map(BigInt));
  const feeds = { input_ids: new ort.Tensor('int64', ids, [1, ids.length]) };
  await session.run(feeds);  // warm-up
  const times = [];
  for (let r = 0; r < Number(reps); r++) {
    const a = performance.now();
    const out = await session.run(feeds);
    times.push(performance.now() - a);
    if (!out.attn_11 || out.logits.dims[2] !== 50257) throw new Error('ORT: the maps or the logits are missing');
  }
  console.log(JSON.stringify({ library: 'onnxruntime-web', version: ort.env.versions?.web, load_ms, forward_ms: times, peak_rss_mb: rssMB() }));
  process.exit(0);
}

if (process.argv[2] === '--core') {  // one round of the JS API: core.loadModel (the F16 folder from disk) + core.compute
  const [web, folder, idsFile, n, reps] = process.argv.slice(3);
  const { createCore } = await import(pathToFileURL(path.join(web, 'attnplay-core.mjs')).href);
  const core = await createCore();
  const ids = idsOf(idsFile, Number(n));
  const t0 = performance.now();
  const model = await core.loadModel(folder);
  const load_ms = performance.now() - t0;
  const cfg = (tokenIds, t) => ({ mode: 'pretrained', model, token_ids: tokenIds, logits: 'last', attention: { temperature: t } });
  core.compute(cfg(ids, 1));  // warm-up
  const compute = [], append = [];
  for (let r = 0; r < Number(reps); r++) {
    let a = performance.now();
    core.compute(cfg(ids, 1 + (r + 1) * 1e-3));  // a new temperature: nothing cached
    compute.push(performance.now() - a);
    core.compute(cfg(ids.slice(0, -1), 1));
    a = performance.now();
    core.compute(cfg(ids, 1));
    append.push(performance.now() - a);
  }
  console.log(JSON.stringify({ library: 'attnplay JS API', kernels: core.kernels, load_ms, compute_ms: compute, append_ms: append, peak_rss_mb: rssMB() }));
  process.exit(0);
}

// The orchestrator.
const build = path.resolve(process.argv[2] || 'build');
const rounds = Number(process.argv[3] || 5);
const dir = path.join(build, 'bench-pretrained'), folder = path.join(dir, 'gpt2-small-f16'), ids = path.join(dir, 'bench_input.json');
const onnx = path.join(dir, 'gpt2-small.onnx'), N = 128, REPS = 3;
for (const f of [folder, ids, onnx]) if (!fs.existsSync(f)) throw new Error(`${f} is missing (./build.sh bench makes it)`);

function run(cmd, args, env = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', env: { ...process.env, ...env }, maxBuffer: 64 << 20, timeout: 900000 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: exit ${r.status}\n${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop());
}
const node = (args) => run('node', ['--no-experimental-fetch', '--experimental-wasm-relaxed-simd', ...args]);
const libs = {
  attnplay: () => node([path.join(build, 'wasm/attnplay_bench_pretrained.js'), folder, ids, String(N), String(REPS)]),
  'attnplay JS API': () => node([path.join(here, 'bench_pretrained.mjs'), '--core', path.join(build, 'web'), folder, ids, String(N), String(REPS)]),
  pytorch: (r) => run('/usr/bin/python3', [path.join(here, 'bench_pretrained_torch.py'), folder, '--tokens', String(N), '--rounds', String(REPS),
                                           '--warmup', '1', '--openblas', path.join(build, 'openblas'), ...(r === 0 ? [] : ['--no-check'])]),
  'onnxruntime-web': () => node([path.join(here, 'bench_pretrained.mjs'), '--ort', onnx, ids, String(N), String(REPS)]),
};
const got = Object.fromEntries(Object.keys(libs).map((k) => [k, []]));
for (let r = 0; r < rounds; r++) {
  for (const [name, f] of Object.entries(libs)) got[name].push(f(r));
  process.stderr.write(`round ${r + 1}/${rounds}\n`);
}
const all = (name, key) => got[name].flatMap((x) => x[key] ?? []);
const one = (name, key) => got[name].map((x) => x[key]);
const ms = (xs) => `${Math.round(Math.min(...xs))} / ${Math.round(median(xs))}`;
const a = got.attnplay[0], torchMs = median(all('pytorch', 'times_ms')), ortMs = median(all('onnxruntime-web', 'forward_ms'));
const fwd = median(all('attnplay', 'forward_ms')), app = median(all('attnplay', 'append_ms'));
const limitMB = 1.3 * a.weights_f32_mb + a.maps_mb;
console.log(`GPT-2 small shape, ${N} tokens, F16 file, every attention map kept; ${rounds} interleaved rounds x ${REPS} (min / median ms)`);
console.log(`torch BLAS: ${JSON.stringify(got.pytorch[0].blas)}; attnplay kernels: ${a.kernels}`);
console.log('| figure | attnplay | PyTorch 1.13 (1 thread) | onnxruntime-web (1 thread) | goal | met |');
console.log('|---|---|---|---|---|---|');
console.log(`| forward, logits of every row | ${ms(all('attnplay', 'forward_ms'))} | ${ms(all('pytorch', 'times_ms'))} | ${ms(all('onnxruntime-web', 'forward_ms'))} | ≤ 2× PyTorch, ≤ 0.7× ORT | ${(fwd / torchMs).toFixed(2)}× PyTorch, ${(fwd / ortMs).toFixed(2)}× ORT |`);
console.log(`| forward, the last row's logits | ${ms(all('attnplay', 'forward_last_ms'))} | | | | |`);
console.log(`| JS API: core.compute, last row's logits, with its JSON | ${ms(all('attnplay JS API', 'compute_ms'))} | | | | |`);
console.log(`| one token appended to ${N - 1} (the cache) | ${ms(all('attnplay', 'append_ms'))} | | | ≤ 10 % of the forward | ${(100 * app / fwd).toFixed(1)} % |`);
console.log(`| load: F16 file to ready (engine) | ${ms(one('attnplay', 'load_ms'))} | ${ms(one('pytorch', 'load_ms'))} | ${ms(one('onnxruntime-web', 'load_ms'))} (F32 graph) | ≤ 1500 | ${median(one('attnplay', 'load_ms')) <= 1500 ? 'yes' : 'no'} |`);
console.log(`| load: core.loadModel (JS API, file read in slices) | ${ms(one('attnplay JS API', 'load_ms'))} | | | ≤ 1500 | ${median(one('attnplay JS API', 'load_ms')) <= 1500 ? 'yes' : 'no'} |`);
console.log(`| peak memory, MB (WASM heap; RSS for the others) | ${Math.round(median(one('attnplay', 'peak_mb')))} | ${Math.round(median(one('pytorch', 'peak_rss_mb').filter(Boolean)) || 0) || '–'} | ${Math.round(median(one('onnxruntime-web', 'peak_rss_mb')))} | ≤ ${Math.round(limitMB)} (1.3 × ${Math.round(a.weights_f32_mb)} + ${Math.round(a.maps_mb)} maps) | ${median(one('attnplay', 'peak_mb')) <= limitMB ? 'yes' : 'no'} |`);
if (process.env.ATTNPLAY_BENCH_JSON) fs.writeFileSync(process.env.ATTNPLAY_BENCH_JSON, JSON.stringify(got, null, 1));
