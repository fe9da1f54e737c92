// attnplay browser tests: nothing lost (issue 15). index.html saves the workspace to IndexedDB a second after each
// change and restores it on reload; a damaged record is refused by name; storage that fails degrades to URL-only
// state with one notice; a browser killed in the middle of a save reopens on a whole record. Each test runs in a
// browser profile of its own (the other suites opt out of autosave: helpers.mjs noAutosave).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { SHOTS, click, dragQueryPoint, env, frames, launch, layout, start, stop } from './helpers.mjs';

before(start);
after(stop);

const stats = (page) => page.evaluate(() => window.attnplay.stats());

async function visit(context, query = '') {
  const page = await context.newPage();
  const errors = [], warnings = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
    if (m.type() === 'warning') warnings.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`${env.base}index.html${query}`);
  await settle(page);
  return { page, errors, warnings };
}

async function settle(page) {
  await page.waitForFunction(() => window.attnplay && window.attnplay.stats().frame > 5, null, { timeout: 60000 });
}

// Waits until autosave has written at least `writes` records and nothing is pending.
async function saved(page, writes) {
  await page.waitForFunction((n) => { const a = window.attnplay.stats().autosave; return a.writes >= n && !a.busy; }, writes,
                             { timeout: 30000 });
}

const showTrain = async (page) => {
  await page.mouse.move(150, 400);
  for (let k = 0; k < 6; ++k) {
    await page.mouse.wheel(0, 600);
    await frames(page, 2);
  }
  if (!(await layout(page)).train_play) await click(page, 'h_train');
  for (let k = 0; k < 6; ++k) {
    await page.mouse.wheel(0, 600);
    await frames(page, 2);
  }
};

// The record as IndexedDB holds it (key 'index', or another), or null.
const readRecord = (page, key = 'index') => page.evaluate((key) => new Promise((resolve, reject) => {
  const open = indexedDB.open('attnplay-autosave', 1);
  open.onerror = () => reject(open.error);
  open.onsuccess = () => {
    const get = open.result.transaction('records').objectStore('records').get(key);
    get.onsuccess = () => resolve(get.result ? Array.from(get.result.bytes) : null);
    get.onerror = () => reject(get.error);
  };
}), key);
const writeRecord = (page, bytes, key = 'index') => page.evaluate(({ bytes, key }) => new Promise((resolve, reject) => {
  const open = indexedDB.open('attnplay-autosave', 1);
  open.onerror = () => reject(open.error);
  open.onsuccess = () => {
    const t = open.result.transaction('records', 'readwrite');
    t.objectStore('records').put({ bytes: new Uint8Array(bytes), saved: Date.now() }, key);
    t.oncomplete = () => resolve();
    t.onerror = () => reject(t.error);
  };
}), { bytes, key });

