// attnplay model: Hugging Face `tokenizer.json` tokenizers, equal to the Rust `tokenizers` library (SPEC §9 Tokens).
//
//   1. What loads     the pipeline parts this build implements; anything else is refused by name
//   2. Loading        hf_tokenizer_load
//   3. Encoding       hf_tokenizer_encode: text -> ids and the vocabulary's token strings; hf_tokenizer_pieces
//   4. Vocabulary     size, id <-> token, the display form a learner reads
//   5. Decoding       hf_tokenizer_decode: ids -> text through the file's decoders
//   6. Limits         what is bounded, and where this build can differ from the Rust library
//
// 1. What loads (the JSON types as the Rust library spells them; fields as it requires them):
//   model          BPE (vocab, merges as "a b" strings or [a, b] pairs, byte_fallback, fuse_unk, unk_token,
//                  continuing_subword_prefix, end_of_word_suffix, ignore_merges, dropout null or 0),
//                  WordPiece, WordLevel; a model without "type" is recognised as the Rust library does.
//                  Refused: Unigram, dropout > 0.
//   normalizer     null, Sequence, NFC, NFD, NFKC, NFKD, Lowercase, StripAccents, Strip, BertNormalizer, Prepend,
//                  Replace (String or Regex pattern), Nmt, ByteLevel. Refused: Precompiled and anything else.
//   pre_tokenizer  null, Sequence, ByteLevel, Split (String or Regex; Removed, Isolated, MergedWithPrevious,
//                  MergedWithNext, Contiguous; invert), Metaspace (prepend_scheme always/first/never or the older
//                  add_prefix_space; split), Whitespace, WhitespaceSplit, BertPreTokenizer, Punctuation, Digits,
//                  CharDelimiterSplit. Refused: UnicodeScripts, FixedLength, anything else.
//   post_processor null, TemplateProcessing, BertProcessing, RobertaProcessing, ByteLevel, Sequence.
//   decoder        null, ByteLevel, Metaspace, WordPiece, ByteFallback, Fuse, Strip, Replace, Sequence, BPEDecoder.
//                  Refused: CTC.
//   added_tokens   content, single_word, lstrip, rstrip, normalized, special; the text is split on them first as
//                  the Rust AddedVocabulary does (non-normalized ones on the raw text, normalized ones on each
//                  normalized piece), so special tokens typed into the text become their ids. As in the Rust
//                  library, an added token's id is its id in the model vocabulary when it has one, else the next
//                  free id after the model vocabulary (the file's "id" field is checked but not trusted).
//   truncation / padding: applied to the single sequence as the Rust library applies them.
//   Regexes (Split, Replace) are Oniguruma's Ruby syntax as the Rust library compiles them, for the subset real
//   files use: literals, escapes, classes with ranges and \p{..} (general categories and their groups), \s \S \d
//   \D \w \W \h \H, ., alternation, groups (?: ) ( ) (?<name> ), (?i:...) and (?i), lookahead (?= ) (?! ), atomic
//   (?> ), quantifiers ? * + {m} {m,} {m,n} greedy, lazy and (except {}) possessive, anchors ^ $ \A \z \Z \b \B.
//   Refused by name: lookbehind, backreferences, nested classes and &&, POSIX brackets, other inline options,
//   \G \K \R \X and other escapes, scripts (\p{Han}), a quantified anchor or lookahead (as Oniguruma refuses it),
//   and case-insensitive parts that multi-character case folding could change ("(?i:ß)", "(?i:ss)", "(?i:\w)").
//   Oniguruma folds "ß" ~ "ss" there; this engine uses simple case folding, so it refuses rather than differ.
//   Real files' (?i:'s|'t|'re|'ve|'m|'ll|'d) is unaffected.
//
// Invalid UTF-8 in the text to encode is decoded with U+FFFD replacement (per maximal invalid subsequence, as
// tokenizer.h's utf8_decode); the Rust library never sees invalid UTF-8 (its bindings take strings).
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace attnplay {

struct HfTokenizerData;  // the parsed pipeline (hf_tokenizer.cpp)

struct HfTokenizer {
  std::shared_ptr<const HfTokenizerData> data;  // immutable once loaded: share it, use it from any thread
};

struct HfEncoding {
  std::vector<int> ids;               // token ids as the Rust library's encode(...).ids
  std::vector<std::string> tokens;    // the vocabulary's strings (.tokens): "Ġcat", "##s", "▁the", "<0x0A>"
};

// --- 2. Loading ----------------------------------------------------------------------------------------------------
// Parses a tokenizer.json text. On failure returns false, leaves *out unchanged and sets *error to one line naming
// the file and the JSON path, e.g.
//   tokenizer.json: model.type "Unigram" is not supported (supported: BPE, WordPiece, WordLevel)
//   tokenizer.json: normalizer.normalizers[1].type "Precompiled" is not supported (supported: ...)
//   tokenizer.json: model.merges[17] names "he", which is not in model.vocab
// Malformed JSON, nesting deeper than 64, missing fields, wrong types, ids out of 0..2^24-1, duplicate ids and
// unsupported parts are all refused; nothing untrusted is trusted (the fuzzer checks).
bool hf_tokenizer_load(std::string_view tokenizer_json, HfTokenizer* out, std::string* error);

// --- 3. Encoding ---------------------------------------------------------------------------------------------------
// Encodes one sequence: added-token split, normalizer, pre-tokenizer, model, post-processor (special tokens only
// when add_special_tokens), truncation, padding. Fails (false + one-line *error, *out cleared) only when the file's
// own data makes the Rust library fail too (e.g. an unk_token missing from the vocabulary) or a regex exceeds its
// step budget (see 6). Empty text gives only what the post-processor adds.
bool hf_tokenizer_encode(const HfTokenizer& t, std::string_view text, bool add_special_tokens, HfEncoding* out,
                         std::string* error);

// The pieces the model is given for this text, after the added-token split, the normalizer and the pre-tokenizer
// (an added token is one piece, as matched): how the text was cut before BPE / WordPiece, for learners and tests.
bool hf_tokenizer_pieces(const HfTokenizer& t, std::string_view text, std::vector<std::string>* out,
                         std::string* error);

// --- 4. Vocabulary -------------------------------------------------------------------------------------------------
int                hf_tokenizer_vocab_size(const HfTokenizer& t);   // largest id + 1 over model vocab and added tokens
const std::string* hf_tokenizer_id_to_token(const HfTokenizer& t, int id);  // added token's content, else the
                                                                            // model's string; nullptr if neither
int                hf_tokenizer_token_to_id(const HfTokenizer& t, std::string_view token);  // -1 if none
bool               hf_tokenizer_is_special(const HfTokenizer& t, int id);   // an added token marked special
// A token as a learner should read it, always valid UTF-8: byte-level tokens (a ByteLevel pre-tokenizer, normalizer
// or decoder) are decoded from GPT-2's byte alphabet ("Ġcat" -> "·cat"); "▁" (SentencePiece's space) likewise
// becomes "·", and so does every space; byte_fallback tokens "<0x41>" show their byte ("A"; a byte that is not a
// whole UTF-8 character shows as "\xE4"); bytes of a byte-level token that do not form UTF-8 show as "\xNN";
// newline, tab and carriage return show as "↵", "⇥", "␍", other C0 controls as U+2400 + c, DEL as "␡";
// WordPiece "##s" and added tokens ("<|endoftext|>", "[CLS]") are kept. An unknown id shows as its decimal digits.
std::string        hf_tokenizer_display(const HfTokenizer& t, int id);

// --- 5. Decoding ---------------------------------------------------------------------------------------------------
// The Rust library's decode(ids, skip_special_tokens): ids -> token strings (unknown ids dropped; with skip_special,
// tokens equal to a special added token dropped) -> the file's decoder chain (no decoder: joined with " ").
// Always valid UTF-8 (invalid byte sequences become U+FFFD as the Rust decoders make them).
std::string        hf_tokenizer_decode(const HfTokenizer& t, const std::vector<int>& ids, bool skip_special);

// --- 6. Limits -----------------------------------------------------------------------------------------------------
// JSON nesting <= 64, padding lengths <= 65536, regex patterns <= 4096 bytes with group nesting <= 32 and at most
// 100000 compiled instructions. A regex pass over a piece of text (all its searches) runs at most
// 1,000,000 + 2000 * (piece length) steps, beyond which encode fails with a message naming the pattern's JSON path
// rather than hanging (real files' patterns are linear, under 100 steps per character; Oniguruma itself gives up
// on such patterns with "retry-limit-in-match over", which aborts the Node binding's process).
// Unicode: this build's tables are the unicode-data package's version (15.0 on Debian 12) where the Rust library
// is at 16.0 (regexes, lowercase, is_numeric, White_Space); normalisation is Unicode 9.0 and BERT's categories
// Unicode 8.0 in both, as the Rust library's crates have them (unicode_data.h). So text with code points first
// assigned in Unicode 15.1 or 16.0 can tokenize differently; nothing else is known to.

}  // namespace attnplay
