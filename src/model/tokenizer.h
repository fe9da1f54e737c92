// attnplay model: UTF-8 and the three tokenizers of the config's "tokenizer" field.
//
//   words       split on white space and punctuation; each punctuation mark is a token of its own, and so is
//               each CJK ideograph (as BERT's basic tokenizer); combining marks, ZWJ emoji sequences and
//               other symbols stay inside their word
//   whitespace  split on Unicode white space only
//   chars       one token per Unicode code point, white space included ("今天天气很好" -> 6 tokens)
//
// Invalid UTF-8 (stray continuation bytes, overlong forms, surrogates, > U+10FFFF, truncated sequences)
// decodes to U+FFFD per maximal invalid subsequence, as browsers do; tokenizing never fails.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace attnplay {

enum TokenizerKind {
  TOKENIZER_KIND_WORDS,
  TOKENIZER_KIND_WHITESPACE,
  TOKENIZER_KIND_CHARS,
};

std::vector<uint32_t>    utf8_decode(std::string_view bytes, bool* had_invalid);  // code points; invalid -> U+FFFD
void                     utf8_append(uint32_t cp, std::string* out);              // encode one code point (the one
                                                                                  //   encoder: surrogates, > U+10FFFF -> U+FFFD)
void                     utf8_pop_char(std::string* s);                           // drop the last whole code point
bool                     utf8_is_valid(std::string_view bytes);
bool                     unicode_is_space(uint32_t cp);       // Unicode White_Space
bool                     unicode_is_punct(uint32_t cp);       // ASCII and Unicode punctuation (P*), ASCII symbols
bool                     unicode_is_cjk_ideograph(uint32_t cp);
std::vector<std::string> tokenizer_split(TokenizerKind kind, std::string_view text);  // tokens as UTF-8 strings

}  // namespace attnplay
