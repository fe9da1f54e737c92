// core.createTrainer: the Train panel's session in attnplay-core.mjs (what the page's Web Worker runs).
// Step counts, never times.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { loadCore } from './helpers.mjs';

const core = await loadCore();
const config = { mode: 'transformer', d_model: 32, heads: 4, transformer: { layers: 2, d_ff: 64 }, text: '0 1 2 3 4 5 6 7',
                 tokenizer: 'whitespace' };
// The Train panel's date example (translation_task_display): the views need sentences; training draws its own.
const seq2seq = { mode: 'seq2seq', d_model: 32, heads: 2, transformer: { layers: 1, decoder_layers: 1, d_ff: 64 },
                  source_tokens: ['21', 'nov', '2026'], target_tokens: ['<s>', '2026', '-', '11', '-'] };
const mean = (a) => a.reduce((s, v) => s + v, 0) / a.length;

describe('core.createTrainer', () => {
  test('copy: the loss falls, steps count, params follow the steps', () => {
    const t = core.createTrainer(config, { task: 'copy', length: 8, vocab: 10, batch: 16, optimizer: 'adam', lr: 3e-3 });
    const p0 = t.params();
    assert.ok(p0 instanceof Float32Array && p0.length > 1000, `${p0.length} params`);
    const one = t.run(0, 1);  // budget 0: exactly one step
    assert.equal(one.step, 1);
    assert.equal(one.loss.length, 1);
    assert.deepEqual(one.alignment, []);
    const r = t.run(Infinity, 119);
    assert.equal(r.step, 120);
    assert.equal(r.loss.length, 119);
    const first = mean([one.loss[0], ...r.loss.slice(0, 9)]), last = mean(r.loss.slice(-10));
    console.log(`  copy: loss ${first.toFixed(3)} -> ${last.toFixed(3)}, accuracy ${r.accuracy.at(-1).toFixed(3)} after 120 steps`);
    assert.ok(last < 0.5 * first, `loss ${first} -> ${last}`);
    const p1 = t.params();
    assert.equal(p1.length, p0.length);
    assert.ok(p1.some((v, i) => v !== p0[i]));
    t.close();
    assert.throws(() => t.params(), /no training session/);
  });

  test('the same session twice gives the same weights, bit for bit (the worker and the frame agree)', () => {
    const spec = { task: 'induction', length: 6, vocab: 12, batch: 4 };
    const a = core.createTrainer(config, spec);
    a.run(Infinity, 5);
    const pa = a.params();
    const b = core.createTrainer(config, spec);  // replaces a
    b.run(Infinity, 3);
    b.run(Infinity, 2);
    assert.deepEqual(b.params(), pa);
    b.close();
  });

  // What the page's worker hands to the autosave and resumes from (issue 15): the whole state, Adam's moments and
  // the batch stream included, so the step after a restore is the uninterrupted run's.
  test('state() and restore(): a restored trainer takes the same next step; a state of another model is refused', () => {
    const spec = { task: 'copy', length: 6, vocab: 10, batch: 4 };
    const a = core.createTrainer(config, spec);
    a.run(Infinity, 7);
    const saved = a.state();
    const next = a.run(Infinity, 1);
    const after = a.params();
    const b = core.createTrainer(config, spec);  // a fresh session (replaces a), then the saved state
    b.restore(saved);
    const r = b.run(Infinity, 1);
    assert.equal(r.step, 8);
    assert.deepEqual(r.loss, next.loss);
    assert.deepEqual(b.params(), after);
    assert.throws(() => b.restore(saved.subarray(0, saved.length - 4)), /training state: \d+ bytes, this model's is \d+/);
    assert.throws(() => b.restore([1, 2, 3]), /state must be a Uint8Array/);
    b.close();
  });

  test('a translation task reports the alignment', () => {
    const t = core.createTrainer(seq2seq, { task: 'date', batch: 8 });
    const r = t.run(Infinity, 3);
    assert.equal(r.alignment.length, 3);
    assert.ok(r.alignment.every((v) => v >= 0 && v <= 1));
    t.close();
  });

  test('set changes the optimiser and lr, not the task; bad specs are refused by name', () => {
    const t = core.createTrainer(config, { task: 'reverse' });
    t.set({ task: 'reverse', optimizer: 'sgd', lr: 0.1, batch: 2 });
    assert.equal(t.run(0, 1).step, 1);
    assert.throws(() => t.set({ task: 'sort' }), /the task, length and vocab stay as opened/);
    assert.throws(() => t.set({ task: 'reverse', lr: -1 }), /lr must be a finite number > 0 \(got -1\)/);
    t.close();
    assert.throws(() => core.createTrainer(config, { task: 'nope' }), /task must be copy, reverse, sort, induction/);
    assert.throws(() => core.createTrainer(config, { batch: 0 }), /batch must be an integer from 1 to 256 \(got 0\)/);
    assert.throws(() => core.createTrainer(config, { optimizer: 'rmsprop' }), /optimizer must be "sgd" or "adam"/);
    assert.throws(() => core.createTrainer({ mode: 'transformer', d_model: 10, heads: 3 }, {}), /heads must divide d_model/);
    assert.throws(() => core.createTrainer({ mode: 'attention' }, {}), /mode must be/);
    assert.throws(() => core.createTrainer(seq2seq, { task: 'copy' }), /mode must be "transformer" for the task copy/);
    assert.throws(() => core.createTrainer(config, { task: 'date' }), /mode must be "seq2seq" for the translation task date/);
  });

  test('a learning rate that blows up stops with a message, never NaN weights on screen', () => {
    const t = core.createTrainer(config, { task: 'copy', optimizer: 'sgd', lr: 1e30 });
    const r = t.run(Infinity, 50);
    assert.match(r.error ?? '', /the loss is not finite/);
    assert.ok(r.loss.length <= 50);
    t.close();
  });
});
