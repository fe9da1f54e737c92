// The Python package's notebook figures (issue 16), as a reader meets them: examples/attention_in_a_notebook.ipynb
// run headless and exported by nbconvert (tests/notebook/run_notebook.py, which ./build.sh test runs first), opened
// from file:// with every request other than file:, data: and blob: refused. Each figure must draw the tokens and the
// focused head's weights the notebook passed (to 1e-6), with no console error and nothing fetched; hostile tokens
// must render as text. The real model of section 5 (playground(model=...)) must equal the CLI on the files it carries.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ROOT, SHOTS, frames, launch } from './helpers.mjs';

const OUT = process.env.ATTNPLAY_NOTEBOOK_OUT || path.join(ROOT, 'build/notebook');
const VIEW_INDEX = { attention: 0, mask: 1, heads: 2, model: 3 };  // AppView order

let browser;
before(async () => {
  assert.ok(fs.existsSync(path.join(OUT, 'expected.json')),
            `${OUT}/expected.json is missing: run tests/notebook/run_notebook.py ${OUT} first (./build.sh test does)`);
  browser = await launch();
});
after(async () => { await browser?.close(); });

// A page from file:// where only file:, data:, blob: and about: load; the rest is refused and listed by frame.
async function openFile(file, viewport = { width: 1280, height: 900 }, context = browser) {
  const page = await context.newPage();
  await page.setViewportSize(viewport);
  const errors = [], fetched = [], dialogs = [];
  page.on('console', (m) => { if (m.type() === 'error') errors.push({ text: m.text(), url: m.location().url }); });
  page.on('pageerror', (e) => errors.push({ text: e.message, url: 'pageerror' }));
  page.on('dialog', (d) => { dialogs.push(d.message()); d.dismiss(); });
  await page.route('**/*', (route) => {
    const req = route.request();
    if (/^(file|data|blob|about):/.test(req.url())) return route.continue();
    fetched.push({ url: req.url(), frame: req.frame().url() });
    return route.abort();
  });
  await page.goto(`file://${file}`);
  return { page, errors, fetched, dialogs };
}

// The figures' iframes in document order; each is scrolled on screen before it is waited for (the browser does not
// draw a sandboxed, cross-origin frame that is off screen).
async function figures(page) {
  const handles = await page.$$('iframe.attnplay');
  const out = [];
  for (const h of handles) {
    await h.scrollIntoViewIfNeeded();
    const frame = await h.contentFrame();
    await frame.waitForFunction(() => window.attnplay && window.attnplay.stats().frame > 5, null, { timeout: 90000 });
    out.push({ handle: h, frame });
  }
  return out;
}

// The CLI's result for a mode-pretrained config on a folder.
function cli(folder, config) {
  const cfg = path.join(OUT, `cli-${process.pid}.json`);
  fs.writeFileSync(cfg, JSON.stringify({ mode: 'pretrained', ...config }));
  const r = spawnSync(process.env.ATTNPLAY_BIN || path.join(ROOT, 'build/native/attnplay'), ['compute', cfg, '--model', folder],
                      { encoding: 'utf8', maxBuffer: 256 << 20 });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout);
}

function assertClose(actual, expected, what, tol = 1e-6) {
  assert.equal(actual.length, expected.length, `${what}: rows`);
  let worst = 0, at = null;
  for (let i = 0; i < expected.length; i++) {
    assert.equal(actual[i].length, expected[i].length, `${what}: row ${i} length`);
    for (let j = 0; j < expected[i].length; j++) {
      const d = Math.abs(actual[i][j] - expected[i][j]);
      if (d > worst) { worst = d; at = [i, j, actual[i][j], expected[i][j]]; }
    }
  }
  assert.ok(worst <= tol, `${what}: worst difference ${worst} at row ${at?.[0]}, column ${at?.[1]} (page ${at?.[2]}, notebook ${at?.[3]})`);
}

