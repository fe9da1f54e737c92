// attnplay browser tests: a lost WebGL context is not a lost page (mobile browsers drop contexts of background
// tabs; desktops drop them on GPU resets). WEBGL_lose_context takes the context away and gives it back.
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { SHOTS, frames, open, start, stop } from './helpers.mjs';

before(start);
after(stop);

describe('graphics context loss', () => {
  test('lose and restore: a notice while lost, the same state after, and an edit made meanwhile is drawn', async () => {
    const { page, errors } = await open('?preset=cat&view=attention');
    await page.evaluate(() => window.attnplay.highlight(2, 3));
    await frames(page, 3);
    const before = await page.evaluate(() => ({ r: window.attnplay.result().layers[0].heads[0].weights, s: window.attnplay.stats() }));
    await page.evaluate(() => { window.__lose = document.getElementById('canvas').getContext('webgl2').getExtension('WEBGL_lose_context'); window.__lose.loseContext(); });
    await page.waitForFunction(() => window.attnplay.stats().gl_lost, null, { timeout: 10000 });
    const notice = await page.evaluate(() => { const s = document.querySelector('[role=status]'); return { shown: getComputedStyle(s).display !== 'none', text: s.textContent }; });
    assert.ok(notice.shown, 'a notice is shown while the graphics are gone');
    assert.match(notice.text, /Graphics paused, restoring/);
    await page.screenshot({ path: path.join(SHOTS, 'web-context-lost.png') });
    // An edit while lost: the state takes it at once; it is drawn once the context is back.
    const edited = page.evaluate(() => window.attnplay.setConfig({ text: 'the dog sat on a log' }).then((r) => r.tokens));
    assert.deepEqual(await page.evaluate(() => window.attnplay.getConfig().text), 'the dog sat on a log');
    await page.evaluate(() => window.__lose.restoreContext());
    await page.waitForFunction(() => window.attnplay.stats().gl_restores === 1 && !window.attnplay.stats().gl_lost, null, { timeout: 10000 });
    assert.deepEqual(await edited, ['the', 'dog', 'sat', 'on', 'a', 'log']);
    await frames(page, 5);
    const after = await page.evaluate(() => ({ s: window.attnplay.stats(), hidden: getComputedStyle(document.querySelector('[role=status]')).display === 'none' }));
    assert.ok(after.hidden, 'the notice is gone');
    assert.ok(after.s.frame > before.s.frame + 3, 'frames are drawn again');
    assert.deepEqual([after.s.sel.query, after.s.sel.key], [2, 3], 'the selection survived');
    // The drawing is back: the weights heatmap's pixels are coloured (viridis), not the blank clear colour.
    const l = await page.evaluate(() => window.attnplay.layout());
    const shot = await page.screenshot({ path: path.join(SHOTS, 'web-context-restored.png'),
                                         clip: { x: l.weights[0], y: l.weights[1], width: l.weights[2], height: l.weights[3] } });
    assert.ok(shot.length > 2000, `the heatmap region has content (${shot.length} bytes of PNG)`);
    // Back to the first text: the same weights as before the loss.
    await page.evaluate(() => window.attnplay.setConfig({ text: 'The cat sat on the mat.' }));
    const again = await page.evaluate(() => window.attnplay.result().layers[0].heads[0].weights);
    assert.deepEqual(again, before.r);
    assert.deepEqual(errors, []);
    await page.close();
  });
});
