// attnplay browser tests for readers (issue 11): the layout at a phone (touch, 3x), a tablet, a 720-px article
// iframe on another origin and a laptop, in English and Chinese, in every view; taps, pinch and zoom buttons;
// wheel and swipe over an embedded figure scrolling the article; fonts on demand; the DOM mirror for screen readers.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { after, before, describe, test } from 'node:test';
import { SHOTS, WEB, article, env, frames, launch, open, ready, start, stop } from './helpers.mjs';

before(start);
after(stop);

const stats = (t) => t.evaluate(() => window.attnplay.stats());
const layoutOf = (t) => t.evaluate(() => window.attnplay.layout());
const nextFrames = (t, n = 3) => t.evaluate((n) => new Promise((res) => {
  const s = window.attnplay.stats().frame;
  const tick = () => (window.attnplay.stats().frame >= s + n ? res() : requestAnimationFrame(tick));
  tick();
}), n);

// The checks every layout must pass, read from the app's own layout data.
function checkLayout(l, st, size, where, heatmap = true) {
  const wins = Object.entries(l).filter(([k]) => k.startsWith('win_'));
  assert.ok(wins.length > 0, `${where}: windows recorded`);
  for (let a = 0; a < wins.length; a++) {
    const [na, [x, y, w, h]] = wins[a];
    assert.ok(x >= -0.5 && y >= -0.5 && x + w <= size.width + 0.5 && y + h <= size.height + 0.5, `${where}: ${na} on screen`);
    for (let b = 0; b < a; b++) {
      const [nb, [x2, y2, w2, h2]] = wins[b];
      const ix = Math.min(x + w, x2 + w2) - Math.max(x, x2), iy = Math.min(y + h, y2 + h2) - Math.max(y, y2);
      assert.ok(ix <= 0.5 || iy <= 0.5, `${where}: ${na} overlaps ${nb}`);
    }
  }
  assert.deepEqual(st.clipped, [], `${where}: no tab or heading is cut`);
  if (heatmap && st.sel.view === 0) {
    const slot = l.weights_slot, grid = l.weights;
    assert.ok(slot && grid, `${where}: the weights heatmap is drawn`);
    assert.ok(grid[2] >= 0.5 * slot[2] || grid[3] >= 0.5 * slot[3],
              `${where}: heatmap ${grid[2].toFixed(0)}x${grid[3].toFixed(0)} fills at least half of its ${slot[2].toFixed(0)}x${slot[3].toFixed(0)} slot`);
  }
}

