// Mode seq2seq (SPEC §8) through the native CLI and the WASM engine: PyTorch's nn.Transformer cases
// (tests/fixtures/golden/seq2seq_cli.json, make_fixtures.py section 4) at the SPEC's tolerance, the weights file's
// round trip, and bad configs refused by name.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { FIXTURES, compareNested, loadCore, runCli, tmpDir } from './helpers.mjs';

const index = JSON.parse(fs.readFileSync(path.join(FIXTURES, 'golden/seq2seq_cli.json'), 'utf8'));
const core = await loadCore();
const dir = tmpDir();

function compareSeq2Seq(got, want) {
  const acc = { failures: [], worst: 0 };
  for (const key of ['source_tokens', 'tokens', 'vocab', 'fully_masked_rows'])
    if (JSON.stringify(got[key]) !== JSON.stringify(want[key])) acc.failures.push(`${key}: ${JSON.stringify(got[key])} vs ${JSON.stringify(want[key])}`);
  for (const part of ['encoder', 'decoder_self', 'cross']) {
    if (!Array.isArray(got[part]) || got[part].length !== want[part].length) { acc.failures.push(`${part}: layer count differs`); continue; }
    want[part].forEach((wl, l) => {
      wl.heads.forEach((wh, h) => compareNested(got[part][l].heads[h].weights, wh.weights, `${part}[${l}].heads[${h}].weights`, acc));
      if (wl.output) compareNested(got[part][l].output, wl.output, `${part}[${l}].output`, acc);
    });
  }
  compareNested(got.logits, want.logits, 'logits', acc);
  return acc;
}

function cliCompute(config, weightsPath) {
  const cfg = path.join(dir, 'cfg.json');
  fs.writeFileSync(cfg, JSON.stringify(config));
  return runCli(['compute', cfg, ...(weightsPath ? ['--weights', weightsPath] : [])]);
}

for (const surface of ['cli', 'wasm']) {
  describe(`seq2seq golden via ${surface}`, () => {
    for (const c of index.cases) {
      test(c.name, () => {
        const weightsPath = path.join(FIXTURES, 'golden', c.weights);
        let got;
        if (surface === 'cli') {
          const r = cliCompute(c.config, weightsPath);
          assert.equal(r.status, 0, r.stderr);
          got = JSON.parse(r.stdout);
        } else {
          got = core.compute(c.config, new Uint8Array(fs.readFileSync(weightsPath)));
        }
        const cmp = compareSeq2Seq(got, c.expected);
        assert.deepEqual(cmp.failures, [], c.name);
        console.log(`  ${surface} ${c.name}: worst err/allowed ${cmp.worst.toFixed(3)}`);
      });
    }
  });
}

