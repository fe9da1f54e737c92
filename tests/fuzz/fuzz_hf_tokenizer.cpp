// Fuzz target: src/model/hf_tokenizer on arbitrary bytes.
//   input starting with '{'  parsed as a tokenizer.json; if it loads, a few fixed strings are encoded, decoded and
//                            displayed with it (refusals are fine, crashes, hangs and invalid UTF-8 are not)
//   otherwise, byte 0 picks   0: encode the rest with a byte-level BPE (GPT-2 style, Llama 3's regex, added tokens)
//                             1: encode the rest with a WordPiece (BERT style)
//                             2: "pattern NUL text": compile the pattern as a Split regex and cut the text
// Invariants: ids within the vocabulary, tokens equal to the vocabulary's strings (or an added token's text),
// display and decode valid UTF-8, byte-level decode(encode(x)) == x, Isolated Split pieces concatenate to the text.
#include "model/hf_tokenizer.h"
#include "model/tokenizer.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

namespace {

using attnplay::HfEncoding;
using attnplay::HfTokenizer;

void check(bool ok) {
  if (!ok) std::abort();
}

// The fixed tokenizers, as small tokenizer.json texts.
std::string byte_level_bpe_json() {
  nlohmann::json vocab = nlohmann::json::object();
  // GPT-2's byte alphabet: printable bytes stand for themselves, the others map to U+0100 + n in order.
  int next = 0;
  for (int b = 0; b < 256; ++b) {
    const bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || b >= 0xAE;
    std::string s;
    attnplay::utf8_append(printable ? uint32_t(b) : uint32_t(256 + next++), &s);
    vocab[s] = b;
  }
  const char* merges[] = {"Ġ t", "h e", "Ġt he", "i n", "Ġ a", "e r", "o n", "Ġ s", "a t", "e n", "Ġ w", "r e"};
  int id = 256;
  nlohmann::json m = nlohmann::json::array();
  for (const char* x : merges) {
    std::string a(x), b;
    const size_t sp = a.find(' ');
    b = a.substr(sp + 1);
    a = a.substr(0, sp);
    if (!vocab.contains(a + b)) vocab[a + b] = id++;
    m.push_back(x);
  }
  vocab["<|endoftext|>"] = id++;
  nlohmann::json j = {
      {"version", "1.0"},
      {"added_tokens", {{{"id", id - 1}, {"content", "<|endoftext|>"}, {"single_word", false}, {"lstrip", false},
                         {"rstrip", false}, {"normalized", true}, {"special", true}},
                        {{"id", id}, {"content", "<tool>"}, {"single_word", true}, {"lstrip", false},
                         {"rstrip", false}, {"normalized", false}, {"special", false}}}},
      {"normalizer", nullptr},
      {"pre_tokenizer",
       {{"type", "Sequence"},
        {"pretokenizers",
         {{{"type", "Split"},
           {"pattern", {{"Regex", "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}"
                                  "\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"}}},
           {"behavior", "Isolated"},
           {"invert", false}},
          {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"trim_offsets", true}, {"use_regex", false}}}}}},
      {"post_processor", {{"type", "ByteLevel"}, {"add_prefix_space", true}, {"trim_offsets", false}}},
      {"decoder", {{"type", "ByteLevel"}, {"add_prefix_space", true}, {"trim_offsets", true}}},
      {"model", {{"type", "BPE"}, {"vocab", vocab}, {"merges", m}, {"ignore_merges", true}}}};
  return j.dump();
}

std::string word_piece_json() {
  const char* words[] = {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the", "a", "##s", "##ing", "hug", "##g",
                         "face", "!", ",", ".", "un", "##aff", "##able", "中", "é", "e", "##e", "x", "##x"};
  nlohmann::json vocab = nlohmann::json::object();
  for (size_t i = 0; i < sizeof words / sizeof words[0]; ++i) vocab[words[i]] = i;
  auto special = [](int id, const char* s) {
    return nlohmann::json{{"id", id}, {"content", s}, {"single_word", false}, {"lstrip", false},
                          {"rstrip", false}, {"normalized", false}, {"special", true}};
  };
  nlohmann::json j = {
      {"version", "1.0"},
      {"truncation", {{"max_length", 64}, {"strategy", "LongestFirst"}, {"stride", 0}, {"direction", "Right"}}},
      {"added_tokens", {special(0, "[PAD]"), special(1, "[UNK]"), special(2, "[CLS]"), special(3, "[SEP]"),
                        special(4, "[MASK]")}},
      {"normalizer", {{"type", "BertNormalizer"}, {"clean_text", true}, {"handle_chinese_chars", true},
                      {"strip_accents", nullptr}, {"lowercase", true}}},
      {"pre_tokenizer", {{"type", "BertPreTokenizer"}}},
      {"post_processor", {{"type", "BertProcessing"}, {"sep", {"[SEP]", 3}}, {"cls", {"[CLS]", 2}}}},
      {"decoder", {{"type", "WordPiece"}, {"prefix", "##"}, {"cleanup", true}}},
      {"model", {{"type", "WordPiece"}, {"unk_token", "[UNK]"}, {"continuing_subword_prefix", "##"},
                 {"max_input_chars_per_word", 20}, {"vocab", vocab}}}};
  return j.dump();
}