describe('layouts by width, every view, both languages', () => {
  // Every view in one page or frame: the expected layout, the common checks, `extra` checks, a screenshot.
  async function everyView(target, shoot, name, lang, size, expect, extra = () => {}) {
    // The module's table of views (view_table.h), those with something to show for this state.
    const views = (await target.evaluate(() => window.attnplay.views())).filter((v) => v.offered).map((v) => v.name);
    for (const view of views) {
      await target.evaluate((v) => window.attnplay.setView(v), view);
      await nextFrames(target, 4);
      const [l, st] = [await layoutOf(target), await stats(target)];
      assert.equal(st.layout, expect, `${name} ${lang} ${view}: layout`);
      assert.equal(st.lang, lang);
      checkLayout(l, st, size, `${name} ${lang} ${view}`);
      extra(l, `${name} ${lang} ${view}`);
      await shoot(path.join(SHOTS, `layout-${name}-${lang}-${view}.png`));
    }
  }

  for (const [name, size, expect, extra] of [
    ['laptop', { width: 1280, height: 720 }, 'wide', undefined],
    ['tablet', { width: 768, height: 1024 }, 'medium', (l, where) => assert.ok(l.tab_side_controls && l.tab_side_details, `${where}: Controls / Details tabs`)],
  ]) {
    test(`${name} ${size.width}x${size.height}: ${expect} layout`, async () => {
      for (const lang of ['en', 'zh']) {
        const { page, errors } = await open(`?preset=cat&lang=${lang}`, size);
        await everyView(page, (file) => page.screenshot({ path: file }), name, lang, size, expect, extra);
        assert.deepEqual(errors, []);
        await page.close();
      }
    });
  }

  test('phone 390x844 (touch, 3x): one column, view first, touch-sized controls; a tap is a hover that stays', async () => {
    const phone = await launch({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 3 });
    try {
      for (const lang of ['en', 'zh']) {
        const page = await phone.newPage();
        const errors = [];
        page.on('pageerror', (e) => errors.push(e.message));
        page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
        await page.goto(`${env.base}index.html?preset=cat&lang=${lang}&autosave=0`);
        await ready(page);
        await everyView(page, (file) => page.screenshot({ path: file }), 'phone', lang, { width: 390, height: 844 }, 'narrow', (l, where) => {
          assert.ok(l.views_panel[1] < 80, `${where}: the view comes first`);
          assert.ok(l.views_panel[2] >= 0.9 * 390, `${where}: the view takes the width (${l.views_panel[2]})`);
          for (const name of ['text_input', 'bar_causal', 'view_pick', 'zoom_in', 'zoom_out', 'head_0', 'h_controls', 'h_details', 'ab_start']) {
            if (l[name]) assert.ok(l[name][3] >= 39.5, `${where}: ${name} is ${l[name][3]} px tall, a touch target needs 40`);
          }
        });
        if (lang === 'en') {
          // A tap on cell (3, 1) selects it for the walkthrough, and it stands in for the hover until the next tap.
          await page.evaluate(() => window.attnplay.setView('attention'));
          await nextFrames(page, 3);
          const g = (await layoutOf(page)).weights_grid;  // origin x, origin y, cell
          await page.touchscreen.tap(g[0] + g[2] * 1.5, g[1] + g[2] * 3.5);
          await nextFrames(page, 4);
          let st = await stats(page);
          assert.equal(st.touch, true);
          assert.deepEqual([st.sel.query, st.sel.key, st.sel.hover_query, st.sel.hover_key], [3, 1, 3, 1]);
          const a = await page.evaluate(() => window.attnplay.a11y());
          assert.deepEqual(a.cell, [3, 1], 'the walkthrough explains the tapped cell');
          await page.waitForTimeout(400);
          st = await stats(page);
          assert.deepEqual([st.sel.hover_query, st.sel.hover_key], [3, 1], 'the tap stays');
          await page.screenshot({ path: path.join(SHOTS, 'layout-phone-tapped-cell.png') });
          // The zoom buttons, then a pinch, change the visible range.
          const before = (await layoutOf(page)).weights_range;
          const zin = (await layoutOf(page)).zoom_in;
          await page.touchscreen.tap(zin[0] + zin[2] / 2, zin[1] + zin[3] / 2);
          await nextFrames(page, 3);
          const zoomed = await stats(page);
          assert.ok(zoomed.zoom > 1, `+ zooms (${zoomed.zoom})`);
          const after = (await layoutOf(page)).weights_range;
          assert.ok(after[2] < before[2] || after[3] < before[3], `fewer rows or columns visible: ${before} -> ${after}`);
          const reset = (await layoutOf(page)).zoom_reset;
          await page.touchscreen.tap(reset[0] + reset[2] / 2, reset[1] + reset[3] / 2);
          await nextFrames(page, 3);
          assert.equal((await stats(page)).zoom, 1);
          const cdp = await phone.newCDPSession(page);
          const l = await layoutOf(page);
          const cx = l.weights[0] + l.weights[2] / 2, cy = l.weights[1] + l.weights[3] / 2;
          const touch = (type, d) => cdp.send('Input.dispatchTouchEvent', {
            type, touchPoints: type === 'touchEnd' ? [] : [{ x: cx - d, y: cy, id: 1 }, { x: cx + d, y: cy, id: 2 }] });
          await touch('touchStart', 20);
          for (let d = 25; d <= 80; d += 5) await touch('touchMove', d);
          await touch('touchEnd', 0);
          await nextFrames(page, 3);
          const pinched = await stats(page);
          assert.ok(pinched.zoom > 2, `a pinch zooms (${pinched.zoom})`);
          const pr = (await layoutOf(page)).weights_range;
          assert.ok(pr[2] < before[2], `a pinch shows fewer rows: ${before} -> ${pr}`);
          await page.screenshot({ path: path.join(SHOTS, 'layout-phone-pinched.png') });
          const one2 = (await layoutOf(page)).zoom_reset;
          await page.touchscreen.tap(one2[0] + one2[2] / 2, one2[1] + one2[3] / 2);
          await nextFrames(page, 3);
          assert.equal((await stats(page)).zoom, 1, '1:1 shows the whole matrix again');
          // A finger dragged along row 0 of the mask grid paints those cells.
          await page.evaluate(() => window.attnplay.setView('mask'));
          await nextFrames(page, 3);
          const mg = (await layoutOf(page)).mask_grid;
          const one = (type, x, y) => cdp.send('Input.dispatchTouchEvent', { type, touchPoints: type === 'touchEnd' ? [] : [{ x, y, id: 3 }] });
          const row0 = mg[1] + mg[2] * 0.5;
          await one('touchStart', mg[0] + mg[2] * 2.5, row0);
          for (let k = 1; k <= 8; k++) { await one('touchMove', mg[0] + mg[2] * (2.5 + k * 0.25), row0); await nextFrames(page, 1); }
          await one('touchEnd');
          await nextFrames(page, 3);
          const cells = (await page.evaluate(() => window.attnplay.getConfig())).attention.mask.cells;
          assert.deepEqual(cells.filter(([i]) => i === 0).map(([, j]) => j).sort(), [2, 3, 4], JSON.stringify(cells));
          await page.screenshot({ path: path.join(SHOTS, 'layout-phone-painted.png') });
          await page.evaluate(() => window.attnplay.setView('attention'));
          await nextFrames(page, 3);
          // Tapping the token text focuses the text box that brings up the on-screen keyboard.
          const t = (await layoutOf(page)).text_input;
          await page.touchscreen.tap(t[0] + 20, t[1] + t[3] / 2);
          await nextFrames(page, 3);
          assert.equal(await page.evaluate(() => document.activeElement && document.activeElement.tagName), 'TEXTAREA');
        }
        assert.deepEqual(errors, []);
        await page.close();
      }
    } finally {
      await phone.close();
    }
  });

  test('article 720x440 iframe on another origin: no window chrome, the figure fills its frame; wheel scrolls the article', async () => {
    const { server, url } = await article(`<iframe id="fig" style="width:720px;height:440px;border:0" src="${env.base}embed.html?preset=cat&hide=controls,menu"></iframe>`);
    const page = await env.context.newPage();
    await page.setViewportSize({ width: 1000, height: 800 });
    try {
      await page.goto(url);
      const frame = page.frames().find((f) => f.url().startsWith(env.base));
      await ready(frame);
      for (const lang of ['en', 'zh']) {
        const shoot = async (file) => page.screenshot({ path: file, clip: await page.locator('#fig').boundingBox() });
        await everyView(frame, shoot, 'article', lang, { width: 720, height: 440 }, 'medium', (l, where) => {
          assert.ok(!l.ab_start, `${where}: A/B only when asked for (ab=1)`);
          assert.ok(l.views_panel[1] < 1, `${where}: no title bar above the figure`);
        });
        if (lang === 'en') {
          // the page's lang switches through a reload with lang=zh
          await frame.goto(`${env.base}embed.html?preset=cat&hide=controls,menu&lang=zh`);
          await ready(frame);
        }
      }
      // A wheel turn over the figure scrolls the article (nothing in the figure scrolls there) ...
      await frame.evaluate(() => window.attnplay.setView('attention'));
      await nextFrames(frame, 3);
      const box = await page.locator('#fig').boundingBox();
      await page.evaluate(() => window.scrollTo(0, 0));
      const y0 = await page.evaluate(() => window.scrollY);
      const fl = await layoutOf(frame);
      const over = { x: box.x + fl.weights[0] + 10, y: box.y + fl.weights[1] + 10 };
      await page.mouse.move(over.x, over.y);
      await page.mouse.wheel(0, 300);
      await page.waitForTimeout(500);
      const y1 = await page.evaluate(() => window.scrollY);
      assert.ok(y1 > y0 + 100, `the article scrolled (${y0} -> ${y1})`);
      // ... and Ctrl+wheel zooms the heatmap instead, as an embedded map does.
      await page.evaluate(() => window.scrollTo(0, 0));
      await page.waitForTimeout(200);
      const b2 = await page.locator('#fig').boundingBox();
      const l2 = await layoutOf(frame);
      await page.mouse.move(b2.x + l2.weights[0] + l2.weights[2] / 2, b2.y + l2.weights[1] + l2.weights[3] / 2);
      await page.keyboard.down('Control');
      await page.mouse.wheel(0, -200);
      await page.keyboard.up('Control');
      await page.waitForTimeout(300);
      assert.ok((await stats(frame)).zoom > 1, 'Ctrl+wheel zooms');
      assert.equal(await page.evaluate(() => window.scrollY), 0, 'and the article stays');
    } finally {
      await page.close();
      server.close();
    }
  });

  test('phone article: a vertical swipe over the embedded figure scrolls the article', async () => {
    const phone = await launch({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 3 });
    const { server, url } = await article(`<iframe id="fig" style="width:100%;height:440px;border:0" src="${env.base}embed.html?preset=cat&hide=controls,menu&view=attention"></iframe>`);
    try {
      const page = await phone.newPage();
      await page.goto(url);
      const frame = page.frames().find((f) => f.url().startsWith(env.base));
      await ready(frame);
      await page.locator('#fig').scrollIntoViewIfNeeded();
      const box = await page.locator('#fig').boundingBox();
      const y0 = await page.evaluate(() => window.scrollY);
      const cdp = await phone.newCDPSession(page);
      const x = box.x + box.width / 2, y = box.y + box.height * 0.6;
      await cdp.send('Input.dispatchTouchEvent', { type: 'touchStart', touchPoints: [{ x, y, id: 1 }] });
      for (let k = 1; k <= 10; k++) {
        await cdp.send('Input.dispatchTouchEvent', { type: 'touchMove', touchPoints: [{ x, y: y - k * 25, id: 1 }] });
        await page.waitForTimeout(16);
      }
      await cdp.send('Input.dispatchTouchEvent', { type: 'touchEnd', touchPoints: [] });
      await page.waitForTimeout(600);
      const y1 = await page.evaluate(() => window.scrollY);
      assert.ok(y1 > y0 + 80, `the article scrolled under the swipe (${y0} -> ${y1})`);
      await page.screenshot({ path: path.join(SHOTS, 'layout-phone-article.png') });
    } finally {
      await phone.close();
      server.close();
    }
  });
});

