// src/model/hf_tokenizer (C++) against the Rust `tokenizers` library (npm's binding), SPEC §9 "Tokens":
//   node --test tests/pretrained/tokenizers.test.mjs
// Environment:
//   ATTNPLAY_HF_TOKENIZE   the native driver built from tests/pretrained/hf_tokenize_main.cpp
//                          (default /tmp/hftok/hf_tokenize; see that file for its protocol)
//   ATTNPLAY_HF_TOKENIZERS a directory of tokenizers made by make_tokenizers.mjs (default: made now in a temp dir)
// For every tokenizer (as written and as re-saved by the binding) x every corpus string x add_special_tokens in
// {true, false}, the C++ ids and tokens must equal encode(text, null, {addSpecialTokens}).getIds() / .getTokens(),
// and decode(ids, skipSpecialTokens) must equal the binding's decode for both values of skipSpecialTokens.
// Also: byte-level round trips, display forms, refusals by name, encode errors where the Rust library errs, and the
// regex engine against Oniguruma on real and synthetic patterns (Split pieces). The first mismatch is printed with
// its string, the expected and the got sequences.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, 'package.json'));
const { Tokenizer } = require('tokenizers');

const driver = process.env.ATTNPLAY_HF_TOKENIZE || '/tmp/hftok/hf_tokenize';
const corpus = JSON.parse(fs.readFileSync(path.join(here, 'tokenizer_corpus.json'), 'utf8'));

// Strings kept out of the equality test, with why. Empty: the whole corpus is compared for every tokenizer.
// (Anything added here must name the tokenizer, the string and the reason, e.g. a code point whose Unicode
// properties differ between this build's unicode-data and the Rust library's Unicode version.)
const EXCLUDED = [];
const excluded = (name, text) => EXCLUDED.some((e) => (e.tokenizer === name || e.tokenizer === '*') && e.text === text);

// Everything this test writes goes under one scratch directory, removed at the end.
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'attnplay-hf-'));
after(() => fs.rmSync(scratch, { recursive: true, force: true }));
const scratchDir = (name) => fs.mkdtempSync(path.join(scratch, `${name}-`));

function tokenizersDir() {
  if (process.env.ATTNPLAY_HF_TOKENIZERS) return process.env.ATTNPLAY_HF_TOKENIZERS;
  const dir = scratchDir('tokenizers');
  const r = spawnSync(process.execPath, [path.join(here, 'make_tokenizers.mjs'), dir], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`make_tokenizers.mjs failed:\n${r.stdout}\n${r.stderr}`);
  return dir;
}

function run(file, args, input) {
  const opts = { encoding: 'utf8', maxBuffer: 1 << 28 };
  if (input === undefined) opts.stdio = ['ignore', 'pipe', 'pipe'];
  else opts.input = JSON.stringify(input);
  const r = spawnSync(driver, [file, ...args], opts);
  if (r.error) throw new Error(`cannot run ${driver}: ${r.error.message} (set ATTNPLAY_HF_TOKENIZE)`);
  return { status: r.status, out: r.stdout.trim() ? JSON.parse(r.stdout) : null, err: r.stderr };
}

const show = (s) => JSON.stringify(s);
const dir = tokenizersDir();
const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8'));
const files = manifest.flatMap((m) => [{ name: m.name, file: m.tokenizer }, { name: `${m.name} (re-saved)`, file: m.resaved }]);
const totals = { compared: 0, strings: 0 };

