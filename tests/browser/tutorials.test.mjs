// attnplay browser tests for tutorial authors: share links, embed.html options, postMessage across origins,
// hostile URLs, exports and import, the Chinese UI, every preset, and the tutorial page.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import zlib from 'node:zlib';
import { after, before, describe, test } from 'node:test';
import { SHOTS, env, frames, layout, open, rect, result, start, stop } from './helpers.mjs';

before(start);
after(stop);

const config = (page) => page.evaluate(() => window.attnplay.getConfig());
const query = (page) => page.evaluate(() => window.attnplay.shareQuery());
const stats = (page) => page.evaluate(() => window.attnplay.stats());

// Opens an ImGui menu, then (optionally) a submenu, then clicks an item: all by the rectangles the app reports.
async function menu(page, ...names) {
  for (const name of names) {
    for (let i = 0; i < 40 && !(await layout(page))[name]; i++) await frames(page, 1);
    const p = rect(await layout(page), name);
    await page.mouse.move(p.x, p.y);
    await frames(page, 3);
    if (name === names[names.length - 1] || name.startsWith('menu_')) await page.mouse.click(p.x, p.y, { delay: 80 });
    await frames(page, 3);
  }
}

async function download(page, ...names) {
  const done = page.waitForEvent('download', { timeout: 30000 });
  await menu(page, ...names);
  const d = await done;
  const file = path.join(SHOTS, d.suggestedFilename());
  await d.saveAs(file);
  return { name: d.suggestedFilename(), bytes: fs.readFileSync(file) };
}

function pngSize(bytes) {
  assert.deepEqual([...bytes.subarray(0, 8)], [137, 80, 78, 71, 13, 10, 26, 10], 'PNG signature');
  assert.equal(bytes.toString('ascii', 12, 16), 'IHDR');
  zlib.inflateSync(Buffer.concat((() => {  // the image data decompresses
    const parts = [];
    for (let off = 8; off < bytes.length;) {
      const len = bytes.readUInt32BE(off), type = bytes.toString('ascii', off + 4, off + 8);
      if (type === 'IDAT') parts.push(bytes.subarray(off + 8, off + 8 + len));
      off += 12 + len;
    }
    return parts;
  })()));
  return { width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20) };
}

function parseCsv(text) {
  const rows = [];
  let row = [], field = '', quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') { field += '"'; i++; } else if (c === '"') quoted = false; else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') { row.push(field); field = ''; } else if (c === '\n') { row.push(field); rows.push(row); row = []; field = ''; } else field += c;
  }
  return rows;
}

describe('share links', () => {
  test('a link round-trips the full state (tokens, dims, masks, view, layer, head, cell, language)', async () => {
    const { page, errors } = await open('?preset=transformer&view=model&layer=1&head=2&cell=3,2&range=01&shown=0,2');
    await page.evaluate(() => window.attnplay.setConfig({ seed: 9, attention: { temperature: 0.5, mask: { causal: true, cells: [[5, 0]] } } }));
    const q = await query(page);
    const before = { cfg: await config(page), r: await result(page) };
    await page.close();
    const second = await open(`?${q}`);
    assert.deepEqual(await config(second.page), before.cfg);
    assert.equal(await query(second.page), q, 'the same view: tab, layer, head, cell, toggles');
    assert.deepEqual((await result(second.page)).layers[1].heads[2].weights, before.r.layers[1].heads[2].weights);
    await second.page.close();
    assert.deepEqual(errors, []);
  });

  test('the Copy link menu puts that link on the clipboard, and the address bar follows the state', async () => {
    await env.context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: env.base });
    const { page } = await open('?text=copy+me&heads=4');
    await menu(page, 'menu_share', 'copy_link');
    await frames(page, 5);
    const copied = await page.evaluate(() => navigator.clipboard.readText());
    assert.ok(copied.startsWith(env.base + 'index.html?'), copied);
    assert.equal(copied.split('?')[1], await query(page));
    await page.waitForFunction((q) => location.search === `?${q}`, await query(page), { timeout: 5000 });
    const again = await open(`?${copied.split('?')[1]}`);
    assert.deepEqual((await result(again.page)).tokens, ['copy', 'me']);
    assert.equal((await result(again.page)).layers[0].heads.length, 4);
    await page.close();
    await again.page.close();
  });
});

