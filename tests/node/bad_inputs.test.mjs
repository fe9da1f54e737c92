// The bad-input table (tests/bad_inputs.json): every case is refused with its message by the CLI (exit 2, one
// stderr line, nothing written) and by core.compute (a thrown Error); none crashes or hangs.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { ROOT, loadCore, runCli, tmpDir } from './helpers.mjs';

const table = JSON.parse(fs.readFileSync(path.join(ROOT, 'tests/bad_inputs.json'), 'utf8'));
const core = await loadCore();
const dir = tmpDir();

test('the table has at least 30 cases', () => assert.ok(table.cases.length >= 30, `${table.cases.length}`));

describe('CLI refuses', () => {
  for (const c of table.cases) {
    test(c.name, () => {
      const cfg = path.join(dir, `${c.name}.json`);
      fs.writeFileSync(cfg, c.raw ?? JSON.stringify(c.config));
      const out = path.join(dir, `${c.name}.out.json`);
      const args = ['compute', cfg, '-o', out];
      if (c.weights) args.push('--weights', path.join(ROOT, 'tests', c.weights));
      const r = runCli(args);
      assert.equal(r.signal, null, `killed by ${r.signal}`);
      assert.equal(r.status, 2, `exit ${r.status}, stderr: ${r.stderr}`);
      const lines = r.stderr.trimEnd().split('\n');
      assert.equal(lines.length, 1, `one stderr line, got: ${r.stderr}`);
      assert.ok(lines[0].startsWith('attnplay: '), lines[0]);
      assert.ok(lines[0].includes(c.error), `stderr "${lines[0]}" lacks "${c.error}"`);
      assert.equal(r.stdout, '');
      assert.ok(!fs.existsSync(out), 'no output file on failure');
      assert.deepEqual(fs.readdirSync(dir).filter((f) => f.includes('.tmp-')), [], 'no temporary file left');
    });
  }
});

describe('core.compute refuses', () => {
  for (const c of table.cases) {
    test(c.name, () => {
      const weights = c.weights ? new Uint8Array(fs.readFileSync(path.join(ROOT, 'tests', c.weights))) : undefined;
      assert.throws(() => core.compute(c.raw ?? c.config, weights), (e) => {
        assert.ok(e instanceof Error);
        assert.ok(e.message.includes(c.error), `"${e.message}" lacks "${c.error}"`);
        return true;
      });
    });
  }
  test('the engine still works after every refusal', () => {
    const r = core.compute({ text: 'still alive' });
    assert.deepEqual(r.tokens, ['still', 'alive']);
  });
});

describe('CLI usage errors', () => {
  const cases = [
    [['compute'], 'missing CONFIG.json'],
    [['compute', '/nonexistent/config.json'], '/nonexistent/config.json: cannot open'],
    [['compute', '-', '--weights', '/nonexistent/w.safetensors'], '/nonexistent/w.safetensors: cannot open'],
    [['compute', '-', '--bogus'], 'unknown option --bogus'],
    [['weights', '-'], 'weights needs -o MODEL.safetensors'],
    [['frobnicate'], "unknown command 'frobnicate'"],
  ];
  for (const [args, msg] of cases) {
    test(args.join(' '), () => {
      const r = runCli(args, '{}');
      assert.equal(r.status, 2);
      assert.ok(r.stderr.includes(msg), r.stderr);
    });
  }
  test('weights refuses a bad config and writes nothing', () => {
    const out = path.join(dir, 'w.safetensors');
    const r = runCli(['weights', '-', '-o', out], '{"heads": 5}');
    assert.equal(r.status, 2);
    assert.ok(r.stderr.includes('heads must divide d_model (got d_model=16, heads=5)'), r.stderr);
    assert.ok(!fs.existsSync(out));
  });
});

describe('JS fast paths refuse bad arguments', () => {
  const f = (n) => new Float32Array(n);
  const cases = [
    [() => core.attention({ q: f(4), k: f(4), v: f(4), dk: 3 }), 'nq must be an integer'],
    [() => core.attention({ q: [1, 2], k: f(2), v: f(2), dk: 2 }), 'q must be a Float32Array'],
    [() => core.attention({ q: f(8), k: f(4), v: f(4), dk: 2, nq: 2, nk: 2, heads: 2 }), 'k has 4 values, expected 8'],
    [() => core.attention({ q: f(4), k: f(4), v: f(4), dk: 2, scale: NaN }), 'scale must be a finite number'],
    [() => core.multiHeadAttention({ x: f(8), wq: f(16), wk: f(16), wv: f(16), wo: f(16), dModel: 4, heads: 3 }), 'heads must divide dModel'],
    [() => core.multiHeadAttention({ x: f(8), wq: f(16), wk: f(16), wv: f(15), wo: f(16), dModel: 4, heads: 2 }), 'wv has 15 values, expected 16'],
    [() => core.compute({ attention: { temperature: Infinity } }), 'temperature must be a finite number'],
    [() => core.compute({ text: 'a' }, [1, 2, 3]), 'weights must be a Uint8Array'],
  ];
  cases.forEach(([fn, msg], i) => test(`case ${i}: ${msg}`, () => assert.throws(fn, (e) => e.message.includes(msg))));
});
