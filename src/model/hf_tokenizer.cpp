// attnplay model: Hugging Face tokenizer.json tokenizers. Contracts: hf_tokenizer.h.
//
// Layout of this file:
//   1. Errors, UTF-8 and small containers (a string -> id table over one arena, an integer-pair table)
//   2. Regex: Oniguruma's Ruby syntax subset -> a backtracking program with an explicit stack and a step budget
//   3. The pipeline's parts as data (normalizers, pre-tokenizers, models, post-processors, decoders)
//   4. Loading: tokenizer.json -> those parts, every field checked with its JSON path
//   5. Encoding: added tokens, normalisation, pre-tokenization, model, post-processing, truncation, padding
//   6. Vocabulary, display, decoding, and the API
//
// The Rust library keeps, for every normalised piece of text, the alignment of each byte to the original text. Of
// that only one fact changes ids or tokens: whether a piece starts at the very start of the input (Metaspace's
// prepend_scheme "first"). So text flows here as code points each carrying the index of the original code point
// it came from (`org`), with the Rust library's rule for which original a new or changed code point inherits.
#include "model/hf_tokenizer.h"

#include "model/tokenizer.h"
#include "model/unicode_data.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <limits>
#include <new>
#include <queue>
#include <stdexcept>
#include <unordered_map>
#include <utility>

namespace attnplay {
namespace {

// ===== 1. Errors, UTF-8, containers ================================================================================

// Every failure inside load and encode is one of these, caught at the API boundary (no exception leaves this file).
struct HfError : std::runtime_error {
  explicit HfError(const std::string& m) : std::runtime_error(m) {}
};

[[noreturn]] void fail_at(const std::string& path, const std::string& what) {
  throw HfError("tokenizer.json: " + (path.empty() ? what : path + " " + what));
}

// A string as it should appear quoted in a message: JSON-escaped, cut at 60 code points.
std::string quote_str(std::string_view s) {
  std::string out = "\"";
  size_t n = 0;
  for (uint32_t c : utf8_decode(s, nullptr)) {
    if (++n > 60) { out += "..."; break; }
    if (c == '"' || c == '\\') { out += '\\'; out += char(c); }
    else if (c < 0x20 || c == 0x7F) {
      static const char* hex = "0123456789abcdef";
      out += "\\u00";
      out += hex[(c >> 4) & 15];
      out += hex[c & 15];
    } else {
      utf8_append(c, &out);
    }
  }
  return out + "\"";
}

// UTF-8 of one code point (from utf8_decode, the Unicode tables or the byte alphabet: never a surrogate).
int utf8_bytes(uint32_t c, char out[4]) {
  if (c < 0x80) { out[0] = char(c); return 1; }
  if (c < 0x800) { out[0] = char(0xC0 | (c >> 6)); out[1] = char(0x80 | (c & 0x3F)); return 2; }
  if (c < 0x10000) {
    out[0] = char(0xE0 | (c >> 12)); out[1] = char(0x80 | ((c >> 6) & 0x3F)); out[2] = char(0x80 | (c & 0x3F));
    return 3;
  }
  out[0] = char(0xF0 | (c >> 18)); out[1] = char(0x80 | ((c >> 12) & 0x3F));
  out[2] = char(0x80 | ((c >> 6) & 0x3F)); out[3] = char(0x80 | (c & 0x3F));
  return 4;
}

void append_utf8(const uint32_t* cps, size_t n, std::string* out) {
  for (size_t i = 0; i < n; ++i) {
    const uint32_t c = cps[i];
    if (c < 0x80) out->push_back(char(c));
    else utf8_append(c, out);
  }
}

uint64_t hash_bytes(const char* p, size_t n) {  // FNV-1a, then a final mix
  uint64_t h = 1469598103934665603ull;
  for (size_t i = 0; i < n; ++i) { h ^= uint8_t(p[i]); h *= 1099511628211ull; }
  h ^= h >> 29; h *= 0xbf58476d1ce4e5b9ull; h ^= h >> 32;
  return h;
}

uint64_t mix64(uint64_t x) {
  x ^= x >> 30; x *= 0xbf58476d1ce4e5b9ull; x ^= x >> 27; x *= 0x94d049bb133111ebull; x ^= x >> 31;
  return x;
}

// string -> int32 over one arena: lookups take a string_view and never allocate.
class StrTable {
 public:
  // Returns false if the key was already present (its value is then replaced).
  bool put(std::string_view key, int32_t value) {
    if ((count_ + 1) * 2 > slots_.size()) grow();
    const size_t mask = slots_.size() - 1;
    for (size_t i = size_t(hash_bytes(key.data(), key.size())) & mask;; i = (i + 1) & mask) {
      const int32_t e = slots_[i];
      if (e < 0) {
        entries_.push_back(Entry{uint32_t(arena_.size()), uint32_t(key.size()), value});
        arena_.append(key.data(), key.size());
        slots_[i] = int32_t(entries_.size() - 1);
        ++count_;
        return true;
      }
      if (key_of(e) == key) { entries_[size_t(e)].value = value; return false; }
    }
  }
  int32_t get(std::string_view key) const {  // -1 if absent
    if (slots_.empty()) return -1;
    const size_t mask = slots_.size() - 1;
    for (size_t i = size_t(hash_bytes(key.data(), key.size())) & mask;; i = (i + 1) & mask) {
      const int32_t e = slots_[i];
      if (e < 0) return -1;
      if (key_of(e) == key) return entries_[size_t(e)].value;
    }
  }
  size_t size() const { return count_; }
  void reserve(size_t n, size_t bytes) {
    entries_.reserve(n);
    arena_.reserve(bytes);
    size_t cap = 16;
    while (cap < 2 * n + 2) cap *= 2;
    if (cap > slots_.size()) rehash(cap);
  }
  template <class F> void for_each(F f) const {
    for (const Entry& e : entries_) f(std::string_view(arena_.data() + e.off, e.len), e.value);
  }

 private:
  struct Entry { uint32_t off, len; int32_t value; };
  std::string_view key_of(int32_t e) const {
    const Entry& x = entries_[size_t(e)];
    return std::string_view(arena_.data() + x.off, x.len);
  }
  void grow() { rehash(slots_.empty() ? 16 : slots_.size() * 2); }
  void rehash(size_t cap) {
    slots_.assign(cap, -1);
    const size_t mask = cap - 1;
    for (size_t k = 0; k < entries_.size(); ++k) {
      const Entry& x = entries_[k];
      size_t i = size_t(hash_bytes(arena_.data() + x.off, x.len)) & mask;
      while (slots_[i] >= 0) i = (i + 1) & mask;
      slots_[i] = int32_t(k);
    }
  }
  std::vector<Entry> entries_;
  std::vector<int32_t> slots_;
  std::string arena_;
  size_t count_ = 0;
};

// (a, b) -> (rank, new id), BPE's merge table. Later puts of the same pair win, as in the Rust HashMap collect.
class PairTable {
 public:
  void reserve(size_t n) {
    size_t cap = 16;
    while (cap < 2 * n + 2) cap *= 2;
    keys_.assign(cap, kEmpty);
    vals_.assign(cap, Val{0, 0});
  }
  void put(uint32_t a, uint32_t b, uint32_t rank, uint32_t id) {
    if ((count_ + 1) * 2 > keys_.size()) {
      std::vector<uint64_t> k = std::move(keys_);
      std::vector<Val> v = std::move(vals_);
      reserve(count_ * 2 + 8);
      count_ = 0;
      for (size_t i = 0; i < k.size(); ++i)
        if (k[i] != kEmpty) put(uint32_t(k[i] >> 32), uint32_t(k[i]), v[i].rank, v[i].id);
    }
    const uint64_t key = (uint64_t(a) << 32) | b;
    const size_t mask = keys_.size() - 1;
    for (size_t i = size_t(mix64(key)) & mask;; i = (i + 1) & mask) {
      if (keys_[i] == kEmpty) { keys_[i] = key; vals_[i] = Val{rank, id}; ++count_; return; }
      if (keys_[i] == key) { vals_[i] = Val{rank, id}; return; }
    }
  }
  bool get(uint32_t a, uint32_t b, uint32_t* rank, uint32_t* id) const {
    if (keys_.empty()) return false;
    const uint64_t key = (uint64_t(a) << 32) | b;
    const size_t mask = keys_.size() - 1;
    for (size_t i = size_t(mix64(key)) & mask;; i = (i + 1) & mask) {
      if (keys_[i] == kEmpty) return false;
      if (keys_[i] == key) { *rank = vals_[i].rank; *id = vals_[i].id; return true; }
    }
  }
  size_t size() const { return count_; }

 private:
  static constexpr uint64_t kEmpty = ~uint64_t(0);  // ids are < 2^24, so no real key is all ones
  struct Val { uint32_t rank, id; };
  std::vector<uint64_t> keys_;
  std::vector<Val> vals_;
  size_t count_ = 0;
};

// ===== 2. Regex ====================================================================================================
// Oniguruma (Ruby syntax, UTF-8, as the Rust library's onig crate compiles patterns) for the subset in the header.
// Parse -> AST (bounded depth) -> program; run by a backtracking VM with an explicit stack (no recursion on the
// text) and a step budget per search. Leftmost-first alternation, greedy/lazy/possessive quantifiers, empty-loop
// check as Oniguruma (an iteration that consumed nothing ends the loop).

constexpr size_t kRxMaxPattern = 4096;
constexpr int kRxMaxDepth = 32;
constexpr size_t kRxMaxProgram = 100000;
constexpr int kRxMaxRepeat = 100000;

enum RxItemKind : uint8_t { RX_ITEM_RANGE, RX_ITEM_CATS, RX_ITEM_SPACE, RX_ITEM_WORD, RX_ITEM_HEX, RX_ITEM_ALPHA };

struct RxItem {
  RxItemKind kind;
  bool neg;
  uint32_t lo, hi;  // RANGE: lo..hi; CATS: lo = bit mask over UcdCategory
};

struct RxClass {
  std::vector<RxItem> items;
  bool negated = false;
  bool icase = false;

  bool raw(uint32_t c) const {
    for (const RxItem& it : items) {
      bool m = false;
      switch (it.kind) {
        case RX_ITEM_RANGE: m = c >= it.lo && c <= it.hi; break;
        case RX_ITEM_CATS: m = (it.lo >> unsigned(ucd_category(c))) & 1u; break;
        case RX_ITEM_SPACE: m = ucd_is_white_space(c); break;
        case RX_ITEM_WORD: m = ucd_is_word_onig(c); break;
        case RX_ITEM_HEX: m = (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'f'); break;
        case RX_ITEM_ALPHA: m = ucd_is_alphabetic(c); break;
      }
      if (m != it.neg) return true;
    }
    return false;
  }
  bool match(uint32_t c) const {
    bool r = raw(c);
    if (!r && icase) {
      uint32_t eq[8];
      const int k = std::min(ucd_fold_equivalents(c, eq, 8), 8);
      for (int i = 1; i < k && !r; ++i) r = raw(eq[i]);
    }
    return r != negated;
  }
};

enum RxOp : uint8_t {
  RX_OP_CHAR, RX_OP_CHAR_FOLD, RX_OP_CLASS, RX_OP_ANY, RX_OP_ANY_NO_NL, RX_OP_SPLIT, RX_OP_JMP, RX_OP_MARK,
  RX_OP_PROGRESS, RX_OP_ASSERT, RX_OP_LOOK, RX_OP_NLOOK, RX_OP_ATOMIC, RX_OP_MATCH
};
enum RxAssert : uint8_t {
  RX_ASSERT_BOL, RX_ASSERT_EOL, RX_ASSERT_BOT, RX_ASSERT_EOT, RX_ASSERT_EOT_NL, RX_ASSERT_WORDB, RX_ASSERT_NWORDB
};

struct RxInst {
  RxOp op;
  uint8_t a;        // ASSERT kind
  int32_t x, y;     // jump targets / class index / register / sub-program start
  uint32_t c;       // CHAR code point (folded for CHAR_FOLD)
};

enum RxNodeKind : uint8_t {
  RX_NODE_EMPTY, RX_NODE_CHAR, RX_NODE_CLASS, RX_NODE_ANY, RX_NODE_CAT, RX_NODE_ALT, RX_NODE_REPEAT, RX_NODE_LOOK,
  RX_NODE_ATOMIC, RX_NODE_ASSERT
};

struct RxNode {
  RxNodeKind kind = RX_NODE_EMPTY;
  bool icase = false, dotall = false, greedy = true, neg = false;
  bool fold_region = false;  // CHAR parsed under (?i), whether or not it has case variants
  uint8_t assert_kind = 0;
  uint32_t c = 0;
  int cls = -1, min = 0, max = 0;  // max < 0: unbounded
  std::vector<int> kids;
};

struct RxScratch {
  struct Frame { int32_t pc; int32_t pos; };  // pc >= 0: backtrack point; pc < 0: restore register -pc-1 to pos
  std::vector<Frame> stack;
  std::vector<int32_t> regs;
  uint64_t steps = 0, budget = 0;
  bool exceeded = false;
};

class Regex {
 public:
  // Compiles pattern (UTF-8). On failure returns false with a message (no JSON path; the caller adds it).
  bool compile(std::string_view pattern, std::string* error);
  // Onig's find_iter over text[0..n): calls emit(start, end) for each match. Throws HfError naming `path` when a
  // search exceeds its step budget.
  template <class F> void find_iter(const uint32_t* text, size_t n, RxScratch& sc, const std::string& path,
                                    F emit) const;

 private:
  friend class RxParser;
  bool run(int pc, size_t pos, const uint32_t* s, size_t n, RxScratch& sc, size_t* end, int depth) const;
  int search(const uint32_t* s, size_t n, size_t from, RxScratch& sc, size_t* ms, size_t* me) const;
  bool assert_at(uint8_t kind, const uint32_t* s, size_t n, size_t pos) const;
  std::vector<RxInst> prog_;
  std::vector<RxClass> classes_;
  int nregs_ = 0;
};

class RxParser {
 public:
  RxParser(Regex* re, const std::vector<uint32_t>& p) : re_(re), p_(p) {}

  void parse_and_compile() {
    nodes_.reserve(64);
    const int root = parse_alt(0, false, false);
    if (i_ < p_.size()) {
      if (p_[i_] == ')') bad("unmatched \")\"");
      bad("unexpected character");
    }
    check_multi_folds();
    std::vector<RxInst>& prog = re_->prog_;
    emit(root);
    push(RxInst{RX_OP_MATCH, 0, 0, 0, 0});
    // Sub-programs of lookaheads and atomic groups, appended after the main program (each ends with MATCH).
    for (size_t k = 0; k < pending_.size(); ++k) {
      const size_t at = pending_[k].first;
      const int node = pending_[k].second;
      prog[at].x = int32_t(prog.size());
      emit(node);
      push(RxInst{RX_OP_MATCH, 0, 0, 0, 0});
    }
    re_->nregs_ = nregs_;
  }

 private:
  // Oniguruma also folds case across several characters ("ß" ~ "ss", "ﬁ" ~ "fi"); this engine does not, so a
  // pattern where that could change a match is refused rather than approximated. Real patterns' (?i:'s|'t|...)
  // never are.
  void check_multi_folds() {
    struct Fold { uint32_t src; uint32_t n; uint32_t t[3]; };
    std::vector<Fold> folds;
    for (size_t i = 0; i < ucd_multi_fold_count(); ++i) {
      Fold f{};
      f.n = uint32_t(ucd_multi_fold_at(i, &f.src, f.t));
      if (f.n > 0 && f.n <= 3) folds.push_back(f);
    }
    auto refuse = [&](uint32_t c) {
      std::string ch;
      utf8_append(c, &ch);
      i_ = 0;
      throw HfError("case-insensitive matching here involves multi-character case folding (\"" + ch +
                    "\"), which is not supported");
    };
    for (const RxNode& n : nodes_) {
      if (n.kind == RX_NODE_CHAR && n.fold_region) {
        uint32_t eq[8];
        const int k = std::min(ucd_fold_equivalents(n.c, eq, 8), 8);
        for (int j = 0; j < k; ++j)
          for (const Fold& f : folds) if (f.src == eq[j]) refuse(n.c);
      }
      if (n.kind == RX_NODE_CLASS && re_->classes_[size_t(n.cls)].icase) {
        for (const Fold& f : folds) if (re_->classes_[size_t(n.cls)].match(f.src)) refuse(f.src);
      }
      if (n.kind != RX_NODE_CAT) continue;
      std::vector<uint32_t> run;
      auto check_run = [&]() {
        for (const Fold& f : folds)
          for (size_t a = 0; a + f.n <= run.size(); ++a)
            if (std::equal(f.t, f.t + f.n, run.begin() + long(a))) refuse(f.src);
        run.clear();
      };
      for (int kid : n.kids) {
        const RxNode& k = nodes_[size_t(kid)];
        if (k.kind == RX_NODE_CHAR && k.fold_region) run.push_back(ucd_simple_fold(k.c));
        else check_run();
      }
      check_run();
    }
  }

  [[noreturn]] void bad(const std::string& what) {
    throw HfError(what + " at offset " + std::to_string(i_));
  }
  bool more() const { return i_ < p_.size(); }
  uint32_t peek(size_t k = 0) const { return i_ + k < p_.size() ? p_[i_ + k] : 0xFFFFFFFFu; }

  int node(RxNode n) {
    if (nodes_.size() > kRxMaxProgram) bad("pattern too complex");
    nodes_.push_back(std::move(n));
    return int(nodes_.size() - 1);
  }
  int make_char(uint32_t c, bool icase) {
    RxNode n;
    n.kind = RX_NODE_CHAR;
    n.c = c;
    uint32_t eq[8];
    n.icase = icase && ucd_fold_equivalents(c, eq, 8) > 1;
    n.fold_region = icase;
    return node(std::move(n));
  }
  int make_class(RxClass cls) {
    re_->classes_.push_back(std::move(cls));
    RxNode n;
    n.kind = RX_NODE_CLASS;
    n.cls = int(re_->classes_.size() - 1);
    return node(std::move(n));
  }

