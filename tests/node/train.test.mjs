// `attnplay train`: toy tasks and data files train the tiny Transformer; the output is a weights file that `compute`
// loads; bad input is refused by name (exit 2, one stderr line, nothing written). Step counts, never times.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { runCli, tmpDir } from './helpers.mjs';

const dir = tmpDir();
const write = (name, obj) => {
  const p = path.join(dir, name);
  fs.writeFileSync(p, typeof obj === 'string' ? obj : JSON.stringify(obj));
  return p;
};
const small = write('small.json', { mode: 'transformer', d_model: 32, heads: 4, transformer: { layers: 2, d_ff: 64 } });
const lines = (stdout) => stdout.trim().split('\n').map((l) => {
  const m = /^step (\d+)\/(\d+)  loss ([\d.e+-]+)  accuracy ([\d.]+)$/.exec(l);
  assert.ok(m, `progress line "${l}"`);
  return { step: +m[1], of: +m[2], loss: +m[3], accuracy: +m[4] };
});

describe('attnplay train', () => {
  test('reverse: loss falls to near 0 and the weights file computes', () => {
    const out = path.join(dir, 'reverse.safetensors');
    const r = runCli(['train', small, '--task', 'reverse', '--length', '6', '--vocab', '8', '--steps', '400', '--batch', '16',
                      '--optimizer', 'adam', '--lr', '3e-3', '--seed', '5', '-o', out]);
    assert.equal(r.status, 0, r.stderr);
    const ls = lines(r.stdout);
    assert.equal(ls[0].step, 1);
    assert.equal(ls.at(-1).step, 400);
    console.log(`  reverse: loss ${ls[0].loss} -> ${ls.at(-1).loss}, accuracy ${ls.at(-1).accuracy}`);
    assert.ok(ls[0].loss > 1.5, 'starts near chance');
    assert.ok(ls.at(-1).accuracy >= 0.99, `accuracy ${ls.at(-1).accuracy}`);
    // The trained model reverses "1 2 3 4 5 6" through compute --weights: argmax of each position's logits.
    const cfg = write('reverse_compute.json', { mode: 'transformer', d_model: 32, heads: 4, transformer: { layers: 2, d_ff: 64 },
                                                text: '1 2 3 4 5 6' });
    const c = runCli(['compute', cfg, '--weights', out]);
    assert.equal(c.status, 0, c.stderr);
    const res = JSON.parse(c.stdout);
    const argmax = res.logits.map((row) => res.vocab[row.indexOf(Math.max(...row))]);
    assert.deepEqual(argmax, ['6', '5', '4', '3', '2', '1']);
  });

  test('the same seed gives the same weights; another seed other weights', () => {
    const run = (seed, name) => {
      const out = path.join(dir, name);
      const r = runCli(['train', small, '--task', 'sort', '--steps', '5', '--seed', String(seed), '-o', out]);
      assert.equal(r.status, 0, r.stderr);
      return fs.readFileSync(out);
    };
    assert.ok(run(3, 'a.safetensors').equals(run(3, 'b.safetensors')));
    assert.ok(!run(3, 'c.safetensors').equals(run(4, 'd.safetensors')));
  });

  test('--data with token strings, ignored targets, SGD, and start weights from a file', () => {
    const data = write('data.json', { inputs: [['the', 'cat', 'sat'], ['a', 'dog', 'ran']],
                                      targets: [['cat', 'sat', null], ['dog', 'ran', -100]] });
    const out = path.join(dir, 'data.safetensors');
    const r = runCli(['train', small, '--data', data, '--steps', '60', '--optimizer', 'sgd', '--lr', '0.5', '-o', out]);
    assert.equal(r.status, 0, r.stderr);
    const ls = lines(r.stdout);
    assert.ok(ls.at(-1).loss < ls[0].loss / 4, `loss ${ls[0].loss} -> ${ls.at(-1).loss}`);
    assert.equal(ls.at(-1).accuracy, 1);
    // Continue from those weights: the first loss is where the last run ended.
    const r2 = runCli(['train', small, '--data', data, '--weights', out, '--steps', '1', '--optimizer', 'sgd', '--lr', '0.5',
                       '-o', path.join(dir, 'data2.safetensors')]);
    assert.equal(r2.status, 0, r2.stderr);
    assert.ok(Math.abs(lines(r2.stdout)[0].loss - ls.at(-1).loss) < ls.at(-1).loss * 0.5 + 1e-3);
  });

  const bad = [
    ['no output', ['--task', 'copy'], 'train needs -o OUT.safetensors'],
    ['task and data', ['--task', 'copy', '--data', 'x.json', '-o', 'OUT'], 'exactly one of --task NAME and --data DATA.json'],
    ['neither', ['-o', 'OUT'], 'exactly one of --task NAME and --data DATA.json'],
    ['unknown task', ['--task', 'juggle', '-o', 'OUT'], "--task must be copy, reverse, sort or induction (got 'juggle')"],
    ['negative lr', ['--task', 'copy', '--lr', '-1', '-o', 'OUT'], "--lr must be a positive number (got '-1')"],
    ['steps zero', ['--task', 'copy', '--steps', '0', '-o', 'OUT'], "--steps must be an integer from 1 to 10000000 (got '0')"],
    ['optimizer', ['--task', 'copy', '--optimizer', 'rmsprop', '-o', 'OUT'], "--optimizer must be sgd or adam (got 'rmsprop')"],
    ['unknown option', ['--task', 'copy', '--epochs', '3', '-o', 'OUT'], 'unknown option --epochs'],
  ];
  for (const [name, args, message] of bad) {
    test(`refuses: ${name}`, () => {
      const out = path.join(dir, `bad-${name.replace(/\W/g, '_')}.safetensors`);
      const r = runCli(['train', small, ...args.map((a) => (a === 'OUT' ? out : a))]);
      assert.equal(r.status, 2, r.stdout + r.stderr);
      assert.equal(r.stderr.trimEnd().split('\n').length, 1);
      assert.ok(r.stderr.includes(message), r.stderr);
      assert.ok(!fs.existsSync(out));
    });
  }

  test('kinds general and additive train too (their W, U, v_a stay as seeded)', () => {
    for (const kind of ['general', 'additive']) {
      const cfg = write(`${kind}.json`, { mode: 'transformer', d_model: 16, heads: 2, attention: { kind }, transformer: { layers: 1, d_ff: 32 } });
      const out = path.join(dir, `${kind}.safetensors`);
      const r = runCli(['train', cfg, '--task', 'copy', '--length', '5', '--vocab', '6', '--steps', '60', '--lr', '1e-2', '-o', out]);
      assert.equal(r.status, 0, r.stderr);
      const ls = lines(r.stdout);
      assert.ok(ls.at(-1).loss < ls[0].loss / 3, `${kind}: loss ${ls[0].loss} -> ${ls.at(-1).loss}`);
    }
  });

  const badConfigs = [
    ['attention mode', { mode: 'attention' }, 'train: mode must be "transformer"'],
    ['padding', { mode: 'transformer', attention: { mask: { padding: [0] } } }, 'train: attention.mask.padding and attention.mask.cells'],
  ];
  for (const [name, cfg, message] of badConfigs) {
    test(`refuses config: ${name}`, () => {
      const out = path.join(dir, 'never.safetensors');
      const r = runCli(['train', write(`${name}.json`, cfg), '--task', 'copy', '-o', out]);
      assert.equal(r.status, 2);
      assert.ok(r.stderr.includes(message), r.stderr);
      assert.ok(!fs.existsSync(out));
    });
  }

  const badData = [
    ['not json', '{inputs', 'data: not a JSON object'],
    ['row lengths', { inputs: [['a', 'b']], targets: [['a']] }, 'data.targets[0] has 1 entries but data.inputs[0] has 2'],
    ['mixed', { inputs: [['a', 1]], targets: [['a', 'b']] }, 'data: use token strings or vocabulary ids, not both'],
    ['bad entry', { inputs: [['a', true]], targets: [['a', 'b']] }, 'data.inputs[0][1] must be a token string or a vocabulary id'],
    ['unknown field', { inputs: [['a']], targets: [['a']], labels: [] }, "data: unknown field 'labels'"],
    ['id out of range', { inputs: [[0, 1]], targets: [[1, 0]] }, null],
  ];
  for (const [name, data, message] of badData) {
    test(`data: ${name}`, () => {
      const out = path.join(dir, `data-${name.replace(/\W/g, '_')}.safetensors`);
      const r = runCli(['train', small, '--data', write(`data-${name}.json`, data), '--steps', '2', '-o', out]);
      if (message === null) {  // ids without a weights file make their own vocabulary: fine
        assert.equal(r.status, 0, r.stderr);
        return;
      }
      assert.equal(r.status, 2, r.stdout);
      assert.ok(r.stderr.includes(message), r.stderr);
      assert.ok(!fs.existsSync(out));
    });
  }
});