describe('embed.html', () => {
  test('view= shows that view alone; hide= removes panels and controls', async () => {
    const { page, errors } = await open('?view=heads&hide=controls,menu', undefined, 'embed.html');
    const l = await layout(page);
    assert.ok(l.head_view, 'the head view is drawn');
    for (const gone of ['tab_Attention', 'tab_Mask', 'text_input', 'causal', 'menu_file']) assert.ok(!l[gone], `${gone} is hidden`);
    await page.screenshot({ path: path.join(SHOTS, 'embed-heads-only.png') });
    await page.close();
    const second = await open('?hide=temperature,causal,details', undefined, 'embed.html');
    const l2 = await layout(second.page);
    assert.ok(l2.heads && l2.text_input && l2.kind, 'other controls stay');
    for (const gone of ['temperature', 'causal']) assert.ok(!l2[gone], `${gone} is hidden`);
    await second.page.close();
    assert.deepEqual(errors, []);
  });

  test('readonly=1 lets nothing be edited from the UI (the API still can)', async () => {
    const { page } = await open('?readonly=1', undefined, 'embed.html');
    const before = await config(page);
    await page.mouse.click(...Object.values(rect(await layout(page), 'causal')), { delay: 100 });
    await page.mouse.click(...Object.values(rect(await layout(page), 'tab_Mask')), { delay: 100 });
    await frames(page, 4);
    const g = (await layout(page)).mask_grid;
    await page.mouse.click(g[0] + 1.5 * g[2], g[1] + 2.5 * g[2], { delay: 100 });
    await page.keyboard.down('Control');
    await page.keyboard.press('z');
    await page.keyboard.up('Control');
    await frames(page, 4);
    assert.deepEqual(await config(page), before, 'clicks and shortcuts changed nothing');
    assert.equal((await stats(page)).readonly, true);
    await page.evaluate(() => window.attnplay.setConfig({ heads: 4 }));
    assert.equal((await result(page)).layers[0].heads.length, 4);
    await page.close();
  });

  test('a parent page on another origin drives the frame by postMessage and receives results', async () => {
    // The parent is served from a second server: another port is another origin.
    const dir = fs.mkdtempSync(path.join(SHOTS, 'parent-'));
    const frameUrl = `${env.base}embed.html?view=attention&hide=controls`;
    fs.writeFileSync(path.join(dir, 'parent.html'), `<!doctype html><meta charset="utf-8"><title>parent</title>
<iframe id="f" style="width:900px;height:600px" src="${frameUrl}"></iframe>`);
    const parent = await new Promise((res) => {
      const s = http.createServer((req, resp) => { resp.writeHead(200, { 'Content-Type': 'text/html' }); resp.end(fs.readFileSync(path.join(dir, 'parent.html'))); });
      s.listen(0, '127.0.0.1', () => res(s));
    });
    const page = await env.context.newPage();
    const warnings = [];
    page.on('console', (m) => { if (m.type() === 'warning') warnings.push(m.text()); });
    await page.goto(`http://localhost:${parent.address().port}/parent.html`);
    const frame = page.frames().find((f) => f.url().startsWith(env.base));
    await frame.waitForFunction(() => window.attnplay && window.attnplay.stats().frame > 3, null, { timeout: 60000 });
    const origins = await page.evaluate(() => [location.origin, new URL(document.getElementById('f').src).origin]);
    assert.notEqual(origins[0], origins[1], 'parent and frame are on different origins');
    const reply = await page.evaluate((target) => new Promise((res) => {
      window.addEventListener('message', (e) => { if (e.data && e.data.type === 'attnplay:result') res({ origin: e.origin, result: e.data.result }); });
      document.getElementById('f').contentWindow.postMessage({ type: 'attnplay:setConfig', config: { text: '今天天气很好', tokenizer: 'chars' } }, target);
    }), origins[1]);
    assert.equal(reply.origin, origins[1]);
    assert.deepEqual(reply.result.tokens, ['今', '天', '天', '气', '很', '好']);
    const refused = await page.evaluate((target) => new Promise((res) => {
      window.addEventListener('message', (e) => { if (e.data && e.data.type === 'attnplay:error') res(e.data.message); });
      document.getElementById('f').contentWindow.postMessage({ type: 'attnplay:setConfig', config: { heads: 5 } }, target);
    }), origins[1]);
    assert.equal(refused, 'heads must divide d_model (got d_model=16, heads=5)');
    await page.evaluate((target) => {
      const w = document.getElementById('f').contentWindow;
      w.postMessage({ type: 'attnplay:highlight', query: 4, key: 2 }, target);
      w.postMessage({ type: 'attnplay:evil', payload: '<img src=x onerror=alert(1)>' }, target);
      w.postMessage('not an object', target);
    }, origins[1]);
    await frame.waitForFunction(() => window.attnplay.shareQuery().includes('cell=4,2'), null, { timeout: 5000 });
    await page.waitForTimeout(300);
    assert.ok(warnings.some((w) => w.includes('unknown type')), warnings.join('\n'));
    assert.equal(await frame.evaluate(() => document.querySelectorAll('img').length), 0);
    await page.screenshot({ path: path.join(SHOTS, 'embed-cross-origin-parent.png') });
    await page.close();
    parent.close();
  });
});

