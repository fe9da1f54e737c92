// attnplay in-browser figures (headless Chromium + SwiftShader WebGL2, as the browser tests run it): first frame,
// edit-to-redraw through window.attnplay.setConfig, compute time, frame time and the wasm heap, for the default
// transformer of issue 5 (2 layers, d_model 64, 4 heads) at growing token counts. Printed, never asserted.
// Run by `./build.sh bench` (needs build/web and tests/browser's node_modules).
import { env, open, start, stop } from '../tests/browser/helpers.mjs';

const SIZES = [64, 512, 1024, 2048, 4096];
const ROUNDS = 3;
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

await start();
try {
  // First frame: navigation start -> the first frame the app reports, on a fresh page (median of 3 loads).
  const firsts = [];
  for (let r = 0; r < ROUNDS; ++r) {
    const page = await env.context.newPage();
    await page.goto(env.base + 'index.html');
    await page.waitForFunction(() => window.attnplay && window.attnplay.stats && window.attnplay.stats().frame >= 1, null,
                               { timeout: 60000, polling: 5 });
    firsts.push(await page.evaluate(() => performance.now()));
    await page.close();
  }
  console.log(`first frame (navigation -> frame 1, localhost): ${median(firsts).toFixed(0)} ms (median of ${ROUNDS})`);

  const { page } = await open();
  console.log('| tokens | edit-to-redraw ms | compute ms | frame ms | wasm heap MB | lean trace |');
  console.log('|---|---|---|---|---|---|');
  for (const n of SIZES) {
    const edits = [], computes = [];
    let frame = 0, heap = 0, lean = false;
    for (let r = 0; r < ROUNDS; ++r) {
      const text = Array.from({ length: n }, (_, i) => `w${(i + r) % 97}`).join(' ');
      const fig = await page.evaluate(async (text) => {
        const t0 = performance.now();
        await window.attnplay.setConfig({ text, mode: 'transformer', d_model: 64, heads: 4 });
        const edit = performance.now() - t0;
        const f0 = window.attnplay.stats().frame, s0 = performance.now();
        await new Promise((res) => { const tick = () => (window.attnplay.stats().frame >= f0 + 10 ? res() : requestAnimationFrame(tick)); tick(); });
        const st = window.attnplay.stats();
        return { edit, frame: (performance.now() - s0) / 10, compute: st.compute_ms, heap: st.heap_bytes, lean: st.lean };
      }, text);
      edits.push(fig.edit);
      computes.push(fig.compute);
      frame = fig.frame;
      heap = fig.heap;
      lean = fig.lean;
    }
    console.log(`| ${n} | ${median(edits).toFixed(1)} | ${median(computes).toFixed(1)} | ${frame.toFixed(1)} | ${(heap / 1048576).toFixed(0)} | ${lean ? 'yes' : 'no'} |`);
  }
  await page.close();
} finally {
  await stop();
}