describe('figures that read at a glance', () => {
  test('Chinese column labels stand upright; the Train panel\'s plots fit the side panel and the phone column', async () => {
    for (const [name, size] of [['tablet', { width: 768, height: 1024 }], ['phone', { width: 390, height: 844 }]]) {
      const { page, errors } = await open(`?lang=zh&text=${encodeURIComponent('今天天气很好')}&tokenizer=chars`, size);
      await page.waitForFunction(() => window.attnplay.stats().cjk_font, null, { timeout: 30000 });
      await nextFrames(page, 5);
      const r = await page.evaluate(() => window.attnplay.result());
      assert.deepEqual(r.tokens, ['今', '天', '天', '气', '很', '好']);
      await page.screenshot({ path: path.join(SHOTS, `layout-${name}-zh-chinese-tokens.png`) });
      // Train: open the section (the side panel's Controls tab, or the phone's Controls section), play a few steps.
      const click = async (n) => {
        const l = await layoutOf(page);
        assert.ok(l[n], `${n} on screen (${Object.keys(l).filter((k) => k.startsWith('h_') || k.startsWith('tab_')).join(' ')})`);
        await page.mouse.click(l[n][0] + Math.min(30, l[n][2] / 2), l[n][1] + l[n][3] / 2, { delay: 60 });
        await nextFrames(page, 3);
      };
      if (name === 'phone') await click('h_controls');
      else await click('tab_side_controls');
      const scrollTo = async (n) => {
        for (let k = 0; k < 20; k++) {
          const l = await layoutOf(page);
          if (l[n] && l[n][1] + l[n][3] < size.height - 20 && l[n][1] > 40) return;
          await page.mouse.move(size.width - 60, size.height * 0.75);
          await page.mouse.wheel(0, 250);
          await nextFrames(page, 2);
        }
      };
      await scrollTo('h_train');
      await click('h_train');
      await scrollTo('train_play');
      await click('train_play');
      await page.waitForFunction(() => window.attnplay.stats().train.step >= 5, null, { timeout: 60000 });
      await click('train_play');  // Pause: the button stayed under the finger when Play changed the text above it
      assert.equal((await stats(page)).train.running, false, `${name}: Pause where Play was`);
      await scrollTo('train_accuracy_plot');
      await nextFrames(page, 3);
      const l = await layoutOf(page);
      const st = await stats(page);
      checkLayout(l, st, size, `${name} train`, false);  // scrolled down to the plots: the view is above
      const win = l.win_side || l.win_page;
      assert.ok(l.train_loss_plot[2] >= 0.5 * win[2], `the loss plot spans the panel (${l.train_loss_plot[2]} of ${win[2]})`);
      await page.screenshot({ path: path.join(SHOTS, `layout-${name}-zh-train.png`) });
      assert.deepEqual(errors, []);
      await page.close();
    }
  });
});

