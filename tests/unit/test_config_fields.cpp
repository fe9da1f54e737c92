// attnplay tests: the config field table (src/model/config_fields.h) is what the parser, the URL parameters and the
// README say. Each row's range and spellings are tried at and past their ends.
#include "model/config.h"
#include "model/config_fields.h"
#include "model/url_state.h"

#include <nlohmann/json.hpp>

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

namespace attnplay {
namespace {

using json = nlohmann::json;

// A config with value at the row's path (nested objects made on the way).
json with_value(const ConfigField& f, const json& value) {
  const bool seq2seq = f.parent == "cross_attention" || f.path() == "transformer.decoder_layers" ||
                       (f.path() == "mode" && value == "seq2seq");
  const bool pretrained = f.modes == CONFIG_FIELD_MODES_PRETRAINED;  // read in that mode only (SPEC §9)
  json c = {{"mode", seq2seq      ? "seq2seq"
                     : pretrained ? "pretrained"
                     : f.parent == "transformer" ? "transformer" : "attention"}};
  if (pretrained) c["model"] = "models/gpt2";
  if (seq2seq) {  // mode seq2seq takes a source and a target instead of text
    c["source"] = "a b c";
    c["target"] = "x y";
  }
  json* at = &c;
  std::string path = f.path();
  for (size_t start = 0;;) {
    const size_t dot = path.find('.', start);
    at = &(*at)[path.substr(start, dot - start)];
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  *at = value;
  return c;
}

TEST(ConfigFields, ReadmeTableIsTheTable) {
  std::ifstream in(std::string(ATTNPLAY_FIXTURES_DIR) + "/../../README.md");
  ASSERT_TRUE(in) << "README.md not found beside tests/";
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string readme = ss.str();
  const std::string begin = "<!-- config-fields: generated from src/model/config_fields.cpp -->\n", end = "<!-- /config-fields -->";
  const size_t b = readme.find(begin), e = readme.find(end);
  ASSERT_NE(b, std::string::npos);
  ASSERT_NE(e, std::string::npos);
  EXPECT_EQ(readme.substr(b + begin.size(), e - b - begin.size()), config_fields_markdown())
      << "README.md's config table differs from the table; paste this between the markers:\n" << config_fields_markdown();
}

TEST(ConfigFields, IntegerRangesAreTheParsers) {
  for (const ConfigField& f : config_fields()) {
    if (f.type != CONFIG_FIELD_TYPE_INT || f.path() == "seed") continue;
    SCOPED_TRACE(f.path());
    Config c;
    std::string error;
    // The ends: accepted, or refused for another field's reason (d_model 1024 with 2 heads is fine, ...) but never
    // for the range; one past them: refused by the range, naming the path.
    for (long long v : {f.min, f.max}) {
      config_parse(with_value(f, v), &c, &error);
      EXPECT_EQ(error.find(f.path() + " must be from"), std::string::npos) << v << ": " << error;
      error.clear();
    }
    for (long long v : {f.min - 1, f.max + 1}) {
      EXPECT_FALSE(config_parse(with_value(f, v), &c, &error)) << v;
      EXPECT_EQ(error, f.path() + " must be from " + std::to_string(f.min) + " to " + std::to_string(f.max) + " (got " +
                           std::to_string(v) + ")");
    }
  }
}

TEST(ConfigFields, EverySpellingParsesAndOthersAreRefusedByName) {
  for (const ConfigField& f : config_fields()) {
    if (f.type != CONFIG_FIELD_TYPE_ENUM && f.type != CONFIG_FIELD_TYPE_ENUM_OR_NUMBER) continue;
    SCOPED_TRACE(f.path());
    for (const ConfigEnumValue& v : f.values) {
      Config c;
      std::string error;
      json cfg = with_value(f, v.name);
      if (f.path() == "transformer.positional" && std::string(v.name) == "rope") cfg["d_model"] = 16;  // even d_k
      EXPECT_TRUE(config_parse(cfg, &c, &error)) << v.name << ": " << error;
      int back = -1;
      EXPECT_TRUE(config_enum_value(f.path(), v.name, &back));
      EXPECT_EQ(back, v.value);
      EXPECT_STREQ(config_enum_name(f.path(), v.value), v.name);
    }
    Config c;
    std::string error;
    EXPECT_FALSE(config_parse(with_value(f, "no-such-spelling"), &c, &error));
    EXPECT_EQ(error.rfind(f.path() + " must be one of \"" + f.values[0].name + "\"", 0), 0u) << error;
  }
}

TEST(ConfigFields, UrlParametersSetTheirRows) {
  for (const ConfigField& f : config_fields()) {
    if (!f.url) continue;
    SCOPED_TRACE(f.path());
    const std::string value = f.type == CONFIG_FIELD_TYPE_INT ? "3"
                              : f.type == CONFIG_FIELD_TYPE_BOOL ? f.values[1].name
                              : f.type == CONFIG_FIELD_TYPE_ENUM ? f.values.back().name : "hello";
    json partial;
    std::string error;
    ASSERT_TRUE(url_state_decode(std::string(f.url) + "=" + value, &partial, &error)) << error;
    const json expect = with_value(f, f.type == CONFIG_FIELD_TYPE_INT ? json(3) : f.type == CONFIG_FIELD_TYPE_BOOL ? json(true) : json(value));
    json got = expect;
    got.erase("mode");
    json want = partial;
    if (f.path() == "model") {  // ?model= alone opens the checkpoint: it implies mode pretrained
      EXPECT_EQ(want["mode"], json("pretrained"));
      want.erase("mode");
    }
    if (f.path() != "mode") EXPECT_EQ(want, got);
    else EXPECT_EQ(want["mode"], json(value));
  }
}

TEST(ConfigFields, UnknownKeysListTheTablesRows) {
  Config c;
  std::string error;
  EXPECT_FALSE(config_parse(json{{"transformer", {{"layer", 2}}}}, &c, &error));
  std::string list;
  for (const ConfigField& f : config_fields())
    if (f.parent == "transformer") list += (list.empty() ? "" : ", ") + f.key;
  EXPECT_EQ(error, "unknown field 'transformer.layer' (known here: " + list + ")");
}

}  // namespace
}  // namespace attnplay
