// attnplay tests: every golden case written by tests/fixtures/make_fixtures.py (PyTorch 1.13, float32), through
// the same entry point as the CLI and the WASM engine, at the SPEC's tolerance: 1e-5 relative + 1e-6 absolute.
#include "model/model.h"
#include "test_util.h"

#include <nlohmann/json.hpp>

#include <fstream>
#include <iterator>

namespace attnplay {
namespace {

using json = nlohmann::json;

std::string read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}

const json& golden_index() {
  // A missing or broken index yields no cases, and FixturesArePresent fails (instead of aborting at start-up).
  static const json index = [] {
    json j = json::parse(read_file(std::string(ATTNPLAY_FIXTURES_DIR) + "/golden/index.json"), nullptr, false);
    return j.is_object() && j.contains("cases") ? j : json{{"cases", json::array()}};
  }();
  return index;
}

// Compares a numeric (possibly nested) JSON array; null must match null (masked scores).
void expect_close(const json& got, const json& want, const std::string& where, int* failures, double* worst) {
  if (want.is_array()) {
    ASSERT_TRUE(got.is_array()) << where;
    ASSERT_EQ(got.size(), want.size()) << where;
    for (size_t i = 0; i < want.size(); ++i) expect_close(got[i], want[i], where + "[" + std::to_string(i) + "]", failures, worst);
    return;
  }
  if (want.is_null()) {
    EXPECT_TRUE(got.is_null()) << where << " should be null (masked), got " << got;
    return;
  }
  ASSERT_TRUE(got.is_number()) << where << " got " << got;
  const double g = got.get<double>(), w = want.get<double>();
  const double allowed = 1e-6 + 1e-5 * std::fabs(w), err = std::fabs(g - w);
  *worst = std::max(*worst, err / allowed);
  if (!(err <= allowed) && (*failures)++ < 5) ADD_FAILURE() << where << ": got " << g << ", PyTorch " << w << " (err " << err << ")";
}

TEST(GoldenIndex, FixturesArePresent) { EXPECT_GE(golden_index()["cases"].size(), 20u) << ATTNPLAY_FIXTURES_DIR; }

class Golden : public ::testing::TestWithParam<int> {};

TEST_P(Golden, MatchesPyTorch) {
  const json& c = golden_index()["cases"][size_t(GetParam())];
  SCOPED_TRACE("case " + c["name"].get<std::string>() + ": " + c["config"].dump());
  std::string weights;
  if (c.contains("weights") && !c["weights"].is_null())
    weights = read_file(std::string(ATTNPLAY_FIXTURES_DIR) + "/golden/" + c["weights"].get<std::string>());
  std::string result, error;
  ASSERT_TRUE(model_compute_json(c["config"].dump(), weights.empty() ? nullptr : reinterpret_cast<const uint8_t*>(weights.data()),
                                 weights.size(), &result, &error))
      << error;
  const json got = json::parse(result),& want = c["expected"];
  EXPECT_EQ(got["tokens"], want["tokens"]);
  EXPECT_EQ(got["fully_masked_rows"], want["fully_masked_rows"]);
  int failures = 0;
  double worst = 0;
  ASSERT_EQ(got["layers"].size(), want["layers"].size());
  for (size_t l = 0; l < want["layers"].size(); ++l) {
    const json& wl = want["layers"][l];
    const std::string lp = "layers[" + std::to_string(l) + "]";
    for (size_t h = 0; h < wl["heads"].size(); ++h)
      for (const char* key : {"scores", "weights", "context"})
        expect_close(got["layers"][l]["heads"][h][key], wl["heads"][h][key], lp + ".heads[" + std::to_string(h) + "]." + key,
                     &failures, &worst);
    expect_close(got["layers"][l]["output"], wl["output"], lp + ".output", &failures, &worst);
  }
  if (want.contains("logits")) expect_close(got["logits"], want["logits"], "logits", &failures, &worst);
  EXPECT_EQ(failures, 0);
  std::printf("  %-40s worst err / allowed = %.3g\n", c["name"].get<std::string>().c_str(), worst);
}

GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(Golden);
INSTANTIATE_TEST_SUITE_P(PyTorch, Golden, ::testing::Range(0, int(golden_index()["cases"].size())),
                         [](const ::testing::TestParamInfo<int>& info) {
                           return golden_index()["cases"][size_t(info.param)]["name"].get<std::string>();
                         });

}  // namespace
}  // namespace attnplay