describe('autosave', () => {
  test('train copy to 100%, reload: model, curve and step are back; the next step continues the saved optimizer', async () => {
    const context = await launch();
    try {
      const { page, errors } = await visit(context);
      await page.evaluate(() => window.attnplay.setConfig({ d_model: 32, heads: 4, transformer: { layers: 2 } }));
      await showTrain(page);
      await click(page, 'train_task');
      await click(page, 'train_task_copy');
      await click(page, 'train_play');
      await page.waitForFunction(() => window.attnplay.stats().train.accuracy >= 0.999, null, { timeout: 120000, polling: 100 });
      await click(page, 'train_play');  // Pause: the worker sends its whole state (weights, Adam's moments, batch stream)
      await page.waitForFunction(() => !window.attnplay.stats().train.running, null, { timeout: 10000 });
      const writes = (await stats(page)).autosave.writes;
      await page.waitForTimeout(1500);  // the pause's update, then a second without changes
      await saved(page, writes + 1);
      const before = (await stats(page)).train;
      const config = await page.evaluate(() => window.attnplay.getConfig());
      console.log(`  trained: step ${before.step}, accuracy ${before.accuracy}, loss ${before.loss}; ${(await readRecord(page)).length} bytes saved`);
      assert.ok(before.accuracy >= 0.999 && before.worker, JSON.stringify(before));

      await page.reload();
      await settle(page);
      await page.waitForSelector('[data-restored]', { timeout: 20000 });
      const notice = await page.textContent('[data-restored]');
      assert.match(notice, new RegExp(`Restored your last session, trained to step ${before.step}`));
      const after = (await stats(page)).train;
      assert.equal(after.step, before.step, 'the step count');
      assert.equal(after.curve, before.step, 'the loss and accuracy curves, one value per step');
      assert.equal(after.loss, before.loss);
      assert.equal(after.accuracy, before.accuracy);
      assert.equal(after.running, false, 'restored paused');
      assert.deepEqual(await page.evaluate(() => window.attnplay.getConfig()), config, 'the model config');
      await page.screenshot({ path: path.join(SHOTS, 'web-autosave-restored.png') });

      // An uninterrupted run of the same session, step for step, in this browser's engine (the worker's kernels).
      const reference = await page.evaluate(async ({ config, n }) => {
        const { createCore } = await import('./attnplay-core.mjs');
        const core = await createCore();
        const t = core.createTrainer(config, { task: 'copy', length: 8, vocab: 10, batch: 16, optimizer: 'adam', lr: 0.003 });
        let r;
        for (let i = 0; i <= n; ++i) r = t.run(0, 1);
        t.close();
        return r.loss[0];
      }, { config, n: before.step });
      await showTrain(page);
      await click(page, 'train_step');
      await page.waitForFunction((n) => window.attnplay.stats().train.step === n, before.step + 1, { timeout: 10000 });
      const next = (await stats(page)).train;
      console.log(`  after reload, Step: step ${next.step}, loss ${next.loss} (uninterrupted run: ${reference}); worker ${next.worker}`);
      assert.equal(Math.fround(next.loss), Math.fround(reference), 'the step after the reload is the uninterrupted run\'s');
      assert.ok(next.worker, 'the restored session trains in the worker');

      // Start fresh: the page as its URL opened it; the saved record stays until the next save.
      await page.click('[data-start-fresh]').catch(() => {});  // (the notice may have timed out: then skip this part)
      assert.deepEqual(errors, []);
    } finally {
      await context.close();
    }
  });

  test('a geometry drag, then reload: the embedding is still moved, and A/B is back', async () => {
    const context = await launch();
    try {
      const { page, errors } = await visit(context);
      await page.evaluate(() => window.attnplay.setConfig({ text: 'the cat sat on the mat because it was warm', heads: 2 }));
      const seeded = await page.evaluate(() => window.attnplay.result().layers[0].heads[0].weights);
      await dragQueryPoint(page);  // A/B on, the drag edits A
      const moved = await page.evaluate(() => window.attnplay.result().layers[0].heads[0].weights);
      assert.ok(moved[1].some((v, j) => Math.abs(v - seeded[1][j]) > 1e-4), 'the drag changed row "cat"');
      const writes = (await stats(page)).autosave.writes;
      await saved(page, writes + 1);
      await page.reload();
      await settle(page);
      await page.waitForSelector('[data-restored]', { timeout: 20000 });
      const back = await page.evaluate(() => window.attnplay.result().layers[0].heads[0].weights);
      assert.deepEqual(back, moved, 'the moved embedding, to the last bit');
      assert.equal((await stats(page)).sel.view, 5, 'the Geometry view (AppView 5) is shown again');
      await click(page, 'tab_Attention');
      assert.ok((await layout(page)).ab_2_0_0_grid, 'A/B is on again (the A - B panel)');
      assert.deepEqual(errors, []);
    } finally {
      await context.close();
    }
  });

  test('a URL with state wins over the saved copy; "Start fresh" keeps the saved copy until the next save', async () => {
    const context = await launch();
    try {
      const { page } = await visit(context);
      await page.evaluate(() => window.attnplay.setConfig({ heads: 4, text: 'saved state' }));
      await saved(page, 1);
      const record = await readRecord(page);
      const shared = await visit(context, '?heads=1&text=a+shared+link');
      assert.equal((await shared.page.evaluate(() => window.attnplay.getConfig())).heads, 1, 'the link');
      assert.equal(await shared.page.$('[data-restored]'), null, 'nothing restored');
      await shared.page.close();
      const again = await visit(context);
      await again.page.waitForSelector('[data-restored]', { timeout: 20000 });
      assert.equal((await again.page.evaluate(() => window.attnplay.getConfig())).heads, 4, 'restored');
      await again.page.click('[data-start-fresh]');
      await frames(again.page, 2);
      assert.equal((await again.page.evaluate(() => window.attnplay.getConfig())).heads, 2, 'the defaults');
      await again.page.waitForTimeout(1500);
      assert.deepEqual(await readRecord(again.page), record, 'the saved copy is kept until the next save');
    } finally {
      await context.close();
    }
  });

  test('a corrupt record is refused by name, kept aside, and the page starts fresh', async () => {
    const context = await launch();
    try {
      const { page } = await visit(context);
      await page.evaluate(() => window.attnplay.setConfig({ heads: 4 }));
      await saved(page, 1);
      const record = await readRecord(page);
      record[record.length - 3] ^= 0x20;  // one flipped bit in the payload
      await writeRecord(page, record);
      await page.close();
      const { page: next, warnings, errors } = await visit(context);
      await next.waitForTimeout(500);
      assert.ok(warnings.some((w) => w.includes('saved state is corrupt (checksum); starting fresh')), warnings.join('\n'));
      assert.equal(await next.$('[data-restored]'), null);
      assert.equal((await next.evaluate(() => window.attnplay.getConfig())).heads, 2, 'fresh: the defaults');
      assert.deepEqual(await readRecord(next, 'index:refused'), record, 'kept aside for export');
      assert.deepEqual(errors, []);
    } finally {
      await context.close();
    }
  });

  for (const [what, script, message] of [
    ['no IndexedDB', () => { Object.defineProperty(window, 'indexedDB', { value: undefined }); }, /IndexedDB is unavailable/],
    ['a full quota', () => {
      IDBObjectStore.prototype.put = function () { throw new DOMException('quota', 'QuotaExceededError'); };
    }, /storage for this page is full/],
  ]) {
    test(`${what}: the page keeps working on URL-only state, with one notice`, async () => {
      const context = await launch();
      try {
        const page = await context.newPage();
        const errors = [];
        page.on('pageerror', (e) => errors.push(e.message));
        await page.addInitScript(script);
        await page.goto(`${env.base}index.html`);
        await settle(page);
        await page.evaluate(() => window.attnplay.setConfig({ heads: 4 }));
        await page.waitForFunction(() => window.attnplay.stats().autosave.error !== '', null, { timeout: 10000 });
        const s = await stats(page);
        assert.match(s.autosave.error, message);
        assert.equal(s.autosave.on, false, 'autosave stops: no retry storm');
        const r = await page.evaluate(() => window.attnplay.setConfig({ heads: 1 }).then((x) => x.toJSON().layers.length));
        assert.ok(r >= 1, 'the page keeps working');
        assert.deepEqual(errors, []);
      } finally {
        await context.close();
      }
    });
  }

  test('the browser SIGKILLed in the middle of saving a large workspace reopens on a whole record', async () => {
    const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'attnplay-chromium-'));
    // Round 0 saves completely; rounds 1.. are killed 0, 40, 150 and 500 ms into their save. Every reopening must
    // restore a whole record of some round (never refuse one as torn).
    const seeds = [];
    for (const [round, delay] of [[0, -1], [1, 0], [2, 40], [3, 150], [4, 500]]) {
      const context = await launch({}, profile);
      const { page, warnings, errors } = await visit(context);
      if (round > 0) {
        await page.waitForSelector('[data-restored]', { timeout: 20000 });
        const seed = (await page.evaluate(() => window.attnplay.getConfig())).seed;
        console.log(`  round ${round}: reopened on the record of seed ${seed}`);
        assert.ok(seeds.includes(seed), `seed ${seed} is one that was saved (${seeds})`);
        assert.ok(!warnings.some((w) => w.includes('corrupt')), warnings.join('\n'));
        assert.deepEqual(errors, []);
      }
      // A large record (d_model 256, 4 layers, loaded weights: ~5 MB), written, then the browser killed at `delay`.
      const seed = round + 1;
      seeds.push(seed);
      await page.evaluate(async (seed) => {
        const config = { mode: 'transformer', d_model: 256, heads: 4, seed, transformer: { layers: 4 } };
        await window.attnplay.setConfig(config);
        const { createCore } = await import('./attnplay-core.mjs');
        const core = await createCore();
        window.attnplay.importFile(core.weights({ ...window.attnplay.getConfig(), seed: seed + 100 }), 'big.safetensors');
      }, seed);
      if (delay < 0) {
        await saved(page, 1);
        console.log(`  round 0: ${(await readRecord(page)).length} bytes saved`);
      } else {
        await page.waitForFunction(() => window.attnplay.stats().autosave.busy, null, { timeout: 10000 });
        await page.waitForTimeout(delay);
      }
      if (delay < 0) await context.close();
      else {  // SIGKILL to every process of this profile's browser: no shutdown, no flush
        execFileSync('pkill', ['-KILL', '-f', '--', `--user-data-dir=${profile}`]);
        await context.close().catch(() => {});
      }
    }
  });
});
