// attnplay in the page with a real checkpoint (issue 27's speed goals), headless Chromium as the browser tests run it:
// a GPT-2-small-shaped F16 folder (make_pretrained_bench.py, ~250 MB) served beside the page at models/gpt2-small/
// and opened with ?model=. Printed (and written to $ATTNPLAY_BENCH_JSON), never asserted:
//   first drawn attention  navigation -> the first frame drawn with the model's result (download, parse, forward)
//   edit-to-redraw         a word appended to 64 tokens -> setConfig resolved (computed in the worker and drawn)
//   frame time             the page's frames (requestAnimationFrame intervals) idle, and while the worker computes;
//                          the main thread's own work per frame and its long tasks, idle and while computing
//   ablation sweep         the predictions' button -> every head ranked (at the last of the 64 tokens)
// node bench/bench_page_model.mjs BENCH_DIR [ROUNDS]   (BENCH_DIR holds gpt2-small-f16/; needs build/web)
import fs from 'node:fs';
import path from 'node:path';
import { WEB, env, start, stop } from '../tests/browser/helpers.mjs';

const dir = path.join(process.argv[2], 'gpt2-small-f16');
const ROUNDS = Number(process.argv[3] || 5);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const p90 = (xs) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * 0.9))];
if (!fs.existsSync(path.join(dir, 'model.safetensors'))) throw new Error(`${dir}: run bench/make_pretrained_bench.py first`);

// 64 tokens of GPT-2's vocabulary: 64 short words (each one token with a leading space).
const words = 'the of and to in is was for on that with as by at from his her this are had not but they have one'.split(' ');
const text = Array.from({ length: 64 }, (_, i) => words[i % words.length]).join(' ');

async function openPage() {
  const page = await env.context.newPage();
  await page.goto(`${env.base}index.html?model=models/gpt2-small/&text=${encodeURIComponent(text)}&autosave=0`);
  await page.waitForFunction(() => window.attnplay && window.attnplay.a11y && window.attnplay.a11y().predictions, null,
                             { timeout: 180000, polling: 10 });
  const first = await page.evaluate(() => performance.now());
  return { page, first };
}

// Frame intervals over ms of wall time, while `during` (a function run in the page) keeps the worker busy, or idle.
// Also the main thread's own work per frame (stats().frame_ms: the app's frame, from input to the last GL call) and
// its long tasks (over 50 ms, PerformanceObserver), which tell the page's own work from the CPU the worker takes.
const frameTimes = (page, ms, busy) => page.evaluate(async ({ ms, busy }) => {
  const gaps = [], work = [];
  let longTasks = 0;
  const obs = new PerformanceObserver((l) => { longTasks += l.getEntries().length; });
  try { obs.observe({ entryTypes: ['longtask'] }); } catch { /* not in this browser */ }
  let last = performance.now(), stop = false;
  const tick = (t) => {
    gaps.push(t - last);
    work.push(window.attnplay.stats().frame_ms);
    last = t;
    if (!stop) requestAnimationFrame(tick);
  };
  requestAnimationFrame((t) => { last = t; requestAnimationFrame(tick); });
  const until = performance.now() + ms;
  let computes = 0;
  if (busy) {
    for (let k = 0; performance.now() < until; ++k) {  // a temperature edit recomputes every layer, in the worker
      await window.attnplay.setConfig({ attention: { temperature: k % 2 ? 1.0 : 1.25 } });
      ++computes;
    }
  } else {
    await new Promise((r) => setTimeout(r, ms));
  }
  stop = true;
  obs.disconnect();
  return { gaps: gaps.slice(1), work: work.slice(1), longTasks, computes };
}, { ms, busy });

