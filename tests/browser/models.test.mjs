// attnplay browser tests: real checkpoints in the playground (issue 27; SPEC §9 and §6). Small random GPT-2, BERT and
// Llama folders from tests/pretrained/make_models.py, served at the page's origin under models/, opened through
// ?model=, the folder picker and a drop; result() against the CLI's, the predictions against the logits' softmax,
// an ablation by a real shift-click, a refused folder, and the page staying live while the worker loads.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ROOT, SHOTS, WEB, env, frames, layout, open, rect, start, stop } from './helpers.mjs';

const BIN = process.env.ATTNPLAY_BIN || path.join(ROOT, 'build/native/attnplay');
let dir = '';
let cases = null;

before(async () => {
  await start();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'attnplay-models-'));
  const made = spawnSync('/usr/bin/python3', [path.join(ROOT, 'tests/pretrained/make_models.py'), dir], { encoding: 'utf8' });
  assert.equal(made.status, 0, made.stderr);
  cases = JSON.parse(fs.readFileSync(path.join(dir, 'cases.json'), 'utf8'));
});
after(async () => {
  await stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

// The folders at models/<name>/ of the page's origin (what an author puts next to an article). delayMs slows each
// response (a slow network).
async function serveModels(page, { delayMs = 0 } = {}) {
  await page.route('**/models/**', async (route) => {
    const rel = decodeURIComponent(new URL(route.request().url()).pathname).replace(/^.*\/models\//, '');
    const file = path.join(dir, rel);
    if (delayMs) await new Promise((r) => setTimeout(r, delayMs));
    if (!file.startsWith(dir) || !fs.existsSync(file) || fs.statSync(file).isDirectory()) return route.fulfill({ status: 404, body: 'not found' });
    return route.fulfill({ status: 200, body: fs.readFileSync(file), headers: { 'Content-Type': 'application/octet-stream' } });
  });
}

// The CLI's result for a config on a folder (the reference the page must equal).
function cli(name, config) {
  const cfg = path.join(dir, `cfg-${process.pid}.json`);
  fs.writeFileSync(cfg, JSON.stringify({ mode: 'pretrained', ...config }));
  const r = spawnSync(BIN, ['compute', cfg, '--model', path.join(dir, name)], { encoding: 'utf8', maxBuffer: 256 << 20 });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout);
}

// Every number of a against b: |a - b| <= 1e-5 · (the tensor's largest magnitude, at least 1); nulls where b has them.
function assertClose(a, b, what) {
  const flat = (x) => (Array.isArray(x) ? x.flat(Infinity) : [x]);
  const compare = (x, y, where) => {
    const fx = flat(x), fy = flat(y);
    assert.equal(fx.length, fy.length, `${where}: sizes`);
    const scale = Math.max(1, ...fy.filter((v) => v !== null).map(Math.abs));
    fx.forEach((v, i) => {
      if (fy[i] === null) assert.equal(v, null, `${where}[${i}]: masked`);
      else assert.ok(Math.abs(v - fy[i]) <= 1e-5 * scale, `${where}[${i}]: ${v} vs ${fy[i]}`);
    });
  };
  assert.deepEqual(a.tokens, b.tokens, `${what}: tokens`);
  assert.deepEqual(a.token_ids, b.token_ids, `${what}: token_ids`);
  assert.equal(a.layers.length, b.layers.length);
  a.layers.forEach((l, li) => {
    compare(l.output, b.layers[li].output, `${what} layers[${li}].output`);
    l.heads.forEach((h, hi) => {
      for (const k of ['scores', 'weights', 'context']) compare(h[k], b.layers[li].heads[hi][k], `${what} layers[${li}].heads[${hi}].${k}`);
    });
  });
  if (b.logits) compare(a.logits, b.logits, `${what} logits`);
}

// Each row's top 10 from the logits, by softmax (ties: the lower id).
function top10(row) {
  const mx = Math.max(...row);
  const e = row.map((v) => Math.exp(v - mx));
  const z = e.reduce((x, y) => x + y, 0);
  return e.map((v, id) => ({ id, p: v / z })).sort((a, b) => b.p - a.p || a.id - b.id).slice(0, 10);
}

// A page with the model folders served, opened at query (as helpers.mjs open(), the route set before the page loads).
async function openWithModels(query = '', options = {}) {
  const page = await env.context.newPage();
  const errors = [];
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  page.on('pageerror', (e) => errors.push(e.message));
  await serveModels(page, options);
  await page.goto(`${env.base}index.html${query ? `${query}&` : '?'}autosave=0`);
  await page.waitForFunction(() => window.attnplay && window.attnplay.stats().frame > 5, null, { timeout: 60000 });
  return { page, errors };
}

const api = (page, fn, arg) => page.evaluate(fn, arg);
const setConfig = (page, partial) => api(page, async (p) => {
  try { return { ok: true, r: (await window.attnplay.setConfig(p)).toJSON() }; } catch (e) { return { ok: false, error: e.message }; }
}, partial);

// A 6-layer GPT-2 (byte-level BPE: the Ġ tokens) made with the goldens' generator.
const make6 = () => {
  if (fs.existsSync(path.join(dir, 'gpt2_6layer', 'config.json'))) return;
  const py = `import sys; sys.path.insert(0, ${JSON.stringify(path.join(ROOT, 'tests/pretrained'))})
import make_models as m, hf_files as hf
tok, v = hf.byte_level_bpe(160)
m.write_folder(${JSON.stringify(dir)}, 'gpt2_6layer', m.gpt2_config(96, 6, 4, 128, v, 'F32'), m.gpt2_weights(7, 96, 6, 4, 128, v, 'F32'), tok)`;
  const r = spawnSync('/usr/bin/python3', ['-c', py], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
};


describe('real checkpoints in the page', () => {
  test('?model= opens GPT-2, BERT and Llama folders: result() equals the CLI, the card and the predictions are right', async () => {
    for (const name of ['gpt2_f32', 'bert_mlm_f32', 'llama_gqa_f32']) {
      const { page, errors } = await openWithModels(`?model=models/${name}/&text=${encodeURIComponent('The cat sat on the mat')}`);
      await page.waitForFunction(() => window.attnplay && window.attnplay.getConfig().mode === 'pretrained', null, { timeout: 60000 });
      await page.waitForFunction(() => window.attnplay.a11y().summary && window.attnplay.result().token_ids, null, { timeout: 60000 });
      const r = await api(page, () => window.attnplay.result());
      const want = cli(name, { text: 'The cat sat on the mat' });
      assertClose(r, want, name);
      // The card: the folder's figures.
      const info = cases.folders[name].info;
      const shot = await layout(page);
      assert.ok(shot.model_card, 'the model card is drawn');
      const a11y = await api(page, () => window.attnplay.a11y());
      assert.match(a11y.summary, new RegExp(`${want.tokens.length} tokens, d_model ${info.hidden_size}, ${info.heads} heads`));
      // The predictions at the selected row (the first: the app starts on cell 0,0), top 10 in order.
      const row = a11y.predictions.row;
      const expect = top10(want.logits[row]);
      assert.deepEqual(a11y.predictions.top.map((p) => p.id), expect.map((p) => p.id), `${name}: the top 10 in order`);
      a11y.predictions.top.forEach((p, k) => assert.ok(Math.abs(p.prob - expect[k].p) <= 1e-5, `${name}: p[${k}]`));
      await page.screenshot({ path: path.join(SHOTS, `model-${name}-1280x720.png`) });
      assert.deepEqual(errors, [], name);
      await page.close();
    }
  });

  test('a shift-click on the model view ablates that head: its context is 0 and the predictions move as the CLI says', async () => {
    const { page, errors } = await openWithModels();
    let out = await setConfig(page, { mode: 'pretrained', model: 'models/gpt2_f32/', text: 'a b a b a' });
    assert.ok(out.ok, out.error);
    await api(page, () => window.attnplay.setView('model'));
    await frames(page, 3);
    const p = rect(await layout(page), 'thumb_1_2');
    await page.keyboard.down('Shift');
    await page.mouse.click(p.x, p.y, { delay: 200 });  // (held over a few frames: ImGui 1.86 sees a press and a release in one frame as none)
    await page.keyboard.up('Shift');
    await page.waitForFunction(() => JSON.stringify(window.attnplay.getConfig().ablate) === '[[1,2]]', null, { timeout: 30000 });
    await page.waitForFunction(() => window.attnplay.a11y().predictions.top[0].before !== undefined, null, { timeout: 30000 });
    const r = await api(page, () => window.attnplay.result());
    assert.ok(r.layers[1].heads[2].context.flat().every((v) => v === 0), 'the ablated head\'s context is 0');
    assert.ok(r.layers[1].heads[1].context.flat().some((v) => v !== 0));
    const want = cli('gpt2_f32', { text: 'a b a b a', ablate: [[1, 2]] }), plain = cli('gpt2_f32', { text: 'a b a b a' });
    assertClose(r, want, 'ablated');
    // Before -> after at the selected row: the unablated and the ablated softmax.
    await api(page, () => window.attnplay.highlight(4, 4));
    await frames(page, 3);
    const a11y = await api(page, () => window.attnplay.a11y());
    const after = top10(want.logits[4]), before = top10(plain.logits[4]);
    assert.deepEqual(a11y.predictions.top.map((q) => q.id), after.map((q) => q.id));
    for (const q of a11y.predictions.top) {
      const b = before.find((x) => x.id === q.id);
      if (b) assert.ok(Math.abs(q.before - b.p) <= 1e-5, `before of ${q.id}`);
    }
    await page.screenshot({ path: path.join(SHOTS, 'model-ablated-1280x720.png') });
    // A second shift-click restores the head.
    await page.keyboard.down('Shift');
    await page.mouse.click(p.x, p.y, { delay: 200 });  // (held over a few frames: ImGui 1.86 sees a press and a release in one frame as none)
    await page.keyboard.up('Shift');
    await page.waitForFunction(() => JSON.stringify(window.attnplay.getConfig().ablate) === '[]', null, { timeout: 30000 });
    assert.deepEqual(errors, []);
    await page.close();
  });

  test('the ablation sweep: a real click runs it in the worker, and its ranking is one ablation at a time through the CLI', async () => {
    for (const [name, text, row] of [['gpt2_f32', 'a b a b a', 4], ['bert_mlm_f32', 'the cat sat on the mat', 3]]) {
      const { page, errors } = await openWithModels();
      const out = await setConfig(page, { mode: 'pretrained', model: `models/${name}/`, text, ablate: [[0, 1]] });
      assert.ok(out.ok, out.error);
      await api(page, (r) => window.attnplay.highlight(r, r), row);
      await frames(page, 3);
      // Follow the second most probable token (a click on it), then the predictions' sweep button.
      const second = (await api(page, () => window.attnplay.a11y())).predictions.top[1].id;
      let shot = await layout(page);
      await page.mouse.click(...Object.values(rect(shot, 'prediction_1')), { delay: 200 });  // (held: ImGui 1.86 drops a press and release in one frame)
      await frames(page, 2);
      await page.mouse.click(...Object.values(rect(await layout(page), 'sweep_button')), { delay: 200 });
      const frame0 = (await api(page, () => window.attnplay.stats())).frame;
      await page.waitForFunction(() => { const s = window.attnplay.sweep(); return s && !s.running; }, null, { timeout: 60000 });
      const sw = await api(page, () => window.attnplay.sweep());
      assert.equal(sw.error, '', sw.error);
      assert.ok(sw.current && !sw.stopped);
      assert.equal(sw.position, row);
      assert.equal(sw.token_id, second, 'the clicked prediction is the one followed');
      assert.ok((await api(page, () => window.attnplay.stats())).frame > frame0, 'frames went on while the worker swept');
      // Each head ablated alone through the CLI (the config's own [[0, 1]] is left out of the sweep).
      const prob = (logits) => {
        const mx = Math.max(...logits[row]);
        const z = logits[row].reduce((a, v) => a + Math.exp(v - mx), 0);
        return Math.exp(logits[row][second] - mx) / z;
      };
      const base = prob(cli(name, { text }).logits);
      assert.ok(Math.abs(sw.baseline - base) <= 1e-5, `${name}: baseline ${sw.baseline} vs ${base}`);
      const info = cases.folders[name].info;
      const want = [];
      for (let l = 0; l < info.layers; l++) {
        for (let h = 0; h < info.heads; h++) {
          const p = prob(cli(name, { text, ablate: [[l, h]] }).logits);
          assert.ok(Math.abs(sw.probs[l][h] - p) <= 1e-5, `${name}: head ${l}/${h}: ${sw.probs[l][h]} vs the CLI's ${p}`);
          want.push([l, h, p - base]);
        }
      }
      // The ranking: every head once, by |change| as the CLI's numbers order them (near-ties within rounding aside).
      assert.equal(sw.ranking.length, want.length);
      want.sort((a, b) => Math.abs(b[2]) - Math.abs(a[2]));
      sw.ranking.forEach(([l, h, d], i) => {
        const w = want.find((x) => x[0] === l && x[1] === h);
        assert.ok(Math.abs(d - w[2]) <= 1e-5, `${name}: change of ${l}/${h}`);
        assert.ok(Math.abs(Math.abs(d) - Math.abs(want[i][2])) <= 2e-5, `${name}: rank ${i}: ${l}/${h} where the CLI ranks ${want[i][0]}/${want[i][1]}`);
      });
      // The model view shows the ranking: the first-ranked head's thumbnail comes first.
      shot = await layout(page);
      const [l0, h0] = sw.ranking[0];
      const first = shot[`thumb_${l0}_${h0}`];
      assert.ok(first, 'the model view draws the ranked heads');
      for (const [k, r] of Object.entries(shot).filter(([k]) => /^thumb_\d+_\d+$/.test(k))) {
        assert.ok(r[1] > first[1] + 1 || (Math.abs(r[1] - first[1]) <= 1 && r[0] >= first[0]), `${k} comes after the first-ranked ${l0}/${h0}`);
      }
      await page.screenshot({ path: path.join(SHOTS, `model-sweep-${name}-1280x720.png`) });
      // An edit of the text marks it stale; a new sweep answers the new text.
      assert.ok((await setConfig(page, { text: `${text} a` })).ok);
      await frames(page, 3);
      assert.equal((await api(page, () => window.attnplay.sweep())).current, false);
      assert.deepEqual(errors, [], name);
      await page.close();
    }
  });

  test('a long press on a thumbnail (touch) ablates that head; another restores it', async () => {
    const phone = await (await import('./helpers.mjs')).launch({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 });
    const page = await phone.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await serveModels(page);
    await page.goto(`${env.base}index.html?model=models/gpt2_f32/&text=${encodeURIComponent('a b a b a')}&autosave=0`);
    await page.waitForFunction(() => window.attnplay && window.attnplay.a11y().predictions, null, { timeout: 60000 });
    await api(page, () => window.attnplay.setView('model'));
    await frames(page, 4);
    const cdp = await phone.newCDPSession(page);
    const press = async () => {
      const shot = await layout(page);
      const p = rect(shot, 'thumb_2_1');
      await cdp.send('Input.dispatchTouchEvent', { type: 'touchStart', touchPoints: [{ x: p.x, y: p.y }] });
      await page.waitForTimeout(900);
      await cdp.send('Input.dispatchTouchEvent', { type: 'touchEnd', touchPoints: [] });
      await frames(page, 3);
    };
    await press();
    await page.waitForFunction(() => JSON.stringify(window.attnplay.getConfig().ablate) === '[[2,1]]', null, { timeout: 30000 });
    assert.equal((await api(page, () => window.attnplay.stats())).sel.view, (await api(page, () => window.attnplay.views())).findIndex((v) => v.name === 'model'),
                 'a long press ablates; its release does not open the head');
    await page.waitForFunction(() => window.attnplay.a11y().predictions.top[0].before !== undefined, null, { timeout: 30000 });
    await page.screenshot({ path: path.join(SHOTS, 'model-longpress-phone-390x844.png') });
    await press();
    await page.waitForFunction(() => JSON.stringify(window.attnplay.getConfig().ablate) === '[]', null, { timeout: 30000 });
    assert.deepEqual(errors, []);
    await phone.close();
  });

  test('a folder with a missing tensor is refused by name and the model on screen still answers', async () => {
    const { page, errors } = await openWithModels();
    let out = await setConfig(page, { mode: 'pretrained', model: 'models/gpt2_f32/', text: 'hello world' });
    assert.ok(out.ok, out.error);
    const before = await api(page, () => window.attnplay.getConfig());
    out = await setConfig(page, { model: 'models/bad_missing_tensor/' });
    assert.equal(out.ok, false);
    assert.match(out.error, /h\.0\.mlp\.c_proj\.weight/);
    assert.deepEqual(await api(page, () => window.attnplay.getConfig()), before, 'the state is unchanged');
    await frames(page, 2);
    assert.ok((await layout(page)).model_refusal, 'the refusal is shown in the page');
    await page.screenshot({ path: path.join(SHOTS, 'model-refused-1280x720.png') });
    out = await setConfig(page, { text: 'hello there world' });
    assert.ok(out.ok, out.error);
    assertClose(out.r, cli('gpt2_f32', { text: 'hello there world' }), 'after the refusal');
    assert.deepEqual(errors, []);
    await page.close();
  });

  test('the folder picker and a drop open a folder from files; the share link then carries no model', async () => {
    const { page, errors } = await open();
    const name = 'llama_gqa_f32';
    const folder = path.join(dir, name);
    await page.locator('input[type=file][webkitdirectory]').setInputFiles(folder);
    await page.waitForFunction(() => window.attnplay.getConfig().model === 'local:llama_gqa_f32' && window.attnplay.result().token_ids,
                               null, { timeout: 60000 });
    let out = await setConfig(page, { text: 'The cat sat on the mat' });
    assert.ok(out.ok, out.error);
    assertClose(out.r, cli(name, { text: 'The cat sat on the mat' }), 'picked');
    const share = await api(page, () => window.attnplay.shareQuery());
    const cfg = JSON.parse(Buffer.from(new URLSearchParams(share).get('cfg'), 'base64url').toString());
    assert.equal(cfg.model, undefined, 'a model from files is not in the link');
    // A drop of the files of another folder (a DataTransfer as a drag from the desktop makes it).
    const drop = 'bert_mlm_f32';
    const files = fs.readdirSync(path.join(dir, drop)).map((f) => ({ name: f, b64: fs.readFileSync(path.join(dir, drop, f)).toString('base64') }));
    await api(page, (files) => {
      const dt = new DataTransfer();
      for (const f of files) dt.items.add(new File([Uint8Array.from(atob(f.b64), (c) => c.charCodeAt(0))], f.name));
      document.getElementById('canvas').parentElement.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
    }, files);
    await page.waitForFunction(() => window.attnplay.getConfig().model === 'local:model' && window.attnplay.a11y().predictions
                               && window.attnplay.result().tokens[0] === '[CLS]', null, { timeout: 60000 });
    out = await setConfig(page, { text: 'The cat sat on the mat' });
    assert.ok(out.ok, out.error);
    assertClose(out.r, cli(drop, { text: 'The cat sat on the mat' }), 'dropped');
    assert.deepEqual(errors, []);
    await page.close();
  });

  test('a 100 MB download on a slow network: the frames go on, the progress shows MB and MB/s, Cancel stops it', async () => {
    // A GPT-2-shaped folder of zeros (the load is what is under test), served by the page's own server.
    const big = path.join(WEB, `test-models-${process.pid}`, 'big');
    fs.mkdirSync(big, { recursive: true });
    const vocab = 50257, hidden = 512;
    fs.writeFileSync(path.join(big, 'config.json'), JSON.stringify({ model_type: 'gpt2', vocab_size: vocab, n_embd: hidden, n_layer: 1, n_head: 8, n_positions: 64 }));
    const shapes = { 'wte.weight': [vocab, hidden], 'wpe.weight': [64, hidden], 'h.0.ln_1.weight': [hidden], 'h.0.ln_1.bias': [hidden],
                     'h.0.attn.c_attn.weight': [hidden, 3 * hidden], 'h.0.attn.c_attn.bias': [3 * hidden], 'h.0.attn.c_proj.weight': [hidden, hidden],
                     'h.0.attn.c_proj.bias': [hidden], 'h.0.ln_2.weight': [hidden], 'h.0.ln_2.bias': [hidden], 'h.0.mlp.c_fc.weight': [hidden, 4 * hidden],
                     'h.0.mlp.c_fc.bias': [4 * hidden], 'h.0.mlp.c_proj.weight': [4 * hidden, hidden], 'h.0.mlp.c_proj.bias': [hidden],
                     'ln_f.weight': [hidden], 'ln_f.bias': [hidden] };
    const header = {};
    let off = 0;
    for (const [k, sh] of Object.entries(shapes)) {
      const n = sh.reduce((a, b) => a * b, 1) * 4;
      header[k] = { dtype: 'F32', shape: sh, data_offsets: [off, off + n] };
      off += n;
    }
    let h = JSON.stringify(header);
    while ((8 + h.length) % 8) h += ' ';
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(h.length));
    fs.writeFileSync(path.join(big, 'model.safetensors'), Buffer.concat([len, Buffer.from(h), Buffer.alloc(off)]));
    assert.ok(off > 100e6, `${off} bytes`);
    const { page, errors } = await open();
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('Network.enable');
    await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 20, downloadThroughput: 8e6, uploadThroughput: 1e6 });
    const before = await api(page, () => window.attnplay.getConfig());
    const f0 = (await api(page, () => window.attnplay.stats())).frame;
    const pending = setConfig(page, { mode: 'pretrained', model: `test-models-${process.pid}/big/`, text: 'hello' });
    await page.waitForFunction(() => window.attnplay.layout().model_progress, null, { timeout: 60000 });
    await page.waitForTimeout(1500);
    const f1 = (await api(page, () => window.attnplay.stats())).frame;
    assert.ok(f1 - f0 >= 15, `the frames went on while the model downloads (${f1 - f0})`);
    await page.screenshot({ path: path.join(SHOTS, 'model-downloading-1280x720.png') });
    const c = rect(await layout(page), 'model_cancel');
    await page.mouse.click(c.x, c.y, { delay: 60 });
    const out = await pending;
    assert.equal(out.ok, false);
    assert.match(out.error, /cancelled/);
    assert.deepEqual(await api(page, () => window.attnplay.getConfig()), before, 'the state is as before');
    await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
    assert.deepEqual(errors, []);
    await page.close();
    fs.rmSync(path.dirname(big), { recursive: true, force: true });
  });
});

