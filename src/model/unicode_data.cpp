// attnplay model: Unicode tables and normalisation. Contracts: unicode_data.h.
#include "model/unicode_data.h"

#include <algorithm>
#include <cstring>
#include <unordered_map>
#include <utility>

namespace attnplay {
namespace {

#include "unicode_tables.inc"

constexpr bool same_text(const char* a, const char* b) {
  return *a == *b && (*a == '\0' || same_text(a + 1, b + 1));
}
static_assert(same_text(ATTNPLAY_UCD_CATEGORY_ORDER,
                        "Cn Lu Ll Lt Lm Lo Mn Mc Me Nd Nl No Pc Pd Ps Pe Pi Pf Po Sm Sc Sk So Zs Zl Zp Cc Cf Cs Co"),
              "tools/gen_unicode_tables.py and UcdCategory disagree on the category order");

const char* const kCategoryNames[UCD_CATEGORY_COUNT] = {
    "Cn", "Lu", "Ll", "Lt", "Lm", "Lo", "Mn", "Mc", "Me", "Nd", "Nl", "No", "Pc", "Pd", "Ps",
    "Pe", "Pi", "Pf", "Po", "Sm", "Sc", "Sk", "So", "Zs", "Zl", "Zp", "Cc", "Cf", "Cs", "Co"};

template <size_t N>
constexpr size_t count_of(const uint32_t (&)[N]) { return N; }
template <size_t N>
constexpr size_t count_of(const int32_t (&)[N]) { return N; }

// Value of the run containing cp in a table of (start << shift) | value entries sorted by start.
uint32_t run_lookup(const uint32_t* runs, size_t n, uint32_t cp, int shift) {
  size_t lo = 0, hi = n;  // find the last entry with start <= cp
  while (hi - lo > 1) {
    const size_t mid = lo + (hi - lo) / 2;
    if ((runs[mid] >> shift) <= cp) lo = mid; else hi = mid;
  }
  return runs[lo] & ((1u << shift) - 1);
}

bool in_ranges(const uint32_t* pairs, size_t n_values, uint32_t cp) {
  size_t lo = 0, hi = n_values / 2;  // first range whose last >= cp
  while (lo < hi) {
    const size_t mid = lo + (hi - lo) / 2;
    if (pairs[2 * mid + 1] < cp) lo = mid + 1; else hi = mid;
  }
  return lo < n_values / 2 && pairs[2 * lo] <= cp;
}

// Delta runs (first, count, stride, delta): the mapped value of cp, or cp.
uint32_t delta_lookup(const int32_t* runs, size_t n_values, uint32_t cp) {
  size_t lo = 0, hi = n_values / 4;  // last run with first <= cp
  if (hi == 0 || uint32_t(runs[0]) > cp) return cp;
  while (hi - lo > 1) {
    const size_t mid = lo + (hi - lo) / 2;
    if (uint32_t(runs[4 * mid]) <= cp) lo = mid; else hi = mid;
  }
  const uint32_t first = uint32_t(runs[4 * lo]), count = uint32_t(runs[4 * lo + 1]);
  const uint32_t stride = uint32_t(runs[4 * lo + 2]);
  const uint32_t off = cp - first;
  if (off % stride != 0 || off / stride >= count) return cp;
  return uint32_t(int64_t(cp) + runs[4 * lo + 3]);
}

// BMP fast path: category in bits 0-4, assigned by 8.0 in bit 5, by 9.0 in bit 6, White_Space in bit 7.
struct BmpTable {
  uint8_t v[0x10000];
  BmpTable() {
    for (uint32_t cp = 0; cp < 0x10000; ++cp) {
      uint8_t b = uint8_t(run_lookup(kCategoryRuns, count_of(kCategoryRuns), cp, 5));
      const uint32_t age = run_lookup(kAgeRuns, count_of(kAgeRuns), cp, 8);
      if (age != 0xFF && age <= ((8u << 4) | 0u)) b |= 0x20;
      if (age != 0xFF && age <= ((9u << 4) | 0u)) b |= 0x40;
      if (in_ranges(kWhiteSpaceRanges, count_of(kWhiteSpaceRanges), cp)) b |= 0x80;
      v[cp] = b;
    }
  }
};

const BmpTable& bmp() {
  static const BmpTable* t = new BmpTable();  // intentionally never freed: lives for the process
  return *t;
}

// Decomposition lookup: index into kDecompKeys, or -1.
int decomp_index(uint32_t cp) {
  const size_t n = count_of(kDecompKeys);
  size_t lo = 0, hi = n;
  while (lo < hi) {
    const size_t mid = lo + (hi - lo) / 2;
    const uint32_t k = kDecompKeys[mid] >> 8;
    if (k < cp) lo = mid + 1; else hi = mid;
  }
  if (lo < n && (kDecompKeys[lo] >> 8) == cp) return int(lo);
  return -1;
}

// Decode the UTF-8 pool slice of entry i into out (appending). The pool is generated, hence trusted.
void decomp_mapping(int i, std::vector<uint32_t>* out) {
  const unsigned char* p = reinterpret_cast<const unsigned char*>(kDecompPool) + kDecompOffsets[i];
  const unsigned char* e = reinterpret_cast<const unsigned char*>(kDecompPool) + kDecompOffsets[i + 1];
  while (p < e) {
    uint32_t c = *p++;
    int extra = 0;
    if (c >= 0xF0) { c &= 0x07; extra = 3; }
    else if (c >= 0xE0) { c &= 0x0F; extra = 2; }
    else if (c >= 0xC0) { c &= 0x1F; extra = 1; }
    for (int k = 0; k < extra && p < e; ++k) c = (c << 6) | (*p++ & 0x3F);
    out->push_back(c);
  }
}

constexpr uint32_t kSBase = 0xAC00, kLBase = 0x1100, kVBase = 0x1161, kTBase = 0x11A7;
constexpr uint32_t kLCount = 19, kVCount = 21, kTCount = 28, kNCount = kVCount * kTCount, kSCount = kLCount * kNCount;

struct CompositionMap {
  std::unordered_map<uint64_t, uint32_t> pairs;
  CompositionMap() {
    std::vector<uint32_t> m;
    for (size_t i = 0; i < count_of(kDecompKeys); ++i) {
      const uint32_t key = kDecompKeys[i];
      if (key & 3u) continue;  // compatibility or excluded from composition
      m.clear();
      decomp_mapping(int(i), &m);
      if (m.size() != 2) continue;
      pairs[(uint64_t(m[0]) << 32) | m[1]] = key >> 8;
    }
  }
};

const CompositionMap& composition() {
  static const CompositionMap* c = new CompositionMap();
  return *c;
}

// Returns the primary composite of (a, b) or 0.
uint32_t compose_pair(uint32_t a, uint32_t b) {
  if (a >= kLBase && a < kLBase + kLCount && b >= kVBase && b < kVBase + kVCount)
    return kSBase + ((a - kLBase) * kVCount + (b - kVBase)) * kTCount;
  if (a >= kSBase && a < kSBase + kSCount && (a - kSBase) % kTCount == 0 && b > kTBase && b < kTBase + kTCount)
    return a + (b - kTBase);
  const auto& p = composition().pairs;
  const auto it = p.find((uint64_t(a) << 32) | b);
  return it == p.end() ? 0 : it->second;
}

struct FoldInverse {
  std::vector<std::pair<uint32_t, uint32_t>> by_target;  // (fold target, source), sorted
  FoldInverse() {
    const size_t n = count_of(kFoldRuns) / 4;
    for (size_t r = 0; r < n; ++r) {
      const uint32_t first = uint32_t(kFoldRuns[4 * r]), count = uint32_t(kFoldRuns[4 * r + 1]);
      const uint32_t stride = uint32_t(kFoldRuns[4 * r + 2]);
      for (uint32_t k = 0; k < count; ++k) {
        const uint32_t src = first + k * stride;
        by_target.emplace_back(uint32_t(int64_t(src) + kFoldRuns[4 * r + 3]), src);
      }
    }
    std::sort(by_target.begin(), by_target.end());
  }
};

const FoldInverse& fold_inverse() {
  static const FoldInverse* f = new FoldInverse();
  return *f;
}

void decompose_into(uint32_t cp, uint32_t tag, bool compat, std::vector<uint32_t>* out, std::vector<uint32_t>* tags,
                    std::vector<uint32_t>* scratch) {
  if (cp >= kSBase && cp < kSBase + kSCount) {
    const uint32_t s = cp - kSBase;
    out->push_back(kLBase + s / kNCount);
    out->push_back(kVBase + (s % kNCount) / kTCount);
    if (tags) { tags->push_back(tag); tags->push_back(tag); }
    if (s % kTCount != 0) {
      out->push_back(kTBase + s % kTCount);
      if (tags) tags->push_back(tag);
    }
    return;
  }
  // Iterative full decomposition: a stack of pending code points (reversed).
  scratch->clear();
  scratch->push_back(cp);
  int guard = 0;
  while (!scratch->empty()) {
    const uint32_t c = scratch->back();
    scratch->pop_back();
    const int i = (++guard < 256) ? decomp_index(c) : -1;  // Unicode nests at most 4 levels; bound anyway
    if (i >= 0 && (compat || (kDecompKeys[i] & 2u) == 0)) {
      const size_t before = scratch->size();
      decomp_mapping(i, scratch);
      std::reverse(scratch->begin() + long(before), scratch->end());
      continue;
    }
    if (c >= kSBase && c < kSBase + kSCount) {  // a compatibility mapping may yield a syllable (none do today)
      decompose_into(c, tag, compat, out, tags, scratch);
      continue;
    }
    out->push_back(c);
    if (tags) tags->push_back(tag);
  }
}

}  // namespace

const char* ucd_version() { return ATTNPLAY_UCD_VERSION; }

UcdCategory ucd_category(uint32_t cp) {
  if (cp < 0x10000) return UcdCategory(bmp().v[cp] & 0x1F);
  if (cp > 0x10FFFF) return UCD_CATEGORY_CN;
  return UcdCategory(run_lookup(kCategoryRuns, count_of(kCategoryRuns), cp, 5));
}

bool ucd_assigned_by(uint32_t cp, int major, int minor) {
  if (cp > 0x10FFFF || major < 0 || minor < 0) return false;
  const uint32_t age = run_lookup(kAgeRuns, count_of(kAgeRuns), cp, 8);
  if (age == 0xFF) return false;
  const int a_major = int(age >> 4), a_minor = int(age & 15);
  return a_major < major || (a_major == major && a_minor <= minor);
}

UcdCategory ucd_category_as_of(uint32_t cp, int major, int minor) {
  if (cp < 0x10000 && major == 8 && minor == 0) {
    const uint8_t b = bmp().v[cp];
    return (b & 0x20) ? UcdCategory(b & 0x1F) : UCD_CATEGORY_CN;
  }
  if (cp < 0x10000 && major == 9 && minor == 0) {
    const uint8_t b = bmp().v[cp];
    return (b & 0x40) ? UcdCategory(b & 0x1F) : UCD_CATEGORY_CN;
  }
  return ucd_assigned_by(cp, major, minor) ? ucd_category(cp) : UCD_CATEGORY_CN;
}

char ucd_category_major(UcdCategory c) {
  return c < UCD_CATEGORY_COUNT ? kCategoryNames[c][0] : 'C';
}

const char* ucd_category_name(UcdCategory c) {
  return c < UCD_CATEGORY_COUNT ? kCategoryNames[c] : "Cn";
}

int ucd_category_from_name(const char* name, size_t len) {
  if (len != 2) return -1;
  for (int i = 0; i < UCD_CATEGORY_COUNT; ++i)
    if (kCategoryNames[i][0] == name[0] && kCategoryNames[i][1] == name[1]) return i;
  return -1;
}

bool ucd_is_white_space(uint32_t cp) {
  if (cp < 0x10000) return (bmp().v[cp] & 0x80) != 0;
  return in_ranges(kWhiteSpaceRanges, count_of(kWhiteSpaceRanges), cp);
}

bool ucd_is_alphabetic(uint32_t cp) {
  if (cp < 0x80) return (cp | 0x20) >= 'a' && (cp | 0x20) <= 'z';
  return in_ranges(kAlphabeticRanges, count_of(kAlphabeticRanges), cp);
}

bool ucd_is_word_onig(uint32_t cp) {
  if (cp < 0x80) return ((cp | 0x20) >= 'a' && (cp | 0x20) <= 'z') || (cp >= '0' && cp <= '9') || cp == '_';
  const UcdCategory c = ucd_category(cp);
  return ucd_category_major(c) == 'M' || c == UCD_CATEGORY_ND || c == UCD_CATEGORY_PC || ucd_is_alphabetic(cp);
}

bool ucd_is_word_rust(uint32_t cp) {
  return cp == 0x200C || cp == 0x200D || ucd_is_word_onig(cp);
}

bool ucd_is_numeric(uint32_t cp) {
  const UcdCategory c = ucd_category(cp);
  return c == UCD_CATEGORY_ND || c == UCD_CATEGORY_NL || c == UCD_CATEGORY_NO;
}

int ucd_lowercase(uint32_t cp, uint32_t out[3]) {
  if (cp < 0x80) {
    out[0] = (cp >= 'A' && cp <= 'Z') ? cp + 32 : cp;
    return 1;
  }
  for (size_t i = 0, k = 0; i < kLowerMultiCount; ++i) {
    const uint32_t src = kLowerMulti[k], n = kLowerMulti[k + 1];
    if (src == cp && n <= 3) {
      for (uint32_t j = 0; j < n; ++j) out[j] = kLowerMulti[k + 2 + j];
      return int(n);
    }
    k += 2 + n;
  }
  out[0] = delta_lookup(kLowerRuns, count_of(kLowerRuns), cp);
  return 1;
}

uint32_t ucd_simple_fold(uint32_t cp) {
  if (cp < 0x80) return (cp >= 'A' && cp <= 'Z') ? cp + 32 : cp;
  return delta_lookup(kFoldRuns, count_of(kFoldRuns), cp);
}

int ucd_fold_equivalents(uint32_t cp, uint32_t* out, int max) {
  const uint32_t f = ucd_simple_fold(cp);
  int n = 0;
  auto add = [&](uint32_t x) {
    for (int i = 0; i < n && i < max; ++i)
      if (out[i] == x) return;
    if (n < max) out[n] = x;
    ++n;
  };
  add(cp);
  add(f);
  const auto& inv = fold_inverse().by_target;
  auto it = std::lower_bound(inv.begin(), inv.end(), std::make_pair(f, uint32_t(0)));
  for (; it != inv.end() && it->first == f; ++it) add(it->second);
  return n;
}

size_t ucd_multi_fold_count() { return kMultiFoldCount; }

int ucd_multi_fold_at(size_t i, uint32_t* src, uint32_t out[3]) {
  size_t k = 0;
  for (size_t j = 0; j < i && j < kMultiFoldCount; ++j) k += 2 + kMultiFold[k + 1];
  if (i >= kMultiFoldCount) return 0;
  *src = kMultiFold[k];
  const uint32_t n = kMultiFold[k + 1];
  for (uint32_t j = 0; j < n && j < 3; ++j) out[j] = kMultiFold[k + 2 + j];
  return int(n);
}

int ucd_combining_class(uint32_t cp) {
  if (cp < 0x300 || cp > 0x10FFFF) return 0;
  return int(run_lookup(kCccRuns, count_of(kCccRuns), cp, 8));
}

bool ucd_is_combining_mark(uint32_t cp) {
  return ucd_category_major(ucd_category_as_of(cp, 9, 0)) == 'M';
}

void ucd_normalize(UcdNormalForm form, const uint32_t* cps, const uint32_t* tags, size_t n,
                   std::vector<uint32_t>* out_cps, std::vector<uint32_t>* out_tags) {
  const bool compat = form == UCD_NORMAL_FORM_NFKD || form == UCD_NORMAL_FORM_NFKC;
  const bool compose = form == UCD_NORMAL_FORM_NFC || form == UCD_NORMAL_FORM_NFKC;
  std::vector<uint32_t>& out = *out_cps;
  std::vector<uint32_t>* ot = tags ? out_tags : nullptr;
  out.clear();
  if (ot) ot->clear();
  out.reserve(n + n / 4);
  std::vector<uint32_t> scratch;
  for (size_t i = 0; i < n; ++i) {
    const uint32_t c = cps[i];
    const uint32_t tag = tags ? tags[i] : 0;
    if (c < 0xC0) {  // nothing below U+00C0 decomposes canonically; U+00A0.. do compatibly
      if (!compat || c < 0xA0) {
        out.push_back(c);
        if (ot) ot->push_back(tag);
        continue;
      }
    }
    decompose_into(c, tag, compat, &out, ot, &scratch);
  }
  // Canonical ordering: stable sort of each run of non-starters by combining class.
  std::vector<std::pair<uint32_t, uint32_t>> run;  // (cp, tag)
  for (size_t i = 0; i < out.size();) {
    if (ucd_combining_class(out[i]) == 0) { ++i; continue; }
    size_t j = i;
    while (j < out.size() && ucd_combining_class(out[j]) != 0) ++j;
    if (j - i > 1) {
      run.clear();
      for (size_t k = i; k < j; ++k) run.emplace_back(out[k], ot ? (*ot)[k] : 0);
      std::stable_sort(run.begin(), run.end(), [](const std::pair<uint32_t, uint32_t>& a,
                                                  const std::pair<uint32_t, uint32_t>& b) {
        return ucd_combining_class(a.first) < ucd_combining_class(b.first);
      });
      for (size_t k = i; k < j; ++k) {
        out[k] = run[k - i].first;
        if (ot) (*ot)[k] = run[k - i].second;
      }
    }
    i = j;
  }
  if (!compose || out.empty()) return;
  // Canonical composition (UAX #15), in place: w is the write index, starter the last starter written, last_ccc the
  // class of the last character written after it (-1: none, so the next one is adjacent to the starter).
  size_t starter = size_t(-1), w = 0;
  int last_ccc = -1;
  for (size_t r = 0; r < out.size(); ++r) {
    const uint32_t c = out[r];
    const int ccc = ucd_combining_class(c);
    if (starter != size_t(-1) && (last_ccc == -1 || last_ccc < ccc)) {
      const uint32_t comp = compose_pair(out[starter], c);
      if (comp != 0) {
        out[starter] = comp;
        continue;
      }
    }
    if (ccc == 0) {
      starter = w;
      last_ccc = -1;
    } else {
      last_ccc = ccc;
    }
    out[w] = c;
    if (ot) (*ot)[w] = (*ot)[r];
    ++w;
  }
  out.resize(w);
  if (ot) ot->resize(w);
}

}  // namespace attnplay