  // alt := seq ('|' seq)*. Stops before ')' or at the end.
  int parse_alt(int depth, bool icase, bool dotall) {
    if (depth > kRxMaxDepth) bad("groups nested deeper than " + std::to_string(kRxMaxDepth));
    std::vector<int> alts;
    for (;;) {
      alts.push_back(parse_seq(depth, icase, dotall));
      if (more() && peek() == '|') { ++i_; continue; }
      break;
    }
    if (alts.size() == 1) return alts[0];
    RxNode n;
    n.kind = RX_NODE_ALT;
    n.kids = std::move(alts);
    return node(std::move(n));
  }

  int parse_seq(int depth, bool icase, bool dotall) {
    std::vector<int> items;
    while (more() && peek() != '|' && peek() != ')') {
      if (peek() == '(' && peek(1) == '?' && (peek(2) == 'i' || peek(2) == 'm' || peek(2) == '-')) {
        // Inline options: "(?i)" applies to the rest of the enclosing group, alternatives included (as Oniguruma
        // parses it); "(?i:...)" to its group.
        bool on = true, ni = icase, nd = dotall;
        size_t k = i_ + 2;
        for (; k < p_.size() && p_[k] != ')' && p_[k] != ':'; ++k) {
          if (p_[k] == '-') on = false;
          else if (p_[k] == 'i') ni = on;
          else if (p_[k] == 'm') nd = on;
          else { i_ = k; bad("inline option \"" + std::string(1, char(p_[k] < 128 ? p_[k] : '?')) + "\" is not supported"); }
        }
        if (k >= p_.size()) { i_ = k; bad("unterminated group"); }
        if (p_[k] == ')') {
          i_ = k + 1;
          items.push_back(parse_alt(depth + 1, ni, nd));
          break;  // the rest of the group is consumed
        }
        i_ = k + 1;
        const int inner = grouped(parse_alt(depth + 1, ni, nd));
        expect_close();
        items.push_back(parse_quants(inner, depth));
        continue;
      }
      const int atom = parse_atom(depth, icase, dotall);
      items.push_back(parse_quants(atom, depth));
    }
    if (items.empty()) return node(RxNode{});
    if (items.size() == 1) return items[0];
    RxNode n;
    n.kind = RX_NODE_CAT;
    n.kids = std::move(items);
    return node(std::move(n));
  }

  void expect_close() {
    if (!more() || peek() != ')') bad("missing \")\"");
    ++i_;
  }

  bool parse_interval(int* mn, int* mx) {  // at '{'; on success consumes it
    size_t k = i_ + 1;
    auto number = [&](int* v) {
      size_t start = k;
      long long x = 0;
      while (k < p_.size() && p_[k] >= '0' && p_[k] <= '9') {
        x = x * 10 + (p_[k] - '0');
        if (x > kRxMaxRepeat) x = kRxMaxRepeat + 1;
        ++k;
      }
      *v = int(x);
      return k > start;
    };
    int a = 0, b = -1;
    const bool has_a = number(&a);
    if (k < p_.size() && p_[k] == '}') {
      if (!has_a) return false;
      b = a;
    } else if (k < p_.size() && p_[k] == ',') {
      ++k;
      const bool has_b = number(&b);
      if (!has_a && !has_b) return false;
      if (!has_b) b = -1;
      if (!has_a) a = 0;
      if (k >= p_.size() || p_[k] != '}') return false;
    } else {
      return false;
    }
    if (a > kRxMaxRepeat || b > kRxMaxRepeat) bad("repeat count above " + std::to_string(kRxMaxRepeat));
    if (b >= 0 && b < a) bad("bad repeat range {" + std::to_string(a) + "," + std::to_string(b) + "}");
    i_ = k + 1;
    *mn = a;
    *mx = b;
    return true;
  }

  int parse_quants(int atom, int depth) {
    int stacked = 0;
    for (;;) {
      if (!more()) return atom;
      const uint32_t q = peek();
      int mn, mx;
      bool interval = false;
      if (q == '*') { mn = 0; mx = -1; ++i_; }
      else if (q == '+') { mn = 1; mx = -1; ++i_; }
      else if (q == '?') { mn = 0; mx = 1; ++i_; }
      else if (q == '{' && parse_interval(&mn, &mx)) { interval = true; }
      else return atom;
      if (++stacked + depth > 2 * kRxMaxDepth) bad("too many stacked quantifiers");
      if (stacked == 1 && invalid_target(atom)) bad("target of repeat operator is invalid");
      bool greedy = true, possessive = false;
      if (more() && peek() == '?') { greedy = false; ++i_; }
      else if (!interval && more() && peek() == '+') { possessive = true; ++i_; }
      RxNode n;
      n.kind = RX_NODE_REPEAT;
      n.min = mn;
      n.max = mx;
      n.greedy = greedy;
      n.kids.push_back(atom);
      atom = node(std::move(n));
      if (possessive) {
        RxNode a;
        a.kind = RX_NODE_ATOMIC;
        a.kids.push_back(atom);
        atom = node(std::move(a));
      }
    }
  }

  uint32_t parse_hex(size_t max_digits, bool braces) {
    uint32_t v = 0;
    size_t nd = 0;
    if (braces) {
      if (!more() || peek() != '{') bad("bad hex escape");
      ++i_;
    }
    while (more() && nd < (braces ? 8 : max_digits)) {
      const uint32_t c = peek();
      uint32_t d;
      if (c >= '0' && c <= '9') d = c - '0';
      else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f') d = (c | 0x20) - 'a' + 10;
      else break;
      v = v * 16 + d;
      ++nd;
      ++i_;
    }
    if (nd == 0) bad("bad hex escape");
    if (braces) {
      if (!more() || peek() != '}') bad("bad hex escape");
      ++i_;
    }
    if (v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) bad("bad code point in escape");
    return v;
  }

  // \p{...} / \P{...} / \p{^...} after the 'p'/'P'; appends the item.
  void parse_property(bool neg, std::vector<RxItem>* items) {
    if (!more() || peek() != '{') bad("\\p must be followed by {name}");
    ++i_;
    if (more() && peek() == '^') { neg = !neg; ++i_; }
    std::string name;
    while (more() && peek() != '}') {
      const uint32_t c = peek();
      if (c >= 128 || name.size() > 40) bad("bad property name");
      if (c != ' ' && c != '_' && c != '-') name += char(c >= 'A' && c <= 'Z' ? c + 32 : c);
      ++i_;
    }
    if (!more()) bad("unterminated \\p{");
    ++i_;
    static const struct { const char* name; const char* cats; } kGroups[] = {
        {"l", "Lu Ll Lt Lm Lo"}, {"letter", "Lu Ll Lt Lm Lo"}, {"lc", "Lu Ll Lt"}, {"casedletter", "Lu Ll Lt"},
        {"m", "Mn Mc Me"}, {"mark", "Mn Mc Me"}, {"combiningmark", "Mn Mc Me"},
        {"n", "Nd Nl No"}, {"number", "Nd Nl No"},
        {"p", "Pc Pd Ps Pe Pi Pf Po"}, {"punctuation", "Pc Pd Ps Pe Pi Pf Po"},
        {"s", "Sm Sc Sk So"}, {"symbol", "Sm Sc Sk So"},
        {"z", "Zs Zl Zp"}, {"separator", "Zs Zl Zp"},
        {"c", "Cc Cf Cs Co Cn"}, {"other", "Cc Cf Cs Co Cn"},
        {"uppercaseletter", "Lu"}, {"lowercaseletter", "Ll"}, {"titlecaseletter", "Lt"}, {"modifierletter", "Lm"},
        {"otherletter", "Lo"}, {"nonspacingmark", "Mn"}, {"spacingmark", "Mc"}, {"enclosingmark", "Me"},
        {"decimalnumber", "Nd"}, {"digit", "Nd"}, {"letternumber", "Nl"}, {"othernumber", "No"},
        {"connectorpunctuation", "Pc"}, {"dashpunctuation", "Pd"}, {"openpunctuation", "Ps"},
        {"closepunctuation", "Pe"}, {"initialpunctuation", "Pi"}, {"finalpunctuation", "Pf"},
        {"otherpunctuation", "Po"}, {"mathsymbol", "Sm"}, {"currencysymbol", "Sc"}, {"modifiersymbol", "Sk"},
        {"othersymbol", "So"}, {"spaceseparator", "Zs"}, {"lineseparator", "Zl"}, {"paragraphseparator", "Zp"},
        {"control", "Cc"}, {"cntrl", "Cc"}, {"format", "Cf"}, {"surrogate", "Cs"}, {"privateuse", "Co"},
        {"unassigned", "Cn"},
    };
    uint32_t mask = 0;
    if (name.size() == 2) {
      const char s[2] = {char(name[0] - 32), name[1]};
      const int c = ucd_category_from_name(s, 2);
      if (c >= 0) mask = 1u << unsigned(c);
    }
    for (const auto& g : kGroups) {
      if (mask || name != g.name) continue;
      for (const char* q = g.cats; *q; q += (q[2] ? 3 : 2)) {
        const int c = ucd_category_from_name(q, 2);
        if (c >= 0) mask |= 1u << unsigned(c);
      }
    }
    if (mask) { items->push_back(RxItem{RX_ITEM_CATS, neg, mask, 0}); return; }
    if (name == "any") { items->push_back(RxItem{RX_ITEM_RANGE, neg, 0, 0x10FFFF}); return; }
    if (name == "alpha" || name == "alphabetic") { items->push_back(RxItem{RX_ITEM_ALPHA, neg, 0, 0}); return; }
    if (name == "space" || name == "whitespace") { items->push_back(RxItem{RX_ITEM_SPACE, neg, 0, 0}); return; }
    if (name == "word") { items->push_back(RxItem{RX_ITEM_WORD, neg, 0, 0}); return; }
    if (name == "xdigit") { items->push_back(RxItem{RX_ITEM_HEX, neg, 0, 0}); return; }
    bad("property \\p{" + name + "} is not supported (supported: general categories and their groups, Any, "
        "Alpha, Space, Word, XDigit)");
  }

  // One escape after '\'. In a class, fills *items and returns false, or returns true with *cp a literal.
  // Outside, the same; assertions are handled by the caller.
  bool parse_escape(uint32_t* cp, std::vector<RxItem>* items) {
    if (!more()) bad("pattern ends with \\");
    const uint32_t e = peek();
    ++i_;
    switch (e) {
      case 'n': *cp = '\n'; return true;
      case 't': *cp = '\t'; return true;
      case 'r': *cp = '\r'; return true;
      case 'f': *cp = '\f'; return true;
      case 'v': *cp = '\v'; return true;
      case 'a': *cp = 7; return true;
      case 'e': *cp = 27; return true;
      case 'x':
        *cp = (more() && peek() == '{') ? parse_hex(8, true) : parse_hex(2, false);
        return true;
      case 'u': *cp = parse_hex(4, false); return true;
      case '0': {  // octal \0, \0o, \0oo
        uint32_t v = 0;
        for (int k = 0; k < 2 && more() && peek() >= '0' && peek() <= '7'; ++k) { v = v * 8 + (peek() - '0'); ++i_; }
        *cp = v;
        return true;
      }
      case 'd': items->push_back(RxItem{RX_ITEM_CATS, false, 1u << UCD_CATEGORY_ND, 0}); return false;
      case 'D': items->push_back(RxItem{RX_ITEM_CATS, true, 1u << UCD_CATEGORY_ND, 0}); return false;
      case 's': items->push_back(RxItem{RX_ITEM_SPACE, false, 0, 0}); return false;
      case 'S': items->push_back(RxItem{RX_ITEM_SPACE, true, 0, 0}); return false;
      case 'w': items->push_back(RxItem{RX_ITEM_WORD, false, 0, 0}); return false;
      case 'W': items->push_back(RxItem{RX_ITEM_WORD, true, 0, 0}); return false;
      case 'h': items->push_back(RxItem{RX_ITEM_HEX, false, 0, 0}); return false;
      case 'H': items->push_back(RxItem{RX_ITEM_HEX, true, 0, 0}); return false;
      case 'p': parse_property(false, items); return false;
      case 'P': parse_property(true, items); return false;
      default: break;
    }
    if (e < 128 && ((e >= 'a' && e <= 'z') || (e >= 'A' && e <= 'Z') || (e >= '1' && e <= '9'))) {
      --i_;
      bad("escape \\" + std::string(1, char(e)) + " is not supported");
    }
    *cp = e;  // an escaped punctuation mark or any other character: itself
    return true;
  }

  int parse_class(bool icase) {  // after '['
    RxClass cls;
    cls.icase = icase;
    if (more() && peek() == '^') { cls.negated = true; ++i_; }
    bool first = true;
    for (;;) {
      if (!more()) bad("unterminated character class");
      uint32_t c = peek();
      if (c == ']' && !first) { ++i_; break; }
      first = false;
      if (c == '[') {
        if (peek(1) == ':') bad("POSIX bracket expressions are not supported");
        bad("nested character classes are not supported");
      }
      if (c == '&' && peek(1) == '&') bad("class intersection && is not supported");
      ++i_;
      uint32_t lo = c;
      if (c == '\\') {
        std::vector<RxItem> items;
        if (!parse_escape(&lo, &items)) {
          for (const RxItem& it : items) cls.items.push_back(it);
          continue;
        }
      }
      uint32_t hi = lo;
      if (more() && peek() == '-' && peek(1) != ']' && i_ + 1 < p_.size()) {
        const size_t save = i_;
        ++i_;
        uint32_t h = peek();
        ++i_;
        if (h == '[') bad("nested character classes are not supported");
        if (h == '\\') {
          std::vector<RxItem> items;
          if (!parse_escape(&h, &items)) { i_ = save; bad("a class escape cannot end a range"); }
        }
        if (h < lo) { i_ = save; bad("empty range in character class"); }
        hi = h;
      }
      cls.items.push_back(RxItem{RX_ITEM_RANGE, false, lo, hi});
    }
    return make_class(std::move(cls));
  }

  // Oniguruma refuses a quantifier whose target is an anchor or lookaround, or an alternation with one among its
  // alternatives ("(?=a)+", "(?:a|$)*"), unless a capture, option or atomic group encloses it ("((?=a))+").
  bool invalid_target(int n) const {
    const RxNode& x = nodes_[size_t(n)];
    if (x.kind == RX_NODE_ASSERT || x.kind == RX_NODE_LOOK) return true;
    if (x.kind == RX_NODE_ALT)
      for (int k : x.kids) if (invalid_target(k)) return true;  // depth: one level per group, bounded
    return false;
  }
  int grouped(int n) {  // a capture / named / option group: protects its content from invalid_target
    const RxNodeKind k = nodes_[size_t(n)].kind;
    if (k != RX_NODE_ASSERT && k != RX_NODE_LOOK && k != RX_NODE_ALT) return n;
    RxNode c;
    c.kind = RX_NODE_CAT;
    c.kids.push_back(n);
    return node(std::move(c));
  }

  int parse_atom(int depth, bool icase, bool dotall) {
    const uint32_t c = peek();
    ++i_;
    switch (c) {
      case '(': {
        if (more() && peek() == '?') {
          const uint32_t k = peek(1);
          if (k == ':') { i_ += 2; const int n = parse_alt(depth + 1, icase, dotall); expect_close(); return n; }
          if (k == '=' || k == '!') {
            i_ += 2;
            const int inner = parse_alt(depth + 1, icase, dotall);
            expect_close();
            RxNode n;
            n.kind = RX_NODE_LOOK;
            n.neg = (k == '!');
            n.kids.push_back(inner);
            return node(std::move(n));
          }
          if (k == '>') {
            i_ += 2;
            const int inner = parse_alt(depth + 1, icase, dotall);
            expect_close();
            RxNode n;
            n.kind = RX_NODE_ATOMIC;
            n.kids.push_back(inner);
            return node(std::move(n));
          }
          if (k == '<' && (peek(2) == '=' || peek(2) == '!')) bad("lookbehind is not supported");
          if (k == '<' || k == '\'') {  // named group: a plain group here (only the whole match matters)
            const uint32_t close = (k == '<') ? '>' : '\'';
            size_t j = i_ + 2;
            while (j < p_.size() && p_[j] != close) ++j;
            if (j >= p_.size()) bad("unterminated group name");
            i_ = j + 1;
            const int n = parse_alt(depth + 1, icase, dotall);
            expect_close();
            return grouped(n);
          }
          if (k == '#') bad("comments (?#...) are not supported");
          bad("group syntax (?" + std::string(1, char(k < 128 ? k : '?')) + " is not supported");
        }
        const int n = parse_alt(depth + 1, icase, dotall);
        expect_close();
        return grouped(n);
      }
      case '[': return parse_class(icase);
      case '.': {
        RxNode n;
        n.kind = RX_NODE_ANY;
        n.dotall = dotall;
        return node(std::move(n));
      }
      case '^': case '$': {
        RxNode n;
        n.kind = RX_NODE_ASSERT;
        n.assert_kind = (c == '^') ? RX_ASSERT_BOL : RX_ASSERT_EOL;
        return node(std::move(n));
      }
      case '*': case '+': case '?':
        --i_;
        bad("target of repeat operator is not specified");
      case '\\': {
        if (more()) {
          const uint32_t e = peek();
          int kind = -1;
          if (e == 'A') kind = RX_ASSERT_BOT;
          else if (e == 'z') kind = RX_ASSERT_EOT;
          else if (e == 'Z') kind = RX_ASSERT_EOT_NL;
          else if (e == 'b') kind = RX_ASSERT_WORDB;
          else if (e == 'B') kind = RX_ASSERT_NWORDB;
          if (kind >= 0) {
            ++i_;
            RxNode n;
            n.kind = RX_NODE_ASSERT;
            n.assert_kind = uint8_t(kind);
            return node(std::move(n));
          }
        }
        uint32_t cp = 0;
        std::vector<RxItem> items;
        if (parse_escape(&cp, &items)) return make_char(cp, icase);
        RxClass cls;
        cls.items = std::move(items);
        cls.icase = icase;
        return make_class(std::move(cls));
      }
      default:
        return make_char(c, icase);
    }
  }