describe('real checkpoints as people see them', () => {
  test('screenshots: a phone (touch), a 720x440 embed and 1280x720, in English and Chinese; the phone\'s model view fits its slot', async () => {
    make6();
    const text = encodeURIComponent('The cat sat on the mat. The cat sat on the mat.');
    const shots = [];
    const phone = await (await import('./helpers.mjs')).launch({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 });
    for (const [ctx, size, pagePath] of [[env.context, { width: 1280, height: 720 }, 'index.html'], [env.context, { width: 720, height: 440 }, 'embed.html'],
                                         [phone, null, 'index.html']]) {
      for (const lang of ['en', 'zh']) {
        for (const view of ['model', 'attention', 'sweep']) {
          const page = await ctx.newPage();
          if (size) await page.setViewportSize(size);
          const errors = [];
          page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
          page.on('pageerror', (e) => errors.push(e.message));
          await serveModels(page);
          const embedView = pagePath === 'embed.html' ? `&view=${view === 'sweep' ? 'model' : view}` : '';
          await page.goto(`${env.base}${pagePath}?model=models/gpt2_6layer/&text=${text}&lang=${lang}&autosave=0${embedView}`);
          await page.waitForFunction(() => window.attnplay && window.attnplay.result && window.attnplay.a11y().predictions, null, { timeout: 60000 });
          if (!embedView) await page.evaluate((v) => window.attnplay.setView(v === 'sweep' ? 'model' : v), view);
          await page.evaluate(() => window.attnplay.highlight(6, 6));
          await frames(page, 8);
          if (view === 'sweep') {  // the model view's sort, then its Run button (a tap on the phone)
            const tap = async (name) => {
              const p = rect(await layout(page), name);
              if (size) await page.mouse.click(p.x, p.y, { delay: 200 });
              else await page.touchscreen.tap(p.x, p.y);
              await frames(page, 4);
            };
            await tap('head_sort');
            await tap('head_sort_sweep');
            await tap('sweep_run');
            await page.waitForFunction(() => { const s = window.attnplay.sweep(); return s && !s.running; }, null, { timeout: 60000 });
            const sw = await page.evaluate(() => window.attnplay.sweep());
            assert.ok(sw.current && sw.error === '' && sw.done === 24, `${pagePath} ${lang}: the sweep ran (${JSON.stringify(sw).slice(0, 200)})`);
            await frames(page, 4);
          }
          const stats = await page.evaluate(() => window.attnplay.stats());
          assert.deepEqual(stats.clipped ?? [], [], `${pagePath} ${lang} ${view}: no label is cut`);
          const r = await page.evaluate(() => window.attnplay.result().tokens);
          assert.ok(r.some((t) => t.startsWith('Ġ')), 'the tokens are GPT-2\'s (Ġ for a space)');
          const name = `model6-${size ? `${size.width}x${size.height}` : 'phone-390x844'}-${pagePath.replace('.html', '')}-${view}-${lang}.png`;
          await page.screenshot({ path: path.join(SHOTS, name) });
          shots.push(name);
          assert.deepEqual(errors, [], name);
          await page.close();
        }
      }
    }
    // The issue's phone case: the one-layer Chinese preset's model view leaves no empty half screen under its thumbnails.
    const page = await phone.newPage();
    await page.goto(`${env.base}index.html?preset=chinese&view=model&lang=zh&autosave=0`);
    await page.waitForFunction(() => window.attnplay && window.attnplay.stats().frame > 10, null, { timeout: 60000 });
    await frames(page, 6);
    const views = (await page.evaluate(() => window.attnplay.layout())).views_panel;
    const thumbs = Object.entries(await page.evaluate(() => window.attnplay.layout())).filter(([k]) => k.startsWith('thumb_'));
    const bottom = Math.max(...thumbs.map(([, r]) => r[1] + r[3]));
    assert.ok(views[1] + views[3] - bottom < 120, `the slot ends near its thumbnails (${Math.round(views[1] + views[3] - bottom)} px below them)`);
    await page.screenshot({ path: path.join(SHOTS, 'phone-chinese-model-zh.png') });
    await page.close();
    await phone.close();
    console.log(`  screenshots: ${shots.join(', ')}`);
  });
});

