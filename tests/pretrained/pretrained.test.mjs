// Mode "pretrained" (SPEC §9) against the plain-torch reference (reference.py, through make_models.py's goldens):
// every case through the CLI and through attnplay-core.wasm under Node, the incremental path against a full
// recompute, and every bad folder and config refused by name (CLI: exit 2, one line, nothing written).
//   node --test tests/pretrained/pretrained.test.mjs
// Environment: ATTNPLAY_BIN (the CLI), ATTNPLAY_WEB (build/web), ATTNPLAY_PRETRAINED (a make_models.py output folder;
// default: made now in a temp dir, ~2 s).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(here, '../..');
const BIN = process.env.ATTNPLAY_BIN || path.join(ROOT, 'build/native/attnplay');
const WEB = process.env.ATTNPLAY_WEB || path.join(ROOT, 'build/web');

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'attnplay-pretrained-'));
after(() => fs.rmSync(scratch, { recursive: true, force: true }));

let OUT = process.env.ATTNPLAY_PRETRAINED;
if (!OUT) {
  OUT = path.join(scratch, 'models');
  const r = spawnSync('/usr/bin/python3', [path.join(here, 'make_models.py'), OUT], { encoding: 'utf8', timeout: 300000 });
  if (r.status !== 0) throw new Error(`make_models.py failed (${r.status}): ${r.stderr}`);
}
const CASES = JSON.parse(fs.readFileSync(path.join(OUT, 'cases.json'), 'utf8'));
const TOL = CASES.tolerance.relative_to_tensor_max;
const folder = (name) => path.join(OUT, name);

// |got - want| <= TOL · max |want| over the tensor (SPEC §9); null meets null. The first differing values are named.
function maxAbs(x) {
  if (Array.isArray(x)) return x.reduce((m, y) => Math.max(m, maxAbs(y)), 0);
  return x === null ? 0 : Math.abs(x);
}
function compareTensor(got, want, where, failures, tol = TOL) {
  const allowed = tol * Math.max(maxAbs(want), 1e-30) + 1e-7;  // + 1e-7: want holds 7 significant digits
  const walk = (g, w, at) => {
    if (failures.length >= 5) return;
    if (Array.isArray(w)) {
      if (!Array.isArray(g) || g.length !== w.length) { failures.push(`${at}: shape ${Array.isArray(g) ? g.length : typeof g} vs ${w.length}`); return; }
      for (let i = 0; i < w.length; i++) walk(g[i], w[i], `${at}[${i}]`);
      return;
    }
    if (w === null || g === null) { if (w !== g) failures.push(`${at}: ${g} vs ${w} (null = masked)`); return; }
    if (!(Math.abs(g - w) <= allowed)) failures.push(`${at}: got ${g}, want ${w} (allowed ${allowed.toExponential(2)})`);
  };
  walk(got, want, where);
}
function compareResult(got, want, tol = TOL) {
  const failures = [];
  for (const key of ['token_ids', 'tokens', 'fully_masked_rows'])
    if (JSON.stringify(got[key]) !== JSON.stringify(want[key])) failures.push(`${key}: ${JSON.stringify(got[key])} vs ${JSON.stringify(want[key])}`);
  if ('logits' in got !== 'logits' in want) failures.push(`logits: ${'logits' in got ? 'present' : 'absent'}, want ${'logits' in want ? 'present' : 'absent'}`);
  if (!Array.isArray(got.layers) || got.layers.length !== want.layers.length) { failures.push('layer count'); return failures; }
  want.layers.forEach((wl, l) => {
    if (got.layers[l].heads.length !== wl.heads.length) failures.push(`layers[${l}]: ${got.layers[l].heads.length} heads, want ${wl.heads.length}`);
    wl.heads.forEach((wh, h) => {
      for (const key of ['scores', 'weights', 'context']) compareTensor(got.layers[l].heads[h]?.[key], wh[key], `layers[${l}].heads[${h}].${key}`, failures, tol);
    });
    compareTensor(got.layers[l].output, wl.output, `layers[${l}].output`, failures, tol);
  });
  if (want.logits) compareTensor(got.logits, want.logits, 'logits', failures, tol);
  return failures;
}
const configOf = (c) => ({ ...c.config, model: folder(c.model) });

function cli(args, input) {
  const r = spawnSync(BIN, args, { input, encoding: 'utf8', timeout: 120000, maxBuffer: 512 << 20 });
  if (r.error && !(r.error.code === 'EPIPE' && r.status !== null)) throw r.error;
  return r;
}
function assertRefusedByCli(r, names, out) {
  assert.equal(r.signal, null, `killed by ${r.signal}`);
  assert.equal(r.status, 2, `exit ${r.status}, stderr: ${r.stderr}`);
  const lines = r.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, `one stderr line, got: ${r.stderr}`);
  assert.ok(lines[0].startsWith('attnplay: '), lines[0]);
  assert.ok(lines[0].includes(names), `"${lines[0]}" does not name "${names}"`);
  assert.equal(r.stdout, '');
  if (out) assert.ok(!fs.existsSync(out), 'nothing written on failure');
}

