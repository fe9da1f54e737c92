// attnplay ui: the presets. Contracts: presets.h.
#include "ui/presets.h"

#include "ui/app_state.h"
#include "model/translation.h"

namespace attnplay {

using json = nlohmann::json;

// A translation preset: the tiny translator of the Train panel's task on its fixed example (seeded, untrained).
static json translation_preset(TranslationTask task) {
  const TranslationExample ex = translation_task_display(task);
  auto join = [](const std::vector<std::string>& v) {
    std::string s;
    for (const std::string& w : v) s += (s.empty() ? "" : " ") + w;
    return s;
  };
  return json{{"mode", "seq2seq"}, {"source", join(ex.source)}, {"target", join(ex.target)}, {"tokenizer", "whitespace"},
              {"d_model", 32}, {"heads", 2}, {"transformer", {{"layers", 1}, {"decoder_layers", 1}, {"d_ff", 64}}}};
}

const std::vector<Preset>& presets() {
  static const std::vector<Preset> list = {
      {"cat", S_P_CAT_TITLE, S_P_CAT_TEXT, json::object(), {}, APP_VIEW_ATTENTION, ""},
      {"chinese", S_P_ZH_TITLE, S_P_ZH_TEXT, json{{"text", "今天天气很好"}, {"tokenizer", "chars"}}, {}, APP_VIEW_ATTENTION, ""},
      {"seq2seq", S_P_SEQ2SEQ_TITLE, S_P_SEQ2SEQ_TEXT,
       json{{"text", "le chat est assis sur le tapis"}, {"key_text", "the cat sat on the mat"}, {"d_model", 32}, {"heads", 2}},
       {}, APP_VIEW_ATTENTION, ""},
      {"local-global", S_P_LOCAL_TITLE, S_P_LOCAL_TEXT,
       json{{"text", "attention lets every word look at every other word in the sentence"}},
       {{S_C_GLOBAL, json{{"attention", {{"mask", {{"window", nullptr}}}}}}},
        {S_C_LOCAL, json{{"attention", {{"mask", {{"window", 1}}}}}}}},
       APP_VIEW_ATTENTION, ""},
      {"additive-vs-dot", S_P_ADDITIVE_TITLE, S_P_ADDITIVE_TEXT, json{{"text", "the cat sat on the mat"}, {"heads", 1}},
       {{S_C_SCALED, json{{"attention", {{"kind", "scaled_dot"}}}}}, {S_C_ADDITIVE, json{{"attention", {{"kind", "additive"}}}}}},
       APP_VIEW_ATTENTION, ""},
      {"scaling", S_P_SCALING_TITLE, S_P_SCALING_TEXT, json{{"text", "the cat sat on the mat"}, {"d_model", 64}, {"heads", 1}},
       {{S_C_SQRT, json{{"attention", {{"scale", "sqrt_dk"}}}}},
        {S_C_DK, json{{"attention", {{"scale", "dk"}}}}},
        {S_C_NONE, json{{"attention", {{"scale", "none"}}}}}},
       APP_VIEW_ATTENTION, ""},
      {"multihead", S_P_MULTIHEAD_TITLE, S_P_MULTIHEAD_TEXT,
       json{{"text", "the animal did not cross the street because it was too tired"}, {"d_model", 32}, {"heads", 4}}, {},
       APP_VIEW_HEADS, ""},
      {"translate", S_P_TRANSLATE_TITLE, S_P_TRANSLATE_TEXT, translation_preset(TRANSLATION_TASK_DATE), {}, APP_VIEW_ATTENTION,
       "date"},
      {"translate-zh", S_P_TRANSLATE_ZH_TITLE, S_P_TRANSLATE_ZH_TEXT, translation_preset(TRANSLATION_TASK_NUMBERS_ZH), {},
       APP_VIEW_ATTENTION, "numbers_zh"},
      {"transformer", S_P_TRANSFORMER_TITLE, S_P_TRANSFORMER_TEXT,
       json{{"mode", "transformer"}, {"text", "the cat sat on the mat and the dog sat on the log"}, {"d_model", 32}, {"heads", 4}},
       {}, APP_VIEW_MODEL, ""},
  };
  return list;
}

const Preset* preset_find(const std::string& id) {
  for (const Preset& p : presets())
    if (p.id == id) return &p;
  return nullptr;
}

}  // namespace attnplay
