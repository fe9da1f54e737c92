// attnplay web benchmark: core.multiHeadAttention (attnplay-core.mjs, WASM SIMD128, one thread) in Node.
// Usage: node bench/bench_core.mjs [build/web]. Prints the median of several rounds per size.
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const web = path.resolve(process.argv[2] || 'build/web');
const { createCore } = await import(pathToFileURL(path.join(web, 'attnplay-core.mjs')).href);
const core = await createCore();

function rand(n, seed) {
  const a = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; a[i] = s / 2 ** 32 * 2 - 1; }
  return a;
}

const sizes = [[256, 128, 8, false], [1024, 256, 8, false], [1024, 256, 8, true], [2048, 256, 8, false]];
console.log(`attnplay-core ${core.build}`);
console.log('| n / d_model / heads | causal | median ms | GFLOP/s |');
console.log('|---|---|---|---|');
for (const [n, d, heads, causal] of sizes) {
  const args = { x: rand(n * d, 1), wq: rand(d * d, 2), wk: rand(d * d, 3), wv: rand(d * d, 4), wo: rand(d * d, 5), n, dModel: d, heads, causal, weights: false };
  core.multiHeadAttention(args);  // warm-up
  const times = [];
  const rounds = n >= 2048 ? 5 : 9;
  for (let r = 0; r < rounds; r++) {
    const t0 = performance.now();
    core.multiHeadAttention(args);
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  const med = times[Math.floor(times.length / 2)];
  const flops = 8 * n * d * d + 4 * n * n * d;
  console.log(`| ${n} / ${d} / ${heads} | ${causal} | ${med.toFixed(1)} | ${(flops / med / 1e6).toFixed(1)} |`);
}
