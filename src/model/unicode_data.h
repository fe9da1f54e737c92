// attnplay model: the part of the Unicode Character Database that hf_tokenizer needs.
//
//   1. Categories      general category, category as of an older Unicode version, age
//   2. Properties      White_Space, Alphabetic, the word-character sets of Rust's regex and of Oniguruma
//   3. Case            lowercase as Rust's char::to_lowercase, simple case folding and its inverse
//   4. Normalization   NFD / NFKD / NFC / NFKC, combining classes, combining marks
//
// The tables come from tools/gen_unicode_tables.py, which the build runs on Debian's unicode-data package
// (/usr/share/unicode) into unicode_tables.inc in the build directory; nothing generated is committed.
//
// Versions, and why they differ: hf_tokenizer must equal the Rust `tokenizers` library, which uses three sources.
// Its regexes (Oniguruma) and char methods (is_whitespace, is_numeric, to_lowercase) follow a current Unicode; here
// that is the database's version (ucd_version(), 15.0 on Debian 12; the Rust library is at 16.0, so code points
// first assigned in 15.1 or 16.0 differ). Its normalisation crate (unicode-normalization-alignments 0.1.12) has
// Unicode 9.0 tables, so section 4 is Unicode 9.0: code points assigned later neither decompose nor combine nor
// reorder. Its BERT classification crate (unicode_categories 0.1.1) has Unicode 8.0 tables:
// ucd_category_as_of(cp, 8, 0) answers what it answers.
//
// All functions accept any uint32_t (values above U+10FFFF behave as unassigned code points); none allocate except
// ucd_normalize (into the caller's vectors) and three one-time lazy tables (a BMP lookup table, the composition
// pairs, the inverse case folding), built on first use; C++11 static initialisation makes that thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace attnplay {

// General_Category values; the order is the generator's (checked by a static_assert in unicode_data.cpp).
enum UcdCategory : uint8_t {
  UCD_CATEGORY_CN, UCD_CATEGORY_LU, UCD_CATEGORY_LL, UCD_CATEGORY_LT, UCD_CATEGORY_LM, UCD_CATEGORY_LO,
  UCD_CATEGORY_MN, UCD_CATEGORY_MC, UCD_CATEGORY_ME, UCD_CATEGORY_ND, UCD_CATEGORY_NL, UCD_CATEGORY_NO,
  UCD_CATEGORY_PC, UCD_CATEGORY_PD, UCD_CATEGORY_PS, UCD_CATEGORY_PE, UCD_CATEGORY_PI, UCD_CATEGORY_PF,
  UCD_CATEGORY_PO, UCD_CATEGORY_SM, UCD_CATEGORY_SC, UCD_CATEGORY_SK, UCD_CATEGORY_SO, UCD_CATEGORY_ZS,
  UCD_CATEGORY_ZL, UCD_CATEGORY_ZP, UCD_CATEGORY_CC, UCD_CATEGORY_CF, UCD_CATEGORY_CS, UCD_CATEGORY_CO,
  UCD_CATEGORY_COUNT
};

enum UcdNormalForm {
  UCD_NORMAL_FORM_NFD,
  UCD_NORMAL_FORM_NFKD,
  UCD_NORMAL_FORM_NFC,
  UCD_NORMAL_FORM_NFKC,
};

// --- 1. Categories ---------------------------------------------------------------------------------------------
const char*  ucd_version();                                  // the database's version, e.g. "15.0.0"
UcdCategory  ucd_category(uint32_t cp);                      // Cn for unassigned (and noncharacters, > U+10FFFF)
UcdCategory  ucd_category_as_of(uint32_t cp, int major, int minor);  // Cn unless assigned by that version
char         ucd_category_major(UcdCategory c);              // 'L' 'M' 'N' 'P' 'S' 'Z' or 'C'
const char*  ucd_category_name(UcdCategory c);               // "Lu", "Nd", ...
int          ucd_category_from_name(const char* name, size_t len);  // "Lu" -> UCD_CATEGORY_LU; -1 if not one
bool         ucd_assigned_by(uint32_t cp, int major, int minor);    // DerivedAge <= major.minor

// --- 2. Properties -----------------------------------------------------------------------------------------------
bool ucd_is_white_space(uint32_t cp);   // White_Space (Rust's char::is_whitespace, regex \s)
bool ucd_is_alphabetic(uint32_t cp);    // Alphabetic
bool ucd_is_word_rust(uint32_t cp);     // Rust regex \w: Alphabetic, M, Nd, Pc, Join_Control
bool ucd_is_word_onig(uint32_t cp);     // Oniguruma \w: Alphabetic, M, Nd, Pc
bool ucd_is_numeric(uint32_t cp);       // Rust's char::is_numeric: Nd, Nl, No

// --- 3. Case -----------------------------------------------------------------------------------------------------
int      ucd_lowercase(uint32_t cp, uint32_t out[3]);  // char::to_lowercase: 1..3 code points (no final-sigma rule,
                                                       // which only str::to_lowercase applies; "İ" -> "i" U+0307)
uint32_t ucd_simple_fold(uint32_t cp);                 // CaseFolding.txt C+S mapping, cp itself if none
int      ucd_fold_equivalents(uint32_t cp, uint32_t* out, int max);  // every x with fold(x) == fold(cp), cp
                                                       // included; returns the count (at most max written)
size_t   ucd_multi_fold_count();                       // CaseFolding.txt status F entries ("ß" -> "ss", ...)
int      ucd_multi_fold_at(size_t i, uint32_t* src, uint32_t out[3]);  // entry i: its source, returns its length

// --- 4. Normalization (Unicode 9.0 data, see the top) ------------------------------------------------------------
int  ucd_combining_class(uint32_t cp);      // Canonical_Combining_Class, 0 for starters
bool ucd_is_combining_mark(uint32_t cp);    // General_Category M as of Unicode 9.0 (the crate's is_combining_mark)
// Normalises cps[0..n) into *out_cps. tags[i] (any value the caller wants carried, e.g. an origin offset) follows
// its code point: every part of a decomposition gets its source's tag, a composition gets its starter's tag.
// tags may be null (then *out_tags is left untouched). Output is cleared first. O(n log n) worst case.
void ucd_normalize(UcdNormalForm form, const uint32_t* cps, const uint32_t* tags, size_t n,
                   std::vector<uint32_t>* out_cps, std::vector<uint32_t>* out_tags);

}  // namespace attnplay