describe('hostile URLs leave the page working and uninjected', () => {
  // ~1.2 MB: under Chromium's 2 MB URL limit, over the app's 1 MiB cap on URL state.
  const huge = Buffer.from(JSON.stringify({ text: 'x '.repeat(450000) })).toString('base64url');
  const cases = [
    ['script in text', '?text=%3Cscript%3Ealert(1)%3C%2Fscript%3E%3Cimg%20src%3Dx%20onerror%3Dalert(2)%3E', null],
    ['huge cfg', `?cfg=${huge}`, /too long|at most/],
    ['bad base64', '?cfg=%%%@@@', /cfg/],
    ['wrong types', `?cfg=${Buffer.from(JSON.stringify({ heads: 'many', attention: [] })).toString('base64url')}`, /heads must be an integer/],
    ['wrong plain type', '?d_model=lots', /d_model: must be an integer/],
    ['unknown view and lang', '?view=%3Cb%3E&lang=xx', /view/],
  ];
  for (const [name, q, message] of cases) {
    test(name, async () => {
      const page = await env.context.newPage();
      const dialogs = [];
      page.on('dialog', (d) => { dialogs.push(d.message()); d.dismiss(); });
      const errors = [];
      page.on('pageerror', (e) => errors.push(e.message));
      await page.goto(env.base + 'index.html' + q + '&autosave=0');
      await page.waitForFunction(() => window.attnplay && window.attnplay.stats().frame > 3, null, { timeout: 60000 });
      const s = await stats(page);
      if (message) assert.match(s.error, message);
      const r = await result(page);
      assert.ok(r.tokens.length > 0, 'the page computes');
      await page.evaluate(() => window.attnplay.setConfig({ text: 'still works' }));
      assert.deepEqual((await result(page)).tokens, ['still', 'works']);
      assert.deepEqual(dialogs, [], 'no script ran');
      assert.deepEqual(errors, []);
      assert.equal(await page.evaluate(() => document.querySelectorAll('img, iframe').length), 0, 'nothing was inserted');
      await page.close();
    });
  }
});