test('the goldens cover what SPEC §9 asks for', () => {
  assert.ok(CASES.cases.length >= 40, `${CASES.cases.length} cases`);
  const types = new Set(Object.values(CASES.folders).map((f) => f.model_type));
  for (const t of ['gpt2', 'bert', 'llama', 'qwen2']) assert.ok(types.has(t), t);
  const dtypes = new Set(Object.values(CASES.folders).flatMap((f) => f.dtype));
  for (const t of ['F32', 'F16', 'BF16']) assert.ok(dtypes.has(t), t);
});

describe('CLI: attnplay compute on every golden', () => {
  for (const c of CASES.cases) {
    test(c.name, () => {
      const r = cli(['compute', '-'], JSON.stringify(configOf(c)));
      assert.equal(r.status, 0, r.stderr);
      assert.deepEqual(compareResult(JSON.parse(r.stdout), c.expected), []);
    });
  }
});

describe('CLI: refusals', () => {
  for (const b of CASES.bad) {
    test(b.name, () => {
      const cfg = path.join(scratch, `${b.name}.json`), out = path.join(scratch, `${b.name}.out.json`);
      fs.writeFileSync(cfg, JSON.stringify({ ...b.config, model: folder(b.model) }));
      assertRefusedByCli(cli(['compute', cfg, '-o', out]), b.names, out);
    });
  }
  test('--model overrides the config\'s model (and gives mode pretrained to a config without one)', () => {
    const c = CASES.cases.find((x) => x.config.token_ids && x.model.startsWith('gpt2'));
    const { mode, ...rest } = c.config;
    const r = cli(['compute', '-', '--model', folder(c.model)], JSON.stringify({ ...rest, model: '/no/such/folder' }));
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(compareResult(JSON.parse(r.stdout), c.expected), []);
    assertRefusedByCli(cli(['compute', '-', '--model', folder(c.model)], JSON.stringify({ mode: 'transformer' })), '--model needs mode "pretrained"');
  });
  test('a folder that is not there, and a memory limit, are refused by name', () => {
    assertRefusedByCli(cli(['compute', '-'], JSON.stringify({ mode: 'pretrained', model: path.join(scratch, 'nothing'), text: 'a' })), 'has no config.json');
    const out = path.join(scratch, 'limit.json');
    const r = cli(['compute', '-', '--model', folder('gpt2_f32'), '--max-mb', '1', '-o', out], JSON.stringify({ text: 'a' }));
    assertRefusedByCli(r, 'MB this engine may use', out);
    assert.match(r.stderr, /need [0-9.]+ MB as float32/);
    assertRefusedByCli(cli(['compute', '-', '--model', folder('gpt2_f32'), '--max-mb', 'lots'], '{}'), '--max-mb must be a positive number');
  });
  test('transformers 5\'s rope_parameters: its rope_theta is read, another rope_type refused by name', () => {
    const c = CASES.cases.find((x) => x.model === 'llama_rope500k');
    const dir = path.join(scratch, 'rope_parameters');
    fs.cpSync(folder(c.model), dir, { recursive: true });
    const config = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8'));
    const theta = config.rope_theta;
    delete config.rope_theta;
    config.rope_parameters = { rope_theta: theta, rope_type: 'default' };
    fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(config));
    const r = cli(['compute', '-', '--model', dir], JSON.stringify(c.config));
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(compareResult(JSON.parse(r.stdout), c.expected), []);
    config.rope_parameters = { rope_theta: theta, rope_type: 'yarn', factor: 4 };
    fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(config));
    assertRefusedByCli(cli(['compute', '-', '--model', dir], JSON.stringify(c.config)), 'rope_parameters "yarn" is not supported');
  });
  test('fields the model fixes are refused by name (SPEC §9)', () => {
    for (const [field, value] of [['d_model', 16], ['heads', 2], ['seed', 3], ['tokenizer', 'chars'], ['transformer', { layers: 2 }]]) {
      const r = cli(['compute', '-', '--model', folder('gpt2_f32')], JSON.stringify({ text: 'a b', [field]: value }));
      assertRefusedByCli(r, field);
    }
  });
});