describe('the real-model tutorial page (web/examples/real-model.html)', () => {
  test('its two figures open the folder beside it, and a sentence ablates a head', async () => {
    const page = await env.context.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
    // The folder an author puts at examples/models/distilgpt2/ (here the 6-layer random GPT-2 of the test above).
    make6();
    await page.route('**/examples/models/distilgpt2/**', (route) => {
      const file = path.join(dir, 'gpt2_6layer', path.basename(new URL(route.request().url()).pathname));
      if (!fs.existsSync(file)) return route.fulfill({ status: 404, body: 'not found' });
      return route.fulfill({ status: 200, body: fs.readFileSync(file), headers: { 'Content-Type': 'application/octet-stream' } });
    });
    await page.setViewportSize({ width: 1100, height: 900 });
    await page.goto(env.base + 'examples/real-model.html');
    const figs = page.frames().filter((f) => f.url().includes('embed.html'));
    assert.equal(figs.length, 2);
    for (const f of figs) await f.waitForFunction(() => window.attnplay && window.attnplay.result && window.attnplay.a11y().predictions, null, { timeout: 60000 });
    assert.equal(await figs[1].evaluate(() => window.attnplay.result().layers.length), 6);
    await page.click('text=Ablate layer 1, head 2');
    await figs[1].waitForFunction(() => JSON.stringify(window.attnplay.getConfig().ablate) === '[[1,2]]', null, { timeout: 30000 });
    await figs[1].waitForFunction(() => window.attnplay.a11y().predictions.top[0].before !== undefined, null, { timeout: 30000 });
    await page.waitForFunction(() => document.querySelector('[data-caption="fig2"]').textContent.includes('tokens'), null, { timeout: 30000 });
    await page.click('text=Each row of a previous-token head');
    await figs[0].waitForFunction(() => window.attnplay.shareQuery().includes('cell=8,7'), null, { timeout: 5000 });
    await page.screenshot({ path: path.join(SHOTS, 'tutorial-real-model.png'), fullPage: true });
    assert.deepEqual(errors, []);
    await page.close();
  });
});