  bool nullable(int id, int depth = 0) const {
    if (depth > 4 * kRxMaxDepth) return true;  // cannot happen with the parser's limits; err on the safe side
    const RxNode& n = nodes_[size_t(id)];
    switch (n.kind) {
      case RX_NODE_CHAR: case RX_NODE_CLASS: case RX_NODE_ANY: return false;
      case RX_NODE_CAT:
        for (int k : n.kids) if (!nullable(k, depth + 1)) return false;
        return true;
      case RX_NODE_ALT:
        for (int k : n.kids) if (nullable(k, depth + 1)) return true;
        return false;
      case RX_NODE_REPEAT: return n.min == 0 || nullable(n.kids[0], depth + 1);
      case RX_NODE_ATOMIC: return nullable(n.kids[0], depth + 1);
      default: return true;
    }
  }

  void push(const RxInst& in) {
    if (re_->prog_.size() >= kRxMaxProgram) bad("pattern compiles to more than " + std::to_string(kRxMaxProgram) +
                                                " instructions");
    re_->prog_.push_back(in);
  }
  int32_t here() const { return int32_t(re_->prog_.size()); }

  void emit(int id, int depth = 0) {
    if (depth > 4 * kRxMaxDepth) bad("pattern too deeply nested");
    std::vector<RxInst>& prog = re_->prog_;
    const RxNode& n = nodes_[size_t(id)];
    switch (n.kind) {
      case RX_NODE_EMPTY: return;
      case RX_NODE_CHAR:
        if (n.icase) push(RxInst{RX_OP_CHAR_FOLD, 0, 0, 0, ucd_simple_fold(n.c)});
        else push(RxInst{RX_OP_CHAR, 0, 0, 0, n.c});
        return;
      case RX_NODE_CLASS: push(RxInst{RX_OP_CLASS, 0, n.cls, 0, 0}); return;
      case RX_NODE_ANY: push(RxInst{n.dotall ? RX_OP_ANY : RX_OP_ANY_NO_NL, 0, 0, 0, 0}); return;
      case RX_NODE_ASSERT: push(RxInst{RX_OP_ASSERT, n.assert_kind, 0, 0, 0}); return;
      case RX_NODE_CAT:
        for (int k : n.kids) emit(k, depth + 1);
        return;
      case RX_NODE_ALT: {
        std::vector<int32_t> to_end;
        for (size_t k = 0; k + 1 < n.kids.size(); ++k) {
          const int32_t split = here();
          push(RxInst{RX_OP_SPLIT, 0, split + 1, 0, 0});
          emit(n.kids[k], depth + 1);
          to_end.push_back(here());
          push(RxInst{RX_OP_JMP, 0, 0, 0, 0});
          prog[size_t(split)].y = here();
        }
        emit(n.kids.back(), depth + 1);
        for (int32_t j : to_end) prog[size_t(j)].x = here();
        return;
      }
      case RX_NODE_LOOK:
        pending_.emplace_back(size_t(here()), n.kids[0]);
        push(RxInst{n.neg ? RX_OP_NLOOK : RX_OP_LOOK, 0, -1, 0, 0});
        return;
      case RX_NODE_ATOMIC:
        pending_.emplace_back(size_t(here()), n.kids[0]);
        push(RxInst{RX_OP_ATOMIC, 0, -1, 0, 0});
        return;
      case RX_NODE_REPEAT: {
        const int kid = n.kids[0];
        const int mn = n.min, mx = n.max;
        const bool greedy = n.greedy;
        for (int k = 0; k < mn; ++k) emit(kid, depth + 1);
        if (mx < 0) {
          const bool check = nullable(kid);
          const int32_t loop = here();
          push(RxInst{RX_OP_SPLIT, 0, 0, 0, 0});
          const int32_t body = here();
          int reg = -1;
          if (check) {
            reg = nregs_++;
            push(RxInst{RX_OP_MARK, 0, reg, 0, 0});
          }
          emit(kid, depth + 1);
          int32_t progress = -1;
          if (check) {
            progress = here();
            push(RxInst{RX_OP_PROGRESS, 0, reg, 0, 0});
          }
          push(RxInst{RX_OP_JMP, 0, loop, 0, 0});
          const int32_t exit = here();
          if (greedy) { prog[size_t(loop)].x = body; prog[size_t(loop)].y = exit; }
          else { prog[size_t(loop)].x = exit; prog[size_t(loop)].y = body; }
          if (progress >= 0) prog[size_t(progress)].y = exit;
        } else {
          std::vector<int32_t> splits;
          for (int k = mn; k < mx; ++k) {
            splits.push_back(here());
            push(RxInst{RX_OP_SPLIT, 0, 0, 0, 0});
            emit(kid, depth + 1);
          }
          const int32_t end = here();
          for (int32_t s : splits) {
            if (greedy) { prog[size_t(s)].x = s + 1; prog[size_t(s)].y = end; }
            else { prog[size_t(s)].x = end; prog[size_t(s)].y = s + 1; }
          }
        }
        return;
      }
    }
  }

  Regex* re_;
  const std::vector<uint32_t>& p_;
  size_t i_ = 0;
  std::vector<RxNode> nodes_;
  std::vector<std::pair<size_t, int>> pending_;
  int nregs_ = 0;
};

bool Regex::compile(std::string_view pattern, std::string* error) {
  prog_.clear();
  classes_.clear();
  nregs_ = 0;
  if (pattern.size() > kRxMaxPattern) {
    *error = "is longer than " + std::to_string(kRxMaxPattern) + " bytes";
    return false;
  }
  const std::vector<uint32_t> p = utf8_decode(pattern, nullptr);
  try {
    RxParser parser(this, p);
    parser.parse_and_compile();
  } catch (const HfError& e) {
    *error = e.what();
    prog_.clear();
    return false;
  }
  return true;
}

bool Regex::assert_at(uint8_t kind, const uint32_t* s, size_t n, size_t pos) const {
  switch (kind) {
    case RX_ASSERT_BOL: return pos == 0 || s[pos - 1] == '\n';
    case RX_ASSERT_EOL: return pos == n || s[pos] == '\n';
    case RX_ASSERT_BOT: return pos == 0;
    case RX_ASSERT_EOT: return pos == n;
    case RX_ASSERT_EOT_NL: return pos == n || (pos + 1 == n && s[pos] == '\n');
    case RX_ASSERT_WORDB: case RX_ASSERT_NWORDB: {
      const bool a = pos > 0 && ucd_is_word_onig(s[pos - 1]);
      const bool b = pos < n && ucd_is_word_onig(s[pos]);
      return (a != b) == (kind == RX_ASSERT_WORDB);
    }
    default: return false;
  }
}

// Runs the program from pc at pos; on a match sets *end and returns true. Backtracking state lives in sc.stack
// above this call's base (sub-runs for lookaheads and atomic groups nest at most the pattern's group depth).
bool Regex::run(int pc, size_t pos, const uint32_t* s, size_t n, RxScratch& sc, size_t* end, int depth) const {
  const size_t base = sc.stack.size();
  for (;;) {
    if (++sc.steps > sc.budget) { sc.exceeded = true; sc.stack.resize(base); return false; }
    const RxInst& in = prog_[size_t(pc)];
    bool ok = true;
    switch (in.op) {
      case RX_OP_CHAR:
        if (pos < n && s[pos] == in.c) { ++pos; ++pc; } else ok = false;
        break;
      case RX_OP_CHAR_FOLD:
        if (pos < n && ucd_simple_fold(s[pos]) == in.c) { ++pos; ++pc; } else ok = false;
        break;
      case RX_OP_CLASS:
        if (pos < n && classes_[size_t(in.x)].match(s[pos])) { ++pos; ++pc; } else ok = false;
        break;
      case RX_OP_ANY:
        if (pos < n) { ++pos; ++pc; } else ok = false;
        break;
      case RX_OP_ANY_NO_NL:
        if (pos < n && s[pos] != '\n') { ++pos; ++pc; } else ok = false;
        break;
      case RX_OP_SPLIT:
        sc.stack.push_back(RxScratch::Frame{in.y, int32_t(pos)});
        pc = in.x;
        break;
      case RX_OP_JMP: pc = in.x; break;
      case RX_OP_MARK:
        sc.stack.push_back(RxScratch::Frame{-1 - in.x, sc.regs[size_t(in.x)]});
        sc.regs[size_t(in.x)] = int32_t(pos);
        ++pc;
        break;
      case RX_OP_PROGRESS:
        pc = (sc.regs[size_t(in.x)] == int32_t(pos)) ? in.y : pc + 1;
        break;
      case RX_OP_ASSERT:
        if (assert_at(in.a, s, n, pos)) ++pc; else ok = false;
        break;
      case RX_OP_LOOK: case RX_OP_NLOOK: {
        size_t e = 0;
        const bool m = run(in.x, pos, s, n, sc, &e, depth + 1);
        if (sc.exceeded) { sc.stack.resize(base); return false; }
        if (m == (in.op == RX_OP_LOOK)) ++pc; else ok = false;
        break;
      }
      case RX_OP_ATOMIC: {
        size_t e = 0;
        const bool m = run(in.x, pos, s, n, sc, &e, depth + 1);
        if (sc.exceeded) { sc.stack.resize(base); return false; }
        if (m) { pos = e; ++pc; } else ok = false;
        break;
      }
      case RX_OP_MATCH:
        *end = pos;
        // Registers changed above base must not leak into the caller's later backtracking: restore them.
        while (sc.stack.size() > base) {
          const RxScratch::Frame f = sc.stack.back();
          sc.stack.pop_back();
          if (f.pc < 0) sc.regs[size_t(-1 - f.pc)] = f.pos;
        }
        return true;
    }
    if (ok) continue;
    for (;;) {  // backtrack
      if (sc.stack.size() == base) return false;
      const RxScratch::Frame f = sc.stack.back();
      sc.stack.pop_back();
      if (f.pc < 0) { sc.regs[size_t(-1 - f.pc)] = f.pos; continue; }
      pc = f.pc;
      pos = size_t(f.pos);
      break;
    }
  }
}

int Regex::search(const uint32_t* s, size_t n, size_t from, RxScratch& sc, size_t* ms, size_t* me) const {
  for (size_t start = from; start <= n; ++start) {
    size_t e = 0;
    if (run(0, start, s, n, sc, &e, 0)) { *ms = start; *me = e; return 1; }
    if (sc.exceeded) return -1;
  }
  return 0;
}

template <class F>
void Regex::find_iter(const uint32_t* text, size_t n, RxScratch& sc, const std::string& path, F emit) const {
  if (n > size_t(std::numeric_limits<int32_t>::max() / 2)) fail_at(path, "cannot search a text this long");
  sc.regs.assign(size_t(nregs_), -1);
  sc.stack.clear();
  size_t last_end = 0;
  bool have_last = false;
  size_t last_match_end = 0;
  // One budget for the whole pass, so that many expensive searches cannot add up to a hang. Real files'
  // patterns take under 100 steps per character (GPT-2, Llama 3, Qwen2, o200k measured on the test corpus).
  sc.steps = 0;
  sc.budget = 1000000ull + 2000ull * n;
  sc.exceeded = false;
  while (last_end <= n) {
    size_t s = 0, e = 0;
    const int r = search(text, n, last_end, sc, &s, &e);
    if (r < 0) fail_at(path, "regex exceeded its step budget on this text (catastrophic backtracking)");
    if (r == 0) break;
    if (e == s && have_last && last_match_end == e) {  // no empty match right after the previous match
      ++last_end;
      continue;
    }
    last_end = e;
    have_last = true;
    last_match_end = e;
    emit(s, e);
  }
}

// ===== 3. The pipeline's parts =====================================================================================
// Sequences (normalizers, pre-tokenizers, post-processors, decoders) are flattened at load: applying a Sequence
// is applying its members in order, whatever the nesting.

enum NormKind : uint8_t {
  NORM_KIND_NFD, NORM_KIND_NFKD, NORM_KIND_NFC, NORM_KIND_NFKC, NORM_KIND_LOWERCASE, NORM_KIND_STRIP_ACCENTS,
  NORM_KIND_STRIP, NORM_KIND_BERT, NORM_KIND_PREPEND, NORM_KIND_REPLACE, NORM_KIND_NMT, NORM_KIND_BYTE_LEVEL
};

struct NormStep {
  NormKind kind;
  bool left = false, right = false;                                           // Strip
  bool clean_text = false, chinese = false, strip_accents = false, lower = false;  // BertNormalizer
  std::vector<uint32_t> text;                                                 // Prepend / Replace content
  int regex = -1;                                                             // Replace pattern
  std::string path;
};

enum Behavior : uint8_t {
  BEHAVIOR_REMOVED, BEHAVIOR_ISOLATED, BEHAVIOR_MERGED_WITH_PREVIOUS, BEHAVIOR_MERGED_WITH_NEXT, BEHAVIOR_CONTIGUOUS
};

enum PrependScheme : uint8_t { PREPEND_SCHEME_ALWAYS, PREPEND_SCHEME_FIRST, PREPEND_SCHEME_NEVER };

enum PreKind : uint8_t {
  PRE_KIND_BYTE_LEVEL, PRE_KIND_SPLIT, PRE_KIND_METASPACE, PRE_KIND_WHITESPACE, PRE_KIND_WHITESPACE_SPLIT,
  PRE_KIND_BERT, PRE_KIND_PUNCTUATION, PRE_KIND_DIGITS, PRE_KIND_CHAR_DELIMITER
};

struct PreStep {
  PreKind kind;
  bool add_prefix_space = false, use_regex = true;       // ByteLevel
  int regex = -1;                                        // Split (and ByteLevel's GPT-2 pattern)
  Behavior behavior = BEHAVIOR_ISOLATED;                 // Split, Punctuation
  bool invert = false;                                   // Split
  uint32_t replacement = 0x2581;                         // Metaspace
  PrependScheme prepend = PREPEND_SCHEME_ALWAYS;         // Metaspace
  bool split = true;                                     // Metaspace
  bool individual_digits = false;                        // Digits
  uint32_t delimiter = 0;                                // CharDelimiterSplit
  std::string path;
};

enum ModelKind : uint8_t { MODEL_KIND_BPE, MODEL_KIND_WORD_PIECE, MODEL_KIND_WORD_LEVEL };

struct Model {
  ModelKind kind = MODEL_KIND_BPE;
  StrTable vocab;                        // token -> id
  std::vector<std::string> id_str;       // id -> token ("" for holes, see id_has)
  std::vector<uint8_t> id_has;
  PairTable merges;                      // BPE
  bool has_unk = false;
  std::string unk;                       // BPE (optional), WordPiece, WordLevel
  int unk_id = -1;                       // -1 when unk is absent from the vocabulary (an error at encode time)
  bool has_prefix = false, has_suffix = false;
  std::string prefix, suffix;            // BPE continuing_subword_prefix / end_of_word_suffix; WordPiece prefix
  bool fuse_unk = false, byte_fallback = false, ignore_merges = false;
  int byte_ids[256];                     // BPE byte_fallback: id of "<0xXX>" or -1
  size_t max_chars = 100;                // WordPiece max_input_chars_per_word
  size_t max_token_bytes = 0;            // longest vocabulary string (bounds WordPiece's search)
};

struct AddedTok {
  int id;
  std::string content;
  std::string decode_form;               // what decode() feeds the decoders: the normalized form when normalized
  std::vector<uint32_t> pattern;         // what the split matches: content, or its normalized form
  bool single_word = false, lstrip = false, rstrip = false, normalized = true, special = false;
};

// A trie over code points for the leftmost-longest search of added tokens.
struct Trie {
  std::unordered_map<uint64_t, int32_t> edges;  // (node << 21) | cp -> child
  std::vector<int32_t> terminal{-1};            // node -> added token index or -1
  void add(const std::vector<uint32_t>& p, int32_t value) {
    int32_t node = 0;
    for (uint32_t c : p) {
      const uint64_t key = (uint64_t(uint32_t(node)) << 21) | (c & 0x1FFFFF);
      auto it = edges.find(key);
      if (it == edges.end()) {
        terminal.push_back(-1);
        it = edges.emplace(key, int32_t(terminal.size() - 1)).first;
      }
      node = it->second;
    }
    terminal[size_t(node)] = value;
  }
  bool empty() const { return terminal.size() <= 1 && terminal[0] < 0; }
};

enum PostKind : uint8_t { POST_KIND_BYTE_LEVEL, POST_KIND_TEMPLATE, POST_KIND_BERT, POST_KIND_ROBERTA };

struct SpecialSeq {
  std::vector<int> ids;
  std::vector<std::string> tokens;
};

struct TemplatePiece {
  int seq;        // 0 = $A, 1 = $B, -1 = a special token
  int special;    // index into PostStep::specials
};

struct PostStep {
  PostKind kind;
  std::vector<TemplatePiece> single, pair;
  std::vector<SpecialSeq> specials;
  std::string cls_tok, sep_tok;
  int cls_id = 0, sep_id = 0;
  std::string path;
};

enum DecKind : uint8_t {
  DEC_KIND_BYTE_LEVEL, DEC_KIND_METASPACE, DEC_KIND_WORD_PIECE, DEC_KIND_BYTE_FALLBACK, DEC_KIND_FUSE,
  DEC_KIND_STRIP, DEC_KIND_REPLACE, DEC_KIND_BPE
};

struct DecStep {
  DecKind kind;
  uint32_t replacement = 0x2581;          // Metaspace
  PrependScheme prepend = PREPEND_SCHEME_ALWAYS;
  std::string text;                       // WordPiece prefix, BPE suffix, Replace content
  bool cleanup = true;                    // WordPiece
  uint32_t strip_char = ' ';
  size_t strip_start = 0, strip_stop = 0; // Strip
  int regex = -1;                         // Replace
  std::string path;
};

enum TruncDir : uint8_t { TRUNC_DIR_RIGHT, TRUNC_DIR_LEFT };
enum TruncStrategy : uint8_t { TRUNC_STRATEGY_LONGEST_FIRST, TRUNC_STRATEGY_ONLY_FIRST, TRUNC_STRATEGY_ONLY_SECOND };

}  // namespace

struct HfTokenizerData {
  std::vector<Regex> regexes;
  std::vector<NormStep> norm;
  bool has_normalizer = false;
  std::vector<PreStep> pre;
  Model model;
  std::vector<PostStep> post;
  bool has_post = false;
  std::vector<DecStep> dec;
  bool has_decoder = false;