// The folder beside the page, served by the test server as a static host would (a link under build/web/models/).
const link = path.join(WEB, 'models', 'gpt2-small');
fs.mkdirSync(path.dirname(link), { recursive: true });
fs.rmSync(link, { force: true });
fs.symlinkSync(path.resolve(dir), link);
await start();
const out = { rounds: ROUNDS, tokens: 64, first_ms: [], edit_ms: [], frame_idle: null, frame_busy: null };
try {
  for (let r = 0; r < ROUNDS; ++r) {  // a fresh page each round: the download, the parse and the first forward
    const { page, first } = await openPage();
    out.first_ms.push(first);
    if (r === 0) {
      out.tokens = (await page.evaluate(() => window.attnplay.result().tokens)).length;
      for (let e = 0; e < ROUNDS * 2; ++e) {  // appending a word: the worker's incremental path computes one row
        const ms = await page.evaluate(async (t) => {
          const t0 = performance.now();
          await window.attnplay.setConfig({ text: t });
          return performance.now() - t0;
        }, `${text} ${words[e % words.length]}`);
        out.edit_ms.push(ms);
      }
      const idle = await frameTimes(page, 3000, false), busy = await frameTimes(page, 3000, true);
      const sum = (x) => ({ median: median(x.gaps), p90: p90(x.gaps), frames: x.gaps.length, work_median: median(x.work),
                            work_p90: p90(x.work), long_tasks: x.longTasks });
      out.frame_idle = sum(idle);
      out.frame_busy = { ...sum(busy), computes: busy.computes };
      // The ablation sweep at the last token (144 heads, each recomputed from its layer on through the model's cache),
      // started as a learner starts it: the predictions' button.
      await page.evaluate((n) => window.attnplay.highlight(n - 1, n - 1), out.tokens);
      await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
      const button = (await page.evaluate(() => window.attnplay.layout())).sweep_button;
      if (button && !process.env.ATTNPLAY_BENCH_NO_SWEEP) {  // (a build before the sweep has no button)
        const [x, y, w, h] = button;
        const t0 = Date.now();
        await page.mouse.click(x + w / 2, y + h / 2, { delay: 200 });
        await page.waitForFunction(() => { const s = window.attnplay.sweep(); return s && !s.running; }, null, { timeout: 600000, polling: 50 });
        out.sweep_ms = Date.now() - t0;
        out.sweep_heads = (await page.evaluate(() => window.attnplay.sweep())).done;
      }
    }
    await page.close();
  }
} finally {
  await stop();
  fs.rmSync(path.dirname(link), { recursive: true, force: true });
}
const f = (x) => x.toFixed(1);
console.log(`GPT-2 small (F16, ${out.tokens} tokens) from ?model=, headless Chromium, ${ROUNDS} fresh pages:`);
console.log(`  first drawn attention: ${f(median(out.first_ms))} ms median (min ${f(Math.min(...out.first_ms))}, max ${f(Math.max(...out.first_ms))}); goal <= 4000`);
console.log(`  edit at the end -> redraw: ${f(median(out.edit_ms))} ms median of ${out.edit_ms.length} (max ${f(Math.max(...out.edit_ms))}); goal <= 300`);
console.log(`  frame interval idle: median ${f(out.frame_idle.median)} ms, p90 ${f(out.frame_idle.p90)} ms (${out.frame_idle.frames} frames)`);
console.log(`  frame interval while the worker computes: median ${f(out.frame_busy.median)} ms, p90 ${f(out.frame_busy.p90)} ms ` +
            `(${out.frame_busy.frames} frames, ${out.frame_busy.computes} computes)`);
console.log(`  main-thread work per frame: idle median ${f(out.frame_idle.work_median)} ms, p90 ${f(out.frame_idle.work_p90)} ms; ` +
            `while computing median ${f(out.frame_busy.work_median)} ms, p90 ${f(out.frame_busy.work_p90)} ms`);
console.log(`  main-thread long tasks (> 50 ms): idle ${out.frame_idle.long_tasks}, while computing ${out.frame_busy.long_tasks}`);
if (out.sweep_ms) console.log(`  ablation sweep at the last token: ${out.sweep_heads} heads in ${f(out.sweep_ms)} ms (click to the ranking)`);
if (process.env.ATTNPLAY_BENCH_JSON) fs.writeFileSync(process.env.ATTNPLAY_BENCH_JSON, JSON.stringify(out, null, 1));