describe('Content-Security-Policy', () => {
  test('the pages run under a CSP that blocks inline scripts and remote origins', async () => {
    const { page, errors } = await open();
    const csp = await page.evaluate(() => document.querySelector('meta[http-equiv="Content-Security-Policy"]').content);
    assert.match(csp, /script-src 'self' 'wasm-unsafe-eval'/);
    assert.match(csp, /worker-src 'self'/);  // the training worker, from this origin only
    assert.deepEqual(errors, [], 'the app itself violates nothing');
    const outcome = await page.evaluate(async () => {
      const violations = [];
      document.addEventListener('securitypolicyviolation', (e) => violations.push(e.violatedDirective));
      const s = document.createElement('script');
      s.textContent = 'window.__injected = true';
      document.body.appendChild(s);
      let remote = 'allowed';
      try { await fetch('http://localhost:9/steal'); } catch { remote = 'blocked'; }
      let blobWorker = 'allowed';  // a worker made from a string (blob:) is refused: workers only from 'self'
      try {
        const w = new Worker(URL.createObjectURL(new Blob(['postMessage(1)'], { type: 'text/javascript' })));
        await new Promise((res) => { w.onmessage = res; w.onerror = () => { blobWorker = 'blocked'; res(); }; setTimeout(res, 1000); });
      } catch { blobWorker = 'blocked'; }
      await new Promise((r) => setTimeout(r, 100));
      return { injected: window.__injected === true, remote, blobWorker, violations };
    });
    assert.equal(outcome.injected, false, 'an inline script does not run');
    assert.equal(outcome.remote, 'blocked');
    assert.equal(outcome.blobWorker, 'blocked');
    assert.ok(outcome.violations.some((v) => v.startsWith('script-src')), JSON.stringify(outcome.violations));
    assert.ok(outcome.violations.some((v) => v.startsWith('connect-src')), JSON.stringify(outcome.violations));
    await page.close();
  });
});

