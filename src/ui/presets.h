// attnplay ui: the presets (Presets menu, preset= in the URL): the examples of the attention tutorials this
// project grew from, each with a short explanation in English and Chinese, some with side-by-side variants.
#pragma once

#include "ui/strings.h"

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace attnplay {

struct PresetVariant {
  StrId label;
  nlohmann::json patch;     // merged over the preset's config for this panel of the comparison
};

struct Preset {
  std::string id;           // the URL's preset=
  StrId title, text;
  nlohmann::json config;    // partial config over the defaults
  std::vector<PresetVariant> compare;  // empty: no side-by-side strip
  int view;                 // AppView to open
  std::string train_task;   // "" or the task the Train panel selects with it (a translation preset's "date")
};

const std::vector<Preset>& presets();
const Preset*              preset_find(const std::string& id);  // nullptr if unknown

}  // namespace attnplay