describe('CLI: attnplay info', () => {
  for (const [name, f] of Object.entries(CASES.folders)) {
    test(name, () => {
      const r = cli(['info', '--model', folder(name)]);
      assert.equal(r.status, 0, r.stderr);
      const info = JSON.parse(r.stdout);
      for (const [k, v] of Object.entries(f.info)) {
        if (k === 'dtype') assert.equal(info.dtype, Array.isArray(v) ? [...v].sort().join('+') : v, 'dtype');
        else assert.deepEqual(info[k], v, k);
      }
    });
  }
  test('a bad folder is refused the same way', () => {
    const out = path.join(scratch, 'info.json');
    assertRefusedByCli(cli(['info', '--model', folder('bad_unknown_model_type'), '-o', out]), 'model_type', out);
    assertRefusedByCli(cli(['info']), 'info needs --model DIR');
  });
});

describe('WASM: core.loadModel and core.compute', async () => {
  const { createCore } = await import(path.join(WEB, 'attnplay-core.mjs'));
  const core = await createCore();
  const models = new Map();
  const model = async (name) => {
    if (!models.has(name)) models.set(name, await core.loadModel(folder(name)));
    return models.get(name);
  };

  for (const c of CASES.cases) {
    test(c.name, async () => {
      const m = await model(c.model);
      const got = core.compute({ ...c.config, model: m });
      assert.deepEqual(compareResult(got, c.expected), []);
    });
  }

  test('model.info is the model card of SPEC §9', async () => {
    for (const [name, f] of Object.entries(CASES.folders)) {
      const info = (await model(name)).info;
      for (const k of ['model_type', 'layers', 'heads', 'kv_heads', 'hidden_size', 'vocab_size', 'parameters'])
        assert.deepEqual(info[k], f.info[k], `${name}: ${k}`);
      assert.equal(info.dtype, [...[f.info.dtype].flat()].sort().join('+'), `${name}: dtype`);
    }
  });

  test('the same folder from files: Uint8Array, ArrayBuffer and Blob values, paths as a directory picker gives them', async () => {
    const name = 'gpt2_f16_sharded';
    const c = CASES.cases.find((x) => x.model === name && x.config.text !== undefined) ?? CASES.cases.find((x) => x.model === name);
    const names = fs.readdirSync(folder(name));
    for (const kind of ['u8', 'ab', 'blob']) {
      const files = {};
      for (const f of names) {
        const b = fs.readFileSync(path.join(folder(name), f));
        files[`${name}/${f}`] = kind === 'u8' ? new Uint8Array(b) : kind === 'ab' ? b.buffer.slice(b.byteOffset, b.byteOffset + b.length) : new Blob([b]);
      }
      const m = await core.loadModel(files);
      assert.deepEqual(compareResult(core.compute({ ...c.config, model: m }), c.expected), [], kind);
      m.free();
    }
  });

  for (const b of CASES.bad) {
    test(`refused: ${b.name}`, async () => {
      const before = await model('gpt2_f32');
      let m;
      try {
        m = await core.loadModel(folder(b.model));
      } catch (e) {
        assert.ok(e instanceof Error && e.message.includes(b.names), `"${e.message}" does not name "${b.names}"`);
        m = null;
      }
      if (m) {
        assert.throws(() => core.compute({ ...b.config, model: m }), (e) => e.message.includes(b.names) || assert.fail(`"${e.message}" does not name "${b.names}"`));
        m.free();
      }
      // A refused model leaves the loaded ones as they were.
      const c = CASES.cases.find((x) => x.model === 'gpt2_f32');
      assert.deepEqual(compareResult(core.compute({ ...c.config, model: before }), c.expected), []);
    });
  }

  test('core.sweep: each head ablated alone, as core.compute with that ablate says (GPT-2, BERT, Llama GQA)', async () => {
    for (const [name, row] of [['gpt2_f32', 3], ['bert_mlm_f32', 2], ['llama_gqa_f32', -1]]) {
      const m = await model(name);
      const config = { mode: 'pretrained', model: m, text: 'the cat sat on the mat', ablate: [[0, 0]] };
      const probOf = (logits, r, token) => {
        const x = logits[r], mx = Math.max(...x);
        return Math.exp(x[token] - mx) / x.reduce((a, v) => a + Math.exp(v - mx), 0);
      };
      const plain = core.compute({ ...config, ablate: [] });
      const r = row < 0 ? plain.token_ids.length - 1 : row;
      const sw = core.sweep(config, { position: row });
      assert.equal(sw.state.done, 0);
      const s = sw.run();
      assert.equal(s.position, r);
      assert.equal(s.token_id, plain.logits[r].indexOf(Math.max(...plain.logits[r])), `${name}: the most probable token`);
      assert.ok(Math.abs(s.baseline - probOf(plain.logits, r, s.token_id)) <= 1e-5, `${name}: baseline`);
      assert.equal(s.done, m.info.layers * m.info.heads);
      for (let l = 0; l < m.info.layers; l++) {
        for (let h = 0; h < m.info.heads; h++) {
          const want = probOf(core.compute({ ...config, ablate: [[l, h]] }).logits, r, s.token_id);
          assert.ok(Math.abs(s.probs[l][h] - want) <= 1e-5, `${name} ${l}/${h}: ${s.probs[l][h]} vs ${want}`);
        }
      }
      assert.deepEqual(s.ranking.map(([, , d]) => Math.abs(d)), s.ranking.map(([, , d]) => Math.abs(d)).sort((a, b) => b - a));
      // And the model's next compute (through the cache the sweep used) is the plain one's.
      assert.deepEqual(compareResult(core.compute({ ...config, ablate: [] }), plain), []);
    }
    const g = await model('gpt2_f32');
    assert.throws(() => core.sweep({ mode: 'pretrained', model: g, text: 'a b' }, { position: 9 }), /sweep: position 9 is past the last token/);
  });

  test('a model freed is refused by name; a config without a loaded model too', async () => {
    const m = await core.loadModel(folder('llama_gqa_f32'));
    m.free();
    assert.throws(() => core.compute({ mode: 'pretrained', model: m, token_ids: [1, 2] }), /model: this model was freed/);
    assert.throws(() => core.compute({ mode: 'pretrained', model: 'models/gpt2/', token_ids: [1, 2] }), /model: in the JS API give the model core.loadModel returned/);
    assert.throws(() => core.compute({ mode: 'pretrained', token_ids: [1, 2] }), /model: mode "pretrained" needs the model/);
  });

  test('maxMB: a model over the limit is refused with its size in MB', async () => {
    await assert.rejects(core.loadModel(folder('gpt2_f32'), { maxMB: 1 }), /gpt2 weights need [0-9.]+ MB as float32 .* more than the 1.0 MB/);
    await assert.rejects(core.loadModel(folder('gpt2_f32'), { maxMB: -1 }), /maxMB must be a number/);
  });

  describe('incremental compute (a KV cache keyed by the token prefix)', () => {
    const causal = CASES.cases.filter((c) => c.config.token_ids && !c.config.attention && !c.config.ablate && !c.config.logits &&
                                             CASES.folders[c.model].model_type !== 'bert' && c.config.token_ids.length >= 4);
    test('there are causal cases of every causal architecture', () => {
      for (const t of ['gpt2', 'llama', 'qwen2']) assert.ok(causal.some((c) => CASES.folders[c.model].model_type === t), t);
    });
    for (const c of causal) {
      test(`${c.name}: appending tokens computes the new rows only, and equals the full compute`, async () => {
        const m = await core.loadModel(folder(c.model));
        try {
          const ids = c.config.token_ids, k = ids.length - 2;
          core.compute({ ...c.config, token_ids: ids.slice(0, k), model: m });
          const got = core.compute({ ...c.config, model: m });
          assert.deepEqual(m.stats(), { recomputed_from_layer: 0, rows_computed: 2 });  // the 2 new rows of every layer
          assert.deepEqual(compareResult(got, c.expected), []);
          // The full compute's, from a fresh model with no cache, to rounding: the GEMMs over 2 rows instead of n sum
          // in another order (1e-5 of each tensor's largest value, 10x tighter than the golden's tolerance).
          const fresh = await core.loadModel(folder(c.model));
          assert.deepEqual(compareResult(got, core.compute({ ...c.config, model: fresh }), 1e-5), []);
          fresh.free();
          // An edit in the middle recomputes from that token on; the same request again computes nothing.
          core.compute({ ...c.config, token_ids: [ids[0], (ids[1] + 1) % m.info.vocab_size, ...ids.slice(2)], model: m });
          assert.deepEqual(m.stats(), { recomputed_from_layer: 0, rows_computed: ids.length - 1 });
          core.compute({ ...c.config, model: m });
          core.compute({ ...c.config, model: m });
          assert.deepEqual(m.stats(), { recomputed_from_layer: m.info.layers, rows_computed: 0 });
        } finally {
          m.free();
        }
      });
    }
    test('an ablation edit recomputes from the first layer it touches; a mask edit from layer 0', async () => {
      const abl = CASES.cases.find((c) => c.config.ablate && c.config.ablate.length && CASES.folders[c.model].info.layers > 1 &&
                                         c.config.ablate.every(([l]) => l >= 1) && !c.config.attention);
      assert.ok(abl, 'a golden with an ablation past layer 0');
      const m = await core.loadModel(folder(abl.model));
      try {
        const { ablate, ...plain } = abl.config;
        core.compute({ ...plain, model: m });
        const got = core.compute({ ...abl.config, model: m });
        const first = Math.min(...ablate.map(([l]) => l));
        assert.equal(m.stats().recomputed_from_layer, first);
        assert.deepEqual(compareResult(got, abl.expected), []);
        core.compute({ ...abl.config, attention: { mask: { cells: [[1, 0]] } }, model: m });
        assert.equal(m.stats().recomputed_from_layer, 0);
      } finally {
        m.free();
      }
    });
  });
});