describe('exports and import', () => {
  test('each export decodes, and the config re-imports to the same state', async () => {
    const { page, errors } = await open('?text=a+b+c+d&mask=causal&heads=2');
    const cfg = await config(page);
    const r = await result(page);
    const panel = (await layout(page)).views_panel;
    const png = await download(page, 'menu_file', 'menu_export', 'export_view_png');
    assert.equal(png.name, 'attnplay-view@2x.png');
    const size = pngSize(png.bytes);
    const vp = page.viewportSize();
    assert.ok(Math.abs(size.width - 2 * panel[2]) <= 1 && Math.abs(size.height - 2 * panel[3]) <= 1,
              `the views panel (${panel[2]}x${panel[3]}) at 2x: got ${size.width}x${size.height}`);
    const win = await download(page, 'menu_file', 'menu_export', 'export_window_png');
    assert.deepEqual(pngSize(win.bytes), { width: vp.width, height: vp.height });
    const csv = parseCsv((await download(page, 'menu_file', 'menu_export', 'export_csv')).bytes.toString('utf8'));
    assert.deepEqual(csv[0], ['matrix', 'row', 'row_token', 'col', 'col_token', 'value']);
    const weights = csv.filter((row) => row[0] === 'weights');
    assert.equal(weights.length, 16);
    for (const [, i, , j, , v] of weights) assert.ok(Math.abs(Number(v) - r.layers[0].heads[0].weights[i][j]) < 1e-6);
    assert.equal(csv.find((row) => row[0] === 'scores' && row[1] === '0' && row[3] === '1')[5], '', 'a masked score is empty');
    const mj = JSON.parse((await download(page, 'menu_file', 'menu_export', 'export_json')).bytes.toString('utf8'));
    assert.deepEqual(mj.tokens, ['a', 'b', 'c', 'd']);
    assert.equal(mj.scores[0][1], null);
    const exported = JSON.parse((await download(page, 'menu_file', 'menu_export', 'export_config')).bytes.toString('utf8'));
    assert.deepEqual(exported, cfg);
    const w = (await download(page, 'menu_file', 'menu_export', 'export_weights')).bytes;
    const header = JSON.parse(w.subarray(8, 8 + Number(w.readBigUInt64LE(0))).toString('utf8'));
    assert.deepEqual(header['embedding.weight'].shape, [4, 16]);
    assert.deepEqual(JSON.parse(header.__metadata__.vocab), ['a', 'b', 'c', 'd']);
    // Change the state, then import the exported config by the file picker: back to the same state.
    await page.evaluate(() => window.attnplay.setConfig({ text: 'something else entirely', heads: 4 }));
    const chooser = page.waitForEvent('filechooser');
    await menu(page, 'menu_file', 'import_config');
    await (await chooser).setFiles({ name: 'attnplay-config.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify(exported)) });
    await page.waitForFunction(() => window.attnplay.getConfig().text === 'a b c d', null, { timeout: 5000 });
    assert.deepEqual(await config(page), cfg);
    // A bad file is refused and changes nothing.
    const chooser2 = page.waitForEvent('filechooser');
    await menu(page, 'menu_file', 'import_config');
    await (await chooser2).setFiles({ name: 'bad.json', mimeType: 'application/json', buffer: Buffer.from('{"heads": 5}') });
    await frames(page, 5);
    assert.deepEqual(await config(page), cfg);
    // Dropping a config file on the page imports it too.
    await page.evaluate(() => {
      const dt = new DataTransfer();
      dt.items.add(new File([JSON.stringify({ text: 'dropped here', heads: 1 })], 'dropped.json', { type: 'application/json' }));
      document.getElementById('canvas').dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
    });
    await page.waitForFunction(() => window.attnplay.getConfig().text === 'dropped here', null, { timeout: 5000 });
    assert.equal((await result(page)).layers[0].heads.length, 1);
    assert.deepEqual(errors, []);
    await page.close();
  });
});

describe('the Chinese UI and the presets', () => {
  test('lang=zh shows the Chinese UI', async () => {
    const { page, errors } = await open('?lang=zh&preset=chinese');
    await page.waitForFunction(() => window.attnplay.stats().glyphs > 200, null, { timeout: 20000 });
    await frames(page, 5);
    assert.equal((await stats(page)).lang, 'zh');
    assert.ok((await query(page)).includes('lang=zh'));
    await page.screenshot({ path: path.join(SHOTS, 'web-lang-zh.png') });
    await menu(page, 'menu_view', 'lang_en');
    await frames(page, 3);
    assert.equal((await stats(page)).lang, 'en');
    assert.deepEqual(errors, []);
    await page.close();
  });

  for (const id of ['cat', 'chinese', 'seq2seq', 'local-global', 'additive-vs-dot', 'scaling', 'multihead', 'transformer']) {
    test(`preset ${id} loads without console errors`, async () => {
      const { page, errors } = await open(`?preset=${id}`);
      assert.equal((await stats(page)).preset, id);
      assert.ok((await result(page)).tokens.length > 0);
      await frames(page, 5);
      await page.screenshot({ path: path.join(SHOTS, `preset-${id}.png`) });
      assert.deepEqual(errors, []);
      await page.close();
    });
  }
});

describe('the tutorial page', () => {
  test('clicking a sentence changes its figure', async () => {
    const page = await env.context.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
    await page.setViewportSize({ width: 1100, height: 900 });
    await page.goto(env.base + 'examples/tutorial.html');
    const figs = page.frames().filter((f) => f.url().includes('embed.html'));
    assert.equal(figs.length, 4);
    for (const f of figs) await f.waitForFunction(() => window.attnplay && window.attnplay.stats().frame > 3, null, { timeout: 60000 });
    await page.click('text=A causal mask forbids looking ahead');
    await figs[0].waitForFunction(() => window.attnplay.getConfig().attention.mask.causal === true, null, { timeout: 5000 });
    await page.click('text=With four heads');
    await figs[2].waitForFunction(() => window.attnplay.result().layers[0].heads.length === 4, null, { timeout: 5000 });
    await page.waitForFunction(() => document.querySelector('[data-caption="fig3"]').textContent.includes('4 heads'));
    // The translation figure: the cross-attention's kind changes with a sentence, and the caption reads the result.
    await page.click('text=Make the cross-attention additive');
    await figs[3].waitForFunction(() => window.attnplay.getConfig().cross_attention?.kind === 'additive', null, { timeout: 5000 });
    await page.waitForFunction(() => document.querySelector('[data-caption="fig4"]').textContent.includes('3 source → 5 target tokens'));
    await page.click('text=换成数字');
    await figs[3].waitForFunction(() => window.attnplay.result().tokens.join(' ') === '<s> 三 百 二 十', null, { timeout: 5000 });
    await page.click('text=The row of “sat”');
    await figs[0].waitForFunction(() => window.attnplay.shareQuery().includes('cell=2,1'), null, { timeout: 5000 });
    await page.screenshot({ path: path.join(SHOTS, 'tutorial.png'), fullPage: true });
    assert.deepEqual(errors, []);
    await page.close();
  });
});