  std::vector<AddedTok> added;                  // one per id, the last definition of that id wins
  std::unordered_map<int, int> added_by_id;     // id -> index into added
  StrTable added_by_content;                    // content -> id
  StrTable special_contents;                    // contents of special added tokens (value unused)
  Trie trie_raw, trie_norm;

  bool truncation = false;
  size_t trunc_max = 0;
  TruncDir trunc_dir = TRUNC_DIR_RIGHT;
  TruncStrategy trunc_strategy = TRUNC_STRATEGY_LONGEST_FIRST;
  bool padding = false;
  bool pad_fixed = false;
  size_t pad_length = 0, pad_multiple = 0;
  bool pad_left = false;
  int pad_id = 0;
  std::string pad_token;

  int vocab_size = 0;
  bool byte_level = false;                       // display decodes GPT-2's byte alphabet
};

namespace {

// GPT-2's bytes_to_unicode: byte -> code point, and its inverse (-1 for code points outside the alphabet).
struct ByteAlphabet {
  uint32_t to_cp[256];
  int16_t from_cp[324];  // the alphabet's code points are all below 256 + 68
  ByteAlphabet() {
    std::fill(std::begin(from_cp), std::end(from_cp), int16_t(-1));
    uint32_t n = 0;
    for (uint32_t b = 0; b < 256; ++b) {
      const bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE);
      to_cp[b] = printable ? b : 256 + n++;
      from_cp[to_cp[b]] = int16_t(b);
    }
  }
  int byte_of(uint32_t cp) const { return cp < 324 ? from_cp[cp] : -1; }
};

const ByteAlphabet& byte_alphabet() {
  static const ByteAlphabet a;
  return a;
}

const char* const kGpt2Pattern =
    "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";


// ===== 4. Loading ==================================================================================================

using Json = nlohmann::json;

constexpr uint64_t kMaxId = 0xFFFFFF;  // ids beyond 2^24 - 1 are refused (no real vocabulary comes near)
constexpr uint64_t kMaxPadding = 65536; // padding lengths beyond are refused (no model has that many positions)

std::string at_key(const std::string& path, const char* key) { return path.empty() ? key : path + "." + key; }
std::string at_index(const std::string& path, size_t i) { return path + "[" + std::to_string(i) + "]"; }
std::string at_name(const std::string& path, const std::string& key) { return path + "[" + quote_str(key) + "]"; }

const char* json_type(const Json& v) {
  switch (v.type()) {
    case Json::value_t::null: return "null";
    case Json::value_t::boolean: return "a boolean";
    case Json::value_t::number_integer: case Json::value_t::number_unsigned: case Json::value_t::number_float:
      return "a number";
    case Json::value_t::string: return "a string";
    case Json::value_t::array: return "an array";
    case Json::value_t::object: return "an object";
    default: return "not a JSON value";
  }
}

[[noreturn]] void wrong_type(const Json& v, const std::string& path, const char* want) {
  fail_at(path, std::string("must be ") + want + ", not " + json_type(v));
}

void want_object(const Json& v, const std::string& path) {
  if (!v.is_object()) wrong_type(v, path, "an object");
}

const Json* find(const Json& obj, const char* key) {
  const auto it = obj.find(key);
  return it == obj.end() ? nullptr : &*it;
}

const Json& need(const Json& obj, const std::string& path, const char* key) {
  const Json* v = find(obj, key);
  if (!v) fail_at(at_key(path, key), "is missing");
  return *v;
}

bool as_bool(const Json& v, const std::string& path) {
  if (!v.is_boolean()) wrong_type(v, path, "true or false");
  return v.get<bool>();
}

const std::string& as_string(const Json& v, const std::string& path) {
  if (!v.is_string()) wrong_type(v, path, "a string");
  return v.get_ref<const std::string&>();
}

uint64_t as_uint(const Json& v, const std::string& path, uint64_t max) {
  if (!v.is_number_integer()) wrong_type(v, path, "a non-negative integer");
  if (v.is_number_unsigned()) {
    const uint64_t x = v.get<uint64_t>();
    if (x > max) fail_at(path, std::to_string(x) + " is out of range (0.." + std::to_string(max) + ")");
    return x;
  }
  const int64_t x = v.get<int64_t>();
  if (x < 0 || uint64_t(x) > max) fail_at(path, std::to_string(x) + " is out of range (0.." + std::to_string(max) + ")");
  return uint64_t(x);
}

// Rust `Option<bool>` / `#[serde(default)]` fields: missing or null -> dflt.
bool opt_bool(const Json& obj, const std::string& path, const char* key, bool dflt) {
  const Json* v = find(obj, key);
  if (!v || v->is_null()) return dflt;
  return as_bool(*v, at_key(path, key));
}

bool req_bool(const Json& obj, const std::string& path, const char* key) {
  return as_bool(need(obj, path, key), at_key(path, key));
}

const std::string& req_string(const Json& obj, const std::string& path, const char* key) {
  return as_string(need(obj, path, key), at_key(path, key));
}

// Optional string (Rust Option<String>): returns false when missing or null.
bool opt_string(const Json& obj, const std::string& path, const char* key, std::string* out) {
  const Json* v = find(obj, key);
  if (!v || v->is_null()) return false;
  *out = as_string(*v, at_key(path, key));
  return true;
}

// A Rust `char` field: a string holding exactly one code point.
uint32_t as_char(const Json& v, const std::string& path) {
  const std::vector<uint32_t> cps = utf8_decode(as_string(v, path), nullptr);
  if (cps.size() != 1) fail_at(path, "must be a single character, not " + quote_str(v.get_ref<const std::string&>()));
  return cps[0];
}

[[noreturn]] void unsupported(const std::string& path, const std::string& type, const char* supported) {
  fail_at(at_key(path, "type"), quote_str(type) + " is not supported (supported: " + supported + ")");
}

const std::string& type_of(const Json& v, const std::string& path) {
  want_object(v, path);
  const Json* t = find(v, "type");
  if (!t) fail_at(at_key(path, "type"), "is missing");
  return as_string(*t, at_key(path, "type"));
}

int add_regex(HfTokenizerData* d, const std::string& pattern, const std::string& path) {
  Regex re;
  std::string err;
  if (!re.compile(pattern, &err)) fail_at(path, quote_str(pattern) + ": " + err);
  d->regexes.push_back(std::move(re));
  return int(d->regexes.size() - 1);
}

// Split / Replace "pattern": {"String": s} (a literal) or {"Regex": r} (Oniguruma).
int parse_pattern(HfTokenizerData* d, const Json& v, const std::string& path) {
  want_object(v, path);
  if (v.size() != 1) fail_at(path, "must hold exactly one of \"String\" or \"Regex\"");
  if (const Json* s = find(v, "String")) {
    const std::string& lit = as_string(*s, at_key(path, "String"));
    std::string re;  // escape every character: the literal compiles as a sequence of CHARs
    for (uint32_t c : utf8_decode(lit, nullptr)) {
      char buf[16];
      std::snprintf(buf, sizeof buf, "\\x{%X}", unsigned(c));
      re += buf;
    }
    if (re.size() > kRxMaxPattern) fail_at(at_key(path, "String"), "is too long");
    return add_regex(d, re, at_key(path, "String"));
  }
  if (const Json* r = find(v, "Regex")) return add_regex(d, as_string(*r, at_key(path, "Regex")), at_key(path, "Regex"));
  fail_at(path, "must hold \"String\" or \"Regex\"");
}

Behavior parse_behavior(const Json& v, const std::string& path) {
  const std::string& s = as_string(v, path);
  if (s == "Removed") return BEHAVIOR_REMOVED;
  if (s == "Isolated") return BEHAVIOR_ISOLATED;
  if (s == "MergedWithPrevious") return BEHAVIOR_MERGED_WITH_PREVIOUS;
  if (s == "MergedWithNext") return BEHAVIOR_MERGED_WITH_NEXT;
  if (s == "Contiguous") return BEHAVIOR_CONTIGUOUS;
  fail_at(path, quote_str(s) + " is not a split behavior (Removed, Isolated, MergedWithPrevious, MergedWithNext, "
                            "Contiguous)");
}

// Metaspace's prepend_scheme with the older add_prefix_space, as the Rust deserializer reconciles them.
PrependScheme parse_prepend_scheme(const Json& v, const std::string& path) {
  PrependScheme scheme = PREPEND_SCHEME_ALWAYS;
  if (const Json* p = find(v, "prepend_scheme")) {
    const std::string& s = as_string(*p, at_key(path, "prepend_scheme"));
    if (s == "always") scheme = PREPEND_SCHEME_ALWAYS;
    else if (s == "first") scheme = PREPEND_SCHEME_FIRST;
    else if (s == "never") scheme = PREPEND_SCHEME_NEVER;
    else fail_at(at_key(path, "prepend_scheme"), quote_str(s) + " is not one of \"always\", \"first\", \"never\"");
  }
  if (!opt_bool(v, path, "add_prefix_space", true)) {
    if (scheme != PREPEND_SCHEME_NEVER)
      fail_at(at_key(path, "add_prefix_space"), "false does not match prepend_scheme (which must then be \"never\")");
  }
  return scheme;
}

void parse_normalizer(HfTokenizerData* d, const Json& v, const std::string& path) {
  if (v.is_null()) return;
  const std::string& type = type_of(v, path);
  NormStep st;
  st.path = path;
  if (type == "Sequence") {
    const Json& list = need(v, path, "normalizers");
    if (!list.is_array()) wrong_type(list, at_key(path, "normalizers"), "an array");
    for (size_t i = 0; i < list.size(); ++i)
      parse_normalizer(d, list[i], at_index(at_key(path, "normalizers"), i));
    return;
  }
  if (type == "NFD") st.kind = NORM_KIND_NFD;
  else if (type == "NFKD") st.kind = NORM_KIND_NFKD;
  else if (type == "NFC") st.kind = NORM_KIND_NFC;
  else if (type == "NFKC") st.kind = NORM_KIND_NFKC;
  else if (type == "Lowercase") st.kind = NORM_KIND_LOWERCASE;
  else if (type == "StripAccents") st.kind = NORM_KIND_STRIP_ACCENTS;
  else if (type == "Nmt") st.kind = NORM_KIND_NMT;
  else if (type == "ByteLevel") { st.kind = NORM_KIND_BYTE_LEVEL; d->byte_level = true; }
  else if (type == "Strip") {
    st.kind = NORM_KIND_STRIP;
    st.left = req_bool(v, path, "strip_left");
    st.right = req_bool(v, path, "strip_right");
  } else if (type == "BertNormalizer") {
    st.kind = NORM_KIND_BERT;
    st.clean_text = req_bool(v, path, "clean_text");
    st.chinese = req_bool(v, path, "handle_chinese_chars");
    st.lower = req_bool(v, path, "lowercase");
    st.strip_accents = opt_bool(v, path, "strip_accents", st.lower);  // null follows lowercase
  } else if (type == "Prepend") {
    st.kind = NORM_KIND_PREPEND;
    st.text = utf8_decode(req_string(v, path, "prepend"), nullptr);
  } else if (type == "Replace") {
    st.kind = NORM_KIND_REPLACE;
    st.regex = parse_pattern(d, need(v, path, "pattern"), at_key(path, "pattern"));
    st.text = utf8_decode(req_string(v, path, "content"), nullptr);
  } else {
    unsupported(path, type, "Sequence, NFC, NFD, NFKC, NFKD, Lowercase, StripAccents, Strip, BertNormalizer, "
                            "Prepend, Replace, Nmt, ByteLevel");
  }
  d->norm.push_back(std::move(st));
}

void parse_pre_tokenizer(HfTokenizerData* d, const Json& v, const std::string& path) {
  if (v.is_null()) return;
  const std::string& type = type_of(v, path);
  PreStep st;
  st.path = path;
  if (type == "Sequence") {
    const Json& list = need(v, path, "pretokenizers");
    if (!list.is_array()) wrong_type(list, at_key(path, "pretokenizers"), "an array");
    for (size_t i = 0; i < list.size(); ++i) parse_pre_tokenizer(d, list[i], at_index(at_key(path, "pretokenizers"), i));
    return;
  }
  if (type == "ByteLevel") {
    st.kind = PRE_KIND_BYTE_LEVEL;
    st.add_prefix_space = req_bool(v, path, "add_prefix_space");
    opt_bool(v, path, "trim_offsets", true);  // offsets only: checked, not used
    st.use_regex = opt_bool(v, path, "use_regex", true);
    if (st.use_regex) st.regex = add_regex(d, kGpt2Pattern, path);
    d->byte_level = true;
  } else if (type == "Split") {
    st.kind = PRE_KIND_SPLIT;
    st.regex = parse_pattern(d, need(v, path, "pattern"), at_key(path, "pattern"));
    st.behavior = parse_behavior(need(v, path, "behavior"), at_key(path, "behavior"));
    st.invert = opt_bool(v, path, "invert", false);
  } else if (type == "Metaspace") {
    st.kind = PRE_KIND_METASPACE;
    st.replacement = as_char(need(v, path, "replacement"), at_key(path, "replacement"));
    st.prepend = parse_prepend_scheme(v, path);
    st.split = opt_bool(v, path, "split", true);
  } else if (type == "Whitespace") {
    st.kind = PRE_KIND_WHITESPACE;
  } else if (type == "WhitespaceSplit") {
    st.kind = PRE_KIND_WHITESPACE_SPLIT;
  } else if (type == "BertPreTokenizer") {
    st.kind = PRE_KIND_BERT;
  } else if (type == "Punctuation") {
    st.kind = PRE_KIND_PUNCTUATION;
    const Json* b = find(v, "behavior");
    st.behavior = b ? parse_behavior(*b, at_key(path, "behavior")) : BEHAVIOR_ISOLATED;
  } else if (type == "Digits") {
    st.kind = PRE_KIND_DIGITS;
    st.individual_digits = opt_bool(v, path, "individual_digits", false);
  } else if (type == "CharDelimiterSplit") {
    st.kind = PRE_KIND_CHAR_DELIMITER;
    st.delimiter = as_char(need(v, path, "delimiter"), at_key(path, "delimiter"));
  } else {
    unsupported(path, type, "Sequence, ByteLevel, Split, Metaspace, Whitespace, WhitespaceSplit, BertPreTokenizer, "
                            "Punctuation, Digits, CharDelimiterSplit");
  }
  d->pre.push_back(std::move(st));
}

void parse_vocab(Model* m, const Json& v, const std::string& path) {
  if (!v.is_object()) {
    if (v.is_array()) fail_at(path, "is a list (a Unigram vocabulary?); BPE, WordPiece and WordLevel need an object");
    wrong_type(v, path, "an object of token -> id");
  }
  size_t bytes = 0;
  for (auto it = v.begin(); it != v.end(); ++it) bytes += it.key().size();
  m->vocab.reserve(v.size(), bytes);
  uint64_t max_id = 0;
  for (auto it = v.begin(); it != v.end(); ++it) {
    const uint64_t id = as_uint(it.value(), at_name(path, it.key()), kMaxId);
    max_id = std::max(max_id, id);
  }
  m->id_str.assign(v.empty() ? 0 : size_t(max_id + 1), std::string());
  m->id_has.assign(m->id_str.size(), 0);
  for (auto it = v.begin(); it != v.end(); ++it) {
    const size_t id = size_t(it.value().get<uint64_t>());
    if (m->id_has[id]) {
      fail_at(at_name(path, it.key()), "has id " + std::to_string(id) + ", which " + quote_str(m->id_str[id]) +
                                          " already has");
    }
    m->id_has[id] = 1;
    m->id_str[id] = it.key();
    m->vocab.put(it.key(), int32_t(id));  // nlohmann objects hold unique keys
    m->max_token_bytes = std::max(m->max_token_bytes, it.key().size());
  }
}

void parse_bpe(Model* m, const Json& v, const std::string& path) {
  m->kind = MODEL_KIND_BPE;
  const Json* vocab = find(v, "vocab");
  const Json* merges = find(v, "merges");
  if (!vocab) fail_at(at_key(path, "vocab"), "is missing");
  if (!merges) fail_at(at_key(path, "merges"), "is missing");
  parse_vocab(m, *vocab, at_key(path, "vocab"));
  if (const Json* dr = find(v, "dropout")) {
    if (!dr->is_null()) {
      if (!dr->is_number()) wrong_type(*dr, at_key(path, "dropout"), "null or a number");
      const double p = dr->get<double>();
      if (!(p >= 0.0 && p <= 1.0)) fail_at(at_key(path, "dropout"), "must be between 0 and 1");
      if (p > 0.0) fail_at(at_key(path, "dropout"), "> 0 is not supported (encoding would be random)");
    }
  }
  m->has_unk = opt_string(v, path, "unk_token", &m->unk);
  m->has_prefix = opt_string(v, path, "continuing_subword_prefix", &m->prefix);
  m->has_suffix = opt_string(v, path, "end_of_word_suffix", &m->suffix);
  m->fuse_unk = opt_bool(v, path, "fuse_unk", false);
  m->byte_fallback = opt_bool(v, path, "byte_fallback", false);
  m->ignore_merges = opt_bool(v, path, "ignore_merges", false);
  m->unk_id = m->has_unk ? m->vocab.get(m->unk) : -1;
  for (int b = 0; b < 256; ++b) {
    char name[8];
    std::snprintf(name, sizeof name, "<0x%02X>", b);
    m->byte_ids[b] = m->vocab.get(name);
  }

  const std::string mpath = at_key(path, "merges");
  if (!merges->is_array()) wrong_type(*merges, mpath, "an array");
  // Tuple form ([a, b] pairs) or legacy form ("a b" strings); all entries must be the same form.
  bool tuple = false;
  if (!merges->empty()) tuple = (*merges)[0].is_array();
  m->merges.reserve(merges->size());
  const size_t prefix_len = m->has_prefix ? m->prefix.size() : 0;
  std::string joined;
  uint32_t rank = 0;
  for (size_t i = 0; i < merges->size(); ++i) {
    const Json& e = (*merges)[i];
    const std::string ipath = at_index(mpath, i);
    std::string_view a, b;
    std::string line;
    if (tuple) {
      if (!e.is_array() || e.size() != 2 || !e[0].is_string() || !e[1].is_string())
        fail_at(ipath, "must be a pair of strings like the first merge");
      a = e[0].get_ref<const std::string&>();
      b = e[1].get_ref<const std::string&>();
    } else {
      if (!e.is_string()) fail_at(ipath, "must be a string \"a b\" like the first merge");
      const std::string& s = e.get_ref<const std::string&>();
      if (s.compare(0, 8, "#version") == 0) continue;  // a merges.txt header kept in the list: skipped, no rank
      const size_t sp = s.find(' ');
      if (sp == std::string::npos || s.find(' ', sp + 1) != std::string::npos)
        fail_at(ipath, quote_str(s) + " is not two tokens separated by one space");
      a = std::string_view(s).substr(0, sp);
      b = std::string_view(s).substr(sp + 1);
    }
    const int32_t ia = m->vocab.get(a), ib = m->vocab.get(b);
    if (ia < 0) fail_at(ipath, "names " + quote_str(a) + ", which is not in " + at_key(path, "vocab"));
    if (ib < 0) fail_at(ipath, "names " + quote_str(b) + ", which is not in " + at_key(path, "vocab"));
    if (b.size() < prefix_len)
      fail_at(ipath, quote_str(b) + " is shorter than continuing_subword_prefix " + quote_str(m->prefix));
    joined.assign(a.data(), a.size());
    joined.append(b.data() + prefix_len, b.size() - prefix_len);
    const int32_t in = m->vocab.get(joined);
    if (in < 0) fail_at(ipath, "makes " + quote_str(joined) + ", which is not in " + at_key(path, "vocab"));
    m->merges.put(uint32_t(ia), uint32_t(ib), rank, uint32_t(in));
    ++rank;
  }
}

void parse_word_piece(Model* m, const Json& v, const std::string& path) {
  m->kind = MODEL_KIND_WORD_PIECE;
  parse_vocab(m, need(v, path, "vocab"), at_key(path, "vocab"));
  m->unk = req_string(v, path, "unk_token");
  m->has_unk = true;
  m->prefix = req_string(v, path, "continuing_subword_prefix");
  m->has_prefix = true;
  m->max_chars = size_t(as_uint(need(v, path, "max_input_chars_per_word"), at_key(path, "max_input_chars_per_word"),
                                std::numeric_limits<uint32_t>::max()));
  m->unk_id = m->vocab.get(m->unk);
}

void parse_word_level(Model* m, const Json& v, const std::string& path) {
  m->kind = MODEL_KIND_WORD_LEVEL;
  parse_vocab(m, need(v, path, "vocab"), at_key(path, "vocab"));
  m->unk = req_string(v, path, "unk_token");
  m->has_unk = true;
  m->unk_id = m->vocab.get(m->unk);
}

void parse_model(HfTokenizerData* d, const Json& v, const std::string& path) {
  want_object(v, path);
  std::string type;
  if (const Json* t = find(v, "type")) {
    type = as_string(*t, at_key(path, "type"));
  } else {  // older files: recognised by their fields, in the Rust library's order
    if (find(v, "merges")) type = "BPE";
    else if (find(v, "unk_token") && find(v, "continuing_subword_prefix") && find(v, "max_input_chars_per_word") &&
             find(v, "vocab"))
      type = "WordPiece";
    else if (find(v, "unk_token") && find(v, "vocab") && !need(v, path, "vocab").is_array()) type = "WordLevel";
    else if (const Json* vv = find(v, "vocab")) {
      if (vv->is_array()) type = "Unigram";
    }
    if (type.empty()) fail_at(at_key(path, "type"), "is missing and the fields match no model");
  }
  if (type == "BPE") parse_bpe(&d->model, v, path);
  else if (type == "WordPiece") parse_word_piece(&d->model, v, path);
  else if (type == "WordLevel") parse_word_level(&d->model, v, path);
  else unsupported(path, type, "BPE, WordPiece, WordLevel");
}

void parse_post(HfTokenizerData* d, const Json& v, const std::string& path) {
  if (v.is_null()) return;
  const std::string& type = type_of(v, path);
  PostStep st;
  st.path = path;
  auto special_pair = [&](const char* key, std::string* tok, int* id) {
    const Json& p = need(v, path, key);
    const std::string kp = at_key(path, key);
    if (!p.is_array() || p.size() != 2) wrong_type(p, kp, "a [token, id] pair");
    *tok = as_string(p[0], at_index(kp, 0));
    *id = int(as_uint(p[1], at_index(kp, 1), kMaxId));
  };
  if (type == "Sequence") {
    const Json& list = need(v, path, "processors");
    if (!list.is_array()) wrong_type(list, at_key(path, "processors"), "an array");
    for (size_t i = 0; i < list.size(); ++i) parse_post(d, list[i], at_index(at_key(path, "processors"), i));
    return;
  }
  if (type == "ByteLevel") {
    st.kind = POST_KIND_BYTE_LEVEL;
  } else if (type == "BertProcessing" || type == "RobertaProcessing") {
    st.kind = (type == "BertProcessing") ? POST_KIND_BERT : POST_KIND_ROBERTA;
    special_pair("cls", &st.cls_tok, &st.cls_id);
    special_pair("sep", &st.sep_tok, &st.sep_id);
  } else if (type == "TemplateProcessing") {
    st.kind = POST_KIND_TEMPLATE;
    std::vector<std::string> names;
    if (const Json* sp = find(v, "special_tokens")) {
      const std::string spath = at_key(path, "special_tokens");
      if (!sp->is_object()) wrong_type(*sp, spath, "an object");
      for (auto it = sp->begin(); it != sp->end(); ++it) {
        const std::string ep = at_name(spath, it.key());
        want_object(it.value(), ep);
        SpecialSeq seq;
        const Json& ids = need(it.value(), ep, "ids");
        const Json& toks = need(it.value(), ep, "tokens");
        if (!ids.is_array()) wrong_type(ids, at_key(ep, "ids"), "an array");
        if (!toks.is_array()) wrong_type(toks, at_key(ep, "tokens"), "an array");
        if (ids.size() != toks.size()) fail_at(ep, "has " + std::to_string(ids.size()) + " ids but " +
                                                       std::to_string(toks.size()) + " tokens");
        for (size_t k = 0; k < ids.size(); ++k) {
          seq.ids.push_back(int(as_uint(ids[k], at_index(at_key(ep, "ids"), k), kMaxId)));
          seq.tokens.push_back(as_string(toks[k], at_index(at_key(ep, "tokens"), k)));
        }
        names.push_back(it.key());
        st.specials.push_back(std::move(seq));
      }
    }
    auto parse_template = [&](const char* key, std::vector<TemplatePiece>* out, bool required) {
      const Json* t = find(v, key);
      const std::string tp = at_key(path, key);
      if (!t) {
        if (required) fail_at(tp, "is missing");
        return;
      }
      if (!t->is_array()) wrong_type(*t, tp, "an array of pieces");
      for (size_t i = 0; i < t->size(); ++i) {
        const Json& piece = (*t)[i];
        const std::string pp = at_index(tp, i);
        if (!piece.is_object() || piece.size() != 1) fail_at(pp, "must be {\"Sequence\": ...} or {\"SpecialToken\": ...}");
        TemplatePiece tpc{-1, -1};
        if (const Json* s = find(piece, "Sequence")) {
          want_object(*s, at_key(pp, "Sequence"));
          const std::string& id = req_string(*s, at_key(pp, "Sequence"), "id");
          if (id == "A") tpc.seq = 0;
          else if (id == "B") tpc.seq = 1;
          else fail_at(at_key(at_key(pp, "Sequence"), "id"), quote_str(id) + " is not \"A\" or \"B\"");
          as_uint(need(*s, at_key(pp, "Sequence"), "type_id"), at_key(at_key(pp, "Sequence"), "type_id"), kMaxId);
        } else if (const Json* s2 = find(piece, "SpecialToken")) {
          want_object(*s2, at_key(pp, "SpecialToken"));
          const std::string& id = req_string(*s2, at_key(pp, "SpecialToken"), "id");
          const auto it = std::find(names.begin(), names.end(), id);
          if (it == names.end())
            fail_at(at_key(at_key(pp, "SpecialToken"), "id"), quote_str(id) + " is not in " + at_key(path, "special_tokens"));
          tpc.special = int(it - names.begin());
          as_uint(need(*s2, at_key(pp, "SpecialToken"), "type_id"), at_key(at_key(pp, "SpecialToken"), "type_id"),
                  kMaxId);
        } else {
          fail_at(pp, "must be {\"Sequence\": ...} or {\"SpecialToken\": ...}");
        }
        if (key[0] == 's' && tpc.seq == 1) fail_at(pp, "uses $B in the single-sequence template");
        out->push_back(tpc);
      }
    };
    parse_template("single", &st.single, true);
    parse_template("pair", &st.pair, false);
  } else {
    unsupported(path, type, "TemplateProcessing, BertProcessing, RobertaProcessing, ByteLevel, Sequence");
  }
  d->post.push_back(std::move(st));
}

void parse_decoder(HfTokenizerData* d, const Json& v, const std::string& path) {
  if (v.is_null()) return;
  const std::string& type = type_of(v, path);
  DecStep st;
  st.path = path;
  if (type == "Sequence") {
    const Json& list = need(v, path, "decoders");
    if (!list.is_array()) wrong_type(list, at_key(path, "decoders"), "an array");
    for (size_t i = 0; i < list.size(); ++i) parse_decoder(d, list[i], at_index(at_key(path, "decoders"), i));
    return;
  }
  if (type == "ByteLevel") {
    st.kind = DEC_KIND_BYTE_LEVEL;
    d->byte_level = true;
  } else if (type == "Metaspace") {
    st.kind = DEC_KIND_METASPACE;
    st.replacement = as_char(need(v, path, "replacement"), at_key(path, "replacement"));
    st.prepend = parse_prepend_scheme(v, path);
  } else if (type == "WordPiece") {
    st.kind = DEC_KIND_WORD_PIECE;
    st.text = "##";
    opt_string(v, path, "prefix", &st.text);
    st.cleanup = opt_bool(v, path, "cleanup", true);
  } else if (type == "ByteFallback") {
    st.kind = DEC_KIND_BYTE_FALLBACK;
  } else if (type == "Fuse") {
    st.kind = DEC_KIND_FUSE;
  } else if (type == "Strip") {
    st.kind = DEC_KIND_STRIP;
    st.strip_char = as_char(need(v, path, "content"), at_key(path, "content"));
    st.strip_start = size_t(as_uint(need(v, path, "start"), at_key(path, "start"), 1u << 20));
    st.strip_stop = size_t(as_uint(need(v, path, "stop"), at_key(path, "stop"), 1u << 20));
  } else if (type == "Replace") {
    st.kind = DEC_KIND_REPLACE;
    st.regex = parse_pattern(d, need(v, path, "pattern"), at_key(path, "pattern"));
    st.text = req_string(v, path, "content");
  } else if (type == "BPEDecoder") {
    st.kind = DEC_KIND_BPE;
    st.text = "</w>";
    opt_string(v, path, "suffix", &st.text);
  } else {
    unsupported(path, type, "ByteLevel, Metaspace, WordPiece, ByteFallback, Fuse, Strip, Replace, Sequence, BPEDecoder");
  }
  d->dec.push_back(std::move(st));
}

void parse_truncation(HfTokenizerData* d, const Json& v, const std::string& path) {
  if (v.is_null()) return;
  want_object(v, path);
  d->truncation = true;
  d->trunc_max = size_t(as_uint(need(v, path, "max_length"), at_key(path, "max_length"), 1u << 30));
  if (const Json* s = find(v, "strategy")) {
    const std::string& x = as_string(*s, at_key(path, "strategy"));
    if (x == "LongestFirst") d->trunc_strategy = TRUNC_STRATEGY_LONGEST_FIRST;
    else if (x == "OnlyFirst") d->trunc_strategy = TRUNC_STRATEGY_ONLY_FIRST;
    else if (x == "OnlySecond") d->trunc_strategy = TRUNC_STRATEGY_ONLY_SECOND;
    else fail_at(at_key(path, "strategy"), quote_str(x) + " is not LongestFirst, OnlyFirst or OnlySecond");
  }
  if (const Json* s = find(v, "direction")) {
    const std::string& x = as_string(*s, at_key(path, "direction"));
    if (x == "Right") d->trunc_dir = TRUNC_DIR_RIGHT;
    else if (x == "Left") d->trunc_dir = TRUNC_DIR_LEFT;
    else fail_at(at_key(path, "direction"), quote_str(x) + " is not Left or Right");
  }
  if (const Json* s = find(v, "stride")) as_uint(*s, at_key(path, "stride"), 1u << 30);
}

void parse_padding(HfTokenizerData* d, const Json& v, const std::string& path) {
  if (v.is_null()) return;
  want_object(v, path);
  d->padding = true;
  const Json& s = need(v, path, "strategy");
  const std::string sp = at_key(path, "strategy");
  if (s.is_string() && s.get_ref<const std::string&>() == "BatchLongest") {
    d->pad_fixed = false;
  } else if (s.is_object() && s.size() == 1 && find(s, "Fixed")) {
    d->pad_fixed = true;
    d->pad_length = size_t(as_uint(s["Fixed"], at_key(sp, "Fixed"), kMaxPadding));
  } else {
    fail_at(sp, "must be \"BatchLongest\" or {\"Fixed\": n}");
  }
  if (const Json* x = find(v, "direction")) {
    const std::string& dir = as_string(*x, at_key(path, "direction"));
    if (dir == "Left") d->pad_left = true;
    else if (dir != "Right") fail_at(at_key(path, "direction"), quote_str(dir) + " is not Left or Right");
  }
  if (const Json* x = find(v, "pad_to_multiple_of"))
    if (!x->is_null()) d->pad_multiple = size_t(as_uint(*x, at_key(path, "pad_to_multiple_of"), kMaxPadding));
  if (const Json* x = find(v, "pad_id")) d->pad_id = int(as_uint(*x, at_key(path, "pad_id"), kMaxId));
  d->pad_token = "[PAD]";
  opt_string(v, path, "pad_token", &d->pad_token);
}

// Nesting depth of a JSON text, counted without parsing (strings skipped), so deep input is refused up front.
bool json_depth_ok(std::string_view s, int max_depth) {
  int depth = 0;
  bool in_string = false, escape = false;
  for (char ch : s) {
    if (in_string) {
      if (escape) escape = false;
      else if (ch == '\\') escape = true;
      else if (ch == '"') in_string = false;
      continue;
    }
    if (ch == '"') in_string = true;
    else if (ch == '[' || ch == '{') { if (++depth > max_depth) return false; }
    else if (ch == ']' || ch == '}') --depth;
  }
  return true;
}

void normalize_text(const HfTokenizerData& d, std::vector<uint32_t>* cp, std::vector<uint32_t>* org,
                    RxScratch& rx, std::vector<uint32_t>& ncp, std::vector<uint32_t>& norg);

void load_into(HfTokenizerData* d, std::string_view text) {
  if (!json_depth_ok(text, 64)) fail_at("", "nests deeper than 64 levels");
  Json root;
  try {
    root = Json::parse(text.begin(), text.end());
  } catch (const Json::exception& e) {
    std::string what = e.what();
    const size_t p = what.find("] ");
    if (p != std::string::npos) what = what.substr(p + 2);
    fail_at("", "is not valid JSON (" + what + ")");
  }
  if (!root.is_object()) wrong_type(root, "the top level", "an object");
  if (const Json* ver = find(root, "version")) {
    const std::string& v = as_string(*ver, "version");
    if (v != "1.0") fail_at("version", quote_str(v) + " is not \"1.0\"");
  }
  if (const Json* n = find(root, "normalizer")) { d->has_normalizer = !n->is_null(); parse_normalizer(d, *n, "normalizer"); }
  if (const Json* p = find(root, "pre_tokenizer")) parse_pre_tokenizer(d, *p, "pre_tokenizer");
  const Json* model = find(root, "model");
  if (!model) fail_at("model", "is missing");
  parse_model(d, *model, "model");
  if (const Json* p = find(root, "post_processor")) { d->has_post = !p->is_null(); parse_post(d, *p, "post_processor"); }
  if (const Json* p = find(root, "decoder")) { d->has_decoder = !p->is_null(); parse_decoder(d, *p, "decoder"); }
  if (const Json* p = find(root, "truncation")) parse_truncation(d, *p, "truncation");
  if (const Json* p = find(root, "padding")) parse_padding(d, *p, "padding");

  // Added tokens, as the Rust library adds them after building the tokenizer (AddedVocabulary::add_tokens).
  const Model& m = d->model;
  const int model_size = int(m.vocab.size());
  int max_model_id = int(m.id_str.size()) - 1;
  if (const Json* list = find(root, "added_tokens")) {
    if (!list->is_null() && !list->is_array()) wrong_type(*list, "added_tokens", "an array");
    int next_id = model_size;  // the Rust library's next free id: the model's entry count, then counting up
    RxScratch rx;
    for (size_t i = 0; list->is_array() && i < list->size(); ++i) {
      const Json& e = (*list)[i];
      const std::string ep = at_index("added_tokens", i);
      want_object(e, ep);
      as_uint(need(e, ep, "id"), at_key(ep, "id"), kMaxId);  // checked; the Rust library assigns ids itself
      AddedTok t;
      t.content = req_string(e, ep, "content");
      t.single_word = opt_bool(e, ep, "single_word", false);
      t.lstrip = opt_bool(e, ep, "lstrip", false);
      t.rstrip = opt_bool(e, ep, "rstrip", false);
      t.normalized = opt_bool(e, ep, "normalized", true);
      t.special = opt_bool(e, ep, "special", false);
      if (t.content.empty()) continue;  // ignored, as the Rust library ignores it
      int id = d->added_by_content.get(t.content);
      if (id < 0) id = m.vocab.get(t.content);
      if (id < 0) {
        id = next_id++;
        if (uint64_t(id) > kMaxId) fail_at(ep, "would get an id beyond " + std::to_string(kMaxId));
      }
      t.id = id;
      t.decode_form = t.content;
      t.pattern = utf8_decode(t.content, nullptr);
      if (t.normalized && d->has_normalizer) {
        std::vector<uint32_t> cp = t.pattern, org(cp.size(), 0), ncp, norg;
        normalize_text(*d, &cp, &org, rx, ncp, norg);
        std::string s;
        append_utf8(cp.data(), cp.size(), &s);
        if (s != t.content) {
          t.decode_form = s;
          t.pattern = cp;
        }
      }
      d->added_by_content.put(t.content, id);
      if (t.special) d->special_contents.put(t.content, 1);
      const auto it = d->added_by_id.find(id);
      if (it == d->added_by_id.end()) {
        d->added_by_id.emplace(id, int(d->added.size()));
        d->added.push_back(std::move(t));
      } else {
        d->added[size_t(it->second)] = std::move(t);
      }
    }
  }
  for (size_t i = 0; i < d->added.size(); ++i) {
    const AddedTok& t = d->added[i];
    if (t.pattern.empty()) continue;  // a normalizer can empty a token: it then never matches
    (t.normalized ? d->trie_norm : d->trie_raw).add(t.pattern, int32_t(i));
  }
  int max_id = max_model_id;
  for (const AddedTok& t : d->added) max_id = std::max(max_id, t.id);
  d->vocab_size = max_id + 1;

  // Ids the post-processor adds must exist (the model's embeddings are indexed by them).
  for (const PostStep& p : d->post) {
    auto check = [&](int id, const std::string& where) {
      const bool known = (size_t(id) < m.id_has.size() && m.id_has[size_t(id)]) || d->added_by_id.count(id);
      if (!known) fail_at(where, "id " + std::to_string(id) + " is not in the vocabulary");
    };
    if (p.kind == POST_KIND_BERT || p.kind == POST_KIND_ROBERTA) {
      check(p.cls_id, at_key(p.path, "cls"));
      check(p.sep_id, at_key(p.path, "sep"));
    }
    for (const SpecialSeq& s : p.specials)
      for (int id : s.ids) check(id, at_key(p.path, "special_tokens"));
  }
  if (d->padding) {
    const bool known = (size_t(d->pad_id) < m.id_has.size() && m.id_has[size_t(d->pad_id)]) ||
                       d->added_by_id.count(d->pad_id);
    if (!known) fail_at("padding.pad_id", std::to_string(d->pad_id) + " is not in the vocabulary");
  }
}


// ===== 5. Encoding =================================================================================================

bool is_ws(uint32_t c) { return c < 0x80 ? (c == ' ' || (c >= 9 && c <= 13)) : ucd_is_white_space(c); }

bool is_chinese_char(uint32_t c) {
  return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) || (c >= 0x20000 && c <= 0x2A6DF) ||
         (c >= 0x2A700 && c <= 0x2B73F) || (c >= 0x2B740 && c <= 0x2B81F) || (c >= 0x2B920 && c <= 0x2CEAF) ||
         (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x2F800 && c <= 0x2FA1F);
}

