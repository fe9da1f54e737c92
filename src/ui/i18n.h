// attnplay ui: English and Simplified Chinese UI texts.
//
//   tr(S_TOKENS)                  the text in the current language ("Tokens" / "词元")
//   tr_id(S_TOKENS, "tokens")     "词元###tokens": an ImGui label whose widget id does not change with the language
//   tr_named("kind.additive")     a text named by a table's spelling: the label of an attention kind ("kind.<name>") or
//                                 a view ("view.<name>"), so a new kind or view adds its labels to the string tables
//                                 and nothing else (tests check every row of those tables has one in each language)
//   i18n_set_lang(LANG_ZH)        switch (the View menu, lang=zh in the URL)
// The texts live in one table per language (strings_en.cpp, strings_zh.cpp); ids in strings.h.
#pragma once

#include "ui/strings.h"

#include <string>

namespace attnplay {

enum Lang {
  LANG_EN,
  LANG_ZH,
  LANG_COUNT,
};

struct StrEntry {
  StrId id;
  const char* text;
};
struct NamedStr {                               // a text named by another table's spelling
  const char* key;                              // "kind.scaled_dot", "view.geometry"
  const char* text;
};

const char* tr(StrId id);                       // current language; falls back to English
const char* tr_lang(Lang lang, StrId id);       // a given language (nullptr if that table lacks the id)
std::string tr_id(StrId id, const char* imgui_id);
const char* tr_named(const std::string& key);   // current language; falls back to English, then to the key itself
const char* tr_named_lang(Lang lang, const std::string& key);  // a given language (nullptr if that table lacks it)
void        i18n_set_lang(Lang lang);
Lang        i18n_lang();
const char* i18n_lang_code(Lang lang);          // "en", "zh"
bool        i18n_parse_lang(const std::string& code, Lang* out);  // "en", "zh", "zh-CN", "zh-Hans" ...

}  // namespace attnplay