describe('notebook (python/attnplay): the nbconvert export from file://', () => {
  test('each figure draws the tokens and the focused head the notebook passed; the playground is live; nothing is fetched', async () => {
    const expected = JSON.parse(fs.readFileSync(path.join(OUT, 'expected.json'), 'utf8'));
    const { page, errors, fetched, dialogs } = await openFile(path.join(OUT, 'attention_in_a_notebook.html'));
    const figs = await figures(page);
    assert.equal(figs.length, expected.length + 2, 'three figures of maps, the playground and a real model');
    for (const [i, want] of expected.entries()) {
      const got = await figs[i].frame.evaluate(() => {
        const r = window.attnplay.result(), s = window.attnplay.stats();
        return { tokens: r.tokens, sel: s.sel, weights: r.layers[s.sel.layer].heads[s.sel.head].weights };
      });
      console.log(`figure ${i}: ${want.tokens.length} tokens, layer ${want.layer}, head ${want.head}, view ${want.view ?? 'attention'}`);
      assert.deepEqual(got.tokens, want.tokens, `figure ${i}: tokens`);
      assert.deepEqual([got.sel.layer, got.sel.head], [want.layer, want.head], `figure ${i}: the focused layer and head`);
      assert.equal(got.sel.view, VIEW_INDEX[want.view ?? 'attention'], `figure ${i}: the view`);
      assertClose(got.weights, want.weights, `figure ${i}: weights of layer ${want.layer}, head ${want.head}`);
    }
    // The playground: a preset, then a live edit computed in the cell.
    const play = figs[expected.length].frame;
    await figs[expected.length].handle.scrollIntoViewIfNeeded();  // (a frame off screen draws no frame: setConfig would wait)
    assert.equal(await play.evaluate(() => window.attnplay.stats().preset), 'chinese');
    const tokens = await play.evaluate(() => window.attnplay.setConfig({ text: 'the cat sat', tokenizer: 'words' })
      .then(() => window.attnplay.result().tokens));
    assert.deepEqual(tokens, ['the', 'cat', 'sat']);
    // The real model the cell carries (section 5), computed in the cell's worker: result() is the CLI's on the same
    // files (the F16 the cell holds), the predictions come with it, and an edit recomputes. (1e-5: the page's WASM
    // kernels fuse multiply-adds and the native CLI's sum in another order, through four layers: 1e-6 apart here.)
    const real = figs[expected.length + 1];
    await real.handle.scrollIntoViewIfNeeded();
    await real.frame.waitForFunction(() => window.attnplay.a11y().predictions && window.attnplay.result().token_ids, null, { timeout: 90000 });
    const text = 'The cat sat on the mat. The cat sat on the mat.';
    const want = cli(path.join(OUT, 'cell-model'), { text });
    const r = await real.frame.evaluate(() => window.attnplay.result().toJSON());
    assert.deepEqual(r.tokens, want.tokens);
    assert.equal(await real.frame.evaluate(() => window.attnplay.stats().sel.view), VIEW_INDEX.model, 'view="model"');
    for (const [l, layer] of want.layers.entries()) {
      for (const [h, head] of layer.heads.entries()) assertClose(r.layers[l].heads[h].weights, head.weights, `real model layer ${l}, head ${h}`, 1e-5);
    }
    const edited = await real.frame.evaluate(() => window.attnplay.setConfig({ text: 'the mat' }).then((x) => x.tokens));
    assert.deepEqual(edited, cli(path.join(OUT, 'cell-model'), { text: 'the mat' }).tokens);
    await frames(real.frame, 3);
    await page.screenshot({ path: path.join(SHOTS, 'notebook-export-real-model.png') });
    await figs[0].handle.scrollIntoViewIfNeeded();
    await frames(figs[0].frame, 3);  // drawn and composited before the screenshot
    await page.screenshot({ path: path.join(SHOTS, 'notebook-export-laptop.png') });
    assert.deepEqual(fetched.filter((f) => f.frame.startsWith('about:')), [], 'the figures fetched nothing');
    assert.deepEqual(errors.filter((e) => e.url.startsWith('about:') || e.url === 'pageerror'), [], 'no console error in the figures');
    assert.deepEqual(dialogs, []);
    await page.close();
  });

  test('in a 720-px column and on a phone the figure fits its width', async () => {
    const phone = await launch({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 });
    for (const [name, viewport, context] of [['720', { width: 720, height: 900 }, browser], ['phone', { width: 390, height: 844 }, phone]]) {
      const { page, errors } = await openFile(path.join(OUT, 'attention_in_a_notebook.html'), viewport, context);
      const figs = await figures(page);
      const box = await figs[0].handle.boundingBox();
      const inner = await figs[0].frame.evaluate(() => [innerWidth, document.getElementById('canvas').getBoundingClientRect().width]);
      assert.ok(box.x >= 0 && box.x + box.width <= viewport.width + 1 && box.width >= 240,
                `${name}: the figure is within the page, at least 240 px wide (${JSON.stringify(box)})`);
      assert.ok(Math.abs(inner[0] - inner[1]) <= 1, `${name}: the canvas fills the figure (${inner})`);
      for (const [i, shot] of [[0, name], [3, `${name}-playground`]]) {
        await figs[i].handle.scrollIntoViewIfNeeded();
        await frames(figs[i].frame, 3);
        await page.screenshot({ path: path.join(SHOTS, `notebook-export-${shot}.png`) });
      }
      assert.deepEqual(errors.filter((e) => e.url.startsWith('about:') || e.url === 'pageerror'), []);
      await page.close();
    }
    await phone.close();
  });

  test('playground(config, weights=...) shows PyTorch\'s weights; playground(workspace=...) reopens the training', async () => {
    const want = JSON.parse(fs.readFileSync(path.join(OUT, 'extras.json'), 'utf8'));
    const { page, errors, fetched } = await openFile(path.join(OUT, 'extras.html'));
    const [withWeights, withWorkspace] = await figures(page);
    const got = await withWeights.frame.evaluate(({ layer, head }) => {
      const r = window.attnplay.result();
      return { tokens: r.tokens, weights: r.layers[layer].heads[head].weights, sel: window.attnplay.stats().sel };
    }, want.weights);
    assert.deepEqual(got.tokens, want.weights.tokens);
    assert.deepEqual([got.sel.layer, got.sel.head], [want.weights.layer, want.weights.head]);
    // The engine against PyTorch 1.13 (float32 both): the SPEC's golden tolerance, 1e-5 relative + 1e-6 absolute.
    for (const [i, row] of want.weights.weights.entries()) {
      for (const [j, w] of row.entries()) {
        const d = Math.abs(got.weights[i][j] - w);
        assert.ok(d <= 1e-5 * Math.abs(w) + 1e-6, `weights[${i}][${j}]: page ${got.weights[i][j]}, PyTorch ${w}`);
      }
    }
    const ws = await withWorkspace.frame.evaluate(() => ({ step: window.attnplay.stats().train.step,
                                                            text: window.attnplay.getConfig().text }));
    assert.deepEqual(ws, { step: want.workspace.step, text: want.workspace.text });
    assert.deepEqual(fetched, []);
    assert.deepEqual(errors.filter((e) => e.url.startsWith('about:') || e.url === 'pageerror'), []);
    await page.close();
  });

  test('a browser that cannot unpack the figure says so in the cell (not a blank box)', async () => {
    const page = await browser.newPage();
    await page.addInitScript(() => { delete globalThis.DecompressionStream; });
    await page.goto(`file://${path.join(OUT, 'hostile.html')}`);
    // The figure's srcdoc frame loaded once more, now that the init script is surely in place (on the first load it
    // can arrive after the frame's own module has run: a race of the persistent context, not of the page).
    const handle = await page.$('iframe.attnplay');
    await handle.evaluate((f) => new Promise((res) => { f.addEventListener('load', res, { once: true }); f.srcdoc = f.srcdoc; }));
    const frame = await handle.contentFrame();
    await frame.waitForFunction(() => document.getElementById('app').textContent.includes('DecompressionStream'), null, { timeout: 20000 });
    assert.match(await frame.textContent('#app'), /cannot unpack the figure .* Firefox 113\+/);
    await page.close();
  });

  test('hostile tokens (script tags, quotes, U+2028) render as text: no script runs, no console error', async () => {
    const hostile = JSON.parse(fs.readFileSync(path.join(OUT, 'hostile.json'), 'utf8'));
    const { page, errors, fetched, dialogs } = await openFile(path.join(OUT, 'hostile.html'));
    const [fig] = await figures(page);
    const got = await fig.frame.evaluate(() => ({ tokens: window.attnplay.result().tokens, pwned: window.__pwned ?? null,
                                                  labels: window.attnplay.a11y().rows }));
    assert.deepEqual(got.tokens, hostile, 'the tokens arrive as they were, as text');
    assert.deepEqual(got.labels, hostile, 'the text mirror holds them as text');
    assert.equal(got.pwned, null, 'no token ran as script in the figure');
    assert.equal(await page.evaluate(() => window.__pwned ?? null), null, 'nor in the page');
    assert.equal(await page.evaluate(() => document.querySelectorAll('img, script:not([type])').length), 0, 'no element came out of a token');
    await page.screenshot({ path: path.join(SHOTS, 'notebook-hostile-tokens.png') });
    assert.deepEqual(dialogs, []);
    assert.deepEqual(fetched, []);
    assert.deepEqual(errors, []);
    await page.close();
  });
});