// unicode_categories 0.1.1 (Unicode 8.0) as BertNormalizer and BertPreTokenizer use it.
UcdCategory legacy_category(uint32_t c) { return ucd_category_as_of(c, 8, 0); }

bool is_bert_punct(uint32_t c) {
  if (c < 0x80) return (c >= '!' && c <= '/') || (c >= ':' && c <= '@') || (c >= '[' && c <= '`') || (c >= '{' && c <= '~');
  return ucd_category_major(legacy_category(c)) == 'P';
}

// A half-open range [a, z) of a piece with whether the pattern matched it (Rust's Pattern::find_matches).
struct Piece {
  uint32_t a, z;
  bool match;
};

struct Span {
  uint32_t b, e;   // [b, e) in the current text buffer
  int32_t added;   // index into HfTokenizerData::added, or -1 for text still to tokenize
};

struct Work {
  std::vector<uint32_t> cp[2], org[2];
  std::vector<Span> spans[2];
  std::vector<uint32_t> tcp, torg, ncp, norg;
  std::vector<Piece> pieces, merged;
  std::vector<Span> words;
  RxScratch rx;
  std::string word, key;
  struct Symbol { int32_t id, prev, next; uint32_t len; };
  struct Merge { uint32_t rank; uint32_t pos; uint32_t id; };
  std::vector<Symbol> symbols;
  std::vector<Merge> heap;
};

