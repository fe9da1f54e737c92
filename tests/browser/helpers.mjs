// attnplay browser tests: shared set-up. Serves build/web on a loopback port, launches Debian's Chromium through
// playwright-core (SwiftShader WebGL2), opens pages and waits for the app.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const WEB = process.env.ATTNPLAY_WEB || path.join(ROOT, 'build/web');
export const SHOTS = path.join(ROOT, 'build/screenshots');
fs.mkdirSync(SHOTS, { recursive: true });

const TYPES = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.mjs': 'text/javascript', '.wasm': 'application/wasm',
                '.css': 'text/css', '.ttf': 'font/ttf', '.json': 'application/json' };

// A static server for build/web on a free loopback port (what plain static hosting does).
export function serve(dir) {
  return new Promise((resolve) => {
    // Large request headers allowed, so that hostile multi-megabyte URLs reach the page (whose own caps are under test).
    const server = http.createServer({ maxHeaderSize: 4 << 20 }, (req, res) => {
      const url = new URL(req.url, 'http://x');
      const file = path.join(dir, path.normalize(decodeURIComponent(url.pathname)).replace(/^([/\\])+/, '') || 'index.html');
      if (!file.startsWith(dir) || !fs.existsSync(file) || fs.statSync(file).isDirectory()) {
        res.writeHead(404);
        res.end('not found');
        return;
      }
      res.writeHead(200, { 'Content-Type': TYPES[path.extname(file)] || 'application/octet-stream', 'Content-Length': fs.statSync(file).size });
      fs.createReadStream(file).pipe(res);
    });
    server.listen(0, '127.0.0.1', () => resolve(server));
  });
}

const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
              '--disable-component-update', '--disable-sync', '--use-angle=swiftshader', '--enable-unsafe-swiftshader'];

export const env = { server: null, context: null, base: '' };

// Starts the server and the browser (call from before()); stop() from after().
export async function start() {
  env.server = await serve(WEB);
  env.base = `http://127.0.0.1:${env.server.address().port}/`;
  env.context = await chromium.launchPersistentContext(fs.mkdtempSync(path.join(os.tmpdir(), 'attnplay-chromium-')), {
    executablePath: '/usr/bin/chromium', headless: true, args: ARGS, viewport: { width: 1280, height: 720 }, acceptDownloads: true,
  });
  return env;
}

// Another browser with its own context options (a phone: isMobile, hasTouch, deviceScaleFactor); close() it.
// profile: a user-data directory to reuse (the browser reopened on the same profile), else a fresh one.
export function launch(options = {}, profile = fs.mkdtempSync(path.join(os.tmpdir(), 'attnplay-chromium-'))) {
  return chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium', headless: true, args: ARGS, viewport: { width: 1280, height: 720 }, ...options,
  });
}

// A page on another origin (a second loopback server): an article with `body` near its top (on screen: Chromium
// pauses the frames of an off-screen cross-origin iframe) and a long text under it to scroll.
export function article(body) {
  const para = '<p>Attention lets each token look at every other token. '.repeat(12) + '</p>';
  const html = `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>article</title><style>body{font:18px/1.6 Georgia,serif;margin:0 auto;max-width:760px;padding:0 10px}</style></head>
<body><h1>Attention, explained</h1><p>Each token looks at the others:</p>${body}${para}${para}${para}${para}${para}${para}</body></html>`;
  return new Promise((resolve) => {
    const s = http.createServer((req, res) => { res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' }); res.end(html); });
    s.listen(0, '127.0.0.1', () => resolve({ server: s, url: `http://localhost:${s.address().port}/` }));
  });
}

// Waits in a page or frame until the app has drawn a few frames.
export async function ready(target) {
  await target.waitForFunction(() => window.attnplay && window.attnplay.stats().frame > 5, null, { timeout: 60000 });
}

export async function stop() {
  await env.context?.close();
  env.server?.close();
}

// index.html saves the workspace and restores it on the next visit (issue 15): tests share one browser profile, so
// their pages opt out (autosave=0) and tests/browser/autosave.test.mjs tests it in a profile of its own.
export const noAutosave = (query = '') => (query ? `${query}&autosave=0` : '?autosave=0');

// Opens a page and waits for the app: window.attnplay ready and a few frames drawn (fonts loaded).
export async function open(query = '', viewport, pagePath = 'index.html') {
  if (pagePath === 'index.html') query = noAutosave(query);
  const page = await env.context.newPage();
  if (viewport) await page.setViewportSize(viewport);
  const errors = [];
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(env.base + pagePath + query);
  await page.waitForFunction(() => window.attnplay, null, { timeout: 60000 });
  await page.evaluate(() => window.attnplay.ready);
  await page.waitForFunction(() => window.attnplay.stats().frame > 5, null, { timeout: 60000 });
  return { page, errors };
}

export const rect = (layout, name) => {
  assert.ok(layout[name], `widget ${name} is on screen (have: ${Object.keys(layout).slice(0, 40).join(', ')})`);
  const [x, y, w, h] = layout[name];
  return { x: x + w / 2, y: y + h / 2 };
};
export const frames = (page, n = 3) => page.evaluate((n) => new Promise((res) => {
  const start = window.attnplay.stats().frame;
  const tick = () => (window.attnplay.stats().frame >= start + n ? res() : requestAnimationFrame(tick));
  tick();
}), n);
export const layout = (page) => page.evaluate(() => window.attnplay.layout());
export const result = (page) => page.evaluate(() => window.attnplay.result());
export const rowSum = (row) => row.reduce((a, b) => a + b, 0);


// A click in the middle of the widget `name` (app.layout()), then two frames.
export const click = async (page, name) => {
  await page.mouse.click(...Object.values(rect(await layout(page), name)), { delay: 60 });
  await frames(page, 2);
};

// In the Geometry view (A/B started, so the drag edits A): drags query point 1 up and to the right in 6 steps, a frame
// each, as a hand would.
export async function dragQueryPoint(page) {
  await click(page, 'ab_start');  // A = now; the drag edits A, B keeps the start
  await click(page, 'tab_Geometry');
  const q = (await layout(page)).geo_q_1;
  await page.mouse.move(q[0], q[1]);
  await page.mouse.down();
  for (let k = 1; k <= 6; ++k) {
    await page.mouse.move(q[0] + 12 * k, q[1] - 6 * k);
    await frames(page, 1);
  }
  await page.mouse.up();
  await frames(page, 3);
}
