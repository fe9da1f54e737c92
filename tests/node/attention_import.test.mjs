// Bring your own attention through attnplay-core.mjs: tools/export_attention.py's files (committed demo export,
// and a fresh run of the tool with Debian's python3-torch) read back as the PyTorch model's maps.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { FIXTURES, ROOT, compareNested, loadCore, tmpDir } from './helpers.mjs';

const core = await loadCore();
const dir = path.join(FIXTURES, 'attention');
const expected = JSON.parse(fs.readFileSync(path.join(dir, 'expected.json'), 'utf8'));
const read = (name) => new Uint8Array(fs.readFileSync(path.join(dir, name)));

function checkDemo(r, labelled) {
  assert.equal(r.layers.length, 2);
  assert.equal(r.layers[0].heads.length, 4);
  assert.deepEqual(r.tokens, labelled ? expected.tokens : expected.tokens.map((_, i) => `q${i}`));
  const got = r.layers.map((l) => l.heads.map((h) => h.weights));
  const acc = compareNested(got, expected.attention);
  assert.deepEqual(acc.failures.slice(0, 5), [], `worst err/allowed ${acc.worst}`);
}

describe('core.importAttention', () => {
  for (const name of ['demo.npz', 'demo.npy', 'demo.safetensors', 'demo.json']) {
    test(name, () => checkDemo(core.importAttention(read(name), name), name !== 'demo.npy'));
  }
  test('JSON text is accepted as well as bytes', () => {
    const r = core.importAttention(JSON.stringify({ attention: [[1, 0], [0.25, 0.75]], tokens: ['今天', '天气'] }), 'x.json');
    assert.deepEqual(r.tokens, ['今天', '天气']);
    assert.deepEqual(r.layers[0].heads[0].weights, [[1, 0], [0.25, 0.75]]);
  });
  for (const [name, message] of [['bad_compressed.npz', 'np.savez_compressed'], ['bad_nan.npy', 'is not finite'],
                                 ['bad_tokens.npz', 'tokens has 9 entries']]) {
    test(`refuses ${name}`, () => assert.throws(() => core.importAttention(read(name), name), (e) => e.message.includes(message)));
  }
});

describe('tools/export_attention.py', () => {
  test('exports an nn.TransformerEncoder\'s attention that attnplay reads back', () => {
    const tmp = tmpDir();
    for (const ext of ['npz', 'safetensors']) {
      const out = path.join(tmp, `demo.${ext}`);
      const r = spawnSync('/usr/bin/python3', [path.join(ROOT, 'tools/export_attention.py'), '--demo', '-o', out], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, /\[2, 4, 10, 10\], 10 tokens/);
      checkDemo(core.importAttention(new Uint8Array(fs.readFileSync(out)), `demo.${ext}`), true);
    }
    const bad = spawnSync('/usr/bin/python3', [path.join(ROOT, 'tools/export_attention.py'), '--demo', '-o', path.join(tmp, 'x.txt')],
                          { encoding: 'utf8' });
    assert.notEqual(bad.status, 0);
    assert.match(bad.stderr, /-o must end in \.npz, \.npy, \.safetensors or \.json/);
  });
});
