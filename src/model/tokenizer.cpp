// attnplay model: UTF-8 decoding and tokenizers. Contracts: tokenizer.h.
#include "model/tokenizer.h"

namespace attnplay {

std::vector<uint32_t> utf8_decode(std::string_view s, bool* had_invalid) {
  std::vector<uint32_t> out;
  out.reserve(s.size());
  bool invalid = false;
  size_t i = 0;
  const size_t n = s.size();
  while (i < n) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      out.push_back(c);
      ++i;
      continue;
    }
    int len = 0;
    uint32_t cp = 0, lo = 0x80, hi = 0xBF;  // allowed range of the second byte (Unicode Table 3-7)
    if (c >= 0xC2 && c <= 0xDF) { len = 2; cp = c & 0x1F; }
    else if (c >= 0xE0 && c <= 0xEF) { len = 3; cp = c & 0x0F; if (c == 0xE0) lo = 0xA0; if (c == 0xED) hi = 0x9F; }
    else if (c >= 0xF0 && c <= 0xF4) { len = 4; cp = c & 0x07; if (c == 0xF0) lo = 0x90; if (c == 0xF4) hi = 0x8F; }
    if (len == 0) {  // stray continuation byte or an impossible lead byte
      out.push_back(0xFFFD);
      invalid = true;
      ++i;
      continue;
    }
    size_t k = 1;
    bool ok = true;
    for (; k < size_t(len); ++k) {
      if (i + k >= n) { ok = false; break; }
      const unsigned char b = static_cast<unsigned char>(s[i + k]);
      const uint32_t min_b = (k == 1) ? lo : 0x80, max_b = (k == 1) ? hi : 0xBF;
      if (b < min_b || b > max_b) { ok = false; break; }
      cp = (cp << 6) | (b & 0x3F);
    }
    if (!ok) {  // replace the maximal invalid prefix with one U+FFFD
      out.push_back(0xFFFD);
      invalid = true;
      i += k;
      continue;
    }
    out.push_back(cp);
    i += size_t(len);
  }
  if (had_invalid) *had_invalid = invalid;
  return out;
}

void utf8_pop_char(std::string* s) {
  while (!s->empty() && (uint8_t(s->back()) & 0xC0) == 0x80) s->pop_back();  // continuation bytes, then the lead byte
  if (!s->empty()) s->pop_back();
}

void utf8_append(uint32_t cp, std::string* out) {
  if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) cp = 0xFFFD;
  if (cp < 0x80) {
    out->push_back(char(cp));
  } else if (cp < 0x800) {
    out->push_back(char(0xC0 | (cp >> 6)));
    out->push_back(char(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(char(0xE0 | (cp >> 12)));
    out->push_back(char(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(char(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(char(0xF0 | (cp >> 18)));
    out->push_back(char(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(char(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(char(0x80 | (cp & 0x3F)));
  }
}

bool utf8_is_valid(std::string_view bytes) {
  bool bad = false;
  utf8_decode(bytes, &bad);
  return !bad;
}

bool unicode_is_space(uint32_t cp) {
  return (cp >= 0x09 && cp <= 0x0D) || cp == 0x20 || cp == 0x85 || cp == 0xA0 || cp == 0x1680 ||
         (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 || cp == 0x202F || cp == 0x205F ||
         cp == 0x3000;
}

bool unicode_is_punct(uint32_t cp) {
  if (cp < 0x80) return (cp >= 0x21 && cp <= 0x2F) || (cp >= 0x3A && cp <= 0x40) || (cp >= 0x5B && cp <= 0x60) ||
                        (cp >= 0x7B && cp <= 0x7E);
  return cp == 0xA1 || cp == 0xA7 || cp == 0xAB || cp == 0xB6 || cp == 0xB7 || cp == 0xBB || cp == 0xBF ||
         cp == 0x37E || cp == 0x387 || (cp >= 0x55A && cp <= 0x55F) || cp == 0x589 || cp == 0x5BE ||
         cp == 0x60C || cp == 0x61B || cp == 0x61F || cp == 0x6D4 || cp == 0x964 || cp == 0x965 ||
         (cp >= 0x2010 && cp <= 0x2027) || (cp >= 0x2030 && cp <= 0x205E) ||  // General Punctuation
         (cp >= 0x2E00 && cp <= 0x2E7F) ||                                    // Supplemental Punctuation
         (cp >= 0x3001 && cp <= 0x3003) || (cp >= 0x3008 && cp <= 0x3011) || (cp >= 0x3014 && cp <= 0x301F) ||
         cp == 0x30FB || (cp >= 0xFE10 && cp <= 0xFE19) || (cp >= 0xFE30 && cp <= 0xFE6B) ||
         (cp >= 0xFF01 && cp <= 0xFF0F) || (cp >= 0xFF1A && cp <= 0xFF20) || (cp >= 0xFF3B && cp <= 0xFF40) ||
         (cp >= 0xFF5B && cp <= 0xFF65);
}

bool unicode_is_cjk_ideograph(uint32_t cp) {
  return (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF) || (cp >= 0xF900 && cp <= 0xFAFF) ||
         (cp >= 0x20000 && cp <= 0x2A6DF) || (cp >= 0x2A700 && cp <= 0x2EBEF) || (cp >= 0x2F800 && cp <= 0x2FA1F) ||
         (cp >= 0x30000 && cp <= 0x3134F);
}

std::vector<std::string> tokenizer_split(TokenizerKind kind, std::string_view text) {
  const std::vector<uint32_t> cps = utf8_decode(text, nullptr);
  std::vector<std::string> tokens;
  std::string cur;
  auto flush = [&]() {
    if (!cur.empty()) tokens.push_back(std::move(cur));
    cur.clear();
  };
  for (uint32_t cp : cps) {
    switch (kind) {
      case TOKENIZER_KIND_CHARS: {
        std::string t;
        utf8_append(cp, &t);
        tokens.push_back(std::move(t));
        break;
      }
      case TOKENIZER_KIND_WHITESPACE:
        if (unicode_is_space(cp)) flush();
        else utf8_append(cp, &cur);
        break;
      case TOKENIZER_KIND_WORDS:
        if (unicode_is_space(cp)) {
          flush();
        } else if (unicode_is_punct(cp) || unicode_is_cjk_ideograph(cp)) {
          flush();
          utf8_append(cp, &cur);
          flush();
        } else {
          utf8_append(cp, &cur);
        }
        break;
    }
  }
  flush();
  return tokens;
}

}  // namespace attnplay