for (const { name, file } of files) {
  test(`encode equals the Rust library: ${name}`, async () => {
    const ref = Tokenizer.fromFile(file);
    const texts = corpus.filter((t) => !excluded(name.replace(' (re-saved)', ''), t));
    const got = run(file, [], texts);
    assert.equal(got.status, 0, `driver failed: ${got.err} ${show(got.out)}`);
    assert.equal(got.out.length, texts.length);
    for (let i = 0; i < texts.length; ++i) {
      const g = got.out[i];
      assert.ok(!g.error, `${name}: C++ refused ${show(texts[i])}: ${g.error}`);
      for (const special of [true, false]) {
        const e = await ref.encode(texts[i], null, { addSpecialTokens: special });
        const mine = special ? g.special : g.plain;
        const where = `${name}, add_special_tokens=${special}, text ${show(texts[i])}`;
        assert.deepEqual(mine.ids, e.getIds(), `${where}\n  expected ids ${show(e.getIds())}\n  got ids      ${show(mine.ids)}\n  expected tokens ${show(e.getTokens())}\n  got tokens      ${show(mine.tokens)}`);
        assert.deepEqual(mine.tokens, e.getTokens(), `${where}\n  expected tokens ${show(e.getTokens())}\n  got tokens      ${show(mine.tokens)}`);
        totals.compared += 1;
      }
    }
    totals.strings += texts.length;
  });

  test(`decode equals the Rust library: ${name}`, async () => {
    const ref = Tokenizer.fromFile(file);
    const idLists = [];
    for (const t of corpus) idLists.push((await ref.encode(t, null, { addSpecialTokens: true })).getIds());
    const got = run(file, ['--decode'], idLists);
    assert.equal(got.status, 0, got.err);
    for (let i = 0; i < idLists.length; ++i) {
      for (const skip of [false, true]) {
        const want = await ref.decode(idLists[i], skip);
        const mine = skip ? got.out[i].skip_special : got.out[i].text;
        assert.equal(mine, want, `${name}: decode(${show(idLists[i])}, skip_special=${skip}) of ${show(corpus[i])}`);
      }
    }
  });
}

test('byte-level tokenizers decode what they encode, exactly', () => {
  for (const name of ['gpt2', 'gpt2_llama3_regex', 'gpt2_qwen2', 'gpt2_smollm']) {
    const file = manifest.find((m) => m.name === name).tokenizer;
    const enc = run(file, [], corpus);
    const dec = run(file, ['--decode'], enc.out.map((e) => e.plain.ids));
    corpus.forEach((t, i) => {
      // Qwen2 normalises to NFC first: the round trip gives the NFC form.
      const want = name === 'gpt2_qwen2' ? t.normalize('NFC') : t;
      assert.equal(dec.out[i].text, want, `${name}: ${show(t)} -> ${show(enc.out[i].plain.ids)}`);
    });
  }
});

test('display forms', () => {
  const file = (n) => manifest.find((m) => m.name === n).tokenizer;
  const vocabOf = (n) => JSON.parse(fs.readFileSync(file(n), 'utf8')).model.vocab;
  const gpt2 = vocabOf('gpt2');
  const llama = vocabOf('llama2');
  const bert = vocabOf('bert_uncased');
  const cases = [
    ['gpt2', gpt2['Ġcat'], '·cat'],
    ['gpt2', gpt2['Ċ'], '↵'],
    ['gpt2', gpt2['ĊĊ'], '↵↵'],
    ['gpt2', gpt2['ĉ'], '⇥'],
    ['gpt2', gpt2['Ã'], '\\xC3'],              // one byte of a two-byte character
    ['gpt2', gpt2['Ã©'], 'é'],                 // both bytes: the character
    ['gpt2', gpt2['âĢ'], '\\xE2\\x80'],       // two bytes of a three-byte character
    ['gpt2', gpt2['ĠâĢĶ'], '·\u2014'],          // " —" 
    ['gpt2', 50256, '<|endoftext|>'],
    ['gpt2', 99999, '99999'],
    ['llama2', llama['▁the'], '·the'],
    ['llama2', llama['▁'], '·'],
    ['llama2', llama['<0xE4>'], '\\xE4'],
    ['llama2', llama['<0x41>'], 'A'],
    ['llama2', llama['<0x0A>'], '↵'],
    ['llama2', llama['<0x20>'], '·'],
    ['llama2', 1, '<s>'],
    ['bert_uncased', bert['##s'], '##s'],
    ['bert_uncased', bert['hello'], 'hello'],
    ['bert_uncased', 101, '[CLS]'],
  ];
  for (const n of ['gpt2', 'llama2', 'bert_uncased']) {
    const mine = cases.filter((c) => c[0] === n);
    for (const c of mine) assert.equal(typeof c[1], 'number', `${n}: a display case names a token not in the vocabulary`);
    const got = run(file(n), ['--display'], mine.map((c) => c[1]));
    assert.equal(got.status, 0, got.err);
    mine.forEach((c, i) => assert.equal(got.out[i], c[2], `${n}: display(${c[1]})`));
  }
});

