// The npm package (issue 16): `npm pack`'s tarball (build/package, ./build.sh package) installed into an empty
// directory with no network (npm --offline: the package has no dependencies), then web/npm/example served from there:
// the page imports the package by name (an import map), mounts the playground and computes with createCore().
// Node imports attnplay/core from the installed package too, and tsc --strict checks a use (and a misuse) of the types.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ROOT, SHOTS, launch, serve } from './helpers.mjs';

const PACKAGE = process.env.ATTNPLAY_PACKAGE || path.join(ROOT, 'build/package');
let dir, server, browser;

before(async () => {
  const tgz = fs.existsSync(PACKAGE) && fs.readdirSync(PACKAGE).find((f) => /^attnplay-.*\.tgz$/.test(f));
  assert.ok(tgz, `no attnplay-*.tgz in ${PACKAGE}: run ./build.sh package first`);
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'attnplay-npm-'));
  fs.cpSync(path.join(ROOT, 'web/npm/example'), dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'example', private: true, type: 'module' }));
  const r = spawnSync('npm', ['install', '--offline', '--no-audit', '--no-fund', '--loglevel=error', path.join(PACKAGE, tgz)],
                      { cwd: dir, encoding: 'utf8' });
  assert.equal(r.status, 0, `npm install of the tarball, offline: ${r.stderr}`);
  server = await serve(dir);
  browser = await launch();
});
after(async () => {
  await browser?.close();
  server?.close();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe('npm package', () => {
  test('installed from the tarball, the example page mounts the playground and createCore() computes', async () => {
    const page = await browser.newPage();
    const errors = [];
    page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
    page.on('pageerror', (e) => errors.push(e.message));
    const base = `http://127.0.0.1:${server.address().port}/`;
    const requests = [];
    const missing = [];
    page.on('request', (req) => requests.push(req.url()));
    page.on('response', (res) => { if (res.status() >= 400) missing.push(`${res.status()} ${res.url()}`); });
    await page.goto(`${base}index.html`);
    await page.waitForFunction(() => window.attnplay && window.attnplay.stats().frame > 5, null, { timeout: 60000 });
    const core = await page.evaluate(() => window.exampleCore);
    assert.deepEqual(core.tokens, ['今', '天', '天', '气', '很', '好']);
    const row = core.weights[0];
    assert.ok(Math.abs(row.reduce((a, b) => a + b, 0) - 1) < 1e-5, 'a row of softmax weights sums to 1');
    assert.equal(await page.evaluate(() => window.attnplay.stats().preset), 'chinese');
    assert.match(await page.textContent('#numbers'), /^今 天 天 气 很 好: the first row of head 0 is /);
    await page.screenshot({ path: path.join(SHOTS, 'npm-example.png') });
    const foreign = requests.filter((u) => !u.startsWith(base) && !/^(data|blob):/.test(u));
    assert.deepEqual(foreign, [], 'everything came from the installed package');
    assert.ok(requests.some((u) => u.includes('/node_modules/attnplay/attnplay-app.wasm')), 'the app came from node_modules');
    assert.deepEqual(missing, [], 'every file the page asked for is in the package');
    assert.deepEqual(errors, []);
    await page.close();
  });

  test('Node imports attnplay/core by name from the installed package; the types name every export', () => {
    const script = `import { createCore } from 'attnplay/core';
const core = await createCore();
const r = core.compute({ text: 'the cat sat', heads: 2 });
console.log(JSON.stringify({ tokens: r.tokens, heads: r.layers[0].heads.length, simd: core.simd }));`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: dir, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), { tokens: ['the', 'cat', 'sat'], heads: 2, simd: true });
    const pkg = path.join(dir, 'node_modules/attnplay');
    const manifest = JSON.parse(fs.readFileSync(path.join(pkg, 'package.json'), 'utf8'));
    for (const [name, entry] of Object.entries(manifest.exports)) {
      const files = typeof entry === 'string' ? [entry] : Object.values(entry);
      for (const f of files) if (!f.includes('*')) assert.ok(fs.existsSync(path.join(pkg, f)), `exports["${name}"] -> ${f} is in the tarball`);
    }
    const dts = fs.readFileSync(path.join(pkg, 'attnplay.d.ts'), 'utf8');
    for (const name of ['mount', 'mountInline', 'hasWebGL2', 'hasWasmSimd']) assert.match(dts, new RegExp(`export function ${name}\\(`));
    // tsc --strict compiles a use of both APIs against the installed package, and refuses a misuse (the types are real,
    // not `any`): a view that does not exist, a weight that is not a number.
    const tsc = path.join(ROOT, 'tests/browser/node_modules/typescript/bin/tsc');
    const compile = (source) => {
      fs.writeFileSync(path.join(dir, 'check.ts'), source);
      fs.writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions: {
        strict: true, noEmit: true, module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', lib: ['es2022', 'dom'],
      }, files: ['check.ts'] }));
      return spawnSync(process.execPath, [tsc, '-p', dir], { cwd: dir, encoding: 'utf8' });
    };
    const good = compile(fs.readFileSync(path.join(ROOT, 'tests/browser/npm/types_check.ts'), 'utf8'));
    assert.equal(good.status, 0, `tsc on tests/browser/npm/types_check.ts: ${good.stdout}${good.stderr}`);
    const bad = compile(`import { mount } from 'attnplay';\nimport { createCore } from 'attnplay/core';
const app = await mount(document.body);\napp.setView('nope');
const s: string = (await createCore()).compute({}).layers[0].heads[0].weights[0][0];\nexport {};\n`);
    assert.notEqual(bad.status, 0, 'tsc refuses a misuse');
    assert.match(bad.stdout, /'"nope"' is not assignable/);
    assert.match(bad.stdout, /Type 'number' is not assignable to type 'string'/);
    const coreDts = fs.readFileSync(path.join(pkg, 'attnplay-core.d.ts'), 'utf8');
    assert.match(coreDts, /export function createCore\(/);
    for (const m of ['compute', 'loadModel', 'weights', 'importAttention', 'attention', 'multiHeadAttention', 'createTrainer']) {
      assert.match(coreDts, new RegExp(`\\n  ${m}\\(`), `Core.${m} is typed`);
    }
  });
});