// Rust's Pattern for a char predicate: every matching character is a match of its own.
template <class P>
void char_pieces(const uint32_t* s, size_t n, P pred, std::vector<Piece>* out) {
  out->clear();
  if (n == 0) { out->push_back(Piece{0, 0, false}); return; }
  uint32_t last = 0;
  for (size_t i = 0; i < n; ++i) {
    if (!pred(s[i])) continue;
    if (last < i) out->push_back(Piece{last, uint32_t(i), false});
    out->push_back(Piece{uint32_t(i), uint32_t(i + 1), true});
    last = uint32_t(i + 1);
  }
  if (last < n) out->push_back(Piece{last, uint32_t(n), false});
}

void regex_pieces(const Regex& re, const uint32_t* s, size_t n, RxScratch& rx, const std::string& path, bool invert,
                  std::vector<Piece>* out) {
  out->clear();
  if (n == 0) { out->push_back(Piece{0, 0, invert}); return; }
  uint32_t prev = 0;
  re.find_iter(s, n, rx, path, [&](size_t a, size_t z) {
    if (prev != a) out->push_back(Piece{prev, uint32_t(a), invert});
    out->push_back(Piece{uint32_t(a), uint32_t(z), !invert});
    prev = uint32_t(z);
  });
  if (prev != n) out->push_back(Piece{prev, uint32_t(n), invert});
}

// NormalizedString::split: applies the behavior to pieces (match = delimiter), appends the kept non-empty ranges
// (offset by base) as spans.
void apply_behavior(std::vector<Piece>& pieces, Behavior beh, uint32_t base, std::vector<Piece>& tmp,
                    std::vector<Span>* out) {
  tmp.clear();
  switch (beh) {
    case BEHAVIOR_REMOVED:
      for (const Piece& p : pieces) tmp.push_back(Piece{p.a, p.z, p.match});  // match -> removed
      break;
    case BEHAVIOR_ISOLATED:
      for (const Piece& p : pieces) tmp.push_back(Piece{p.a, p.z, false});
      break;
    case BEHAVIOR_CONTIGUOUS: {
      bool prev = false;
      for (const Piece& p : pieces) {
        if (p.match == prev && !tmp.empty()) tmp.back().z = p.z;
        else tmp.push_back(Piece{p.a, p.z, false});
        prev = p.match;
      }
      break;
    }
    case BEHAVIOR_MERGED_WITH_PREVIOUS: {
      bool prev = false;
      for (const Piece& p : pieces) {
        if (p.match && !prev && !tmp.empty()) tmp.back().z = p.z;
        else tmp.push_back(Piece{p.a, p.z, false});
        prev = p.match;
      }
      break;
    }
    case BEHAVIOR_MERGED_WITH_NEXT: {
      bool prev = false;
      for (size_t k = pieces.size(); k-- > 0;) {
        const Piece& p = pieces[k];
        if (p.match && !prev && !tmp.empty()) tmp.back().a = p.a;
        else tmp.push_back(Piece{p.a, p.z, false});
        prev = p.match;
      }
      std::reverse(tmp.begin(), tmp.end());
      break;
    }
  }
  for (const Piece& p : tmp)
    if (!p.match && p.z > p.a) out->push_back(Span{base + p.a, base + p.z, -1});
}

// --- normalizers: each rewrites (cp, org); w.ncp / w.norg are scratch -----------------------------------------------

void run_regex_replace(const HfTokenizerData& d, const NormStep& st, std::vector<uint32_t>& cp,
                       std::vector<uint32_t>& org, std::vector<uint32_t>& ncp, std::vector<uint32_t>& norg,
                       RxScratch& rx) {
  ncp.clear();
  norg.clear();
  size_t last = 0;
  const uint32_t first_org = org.empty() ? 0 : org[0];
  d.regexes[size_t(st.regex)].find_iter(cp.data(), cp.size(), rx, at_key(st.path, "pattern"), [&](size_t a, size_t z) {
    for (size_t k = last; k < a; ++k) { ncp.push_back(cp[k]); norg.push_back(org[k]); }
    // Inserted characters share the alignment of the last replaced one (of the one before an empty match).
    const uint32_t o = (z > a) ? org[z - 1] : (a > 0 ? org[a - 1] : first_org);
    for (uint32_t c : st.text) { ncp.push_back(c); norg.push_back(o); }
    last = z;
  });
  for (size_t k = last; k < cp.size(); ++k) { ncp.push_back(cp[k]); norg.push_back(org[k]); }
  cp.swap(ncp);
  org.swap(norg);
}

void normalize_text(const HfTokenizerData& d, std::vector<uint32_t>* cpp, std::vector<uint32_t>* orgp,
                    RxScratch& rx, std::vector<uint32_t>& ncp, std::vector<uint32_t>& norg) {
  std::vector<uint32_t>& cp = *cpp;
  std::vector<uint32_t>& org = *orgp;
  for (const NormStep& st : d.norm) {
    ncp.clear();
    norg.clear();
    auto keep = [&](size_t k) { ncp.push_back(cp[k]); norg.push_back(org[k]); };
    switch (st.kind) {
      case NORM_KIND_NFD: case NORM_KIND_NFKD: case NORM_KIND_NFC: case NORM_KIND_NFKC: {
        const UcdNormalForm f = st.kind == NORM_KIND_NFD ? UCD_NORMAL_FORM_NFD
                              : st.kind == NORM_KIND_NFKD ? UCD_NORMAL_FORM_NFKD
                              : st.kind == NORM_KIND_NFC ? UCD_NORMAL_FORM_NFC : UCD_NORMAL_FORM_NFKC;
        ucd_normalize(f, cp.data(), org.data(), cp.size(), &ncp, &norg);
        break;
      }
      case NORM_KIND_LOWERCASE:
        for (size_t k = 0; k < cp.size(); ++k) {
          uint32_t l[3];
          const int n = ucd_lowercase(cp[k], l);
          for (int j = 0; j < n; ++j) { ncp.push_back(l[j]); norg.push_back(org[k]); }
        }
        break;
      case NORM_KIND_STRIP_ACCENTS:
        for (size_t k = 0; k < cp.size(); ++k)
          if (!ucd_is_combining_mark(cp[k])) keep(k);
        break;
      case NORM_KIND_STRIP: {
        size_t a = 0, z = cp.size();
        if (st.left) while (a < z && is_ws(cp[a])) ++a;
        if (st.right) while (z > a && is_ws(cp[z - 1])) --z;
        for (size_t k = a; k < z; ++k) keep(k);
        break;
      }
      case NORM_KIND_BERT: {
        // clean_text, then chinese chars, then strip accents (NFD + drop Mn), then lowercase: in place, stepwise.
        if (st.clean_text) {
          for (size_t k = 0; k < cp.size(); ++k) {
            const uint32_t c = cp[k];
            if (c == 0 || c == 0xFFFD) continue;
            if (c != '\t' && c != '\n' && c != '\r') {
              const UcdCategory g = legacy_category(c);
              if (g == UCD_CATEGORY_CC || g == UCD_CATEGORY_CF || g == UCD_CATEGORY_CO) continue;
            }
            ncp.push_back(is_ws(c) ? ' ' : c);
            norg.push_back(org[k]);
          }
          cp.swap(ncp); org.swap(norg); ncp.clear(); norg.clear();
        }
        if (st.chinese) {
          for (size_t k = 0; k < cp.size(); ++k) {
            if (is_chinese_char(cp[k])) {
              ncp.push_back(' '); ncp.push_back(cp[k]); ncp.push_back(' ');
              norg.insert(norg.end(), 3, org[k]);
            } else {
              keep(k);
            }
          }
          cp.swap(ncp); org.swap(norg); ncp.clear(); norg.clear();
        }
        if (st.strip_accents) {
          ucd_normalize(UCD_NORMAL_FORM_NFD, cp.data(), org.data(), cp.size(), &ncp, &norg);
          size_t w = 0;
          for (size_t k = 0; k < ncp.size(); ++k) {
            if (legacy_category(ncp[k]) == UCD_CATEGORY_MN) continue;
            ncp[w] = ncp[k];
            norg[w] = norg[k];
            ++w;
          }
          ncp.resize(w);
          norg.resize(w);
          cp.swap(ncp); org.swap(norg); ncp.clear(); norg.clear();
        }
        if (st.lower) {
          for (size_t k = 0; k < cp.size(); ++k) {
            uint32_t l[3];
            const int n = ucd_lowercase(cp[k], l);
            for (int j = 0; j < n; ++j) { ncp.push_back(l[j]); norg.push_back(org[k]); }
          }
        } else {
          ncp.swap(cp);
          norg.swap(org);
        }
        break;
      }
      case NORM_KIND_PREPEND:
        if (!cp.empty()) {
          for (uint32_t c : st.text) { ncp.push_back(c); norg.push_back(org[0]); }
          for (size_t k = 0; k < cp.size(); ++k) keep(k);
        }
        break;
      case NORM_KIND_REPLACE:
        run_regex_replace(d, st, cp, org, ncp, norg, rx);
        continue;  // already swapped
      case NORM_KIND_NMT:
        for (size_t k = 0; k < cp.size(); ++k) {
          const uint32_t c = cp[k];
          if ((c >= 0x1 && c <= 0x8) || c == 0xB || (c >= 0xE && c <= 0x1F) || c == 0x7F || c == 0x8F || c == 0x9F)
            continue;
          const bool space = c == 0x9 || c == 0xA || c == 0xC || c == 0xD || c == 0x1680 || (c >= 0x200B && c <= 0x200F) ||
                             c == 0x2028 || c == 0x2029 || c == 0x2581 || c == 0xFEFF || c == 0xFFFD;
          ncp.push_back(space ? ' ' : c);
          norg.push_back(org[k]);
        }
        break;
      case NORM_KIND_BYTE_LEVEL: {
        const ByteAlphabet& ab = byte_alphabet();
        for (size_t k = 0; k < cp.size(); ++k) {
          char u[4];
          const int n = utf8_bytes(cp[k], u);
          for (int j = 0; j < n; ++j) { ncp.push_back(ab.to_cp[uint8_t(u[j])]); norg.push_back(org[k]); }
        }
        break;
      }
    }
    cp.swap(ncp);
    org.swap(norg);
  }
}

// --- added tokens -----------------------------------------------------------------------------------------------------

// AddedVocabulary::find_matches on s[0..n) (positions offset by base), leftmost-longest, appending spans.
void split_added(const HfTokenizerData& d, const Trie& trie, const uint32_t* s, size_t n, uint32_t base,
                 std::vector<Span>* out) {
  if (n == 0) return;
  if (trie.empty()) { out->push_back(Span{base, base + uint32_t(n), -1}); return; }
  size_t start_offset = 0, i = 0;
  while (i < n) {
    int32_t node = 0, best = -1;
    size_t best_end = 0;
    for (size_t j = i; j < n; ++j) {
      const auto it = trie.edges.find((uint64_t(uint32_t(node)) << 21) | (s[j] & 0x1FFFFF));
      if (it == trie.edges.end()) break;
      node = it->second;
      if (trie.terminal[size_t(node)] >= 0) { best = trie.terminal[size_t(node)]; best_end = j + 1; }
    }
    if (best < 0) { ++i; continue; }
    size_t start = i, stop = best_end;
    i = best_end;  // the matcher resumes after the match whether or not it is kept
    const AddedTok& t = d.added[size_t(best)];
    if (t.single_word) {
      const bool start_space = start == 0 || !ucd_is_word_rust(s[start - 1]);
      const bool stop_space = stop == n || !ucd_is_word_rust(s[stop]);
      if (!start_space || !stop_space) continue;
    }
    if (t.lstrip) {
      size_t ns = start;
      while (ns > 0 && is_ws(s[ns - 1])) --ns;
      start = std::max(ns, start_offset);
    }
    if (t.rstrip)
      while (stop < n && is_ws(s[stop])) ++stop;
    if (start_offset < start) out->push_back(Span{base + uint32_t(start_offset), base + uint32_t(start), -1});
    out->push_back(Span{base + uint32_t(start), base + uint32_t(stop), best});
    start_offset = stop;
  }
  if (start_offset < n) out->push_back(Span{base + uint32_t(start_offset), base + uint32_t(n), -1});
}