test('refusals name the file and the JSON path', () => {
  const tmp = scratchDir('bad');
  const base = {
    version: '1.0', truncation: null, padding: null, added_tokens: [], normalizer: null, pre_tokenizer: null,
    post_processor: null, decoder: null,
    model: { type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: null, end_of_word_suffix: null,
      fuse_unk: false, byte_fallback: false, vocab: { a: 0, b: 1, ab: 2 }, merges: ['a b'] },
  };
  const variant = (f) => { const j = structuredClone(base); f(j); return JSON.stringify(j); };
  const cases = [
    ['unigram', variant((j) => { j.model = { type: 'Unigram', unk_id: 0, vocab: [['a', -1.0]] }; }),
      /^tokenizer\.json: model\.type "Unigram" is not supported \(supported: BPE, WordPiece, WordLevel\)$/],
    ['precompiled', variant((j) => { j.normalizer = { type: 'Sequence', normalizers: [{ type: 'NFC' }, { type: 'Precompiled', precompiled_charsmap: 'AA==' }] }; }),
      /^tokenizer\.json: normalizer\.normalizers\[1\]\.type "Precompiled" is not supported \(supported: .*\)$/],
    ['unknown pre-tokenizer', variant((j) => { j.pre_tokenizer = { type: 'UnicodeScripts' }; }),
      /^tokenizer\.json: pre_tokenizer\.type "UnicodeScripts" is not supported/],
    ['broken JSON', '{"version": "1.0", "model": {', /^tokenizer\.json: is not valid JSON/],
    ['not an object', '[1, 2, 3]', /^tokenizer\.json: the top level must be an object/],
    ['too deep', '['.repeat(100) + ']'.repeat(100), /^tokenizer\.json: nests deeper than 64 levels$/],
    ['merge with an unknown token', variant((j) => { j.model.merges = ['a b', 'a c']; }),
      /^tokenizer\.json: model\.merges\[1\] names "c", which is not in model\.vocab$/],
    ['merge result missing', variant((j) => { j.model.merges = ['b a']; }),
      /^tokenizer\.json: model\.merges\[0\] makes "ba", which is not in model\.vocab$/],
    ['negative id', variant((j) => { j.model.vocab.b = -1; }),
      /^tokenizer\.json: model\.vocab\["b"\] -1 is out of range \(0\.\.16777215\)$/],
    ['huge id', variant((j) => { j.model.vocab.b = 4294967296; }),
      /^tokenizer\.json: model\.vocab\["b"\] 4294967296 is out of range/],
    ['duplicate id', variant((j) => { j.model.vocab.b = 0; }), /^tokenizer\.json: model\.vocab\["(a|b)"\] has id 0, which "(a|b)" already has$/],
    ['missing model', variant((j) => { delete j.model; }), /^tokenizer\.json: model is missing$/],
    ['dropout', variant((j) => { j.model.dropout = 0.1; }), /^tokenizer\.json: model\.dropout > 0 is not supported/],
    ['bad regex', variant((j) => { j.pre_tokenizer = { type: 'Split', pattern: { Regex: '(?<=a)b' }, behavior: 'Isolated', invert: false }; }),
      /^tokenizer\.json: pre_tokenizer\.pattern\.Regex "\(\?<=a\)b": lookbehind is not supported/],
    ['template names a missing token', variant((j) => { j.post_processor = { type: 'TemplateProcessing', single: [{ SpecialToken: { id: '<s>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }], pair: [], special_tokens: {} }; }),
      /^tokenizer\.json: post_processor\.single\[0\]\.SpecialToken\.id "<s>" is not in post_processor\.special_tokens$/],
    ['special id out of the vocabulary', variant((j) => { j.post_processor = { type: 'BertProcessing', sep: ['[SEP]', 7], cls: ['[CLS]', 1] }; }),
      /^tokenizer\.json: post_processor\.sep id 7 is not in the vocabulary$/],
    ['wrong type', variant((j) => { j.model.byte_fallback = 'yes'; }), /^tokenizer\.json: model\.byte_fallback must be true or false, not a string$/],
  ];
  for (const [what, text, re] of cases) {
    const f = path.join(tmp, 'tokenizer.json');
    fs.writeFileSync(f, text);
    const got = run(f, ['--load']);
    assert.equal(got.status, 2, `${what}: expected a refusal, got ${show(got.out)}`);
    assert.match(got.out.error, re, what);
    assert.ok(!got.out.error.includes('\n'), `${what}: the message is one line`);
  }
});

test('encode fails where the Rust library fails, with one line naming the field', async () => {
  const tmp = scratchDir('enc');
  const f = path.join(tmp, 'tokenizer.json');
  fs.writeFileSync(f, JSON.stringify({ version: '1.0', added_tokens: [], normalizer: null,
    pre_tokenizer: { type: 'WhitespaceSplit' }, post_processor: null, decoder: null,
    model: { type: 'WordLevel', vocab: { a: 0 }, unk_token: '[UNK]' } }));
  const ref = Tokenizer.fromFile(f);
  await assert.rejects(ref.encode('a b', null, { addSpecialTokens: true }), /Missing \[UNK\] token/);
  assert.deepEqual((await ref.encode('a a', null, { addSpecialTokens: true })).getIds(), [0, 0]);
  const got = run(f, [], ['a b', 'a a']);
  assert.match(got.out[0].error, /^tokenizer\.json: model\.unk_token "\[UNK\]" is not in model\.vocab/);
  assert.deepEqual(got.out[1].special.ids, [0, 0]);
  // Catastrophic backtracking: refused with a message, quickly (Oniguruma hits its retry limit here and the
  // binding aborts the whole process, so there is nothing to compare with).
  fs.writeFileSync(f, JSON.stringify({ version: '1.0', added_tokens: [], normalizer: null,
    pre_tokenizer: { type: 'Split', pattern: { Regex: '(a+)+b' }, behavior: 'Isolated', invert: false },
    post_processor: null, decoder: null, model: { type: 'WordLevel', vocab: { '[UNK]': 0 }, unk_token: '[UNK]' } }));
  const t0 = Date.now();
  const cat = run(f, [], ['a'.repeat(40) + '!', 'aab']);
  assert.match(cat.out[0].error, /^tokenizer\.json: pre_tokenizer\.pattern regex exceeded its step budget/);
  assert.deepEqual(cat.out[1].plain.tokens, ['[UNK]']);
  assert.ok(Date.now() - t0 < 5000, 'the step budget stops it quickly');
});

// The regex engine against Oniguruma (through the binding's Split pre-tokenizer): same pieces for every pattern and
// text, with the delimiters isolated (which also shows where empty matches cut) and removed.
const PATTERNS = [
  "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+",
  "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
  "[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]*[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?|[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]+[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
  "[\\r\\n]|\\s?[A-Za-z\\u00b5\\u00c0-\\u00d6\\u00d8-\\u00f6\\u00f8-\\u01ba]+|\\s?[!-/:-~\\uff01-\\uff0f\\uff1a-\\uff5e\\u2018-\\u201f\\u3000-\\u3002]+|\\s+$|[\\u4e00-\\u9fa5\\u0800-\\u4e00\\uac00-\\ud7ff]+|\\p{N}+",
  'a+?b|.*?x|\\s{2,}?|\\d{2}', '\\w++\\d|(?>a|ab)c|\\w+(?=\\d)|\\d(?!\\d)', '^\\s+|\\s+$|\\bthe\\b|\\B.\\B',
  '(?i)hello|world', '(?i:stra\u00dfe|k|\u00e4)', 'x*', '(a*)*b|\\b', 'a|', '(?=a)', '[\\]\\-\\\\]+|[^\\p{L}\\s]',
  '.|\\n', '(?m:.+)', '\\A.|.\\z|.\\Z', '$|^', '\\p{Han}?', '[\\x{4e00}-\\x{9fff}]{2}|\\x41|\\u00e9', '(?:ab){2,3}?|(?:cd){1,}',
  '\\h+|\\H', '\\S+?\\s', '\\P{L}+', '\\p{^N}+', '[\\p{Sc}\\p{Sm}]', '\\p{Greek}',
];
const REGEX_TEXTS = [
  "I've been waiting for a HuggingFace course my whole life.", "IT'S 'LL 'Ve ſ \u212a 12345 6", "  hello  world  \n\n x ",
  "aab axyx   ab ababab cdcd\tcd", "The the THE other\nthere", "Stra\u00dfe STRASSE k K \u212a \u00c4 \u00e4", "a\nb\r\nc\n",
  "\u4eca\u5929\u5929\u6c14 \uc548\ub155 \u3072\u3089 A\u00e9", "$5 + 3 = \u20ac8 \u2211", "]-\\\\x", "",
  "deadBEEF 0x1f", "e\u0301\u0323 \u0391\u03b2\u03b3", "\ud83d\ude00\ud83d\udc4d\ud83c\udffd!", "   ", "a",
];

test('regex engine equals Oniguruma (Split pieces)', () => {
  const tmp = scratchDir('rx');
  const texts = REGEX_TEXTS;
  let compared = 0;
  for (const pattern of PATTERNS) {
    for (const [behavior, invert] of [['Isolated', false], ['Removed', false], ['Removed', true]]) {
      const j = { version: '1.0', truncation: null, padding: null, added_tokens: [], normalizer: null,
        pre_tokenizer: { type: 'Split', pattern: { Regex: pattern }, behavior, invert }, post_processor: null,
        decoder: null, model: { type: 'WordLevel', vocab: { '[UNK]': 0 }, unk_token: '[UNK]' } };
      const f = path.join(tmp, 'tokenizer.json');
      fs.writeFileSync(f, JSON.stringify(j));
      let ref = null;
      try { ref = Tokenizer.fromFile(f); } catch (e) { /* Oniguruma refuses it too: then so must we */ }
      const got = run(f, ['--pieces'], texts);
      if (!ref) {
        assert.equal(got.status, 2, `${show(pattern)}: Oniguruma refuses it, we load it`);
        continue;
      }
      if (got.status === 2) {
        // refused by name here (unsupported syntax), accepted by Oniguruma: only these are allowed
        assert.match(got.out.error, /lookbehind|\\p\{greek\}|\\p\{han\}|multi-character case folding/i, `${show(pattern)}: ${got.out.error}`);
        continue;
      }
      for (let i = 0; i < texts.length; ++i) {
        const want = ref.getPreTokenizer().preTokenizeString(texts[i]).map((p) => p[0]);
        assert.deepEqual(got.out[i], want, `${show(pattern)} ${behavior} invert=${invert} on ${show(texts[i])}`);
        compared += 1;
      }
    }
  }
  assert.ok(compared > 500, `only ${compared} comparisons`);
});

test('summary', () => {
  console.log(`compared ${totals.compared} encodings (${files.length} tokenizer files, ${corpus.length} corpus strings, ` +
    `add_special_tokens true and false); ${EXCLUDED.length} exclusions`);
});
