// The Train panel in the page: clicks only (task, Play, the Model tab), then the page's own figures. The goals of
// issue 7 are step counts here (tests never assert times); the wall time and frame rate are printed. Since issue 14
// the steps run in a Web Worker with its own engine (web/app/train_worker.mjs); the page only draws.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ROOT, SHOTS, click, dragQueryPoint, env, frames, layout, open, rect, start, stop } from './helpers.mjs';

before(start);
after(stop);

// The Train section is below the fold of the controls column at 1280 x 720: scroll it into view with the wheel.
const showTrain = async (page) => {
  await page.mouse.move(150, 400);
  for (let k = 0; k < 6; ++k) {
    await page.mouse.wheel(0, 600);
    await frames(page, 2);
  }
  await click(page, 'h_train');
  for (let k = 0; k < 6; ++k) {
    await page.mouse.wheel(0, 600);
    await frames(page, 2);
  }
};

// Plays until accuracy >= goal (and more(train), if given) in 3 consecutive polls or `maxSteps` steps; returns the figures.
async function playUntil(page, goal, maxSteps, more = () => true) {
  const t0 = Date.now();
  const f0 = (await page.evaluate(() => window.attnplay.stats())).frame;
  await click(page, 'train_play');
  let st;
  let hold = 0, reached = null, worker = true;
  for (;;) {
    await page.waitForTimeout(100);
    st = await page.evaluate(() => window.attnplay.stats());
    worker = worker && st.train.worker;
    hold = st.train.accuracy >= goal && more(st.train) ? hold + 1 : 0;
    if (hold === 1) reached = (Date.now() - t0) / 1000;
    if (hold >= 3 || st.train.step >= maxSteps) break;
  }
  const seconds = (Date.now() - t0) / 1000;
  // Pause. The panel grew while it trained (status, plots): bring the button back into view first.
  const height = page.viewportSize().height;
  for (let k = 0; k < 8; ++k) {
    const r = rect(await layout(page), 'train_play');
    if (r.y > 30 && r.y < height - 30) break;
    await page.mouse.move(150, height / 2);
    await page.mouse.wheel(0, r.y >= height - 30 ? 300 : -300);
    await frames(page, 2);
  }
  await click(page, 'train_play');
  await frames(page, 2);
  assert.equal((await page.evaluate(() => window.attnplay.stats())).train.running, false, 'paused');
  const fps = (st.frame - f0) / seconds;
  return { ...st.train, seconds, reached, fps, worker };
}