// --- pre-tokenizers: (cp, org, spans) in buffer `in` -> buffer `out` ----------------------------------------------

void copy_span(const std::vector<uint32_t>& cp, const std::vector<uint32_t>& org, const Span& s,
               std::vector<uint32_t>* ocp, std::vector<uint32_t>* oorg, std::vector<Span>* ospans) {
  const uint32_t b = uint32_t(ocp->size());
  ocp->insert(ocp->end(), cp.begin() + s.b, cp.begin() + s.e);
  oorg->insert(oorg->end(), org.begin() + s.b, org.begin() + s.e);
  ospans->push_back(Span{b, uint32_t(ocp->size()), s.added});
}

void pre_tokenize(const HfTokenizerData& d, const PreStep& st, Work& w, int& cur) {
  const int nxt = 1 - cur;
  std::vector<uint32_t>& cp = w.cp[cur];
  std::vector<uint32_t>& org = w.org[cur];
  std::vector<Span>& in = w.spans[cur];
  std::vector<uint32_t>& ocp = w.cp[nxt];
  std::vector<uint32_t>& oorg = w.org[nxt];
  std::vector<Span>& out = w.spans[nxt];
  ocp.clear();
  oorg.clear();
  out.clear();
  const ByteAlphabet& ab = byte_alphabet();
  for (const Span& sp : in) {
    if (sp.added >= 0) { copy_span(cp, org, sp, &ocp, &oorg, &out); continue; }
    const uint32_t* s = cp.data() + sp.b;
    const size_t n = sp.e - sp.b;
    switch (st.kind) {
      case PRE_KIND_SPLIT: case PRE_KIND_WHITESPACE_SPLIT: case PRE_KIND_PUNCTUATION: case PRE_KIND_DIGITS:
      case PRE_KIND_CHAR_DELIMITER: case PRE_KIND_BERT: {
        // Splitting only: copy the span, then cut it.
        const uint32_t base = uint32_t(ocp.size());
        ocp.insert(ocp.end(), s, s + n);
        oorg.insert(oorg.end(), org.begin() + sp.b, org.begin() + sp.e);
        Behavior beh = st.behavior;
        if (st.kind == PRE_KIND_SPLIT) {
          regex_pieces(d.regexes[size_t(st.regex)], s, n, w.rx, at_key(st.path, "pattern"), st.invert, &w.pieces);
        } else if (st.kind == PRE_KIND_WHITESPACE_SPLIT || st.kind == PRE_KIND_BERT) {
          char_pieces(s, n, is_ws, &w.pieces);
          beh = BEHAVIOR_REMOVED;
        } else if (st.kind == PRE_KIND_PUNCTUATION) {
          char_pieces(s, n, is_bert_punct, &w.pieces);
        } else if (st.kind == PRE_KIND_DIGITS) {
          char_pieces(s, n, ucd_is_numeric, &w.pieces);
          beh = st.individual_digits ? BEHAVIOR_ISOLATED : BEHAVIOR_CONTIGUOUS;
        } else {
          const uint32_t delim = st.delimiter;
          char_pieces(s, n, [delim](uint32_t c) { return c == delim; }, &w.pieces);
          beh = BEHAVIOR_REMOVED;
        }
        if (st.kind != PRE_KIND_BERT) {
          apply_behavior(w.pieces, beh, base, w.merged, &out);
        } else {  // whitespace removed, then each punctuation mark isolated
          std::vector<Span>& words = w.words;
          words.clear();
          apply_behavior(w.pieces, BEHAVIOR_REMOVED, base, w.merged, &words);
          for (const Span& ws : words) {
            char_pieces(ocp.data() + ws.b, ws.e - ws.b, is_bert_punct, &w.pieces);
            apply_behavior(w.pieces, BEHAVIOR_ISOLATED, ws.b, w.merged, &out);
          }
        }
        break;
      }
      case PRE_KIND_WHITESPACE: {  // \w+|[^\w\s]+ (Rust regex), everything else removed
        const uint32_t base = uint32_t(ocp.size());
        ocp.insert(ocp.end(), s, s + n);
        oorg.insert(oorg.end(), org.begin() + sp.b, org.begin() + sp.e);
        size_t i = 0;
        while (i < n) {
          const size_t a = i;
          if (ucd_is_word_rust(s[i])) {
            while (i < n && ucd_is_word_rust(s[i])) ++i;
          } else if (!is_ws(s[i])) {
            while (i < n && !ucd_is_word_rust(s[i]) && !is_ws(s[i])) ++i;
          } else {
            ++i;
            continue;
          }
          out.push_back(Span{base + uint32_t(a), base + uint32_t(i), -1});
        }
        break;
      }
      case PRE_KIND_BYTE_LEVEL: {
        // Prefix space per split, then GPT-2's regex (Isolated), then every byte -> its alphabet character.
        w.tcp.assign(s, s + n);
        w.torg.assign(org.begin() + sp.b, org.begin() + sp.e);
        if (st.add_prefix_space && w.tcp[0] != ' ') {
          w.tcp.insert(w.tcp.begin(), ' ');
          w.torg.insert(w.torg.begin(), w.torg[0]);
        }
        const size_t tn = w.tcp.size();
        w.merged.clear();
        if (st.use_regex) {
          regex_pieces(d.regexes[size_t(st.regex)], w.tcp.data(), tn, w.rx, st.path, false, &w.pieces);
          for (const Piece& p : w.pieces) if (p.z > p.a) w.merged.push_back(p);
        } else {
          w.merged.push_back(Piece{0, uint32_t(tn), false});
        }
        for (const Piece& p : w.merged) {
          const uint32_t b = uint32_t(ocp.size());
          for (uint32_t k = p.a; k < p.z; ++k) {
            char u[4];
            const int nb = utf8_bytes(w.tcp[k], u);
            for (int j = 0; j < nb; ++j) { ocp.push_back(ab.to_cp[uint8_t(u[j])]); oorg.push_back(w.torg[k]); }
          }
          out.push_back(Span{b, uint32_t(ocp.size()), -1});
        }
        break;
      }
      case PRE_KIND_METASPACE: {
        const uint32_t rep = st.replacement;
        const uint32_t base = uint32_t(ocp.size());
        bool prepend = false;
        const uint32_t first = (s[0] == ' ') ? rep : s[0];
        if (st.prepend == PREPEND_SCHEME_ALWAYS) prepend = first != rep;
        else if (st.prepend == PREPEND_SCHEME_FIRST) prepend = first != rep && org[sp.b] == 0;
        if (prepend) { ocp.push_back(rep); oorg.push_back(org[sp.b]); }
        for (size_t k = 0; k < n; ++k) {
          ocp.push_back(s[k] == ' ' ? rep : s[k]);
          oorg.push_back(org[sp.b + k]);
        }
        const size_t tn = ocp.size() - base;
        if (st.split) {
          char_pieces(ocp.data() + base, tn, [rep](uint32_t c) { return c == rep; }, &w.pieces);
          apply_behavior(w.pieces, BEHAVIOR_MERGED_WITH_NEXT, base, w.merged, &out);
        } else {
          out.push_back(Span{base, uint32_t(ocp.size()), -1});
        }
        break;
      }
    }
  }
  cur = nxt;
}

// --- models -------------------------------------------------------------------------------------------------------------

[[noreturn]] void missing_unk(const Model& m) {
  fail_at("model.unk_token", quote_str(m.unk) + " is not in model.vocab, and the text needs it");
}

void emit_token(const Model& m, int id, HfEncoding* out) {
  out->ids.push_back(id);
  out->tokens.push_back(m.id_str[size_t(id)]);
}

void bpe_word(const Model& m, const uint32_t* cps, size_t n, Work& w, HfEncoding* out) {
  std::string& word = w.word;
  word.clear();
  append_utf8(cps, n, &word);
  if (m.ignore_merges) {
    const int32_t id = m.vocab.get(word);
    if (id >= 0) { emit_token(m, id, out); return; }
  }
  auto& sym = w.symbols;
  sym.clear();
  auto add = [&](int32_t id, uint32_t len) {
    const int32_t k = int32_t(sym.size());
    if (k > 0) sym.back().next = k;
    sym.push_back(Work::Symbol{id, k - 1, -1, len});
  };
  bool unk_pending = false;
  int32_t unk_id = -1;
  uint32_t unk_len = 0;
  size_t off = 0;
  for (size_t k = 0; k < n; ++k) {
    const size_t clen = cps[k] < 0x80 ? 1 : cps[k] < 0x800 ? 2 : cps[k] < 0x10000 ? 3 : 4;
    const std::string_view ch(word.data() + off, clen);
    off += clen;
    std::string_view key = ch;
    const bool first = k == 0, last = k + 1 == n;
    if ((!first && m.has_prefix) || (last && m.has_suffix)) {
      w.key.clear();
      if (!first && m.has_prefix) w.key += m.prefix;
      w.key.append(ch.data(), ch.size());
      if (last && m.has_suffix) w.key += m.suffix;
      key = w.key;
    }
    const int32_t id = m.vocab.get(key);
    if (id >= 0) {
      if (unk_pending) { add(unk_id, unk_len); unk_pending = false; }
      add(id, uint32_t(clen));
      continue;
    }
    if (m.byte_fallback) {
      bool all = true;
      for (unsigned char b : key) all = all && m.byte_ids[b] >= 0;
      if (all) {  // as the Rust library: a pending unk is not flushed before these
        for (unsigned char b : key) add(m.byte_ids[b], 1);
        continue;
      }
    }
    if (m.has_unk) {
      if (m.unk_id < 0) missing_unk(m);
      if (unk_pending && m.fuse_unk) {
        unk_len += uint32_t(clen);
      } else {
        if (unk_pending) add(unk_id, unk_len);
        unk_pending = true;
        unk_id = m.unk_id;
        unk_len = uint32_t(clen);
      }
    }
  }
  if (unk_pending) add(unk_id, unk_len);

  // Merge by rank (then leftmost), skipping stale queue entries, as models/bpe/word.rs does.
  auto& heap = w.heap;
  heap.clear();
  auto cmp = [](const Work::Merge& x, const Work::Merge& y) {  // min-heap on (rank, pos)
    return x.rank != y.rank ? x.rank > y.rank : x.pos > y.pos;
  };
  uint32_t rank, nid;
  for (size_t k = 0; k + 1 < sym.size(); ++k)
    if (m.merges.get(uint32_t(sym[k].id), uint32_t(sym[k + 1].id), &rank, &nid))
      heap.push_back(Work::Merge{rank, uint32_t(k), nid});
  std::make_heap(heap.begin(), heap.end(), cmp);
  while (!heap.empty()) {
    std::pop_heap(heap.begin(), heap.end(), cmp);
    const Work::Merge top = heap.back();
    heap.pop_back();
    Work::Symbol& cur = sym[top.pos];
    if (cur.len == 0 || cur.next < 0) continue;
    const size_t next_pos = size_t(cur.next);
    const Work::Symbol right = sym[next_pos];
    if (!m.merges.get(uint32_t(cur.id), uint32_t(right.id), &rank, &nid) || nid != top.id) continue;
    cur.id = int32_t(top.id);
    cur.len += right.len;
    cur.next = right.next;
    sym[next_pos].len = 0;
    if (right.next >= 0 && size_t(right.next) < sym.size()) sym[size_t(right.next)].prev = int32_t(top.pos);
    if (cur.prev >= 0) {
      const Work::Symbol& p = sym[size_t(cur.prev)];
      if (m.merges.get(uint32_t(p.id), uint32_t(cur.id), &rank, &nid)) {
        heap.push_back(Work::Merge{rank, uint32_t(cur.prev), nid});
        std::push_heap(heap.begin(), heap.end(), cmp);
      }
    }
    if (cur.next >= 0 && size_t(cur.next) < sym.size()) {
      const Work::Symbol& q = sym[size_t(cur.next)];
      if (m.merges.get(uint32_t(cur.id), uint32_t(q.id), &rank, &nid)) {
        heap.push_back(Work::Merge{rank, top.pos, nid});
        std::push_heap(heap.begin(), heap.end(), cmp);
      }
    }
  }
  for (const Work::Symbol& s : sym)
    if (s.len != 0) emit_token(m, s.id, out);
}

void word_piece(const Model& m, const uint32_t* cps, size_t n, Work& w, HfEncoding* out) {
  auto unk = [&]() {
    if (m.unk_id < 0) fail_at("model.unk_token", quote_str(m.unk) + " is not in model.vocab (WordPiece needs it)");
    emit_token(m, m.unk_id, out);
  };
  if (n > m.max_chars) { unk(); return; }
  std::string& word = w.word;
  word.clear();
  append_utf8(cps, n, &word);
  const size_t first = out->ids.size();
  size_t start = 0;
  const size_t len = word.size();
  auto is_boundary = [&](size_t i) { return i == len || (uint8_t(word[i]) & 0xC0) != 0x80; };
  while (start < len) {
    // Longest match first; nothing longer than the longest vocabulary string can match.
    size_t end = len;
    const size_t cap = start + m.max_token_bytes;
    if (end > cap) { end = cap; while (end > start && !is_boundary(end)) --end; }
    int32_t found = -1;
    while (start < end) {
      std::string_view sub(word.data() + start, end - start);
      if (start > 0) {
        w.key.assign(m.prefix);
        w.key.append(sub.data(), sub.size());
        sub = w.key;
      }
      found = m.vocab.get(sub);
      if (found >= 0) break;
      --end;
      while (end > start && !is_boundary(end)) --end;
    }
    if (found < 0) {
      out->ids.resize(first);
      out->tokens.resize(first);
      unk();
      return;
    }
    emit_token(m, found, out);
    start = end;
  }
}

void word_level(const Model& m, const uint32_t* cps, size_t n, Work& w, HfEncoding* out) {
  w.word.clear();
  append_utf8(cps, n, &w.word);
  const int32_t id = m.vocab.get(w.word);
  if (id >= 0) { emit_token(m, id, out); return; }
  if (m.unk_id < 0) fail_at("model.unk_token", quote_str(m.unk) + " is not in model.vocab (WordLevel needs it)");
  emit_token(m, m.unk_id, out);
}

// --- post-processing, truncation, padding ---------------------------------------------------------------------------

size_t added_count(const HfTokenizerData& d) {  // PostProcessor::added_tokens(is_pair = false)
  size_t n = 0;
  for (const PostStep& p : d.post) {
    if (p.kind == POST_KIND_BERT || p.kind == POST_KIND_ROBERTA) n += 2;
    if (p.kind == POST_KIND_TEMPLATE)
      for (const TemplatePiece& t : p.single)
        if (t.seq < 0) n += p.specials[size_t(t.special)].ids.size();
  }
  return n;
}

void truncate_to(HfEncoding* e, size_t n, TruncDir dir) {
  if (e->ids.size() <= n) return;
  if (dir == TRUNC_DIR_RIGHT) {
    e->ids.resize(n);
    e->tokens.resize(n);
  } else {
    const size_t cut = e->ids.size() - n;
    e->ids.erase(e->ids.begin(), e->ids.begin() + long(cut));
    e->tokens.erase(e->tokens.begin(), e->tokens.begin() + long(cut));
  }
}

void append_enc(HfEncoding* dst, HfEncoding&& src) {
  dst->ids.insert(dst->ids.end(), src.ids.begin(), src.ids.end());
  for (std::string& t : src.tokens) dst->tokens.push_back(std::move(t));
}

void post_process(const HfTokenizerData& d, HfEncoding* enc, bool add_special) {
  if (d.truncation) {
    size_t max = d.trunc_max;
    const size_t added = added_count(d);
    if (add_special && added > 0) {
      if (added > max) max = std::numeric_limits<size_t>::max();  // usize wrap in the Rust library: no limit
      else max -= added;
    }
    if (max == 0) {
      truncate_to(enc, 0, d.trunc_dir);
    } else if (enc->ids.size() > max) {
      if (d.trunc_strategy == TRUNC_STRATEGY_ONLY_SECOND)
        fail_at("truncation.strategy", "\"OnlySecond\" needs a second sequence (Truncation error: Second sequence "
                                       "not provided)");
      truncate_to(enc, max, d.trunc_dir);
    }
  }
  if (!d.post.empty()) {
    std::vector<HfEncoding> list;
    list.push_back(std::move(*enc));
    std::vector<HfEncoding> next;
    for (const PostStep& p : d.post) {
      if (p.kind == POST_KIND_BYTE_LEVEL) continue;
      next.clear();
      if (p.kind == POST_KIND_TEMPLATE) {
        if (list.size() != 1 && list.size() != 2)
          fail_at(p.path, "receives " + std::to_string(list.size()) + " encodings (a Sequence of templates)");
        const std::vector<TemplatePiece>& tpl = list.size() == 1 ? p.single : p.pair;
        for (const TemplatePiece& t : tpl) {
          if (t.seq >= 0) {
            if (size_t(t.seq) >= list.size()) fail_at(p.path, "pair template used with one sequence");
            next.push_back(list[size_t(t.seq)]);
          } else if (add_special) {
            HfEncoding s;
            s.ids = p.specials[size_t(t.special)].ids;
            s.tokens = p.specials[size_t(t.special)].tokens;
            next.push_back(std::move(s));
          }
        }
      } else if (!add_special) {
        continue;
      } else {  // BertProcessing / RobertaProcessing
        for (size_t i = 0; i < list.size(); ++i) {
          HfEncoding e;
          if (i == 0 || p.kind == POST_KIND_ROBERTA) {
            e.ids.push_back(i == 0 ? p.cls_id : p.sep_id);
            e.tokens.push_back(i == 0 ? p.cls_tok : p.sep_tok);
          }
          append_enc(&e, std::move(list[i]));
          e.ids.push_back(p.sep_id);
          e.tokens.push_back(p.sep_tok);
          next.push_back(std::move(e));
        }
      }
      list.swap(next);
    }
    enc->ids.clear();
    enc->tokens.clear();
    for (HfEncoding& e : list) append_enc(enc, std::move(e));
  }
  if (d.padding) {
    size_t target = d.pad_fixed ? d.pad_length : enc->ids.size();
    if (d.pad_multiple > 0 && target % d.pad_multiple != 0) target += d.pad_multiple - target % d.pad_multiple;
    if (enc->ids.size() < target) {
      const size_t k = target - enc->ids.size();
      if (d.pad_left) {
        enc->ids.insert(enc->ids.begin(), k, d.pad_id);
        enc->tokens.insert(enc->tokens.begin(), k, d.pad_token);
      } else {
        enc->ids.insert(enc->ids.end(), k, d.pad_id);
        enc->tokens.insert(enc->tokens.end(), k, d.pad_token);
      }
    }
  }
}