describe('fonts on demand', () => {
  const gz = (file) => zlib.gzipSync(fs.readFileSync(file), { level: 9 }).length;
  async function visit(query) {
    const page = await env.context.newPage();
    const files = [];
    page.on('request', (r) => { if (r.url().startsWith(env.base)) files.push(new URL(r.url()).pathname); });
    await page.goto(`${env.base}index.html${query}&autosave=0`);
    await ready(page);
    await page.waitForTimeout(600);
    return { page, files };
  }
  const bytes = (files) => files.reduce((n, f) => n + gz(path.join(WEB, decodeURIComponent(f).replace(/^\/+/, '') || 'index.html')), 0);
  const cjk = (files) => files.filter((f) => f.endsWith('attnplay-cjk.ttf')).length;

  test('an English page never asks for the CJK font; typing 你好 asks once; lang=zh asks once', async () => {
    const en = await visit('?preset=cat');
    assert.equal(cjk(en.files), 0, en.files.join(' '));
    const first = bytes(en.files);
    console.log(`  first visit, English: ${(first / 1e6).toFixed(3)} MB gzip over ${en.files.length} files (${en.files.join(', ')})`);
    assert.ok(first <= 0.8e6, `first visit of an English page is ${first} bytes gzip (goal: 0.8 MB)`);
    await en.page.evaluate(() => window.attnplay.setConfig({ text: '你好 world' }));
    await en.page.waitForFunction(() => window.attnplay.stats().cjk_font, null, { timeout: 30000 });
    await en.page.evaluate(() => window.attnplay.setConfig({ text: '你好 再见' }));
    await nextFrames(en.page, 5);
    assert.equal(cjk(en.files), 1, 'exactly one font request after typing Chinese');
    await en.page.screenshot({ path: path.join(SHOTS, 'fonts-after-typing-chinese.png') });
    await en.page.close();
    const zh = await visit('?preset=cat&lang=zh');
    await zh.page.waitForFunction(() => window.attnplay.stats().cjk_font, null, { timeout: 30000 });
    await nextFrames(zh.page, 5);
    assert.equal(cjk(zh.files), 1);
    console.log(`  first visit, Chinese: ${(bytes(zh.files) / 1e6).toFixed(3)} MB gzip`);
    await zh.page.close();
  });
});