describe('a real model across a reload', () => {
  test('from a URL everything comes back; from files the page asks to reopen them (listing the recorded files) and keeps the rest, or with the user\'s consent keeps the model', async () => {
    const ctx = await (await import('./helpers.mjs')).launch();
    const page = await ctx.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await serveModels(page);
    await page.goto(`${env.base}index.html?model=models/gpt2_f32/&text=${encodeURIComponent('hello world')}`);  // autosave on
    await page.waitForFunction(() => window.attnplay && window.attnplay.a11y && window.attnplay.a11y().predictions, null, { timeout: 60000 });
    const saved = () => api(page, () => window.attnplay.stats().autosave.writes);
    let writes = await saved();
    let out = await setConfig(page, { ablate: [[1, 2]], text: 'hello there world' });
    assert.ok(out.ok, out.error);
    await page.waitForFunction((n) => window.attnplay.stats().autosave.writes > n, writes, { timeout: 30000 });  // a second after the edit
    await page.waitForTimeout(700);  // the address bar follows every half second
    await page.reload();
    await page.waitForFunction(() => window.attnplay && window.attnplay.a11y && window.attnplay.a11y().predictions, null, { timeout: 60000 });
    let cfg = await api(page, () => window.attnplay.getConfig());
    assert.equal(cfg.model, 'models/gpt2_f32/');
    assert.equal(cfg.text, 'hello there world');
    assert.deepEqual(cfg.ablate, [[1, 2]]);
    assert.ok((await api(page, () => window.attnplay.result())).layers[1].heads[2].context.flat().every((v) => v === 0));
    // From files: after a reload the page asks for the folder again, and the text and ablation are still there.
    writes = await saved();
    await page.locator('input[type=file][webkitdirectory]').setInputFiles(path.join(dir, 'gpt2_f32'));
    await page.waitForFunction(() => window.attnplay.getConfig().model === 'local:gpt2_f32', null, { timeout: 60000 });
    await page.waitForFunction((n) => window.attnplay.stats().autosave.writes > n, writes, { timeout: 30000 });
    await page.waitForTimeout(700);
    await page.reload();
    await page.waitForFunction(() => window.attnplay && window.attnplay.layout && window.attnplay.layout().error_banner, null, { timeout: 60000 });
    cfg = await api(page, () => window.attnplay.getConfig());
    assert.equal(cfg.model, 'local:gpt2_f32');
    assert.equal(cfg.text, 'hello there world');
    // The workspace recorded which files they were: names, sizes and SHA-256 (as node's crypto computes them).
    const want = fs.readdirSync(path.join(dir, 'gpt2_f32')).sort().map((name) => {
      const b = fs.readFileSync(path.join(dir, 'gpt2_f32', name));
      return { name, size: b.length, sha256: crypto.createHash('sha256').update(b).digest('hex') };
    });
    assert.deepEqual((await api(page, () => window.attnplay.stats())).model_record, { source: 'local:gpt2_f32', files: want });
    await page.waitForFunction(() => window.attnplay.layout().model_files, null, { timeout: 30000 });
    await page.screenshot({ path: path.join(SHOTS, 'model-reopen-notice.png') });
    await page.locator('input[type=file][webkitdirectory]').setInputFiles(path.join(dir, 'gpt2_f32'));
    await page.waitForFunction(() => window.attnplay.a11y().predictions && !window.attnplay.layout().error_banner, null, { timeout: 60000 });
    assert.deepEqual((await api(page, () => window.attnplay.getConfig())).ablate, [[1, 2]]);
    assert.equal((await api(page, () => window.attnplay.stats())).files_differ, '', 'the same files as the record\'s');
    // Kept in the browser (the user agrees): a reload brings the model back by itself; Forget asks again.
    await page.waitForFunction(() => window.attnplay.layout().model_keep, null, { timeout: 30000 });
    await page.mouse.click(...Object.values(rect(await layout(page), 'model_keep')), { delay: 200 });
    await page.waitForFunction(() => (window.attnplay.stats().model_local || {}).kept, null, { timeout: 30000 });
    await page.screenshot({ path: path.join(SHOTS, 'model-kept.png') });
    writes = await saved();
    assert.ok((await setConfig(page, { text: 'kept in the browser' })).ok);
    await page.waitForFunction((n) => window.attnplay.stats().autosave.writes > n, writes, { timeout: 30000 });
    await page.waitForTimeout(700);
    await page.reload();
    await page.waitForFunction(() => window.attnplay && window.attnplay.a11y && window.attnplay.a11y().predictions && window.attnplay.result().token_ids, null, { timeout: 60000 });
    assert.equal((await api(page, () => window.attnplay.layout())).error_banner, undefined, 'no reopen notice');
    assert.deepEqual(await api(page, () => window.attnplay.result().tokens), cli('gpt2_f32', { text: 'kept in the browser' }).tokens);
    assert.deepEqual((await api(page, () => window.attnplay.getConfig())).ablate, [[1, 2]]);
    await frames(page, 3);
    await page.mouse.click(...Object.values(rect(await layout(page), 'model_forget')), { delay: 200 });
    await page.waitForFunction(() => !(window.attnplay.stats().model_local || {}).kept && !(window.attnplay.stats().model_local || {}).storing, null, { timeout: 30000 });
    await page.reload();
    await page.waitForFunction(() => window.attnplay && window.attnplay.layout && window.attnplay.layout().error_banner, null, { timeout: 60000 });
    assert.deepEqual(errors, []);
    await ctx.close();
  });
});
