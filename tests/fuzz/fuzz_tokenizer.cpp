// Fuzz target: the tokenizers on arbitrary bytes (invalid UTF-8 included). Every token is valid UTF-8 and
// non-empty; words/whitespace tokens hold no white space.
#include "model/tokenizer.h"

#include <cstdint>
#include <cstdlib>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const auto kind = attnplay::TokenizerKind(data[0] % 3);
  const std::string text(reinterpret_cast<const char*>(data + 1), size - 1);
  for (const std::string& t : attnplay::tokenizer_split(kind, text)) {
    if (t.empty() || !attnplay::utf8_is_valid(t)) std::abort();
    if (kind != attnplay::TOKENIZER_KIND_CHARS)
      for (uint32_t cp : attnplay::utf8_decode(t, nullptr))
        if (attnplay::unicode_is_space(cp)) std::abort();
  }
  return 0;
}