describe('accessibility', () => {
  test('the DOM mirror holds the focused head as a table equal to result(), the walkthrough and a summary', async () => {
    const { page, errors } = await open('?preset=cat');
    await page.evaluate(() => window.attnplay.highlight(2, 4));
    await page.waitForFunction(() => {
      const w = document.querySelector('[data-attnplay-mirror] [data-walkthrough]');
      return w && w.textContent.includes('2 "sat"') && w.textContent.includes('4 "the"');
    }, null, { timeout: 10000 });
    const table = await page.evaluate(() => {
      const t = document.querySelector('[data-attnplay-mirror] table');
      return {
        cols: [...t.querySelectorAll('thead th')].slice(1).map((th) => th.textContent),
        rows: [...t.querySelectorAll('tbody tr')].map((tr) => ({ head: tr.querySelector('th').textContent,
                                                                  cells: [...tr.querySelectorAll('td')].map((td) => Number(td.textContent)) })),
      };
    });
    const r = await page.evaluate(() => window.attnplay.result());
    const w = r.layers[0].heads[0].weights;
    assert.deepEqual(table.cols, r.tokens);
    assert.deepEqual(table.rows.map((x) => x.head), r.tokens);
    for (let i = 0; i < w.length; i++)
      for (let j = 0; j < w[i].length; j++) assert.ok(Math.abs(table.rows[i].cells[j] - w[i][j]) <= 1e-3, `cell ${i},${j}`);
    const snapshot = await page.locator('body').ariaSnapshot();  // the page's accessibility tree holds the table
    assert.match(snapshot, /table/);
    assert.match(snapshot, /columnheader "cat"/);
    assert.match(await page.locator('[data-attnplay-mirror] [data-summary]').textContent(), /scaled_dot attention, 7 tokens/);
    // Keyboard: click the heatmap, then arrows move the explained cell.
    const l = await layoutOf(page);
    const g = l.weights_grid;
    await page.mouse.click(g[0] + g[2] * 0.5, g[1] + g[2] * 0.5, { delay: 80 });
    await frames(page, 3);
    await page.keyboard.press('ArrowRight');
    await frames(page, 2);
    await page.keyboard.press('ArrowDown');
    await frames(page, 3);
    const st = await stats(page);
    assert.deepEqual([st.sel.query, st.sel.key], [1, 1]);
    assert.deepEqual(errors, []);
    await page.close();
  });
});