describe('seq2seq config and weights', () => {
  const base = { mode: 'seq2seq', source: 'three hundred twenty one', target: '3 2 1', d_model: 8, heads: 2,
                 transformer: { layers: 1, decoder_layers: 2 } };

  test('seeded weights: the file `weights` writes gives the same result, CLI and WASM agree', () => {
    const cfg = path.join(dir, 'base.json');
    fs.writeFileSync(cfg, JSON.stringify(base));
    const out = path.join(dir, 's2s.safetensors');
    const w = runCli(['weights', cfg, '-o', out]);
    assert.equal(w.status, 0, w.stderr);
    const seeded = JSON.parse(runCli(['compute', cfg]).stdout);
    const loaded = JSON.parse(runCli(['compute', cfg, '--weights', out]).stdout);
    assert.deepEqual(loaded, seeded);
    assert.deepEqual(seeded.source_tokens, ['three', 'hundred', 'twenty', 'one']);
    assert.deepEqual(seeded.tokens, ['3', '2', '1']);
    assert.equal(seeded.encoder.length, 1);
    assert.equal(seeded.decoder_self.length, 2);
    assert.equal(seeded.cross.length, 2);
    assert.equal(seeded.cross[0].heads[0].weights.length, 3);        // target rows
    assert.equal(seeded.cross[0].heads[0].weights[0].length, 4);     // source columns
    assert.ok(seeded.decoder_self[0].heads[0].scores[0][1] === null, 'the decoder self-attention is causal');
    const wasm = core.compute(base);
    const cmp = compareSeq2Seq(wasm, seeded);
    assert.deepEqual(cmp.failures, []);
  });

  test('each cross-attention kind computes (additive, general, scaled dot)', () => {
    for (const kind of ['additive', 'general', 'scaled_dot', 'dot']) {
      const r = core.compute({ ...base, cross_attention: { kind } });
      const row = r.cross[0].heads[0].weights[1];
      assert.ok(Math.abs(row.reduce((a, b) => a + b, 0) - 1) < 1e-5, `${kind}: a cross-attention row sums to 1`);
    }
    const a = core.compute({ ...base, cross_attention: { kind: 'additive' } });
    const d = core.compute(base);
    assert.notDeepEqual(a.cross[0].heads[0].weights, d.cross[0].heads[0].weights, 'the kind changes the alignment');
    assert.deepEqual(a.encoder, d.encoder, 'and only the cross-attention');
  });

  for (const [name, patch, message] of [
    ['empty source', { source: '  ' }, 'source has no tokens'],
    ['empty target tokens', { target: undefined, target_tokens: [] }, 'target_tokens must not be empty'],
    ['no target', { target: undefined }, 'mode "seq2seq" needs target (or target_tokens)'],
    ['text in seq2seq', { text: 'a b' }, 'text does not apply to mode "seq2seq"'],
    ['source in transformer mode', { mode: 'transformer', transformer: { layers: 1 } }, 'source needs mode "seq2seq"'],
    ['cross kind misspelt', { cross_attention: { kind: 'bahdanau' } }, 'cross_attention.kind must be one of'],
    ['decoder layers out of range', { transformer: { layers: 1, decoder_layers: 13 } }, 'transformer.decoder_layers must be from 1 to 12'],
    ['padding past the source', { attention: { mask: { padding: [4] } } }, 'attention.mask.padding[0]: key index 4 is out of range (n_k=4)'],
  ]) {
    test(`refused by name: ${name}`, () => {
      const cfg = JSON.parse(JSON.stringify({ ...base, ...patch }));
      const r = cliCompute(cfg);
      assert.equal(r.status, 2, r.stdout);
      assert.ok(r.stderr.includes(message), r.stderr);
      assert.throws(() => core.compute(cfg), (e) => e.message.includes(message));
    });
  }

  test('a weights file with another target vocabulary is refused by name', () => {
    const cfg = path.join(dir, 'other.json');
    fs.writeFileSync(cfg, JSON.stringify({ ...base, target: '3 2 9' }));
    const out = path.join(dir, 'other.safetensors');
    assert.equal(runCli(['weights', cfg, '-o', out]).status, 0);
    const r = cliCompute({ ...base, target: '3 2 1 7' }, out);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /token '1' is not in the weights file's target vocabulary/);
  });

  test('attnplay train --task date learns the dates, and compute shows the alignment', () => {
    const cfg = path.join(dir, 'date.json');
    fs.writeFileSync(cfg, JSON.stringify({ mode: 'seq2seq', source: 'a', target: 'b', d_model: 32, heads: 2,
                                           transformer: { layers: 1, decoder_layers: 1 } }));
    const out = path.join(dir, 'date.safetensors');
    const r = runCli(['train', cfg, '--task', 'date', '--steps', '300', '--batch', '32', '--lr', '3e-3', '-o', out]);
    assert.equal(r.status, 0, r.stderr);
    // Progress lines carry the batch's alignment (cross-attention argmax on the source word, mean of the heads).
    const last = /step 300\/300  loss ([\d.e+-]+)  accuracy ([\d.]+)  alignment ([\d.]+)$/m.exec(r.stdout);
    assert.ok(last, r.stdout);
    console.log(`  date: accuracy ${last[2]}, alignment ${last[3]} after 300 steps`);
    assert.ok(+last[2] >= 0.95 && +last[3] >= 0.8, last[0]);
    // The decoder reads the target as given: from the start token, each position predicts the next target token.
    const evalCfg = { mode: 'seq2seq', source_tokens: ['3', 'nov', '2001'], target_tokens: ['<s>', '2001', '-', '11', '-'],
                      d_model: 32, heads: 2, transformer: { layers: 1, decoder_layers: 1 } };
    const got = core.compute(evalCfg, new Uint8Array(fs.readFileSync(out)));
    const argmax = (row) => row.indexOf(Math.max(...row));
    assert.deepEqual(got.logits.map((row) => got.vocab[argmax(row)]), ['2001', '-', '11', '-', '03']);
    // Row t writes target token t+1: the year looks at the year, the month at "nov", the day at "3".
    const cross = got.cross[got.cross.length - 1].heads;
    const mean = (t) => cross[0].weights[t].map((_, j) => cross.reduce((a, h) => a + h.weights[t][j], 0));
    assert.deepEqual([0, 2, 4].map((t) => argmax(mean(t))), [2, 1, 0]);
  });

  test('train refuses by name: another task\'s weights, a missing task, data in mode seq2seq', () => {
    const cfg = path.join(dir, 'tr.json');
    fs.writeFileSync(cfg, JSON.stringify({ mode: 'seq2seq', source: 'a', target: 'b', d_model: 8, heads: 2 }));
    const numbers = path.join(dir, 'numbers.safetensors');
    assert.equal(runCli(['train', cfg, '--task', 'numbers', '--steps', '1', '-o', numbers]).status, 0);
    const other = runCli(['train', cfg, '--task', 'date', '--weights', numbers, '--steps', '1', '-o', path.join(dir, 'x.safetensors')]);
    assert.equal(other.status, 2);
    assert.match(other.stderr, /train: task date: token '1' is not in the weights file's vocabulary/);
    const bad = runCli(['train', cfg, '--task', 'copy', '-o', path.join(dir, 'y.safetensors')]);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /mode "seq2seq" trains a translation task: --task date, numbers, numbers_zh or sov \(got 'copy'\)/);
    // The word-order task reorders the source: a target longer than the source is refused; dates may be longer.
    const sov = path.join(dir, 'sov.json');
    fs.writeFileSync(sov, JSON.stringify({ mode: 'seq2seq', source: 'cat sees big dog', target: '<s> cat big dog sees now',
                                           tokenizer: 'whitespace', d_model: 8, heads: 2 }));
    const longer = runCli(['train', sov, '--task', 'sov', '--steps', '1', '-o', path.join(dir, 'z.safetensors')]);
    assert.equal(longer.status, 2);
    assert.match(longer.stderr, /target: 5 tokens but the source has 4: task sov reorders the source's words/);
    assert.equal(runCli(['train', sov, '--task', 'date', '--steps', '1', '-o', path.join(dir, 'z.safetensors')]).status, 0);
  });
});
