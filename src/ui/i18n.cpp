// attnplay ui: language tables lookup. Contracts: i18n.h.
#include "ui/i18n.h"

#include <array>
#include <map>

namespace attnplay {

extern const StrEntry kStrings_en[];
extern const StrEntry kStrings_zh[];
extern const NamedStr kNamed_en[];
extern const NamedStr kNamed_zh[];

namespace {

Lang g_lang = LANG_EN;

// id -> text, per language, built once from the tables.
const std::array<std::array<const char*, S_COUNT>, LANG_COUNT>& lookup() {
  static const auto table = [] {
    std::array<std::array<const char*, S_COUNT>, LANG_COUNT> t{};
    const StrEntry* sources[LANG_COUNT] = {kStrings_en, kStrings_zh};
    for (int l = 0; l < LANG_COUNT; ++l)
      for (const StrEntry* e = sources[l]; e->text; ++e)
        if (e->id >= 0 && e->id < S_COUNT) t[size_t(l)][size_t(e->id)] = e->text;
    return t;
  }();
  return table;
}

}  // namespace

const char* tr_lang(Lang lang, StrId id) {
  if (lang < 0 || lang >= LANG_COUNT || id < 0 || id >= S_COUNT) return nullptr;
  return lookup()[size_t(lang)][size_t(id)];
}

const char* tr(StrId id) {
  const char* t = tr_lang(g_lang, id);
  if (!t) t = tr_lang(LANG_EN, id);
  return t ? t : "?";
}

std::string tr_id(StrId id, const char* imgui_id) { return std::string(tr(id)) + "###" + imgui_id; }

const char* tr_named_lang(Lang lang, const std::string& key) {
  static const std::array<std::map<std::string, const char*>, LANG_COUNT> named = [] {
    std::array<std::map<std::string, const char*>, LANG_COUNT> t;
    const NamedStr* sources[LANG_COUNT] = {kNamed_en, kNamed_zh};
    for (int l = 0; l < LANG_COUNT; ++l)
      for (const NamedStr* e = sources[l]; e->key; ++e) t[size_t(l)][e->key] = e->text;
    return t;
  }();
  if (lang < 0 || lang >= LANG_COUNT) return nullptr;
  const auto it = named[size_t(lang)].find(key);
  return it == named[size_t(lang)].end() ? nullptr : it->second;
}

const char* tr_named(const std::string& key) {
  if (const char* t = tr_named_lang(g_lang, key)) return t;
  if (const char* t = tr_named_lang(LANG_EN, key)) return t;
  return key.c_str();  // (a test keeps every table's rows named in both languages)
}

void i18n_set_lang(Lang lang) { g_lang = lang >= 0 && lang < LANG_COUNT ? lang : LANG_EN; }
Lang i18n_lang() { return g_lang; }
const char* i18n_lang_code(Lang lang) { return lang == LANG_ZH ? "zh" : "en"; }

bool i18n_parse_lang(const std::string& code, Lang* out) {
  if (code == "en" || code.rfind("en-", 0) == 0) { *out = LANG_EN; return true; }
  if (code == "zh" || code.rfind("zh-", 0) == 0) { *out = LANG_ZH; return true; }
  return false;
}

}  // namespace attnplay