// Steps 1-3 of encoding: the pieces the model will see, in w.cp[cur] / w.spans[cur].
void pre_tokenized(const HfTokenizerData& d, std::string_view text, Work& w, int& cur) {
  cur = 0;
  // The original text: code points, each its own origin.
  w.cp[0] = utf8_decode(text, nullptr);
  if (w.cp[0].size() > size_t(std::numeric_limits<int32_t>::max() / 8)) fail_at("", "text too long to encode");
  w.org[0].resize(w.cp[0].size());
  for (size_t i = 0; i < w.org[0].size(); ++i) w.org[0][i] = uint32_t(i);
  // 1. Added tokens that are not normalized, on the raw text.
  split_added(d, d.trie_raw, w.cp[0].data(), w.cp[0].size(), 0, &w.spans[0]);
  // 2. Normalize each remaining piece, then split it on the normalized added tokens.
  {
    std::vector<uint32_t>& ocp = w.cp[1];
    std::vector<uint32_t>& oorg = w.org[1];
    ocp.clear();
    oorg.clear();
    w.spans[1].clear();
    for (const Span& sp : w.spans[0]) {
      if (sp.added >= 0) { copy_span(w.cp[0], w.org[0], sp, &ocp, &oorg, &w.spans[1]); continue; }
      w.tcp.assign(w.cp[0].begin() + sp.b, w.cp[0].begin() + sp.e);
      w.torg.assign(w.org[0].begin() + sp.b, w.org[0].begin() + sp.e);
      if (!d.norm.empty()) normalize_text(d, &w.tcp, &w.torg, w.rx, w.ncp, w.norg);
      const uint32_t base = uint32_t(ocp.size());
      ocp.insert(ocp.end(), w.tcp.begin(), w.tcp.end());
      oorg.insert(oorg.end(), w.torg.begin(), w.torg.end());
      split_added(d, d.trie_norm, w.tcp.data(), w.tcp.size(), base, &w.spans[1]);
    }
    cur = 1;
  }
  // 3. Pre-tokenizers.
  for (const PreStep& st : d.pre) pre_tokenize(d, st, w, cur);
}

void encode_impl(const HfTokenizerData& d, std::string_view text, bool add_special, HfEncoding* out) {
  Work w;
  int cur = 0;
  pre_tokenized(d, text, w, cur);
  // 4. The model, piece by piece; added tokens keep the text they matched.
  out->ids.clear();
  out->tokens.clear();
  const std::vector<uint32_t>& cp = w.cp[cur];
  for (const Span& sp : w.spans[cur]) {
    if (sp.e <= sp.b) continue;
    if (sp.added >= 0) {
      out->ids.push_back(d.added[size_t(sp.added)].id);
      std::string s;
      append_utf8(cp.data() + sp.b, sp.e - sp.b, &s);
      out->tokens.push_back(std::move(s));
      continue;
    }
    switch (d.model.kind) {
      case MODEL_KIND_BPE: bpe_word(d.model, cp.data() + sp.b, sp.e - sp.b, w, out); break;
      case MODEL_KIND_WORD_PIECE: word_piece(d.model, cp.data() + sp.b, sp.e - sp.b, w, out); break;
      case MODEL_KIND_WORD_LEVEL: word_level(d.model, cp.data() + sp.b, sp.e - sp.b, w, out); break;
    }
  }
  // 5. Truncation, post-processor, padding.
  post_process(d, out, add_special);
}


void pieces_impl(const HfTokenizerData& d, std::string_view text, std::vector<std::string>* out) {
  Work w;
  int cur = 0;
  pre_tokenized(d, text, w, cur);
  out->clear();
  for (const Span& sp : w.spans[cur]) {
    std::string s;
    append_utf8(w.cp[cur].data() + sp.b, sp.e - sp.b, &s);
    out->push_back(std::move(s));
  }
}


// ===== 6. Vocabulary, display, decoding ============================================================================

// Rust's str::replace (non-overlapping, left to right; an empty pattern inserts at every character boundary).
std::string replace_all(const std::string& s, const std::string& from, const std::string& to) {
  std::string out;
  if (from.empty()) {
    out += to;
    for (size_t i = 0; i < s.size();) {
      size_t j = i + 1;
      while (j < s.size() && (uint8_t(s[j]) & 0xC0) == 0x80) ++j;
      out.append(s, i, j - i);
      out += to;
      i = j;
    }
    return out;
  }
  size_t i = 0;
  for (;;) {
    const size_t k = s.find(from, i);
    if (k == std::string::npos) break;
    out.append(s, i, k - i);
    out += to;
    i = k + from.size();
  }
  out.append(s, i, std::string::npos);
  return out;
}

// Lossy UTF-8 (U+FFFD per maximal invalid subsequence, as Rust's from_utf8_lossy).
std::string lossy(const std::string& bytes) {
  if (utf8_is_valid(bytes)) return bytes;
  std::string out;
  for (uint32_t c : utf8_decode(bytes, nullptr)) utf8_append(c, &out);
  return out;
}

std::string decode_tokens(const HfTokenizerData& d, std::vector<std::string> tokens) {
  if (!d.has_decoder) {
    std::string out;
    for (size_t i = 0; i < tokens.size(); ++i) {
      if (i) out += ' ';
      out += tokens[i];
    }
    return out;
  }
  const ByteAlphabet& ab = byte_alphabet();
  RxScratch rx;
  for (const DecStep& st : d.dec) {
    switch (st.kind) {
      case DEC_KIND_BYTE_LEVEL: {
        std::string bytes;
        for (const std::string& t : tokens) {
          const std::vector<uint32_t> cps = utf8_decode(t, nullptr);
          bool all = true;
          for (uint32_t c : cps) all = all && ab.byte_of(c) >= 0;
          if (all) for (uint32_t c : cps) bytes.push_back(char(ab.byte_of(c)));
          else bytes += t;
        }
        tokens.assign(1, lossy(bytes));
        break;
      }
      case DEC_KIND_METASPACE:
        for (size_t i = 0; i < tokens.size(); ++i) {
          std::string o;
          for (uint32_t c : utf8_decode(tokens[i], nullptr)) {
            if (c == st.replacement) {
              if (i == 0 && st.prepend != PREPEND_SCHEME_NEVER) continue;
              o += ' ';
            } else {
              utf8_append(c, &o);
            }
          }
          tokens[i] = o;
        }
        break;
      case DEC_KIND_WORD_PIECE:
        for (size_t i = 0; i < tokens.size(); ++i) {
          std::string& t = tokens[i];
          if (i != 0) {
            if (t.compare(0, st.text.size(), st.text) == 0) t.erase(0, st.text.size());
            else t.insert(0, " ");
          }
          if (st.cleanup) {
            static const char* const kCleanup[][2] = {
                {" .", "."}, {" ?", "?"}, {" !", "!"}, {" ,", ","}, {" ' ", "'"}, {" n't", "n't"}, {" 'm", "'m"},
                {" do not", " don't"}, {" 's", "'s"}, {" 've", "'ve"}, {" 're", "'re"}};
            for (const auto& r : kCleanup) t = replace_all(t, r[0], r[1]);
          }
        }
        break;
      case DEC_KIND_BYTE_FALLBACK: {
        std::vector<std::string> out;
        std::string pending;
        auto flush = [&]() {
          if (pending.empty()) return;
          if (utf8_is_valid(pending)) out.push_back(pending);
          else for (size_t k = 0; k < pending.size(); ++k) out.push_back("\xEF\xBF\xBD");
          pending.clear();
        };
        for (std::string& t : tokens) {
          int byte = -1;
          if (t.size() == 6 && t.compare(0, 3, "<0x") == 0 && t[5] == '>') {
            auto hex = [](char c) {
              if (c >= '0' && c <= '9') return c - '0';
              if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f') return (c | 0x20) - 'a' + 10;
              return -1;
            };
            const int h = hex(t[3]), l = hex(t[4]);
            if (h >= 0 && l >= 0) byte = h * 16 + l;
          }
          if (byte >= 0) { pending.push_back(char(byte)); continue; }
          flush();
          out.push_back(std::move(t));
        }
        flush();
        tokens.swap(out);
        break;
      }
      case DEC_KIND_FUSE: {
        std::string all;
        for (const std::string& t : tokens) all += t;
        tokens.assign(1, all);
        break;
      }
      case DEC_KIND_STRIP:
        for (std::string& t : tokens) {
          const std::vector<uint32_t> cps = utf8_decode(t, nullptr);
          size_t a = 0, z = cps.size();
          for (size_t k = 0; k < st.strip_start && k < cps.size() && cps[k] == st.strip_char; ++k) a = k + 1;
          for (size_t k = 0; k < st.strip_stop && k < cps.size(); ++k) {
            const size_t idx = cps.size() - k - 1;
            if (cps[idx] != st.strip_char) break;
            z = idx;
          }
          std::string o;
          if (a < z) append_utf8(cps.data() + a, z - a, &o);
          t = o;
        }
        break;
      case DEC_KIND_REPLACE:
        for (std::string& t : tokens) {
          const std::vector<uint32_t> cps = utf8_decode(t, nullptr);
          std::string o;
          size_t last = 0;
          d.regexes[size_t(st.regex)].find_iter(cps.data(), cps.size(), rx, at_key(st.path, "pattern"),
                                                [&](size_t a, size_t z) {
                                                  append_utf8(cps.data() + last, a - last, &o);
                                                  o += st.text;
                                                  last = z;
                                                });
          append_utf8(cps.data() + last, cps.size() - last, &o);
          t = o;
        }
        break;
      case DEC_KIND_BPE:
        for (size_t i = 0; i < tokens.size(); ++i)
          tokens[i] = replace_all(tokens[i], st.text, i + 1 == tokens.size() ? "" : " ");
        break;
    }
  }
  std::string out;
  for (const std::string& t : tokens) out += t;
  return out;
}

// The visible form of one code point for display.
void visible(uint32_t c, std::string* out) {
  if (c == ' ') *out += "\xC2\xB7";                  // ·
  else if (c == '\n') *out += "\xE2\x86\xB5";        // ↵
  else if (c == '\t') *out += "\xE2\x87\xA5";        // ⇥
  else if (c == '\r') *out += "\xE2\x90\x8D";        // ␍
  else if (c < 0x20) utf8_append(0x2400 + c, out);   // ␀..␟
  else if (c == 0x7F) *out += "\xE2\x90\xA1";        // ␡
  else utf8_append(c, out);
}

void hex_byte(unsigned b, std::string* out) {
  static const char* hex = "0123456789ABCDEF";
  *out += "\\x";
  *out += hex[b >> 4];
  *out += hex[b & 15];
}

// Bytes -> display: whole UTF-8 characters shown (visibly), other bytes as \xNN.
void display_bytes(const std::string& bytes, std::string* out) {
  size_t i = 0;
  while (i < bytes.size()) {
    const unsigned char c = uint8_t(bytes[i]);
    size_t len = c < 0x80 ? 1 : (c >= 0xC2 && c <= 0xDF) ? 2 : (c >= 0xE0 && c <= 0xEF) ? 3 : (c >= 0xF0 && c <= 0xF4) ? 4 : 0;
    if (len > 0 && i + len <= bytes.size() && utf8_is_valid(std::string_view(bytes).substr(i, len))) {
      for (uint32_t cp : utf8_decode(std::string_view(bytes).substr(i, len), nullptr)) visible(cp, out);
      i += len;
    } else {
      hex_byte(c, out);
      ++i;
    }
  }
}

const std::string* id_to_token(const HfTokenizerData& d, int id) {
  if (id < 0) return nullptr;
  const auto it = d.added_by_id.find(id);
  if (it != d.added_by_id.end()) return &d.added[size_t(it->second)].content;
  if (size_t(id) < d.model.id_has.size() && d.model.id_has[size_t(id)]) return &d.model.id_str[size_t(id)];
  return nullptr;
}

template <class F>
bool guarded(std::string* error, F f) {
  try {
    f();
    return true;
  } catch (const HfError& e) {
    if (error) *error = e.what();
  } catch (const std::bad_alloc&) {
    if (error) *error = "tokenizer.json: out of memory";
  } catch (const std::exception& e) {
    if (error) *error = std::string("tokenizer.json: ") + e.what();
  }
  return false;
}

}  // namespace

bool hf_tokenizer_load(std::string_view tokenizer_json, HfTokenizer* out, std::string* error) {
  auto d = std::make_shared<HfTokenizerData>();
  if (!guarded(error, [&] { load_into(d.get(), tokenizer_json); })) return false;
  out->data = std::move(d);
  return true;
}

bool hf_tokenizer_encode(const HfTokenizer& t, std::string_view text, bool add_special_tokens, HfEncoding* out,
                         std::string* error) {
  if (!t.data) {
    if (error) *error = "tokenizer.json: no tokenizer loaded";
    return false;
  }
  const bool ok = guarded(error, [&] { encode_impl(*t.data, text, add_special_tokens, out); });
  if (!ok) {
    out->ids.clear();
    out->tokens.clear();
  }
  return ok;
}

bool hf_tokenizer_pieces(const HfTokenizer& t, std::string_view text, std::vector<std::string>* out,
                         std::string* error) {
  if (!t.data) {
    if (error) *error = "tokenizer.json: no tokenizer loaded";
    return false;
  }
  const bool ok = guarded(error, [&] { pieces_impl(*t.data, text, out); });
  if (!ok) out->clear();
  return ok;
}

int hf_tokenizer_vocab_size(const HfTokenizer& t) { return t.data ? t.data->vocab_size : 0; }

const std::string* hf_tokenizer_id_to_token(const HfTokenizer& t, int id) {
  return t.data ? id_to_token(*t.data, id) : nullptr;
}

int hf_tokenizer_token_to_id(const HfTokenizer& t, std::string_view token) {
  if (!t.data) return -1;
  const int a = t.data->added_by_content.get(token);
  return a >= 0 ? a : t.data->model.vocab.get(token);
}

bool hf_tokenizer_is_special(const HfTokenizer& t, int id) {
  if (!t.data) return false;
  const auto it = t.data->added_by_id.find(id);
  return it != t.data->added_by_id.end() && t.data->added[size_t(it->second)].special;
}

std::string hf_tokenizer_display(const HfTokenizer& t, int id) {
  const std::string* s = t.data ? id_to_token(*t.data, id) : nullptr;
  if (!s) return std::to_string(id);
  const HfTokenizerData& d = *t.data;
  std::string out;
  const bool added = d.added_by_id.count(id) != 0;
  if (!added && d.byte_level) {
    const ByteAlphabet& ab = byte_alphabet();
    const std::vector<uint32_t> cps = utf8_decode(*s, nullptr);
    bool all = true;
    for (uint32_t c : cps) all = all && ab.byte_of(c) >= 0;
    if (all) {
      std::string bytes;
      for (uint32_t c : cps) bytes.push_back(char(ab.byte_of(c)));
      display_bytes(bytes, &out);
      return out;
    }
  }
  if (!added && d.model.kind == MODEL_KIND_BPE && d.model.byte_fallback && s->size() == 6 &&
      s->compare(0, 3, "<0x") == 0 && (*s)[5] == '>') {
    for (int b = 0; b < 256; ++b)
      if (d.model.byte_ids[b] == id) {
        display_bytes(std::string(1, char(b)), &out);
        return out;
      }
  }
  for (uint32_t c : utf8_decode(*s, nullptr)) {
    if (c == 0x2581) out += "\xC2\xB7";
    else visible(c, &out);
  }
  return out;
}

std::string hf_tokenizer_decode(const HfTokenizer& t, const std::vector<int>& ids, bool skip_special) {
  if (!t.data) return std::string();
  const HfTokenizerData& d = *t.data;
  std::vector<std::string> tokens;
  tokens.reserve(ids.size());
  for (int id : ids) {
    const std::string* s = nullptr;
    const auto it = d.added_by_id.find(id);
    if (it != d.added_by_id.end()) s = &d.added[size_t(it->second)].decode_form;
    else if (id >= 0 && size_t(id) < d.model.id_has.size() && d.model.id_has[size_t(id)]) s = &d.model.id_str[size_t(id)];
    if (!s) continue;
    if (skip_special && d.special_contents.get(*s) >= 0) continue;
    tokens.push_back(*s);
  }
  std::string out;
  std::string err;
  if (!guarded(&err, [&] { out = decode_tokens(d, std::move(tokens)); })) return std::string();
  return lossy(out);
}

}  // namespace attnplay