const HfTokenizer& fixed(int which) {
  static HfTokenizer t[2];
  static bool loaded = false;
  if (!loaded) {
    std::string error;
    check(attnplay::hf_tokenizer_load(byte_level_bpe_json(), &t[0], &error));
    check(attnplay::hf_tokenizer_load(word_piece_json(), &t[1], &error));
    loaded = true;
  }
  return t[which];
}

// The text as the tokenizer sees it: invalid UTF-8 replaced.
std::string lossy(const std::string& s) {
  std::string out;
  for (uint32_t c : attnplay::utf8_decode(s, nullptr)) attnplay::utf8_append(c, &out);
  return out;
}

void check_encoding(const HfTokenizer& t, const HfEncoding& e) {
  check(e.ids.size() == e.tokens.size());
  const int n = attnplay::hf_tokenizer_vocab_size(t);
  for (size_t i = 0; i < e.ids.size(); ++i) {
    check(e.ids[i] >= 0 && e.ids[i] < n);
    check(attnplay::utf8_is_valid(e.tokens[i]));
    check(attnplay::utf8_is_valid(attnplay::hf_tokenizer_display(t, e.ids[i])));
  }
  check(attnplay::utf8_is_valid(attnplay::hf_tokenizer_decode(t, e.ids, false)));
  check(attnplay::utf8_is_valid(attnplay::hf_tokenizer_decode(t, e.ids, true)));
}

void exercise_loaded(const HfTokenizer& t) {
  static const char* const kTexts[] = {"Hello world! It's 42.", "  a\tb\n\nc  ", "café cafe\xCC\x81 ΟΔΟΣ 中文 👍🏽",
                                       "<s>x</s>[CLS]<|endoftext|>", "", "\xFF\xFE broken \xC3"};
  for (const char* s : kTexts) {
    HfEncoding e;
    std::string error;
    for (bool special : {true, false}) {
      if (attnplay::hf_tokenizer_encode(t, s, special, &e, &error)) {
        check(e.ids.size() == e.tokens.size());
        check_encoding(t, e);
      } else {
        check(!error.empty() && error.find('\n') == std::string::npos);
      }
    }
    std::vector<std::string> pieces;
    if (attnplay::hf_tokenizer_pieces(t, s, &pieces, &error))
      for (const std::string& p : pieces) check(attnplay::utf8_is_valid(p));
  }
  for (int id : {-1, 0, 1, 2, 100, 1 << 20}) check(attnplay::utf8_is_valid(attnplay::hf_tokenizer_display(t, id)));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string input(reinterpret_cast<const char*>(data), size);
  std::string error;
  if (data[0] == '{') {
    HfTokenizer t;
    if (attnplay::hf_tokenizer_load(input, &t, &error)) exercise_loaded(t);
    else check(error.compare(0, 16, "tokenizer.json: ") == 0 && error.find('\n') == std::string::npos);
    return 0;
  }
  const int mode = data[0] % 3;
  const std::string text = input.substr(1);
  if (mode == 0 || mode == 1) {
    const HfTokenizer& t = fixed(mode);
    HfEncoding e;
    check(attnplay::hf_tokenizer_encode(t, text, mode == 1, &e, &error));
    check_encoding(t, e);
    if (mode == 0) check(attnplay::hf_tokenizer_decode(t, e.ids, false) == lossy(text));  // byte-level: lossless
    if (mode == 1) check(e.ids.size() <= 64);                                               // truncation
    return 0;
  }
  // mode 2: a Split regex
  const size_t nul = text.find('\0');
  const std::string pattern = text.substr(0, nul);
  const std::string subject = nul == std::string::npos ? std::string() : text.substr(nul + 1);
  if (!attnplay::utf8_is_valid(pattern)) return 0;
  nlohmann::json j = {{"pre_tokenizer", {{"type", "Split"}, {"pattern", {{"Regex", pattern}}}, {"behavior", "Isolated"},
                                         {"invert", false}}},
                      {"model", {{"type", "WordLevel"}, {"vocab", {{"[UNK]", 0}}}, {"unk_token", "[UNK]"}}}};
  HfTokenizer t;
  if (!attnplay::hf_tokenizer_load(j.dump(), &t, &error)) return 0;
  std::vector<std::string> pieces;
  if (!attnplay::hf_tokenizer_pieces(t, subject, &pieces, &error)) {
    check(error.find("step budget") != std::string::npos);
    return 0;
  }
  std::string joined;
  for (const std::string& p : pieces) {
    check(!p.empty());
    joined += p;
  }
  check(joined == lossy(subject));
  return 0;
}