describe('training in the page', () => {
  test('copy (length 8, vocab 10) reaches 99% token accuracy; the views show the trained model', async () => {
    const { page, errors } = await open();
    await page.evaluate(() => window.attnplay.setConfig({ d_model: 64, heads: 4, transformer: { layers: 2, d_ff: 128 } }));
    await showTrain(page);
    await click(page, 'train_task');
    await click(page, 'train_task_copy');
    const fig = await playUntil(page, 0.99, 3000);
    console.log(`  copy: ${fig.step} steps, accuracy ${fig.accuracy.toFixed(3)}, loss ${fig.loss.toFixed(4)}, ` +
                `goal reached ${fig.reached?.toFixed(1)} s after Play, ${fig.steps_per_s.toFixed(0)} steps/s, ` +
                `${fig.fps.toFixed(0)} frames/s while training (worker: ${fig.worker})`);
    assert.ok(fig.accuracy >= 0.99, `accuracy ${fig.accuracy} after ${fig.step} steps`);
    assert.ok(fig.worker, 'the steps ran in the Web Worker');
    const cfg = await page.evaluate(() => window.attnplay.getConfig());
    assert.equal(cfg.mode, 'transformer');
    // The trained model predicts each token of the example at its own position.
    const r = await page.evaluate(() => { const x = window.attnplay.result(); return { tokens: x.tokens, logits: x.logits, vocab: x.vocab }; });
    const argmax = r.logits.map((row) => r.vocab[row.indexOf(Math.max(...row))]);
    assert.deepEqual(argmax, r.tokens);
    await page.screenshot({ path: path.join(SHOTS, 'web-train-copy.png') });
    assert.deepEqual(errors, []);
    await page.close();
  });

  test('induction: previous-token and induction heads form (Model view screenshot)', async () => {
    const { page, errors } = await open();
    await page.evaluate(() => window.attnplay.setConfig({ d_model: 64, heads: 4,
                                                            transformer: { layers: 2, d_ff: 128, positional: 'learned' } }));
    await showTrain(page);
    await click(page, 'train_task');
    await click(page, 'train_task_induction');
    const fig = await playUntil(page, 0.95, 4000);
    console.log(`  induction (length 12, vocab 30): ${fig.step} steps, accuracy ${fig.accuracy.toFixed(3)}, ` +
                `goal reached ${fig.reached?.toFixed(1)} s after Play, ${fig.steps_per_s.toFixed(0)} steps/s, ` +
                `${fig.fps.toFixed(0)} frames/s while training (worker: ${fig.worker})`);
    assert.ok(fig.accuracy >= 0.95, `accuracy ${fig.accuracy} after ${fig.step} steps`);
    assert.ok(fig.worker, 'the steps ran in the Web Worker');
    await click(page, 'tab_Model');
    await frames(page, 3);
    await page.screenshot({ path: path.join(SHOTS, 'web-train-induction-model.png') });
    // Second-half queries attend mostly to the key right after the earlier occurrence of their token (induction) in
    // some layer-1 head: the result's weights say so.
    const r = await page.evaluate(() => { const x = window.attnplay.result(); return { tokens: x.tokens, layers: x.layers }; });
    // Induction score of a head: its mean weight, over the second copy's queries, on the key right after the earlier
    // occurrence of the query's token. Previous-token score: mean weight on the key just before the query.
    const n = r.tokens.length, L = 12, second = n - L;  // [a_1..a_12, fillers, a_1..a_12]
    const score = (h, f, from, to) => { let s = 0; for (let i = from; i < to; ++i) s += h.weights[i][f(i)]; return s / (to - from); };
    const induction = r.layers[1].heads.map((h) => score(h, (i) => i - second + 1, second, n - 1));
    const previous = r.layers[0].heads.map((h) => score(h, (i) => i - 1, 1, n));
    console.log(`  induction scores (layer 1): ${induction.map((x) => x.toFixed(2)).join(' ')}; previous-token scores (layer 0): ${previous.map((x) => x.toFixed(2)).join(' ')}`);
    assert.ok(Math.max(...induction) >= 0.5, 'a layer-1 head attends to the token after the earlier occurrence');
    assert.ok(Math.max(...previous) >= 0.3, 'a layer-0 head attends to the previous token');
    assert.deepEqual(errors, []);
    await page.close();
  });

  test('Play, Pause, Step and Reset act within a frame; the worker stops when paused', async () => {
    const { page, errors } = await open('', { width: 1280, height: 1400 });  // the panel grows as it trains: keep it all in view
    await showTrain(page);
    await click(page, 'train_task');
    await click(page, 'train_task_copy');
    // After a click: the frame that sees the release acts (ImGui's button fires on release), so at most two frames
    // (press and release may land between the same two frames when frames are slow).
    const nextFrame = () => page.evaluate(() => new Promise((res) => {
      const f0 = window.attnplay.stats().frame;
      const tick = () => (window.attnplay.stats().frame >= f0 + 2 ? res(window.attnplay.stats().train) : requestAnimationFrame(tick));
      tick();
    }));
    await page.mouse.click(...Object.values(rect(await layout(page), 'train_play')), { delay: 60 });
    let t = await nextFrame();
    assert.equal(t.running, true, 'Play: running within two frames');
    await page.waitForFunction(() => window.attnplay.stats().train.step >= 20, null, { timeout: 60000 });
    assert.equal((await page.evaluate(() => window.attnplay.stats())).train.worker, true);
    await page.mouse.click(...Object.values(rect(await layout(page), 'train_play')), { delay: 60 });
    t = await nextFrame();
    assert.equal(t.running, false, 'Pause: stopped within two frames');
    await page.waitForTimeout(400);  // the worker's last update (the model at the paused step) has arrived
    const paused = (await page.evaluate(() => window.attnplay.stats())).train.step;
    await page.waitForTimeout(600);
    assert.equal((await page.evaluate(() => window.attnplay.stats())).train.step, paused, 'no steps while paused');
    await page.mouse.click(...Object.values(rect(await layout(page), 'train_step')), { delay: 60 });
    await page.waitForFunction((p) => window.attnplay.stats().train.step === p + 1, paused, { timeout: 10000 });
    await page.mouse.click(...Object.values(rect(await layout(page), 'train_reset')), { delay: 60 });
    t = await nextFrame();
    assert.equal(t.step, 0, 'Reset: step 0 within two frames');
    await page.waitForTimeout(300);
    assert.equal((await page.evaluate(() => window.attnplay.stats())).train.step, 0, 'nothing from the old session arrives');
    assert.deepEqual(errors, []);
    await page.close();
  });

  test('without Web Workers the Train panel trains in the frame', async () => {
    const page = await env.context.newPage();
    await page.addInitScript(() => { delete window.Worker; });
    const errors = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
    await page.goto(env.base + 'index.html?autosave=0');
    await page.waitForFunction(() => window.attnplay && window.attnplay.stats && window.attnplay.stats().frame > 5, null, { timeout: 60000 });
    await showTrain(page);
    await click(page, 'train_task');
    await click(page, 'train_task_copy');
    await click(page, 'train_play');
    await page.waitForFunction(() => window.attnplay.stats().train.step >= 5, null, { timeout: 120000 });
    const t = (await page.evaluate(() => window.attnplay.stats())).train;
    assert.equal(t.worker, false);
    assert.ok(t.running);
    assert.deepEqual(errors, []);
    await page.close();
  });

  // The translation presets: the Train panel takes the preset's task; Play trains the encoder-decoder in the page
  // until the cross-attention aligns target and source. Screenshots of the alignment before and after, EN and ZH.
  for (const [lang, preset, minAlign, minSteps] of [['en', 'translate', 0.8, 0],
    // numbers_zh: 百 and 十 are written by the sentence's shape, not read from their source word, so fewer of them
    // need their attention there (the CLI measures ~0.75 at 400 steps); the figure still forms for the digits.
    ['zh', 'translate-zh', 0.5, 300]]) {
    test(`translation (${preset}, ${lang}): the alignment forms while it trains; greedy decoding step by step`, async () => {
      const { page, errors } = await open(`?preset=${preset}${lang === 'zh' ? '&lang=zh' : ''}`);
      const before = await page.evaluate(() => { const r = window.attnplay.result(); return { source: r.source_tokens, tokens: r.tokens, cross: r.cross }; });
      assert.ok(before.cross && before.source.length > 0, 'a seq2seq result');
      const l0 = await layout(page);
      assert.ok(l0.band_cross && l0.mean_weights_grid, `cross band and the heads' mean (${Object.keys(l0).filter((k) => k.startsWith('band') || k.includes('grid')).join(' ')})`);
      await page.screenshot({ path: path.join(SHOTS, `translate-${lang}-before.png`) });
      // Bad input is refused by name and changes nothing.
      await assert.rejects(page.evaluate(() => window.attnplay.setConfig({ source: '   ' })), /source has no tokens/);
      await showTrain(page);
      const fig = await playUntil(page, 0.95, 3000, (t) => t.alignment >= minAlign && t.step >= minSteps);
      console.log(`  ${preset}: ${fig.step} steps, accuracy ${fig.accuracy.toFixed(3)}, alignment ${fig.alignment.toFixed(3)}, ` +
                  `${fig.seconds.toFixed(1)} s, ${fig.fps.toFixed(0)} frames/s while training`);
      assert.ok(fig.accuracy >= 0.95, `accuracy ${fig.accuracy} after ${fig.step} steps`);
      assert.ok(fig.alignment >= minAlign, `alignment ${fig.alignment} after ${fig.step} steps`);
      // The shown example: each aligned row's mean cross-attention (last layer) peaks on its source word.
      const r = await page.evaluate(() => { const x = window.attnplay.result(); return { tokens: x.tokens, source: x.source_tokens, cross: x.cross, logits: x.logits, vocab: x.vocab }; });
      const argmax = (row) => row.indexOf(Math.max(...row));
      const heads = r.cross[r.cross.length - 1].heads;
      const mean = (t) => r.source.map((_, j) => heads.reduce((a, h) => a + h.weights[t][j], 0));
      if (preset === 'translate') {  // "<s> YYYY - MM -" reads "D mon YYYY": year, month, day from source 2, 1, 0
        assert.deepEqual([0, 2, 4].map((t) => argmax(mean(t))), [2, 1, 0]);
        assert.deepEqual(r.logits.slice(0, 4).map((row) => r.vocab[argmax(row)]), r.tokens.slice(1));
      }
      await page.mouse.move(640, 80);
      await page.evaluate(() => window.scrollTo(0, 0));
      await frames(page, 3);
      await page.screenshot({ path: path.join(SHOTS, `translate-${lang}-after.png`) });
      // Greedy decoding in the Decode view: Step reveals one row at a time, All the rest.
      await page.evaluate(() => window.attnplay.setView('decode'));
      await frames(page, 3);
      await click(page, 'decode_step');
      await click(page, 'decode_step');
      await page.screenshot({ path: path.join(SHOTS, `translate-${lang}-decode-2-steps.png`) });
      await click(page, 'decode_all');
      const l = await layout(page);
      assert.ok(l.decode_grid, 'the decoding grid');
      await page.screenshot({ path: path.join(SHOTS, `translate-${lang}-decode.png`) });
      await click(page, 'tab_Model');
      await frames(page, 3);
      const lm = await layout(page);
      assert.ok(lm.thumb_encoder_0_0 && lm.thumb_decoder_self_0_1 && lm.thumb_cross_0_1, 'the three bands of the Model view');
      await page.screenshot({ path: path.join(SHOTS, `translate-${lang}-model.png`) });
      assert.deepEqual(errors, []);
      await page.close();
    });
  }

  test('bring your own attention: a dropped .npz from tools/export_attention.py shows in the views', async () => {
    const { page, errors } = await open();
    const bytes = [...fs.readFileSync(path.join(ROOT, 'tests/fixtures/attention/demo.npz'))];
    await page.evaluate((bytes) => {
      const dt = new DataTransfer();
      dt.items.add(new File([new Uint8Array(bytes)], 'demo.npz', { type: 'application/octet-stream' }));
      document.getElementById('canvas').dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
    }, bytes);
    await page.waitForFunction(() => window.attnplay.result().tokens[1] === 'cat', null, { timeout: 5000 });
    const r = await page.evaluate(() => { const x = window.attnplay.result(); return { layers: x.layers.length, heads: x.layers[0].heads.length }; });
    assert.deepEqual(r, { layers: 2, heads: 4 });
    const l = await layout(page);
    assert.ok(l.imported_note && l.weights && !l.tab_Mask, 'weights view and the note; no mask tab');
    await page.screenshot({ path: path.join(SHOTS, 'web-imported-attention.png') });
    await click(page, 'tab_Model');
    await page.screenshot({ path: path.join(SHOTS, 'web-imported-attention-model.png') });
    // An edit goes back to the playground's own model.
    await page.evaluate(() => window.attnplay.setConfig({ text: 'my own model again' }));
    assert.equal((await page.evaluate(() => window.attnplay.result().tokens))[0], 'my');
    assert.deepEqual(errors, []);
    await page.close();
  });

  test('geometry: dragging a query point moves its token and the weights follow; A/B shows A - B', async () => {
    const { page, errors } = await open();
    await page.evaluate(() => window.attnplay.setConfig({ text: 'the cat sat on the mat because it was warm', heads: 2 }));
    const before = await page.evaluate(() => window.attnplay.result().layers[0].heads[0].weights);
    await dragQueryPoint(page);  // A/B on, the drag edits A
    await page.screenshot({ path: path.join(SHOTS, 'web-geometry-dragged.png') });
    const after = await page.evaluate(() => window.attnplay.result().layers[0].heads[0].weights);
    const changed = after[1].some((v, j) => Math.abs(v - before[1][j]) > 1e-4);
    assert.ok(changed, 'row "cat" of the weights changed');
    await click(page, 'tab_Attention');
    const l = await layout(page);
    assert.ok(l.ab_2_0_0_grid, 'the A - B panel');
    await page.screenshot({ path: path.join(SHOTS, 'web-ab-after-drag.png') });
    assert.deepEqual(errors, []);
    await page.close();
  });
});
