// Tests: the workspace record (model/workspace.h) and, natively, the desktop's crash-safe writer
// (platform/file_atomic.h). The App side (capture, apply, autosave timing) is in test_ui.cpp.
#include "model/workspace.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>

#if !defined(__EMSCRIPTEN__)
#include "platform/file_atomic.h"

#include <csignal>
#include <fstream>
#include <iterator>
#include <sys/wait.h>
#include <unistd.h>
#endif

namespace attnplay {
namespace {

using json = nlohmann::json;

json copy_config() {
  return json{{"mode", "transformer"}, {"text", "3 1 4 1 5 9 2 6"}, {"tokenizer", "whitespace"}, {"d_model", 32},
              {"heads", 4}, {"transformer", {{"layers", 2}}}};
}

// A session on the copy task after `steps` steps, and the record of it with an A/B pair around it.
struct Saved {
  TrainSession session;
  Workspace ws;
};
Saved trained(int steps) {
  Saved s;
  Config c;
  std::string error;
  EXPECT_TRUE(config_parse(copy_config(), &c, &error)) << error;
  TrainSessionSpec spec;
  spec.task = TRAIN_TASK_COPY;
  EXPECT_TRUE(train_session_begin(&s.session, c, spec, &error)) << error;
  WorkspaceTraining& t = s.ws.training;
  for (int i = 0; i < steps; ++i) {
    const TrainResult r = train_session_step(&s.session);
    t.loss.push_back(float(r.loss));
    t.accuracy.push_back(float(r.accuracy));
  }
  t.present = true;
  t.config = copy_config();
  t.spec = spec;
  t.state = s.session.state;
  t.rng_state = s.session.rng.state;
  s.ws.a.config = copy_config();
  s.ws.a.weights = std::make_shared<ModelWeights>(s.session.state.weights);
  s.ws.ab_on = true;
  s.ws.ab_editing_b = true;
  s.ws.b.config = json{{"text", "今天天气很好"}, {"heads", 2}};
  s.ws.preset_id = "copy";
  s.ws.view = {{"query", "view=heads&layer=1"}};
  return s;
}

// The record's header fields rewritten, with the header checksum made valid again (a record some other build wrote).
void rewrite_header(std::vector<uint8_t>* r, size_t at, uint32_t v) {
  for (int i = 0; i < 4; ++i) (*r)[at + size_t(i)] = uint8_t(v >> (8 * i));
  const uint32_t crc = workspace_crc32(r->data(), 28);
  for (int i = 0; i < 4; ++i) (*r)[28 + size_t(i)] = uint8_t(crc >> (8 * i));
}

TEST(Workspace, Crc32IsZlibs) {
  const char* text = "123456789";  // the CRC-32/IEEE check value
  EXPECT_EQ(workspace_crc32(reinterpret_cast<const uint8_t*>(text), 9), 0xCBF43926u);
}

TEST(Workspace, RoundTripKeepsEverything) {
  const Saved s = trained(3);
  const std::vector<uint8_t> record = workspace_encode(s.ws);
  std::printf("  record: %zu bytes\n", record.size());
  Workspace back;
  std::string error;
  ASSERT_TRUE(workspace_decode(record.data(), record.size(), &back, &error)) << error;
  EXPECT_EQ(back.a.config, s.ws.a.config);
  ASSERT_TRUE(back.a.weights);
  EXPECT_EQ(train_params_pack(*back.a.weights), train_params_pack(*s.ws.a.weights));
  EXPECT_EQ(back.a.weights->vocab, s.ws.a.weights->vocab);
  EXPECT_TRUE(back.ab_on);
  EXPECT_TRUE(back.ab_editing_b);
  EXPECT_EQ(back.b.config, s.ws.b.config);
  EXPECT_FALSE(back.b.weights) << "seeded side: no weights saved";
  EXPECT_EQ(back.preset_id, "copy");
  EXPECT_EQ(back.view, s.ws.view);
  const WorkspaceTraining& t = back.training;
  ASSERT_TRUE(t.present);
  EXPECT_EQ(t.state.step, 3);
  EXPECT_EQ(t.rng_state, s.ws.training.rng_state);
  EXPECT_EQ(t.loss, s.ws.training.loss);
  EXPECT_EQ(t.accuracy, s.ws.training.accuracy);
  EXPECT_TRUE(t.alignment.empty());
  EXPECT_EQ(train_params_pack(t.state.weights), train_params_pack(s.session.state.weights));
  EXPECT_EQ(train_params_pack(t.state.adam_m), train_params_pack(s.session.state.adam_m));
  EXPECT_EQ(train_params_pack(t.state.adam_v), train_params_pack(s.session.state.adam_v));
}

// The step after a restore is the step the saved session would have taken next: same loss, same weights, bit for bit.
TEST(Workspace, ResumedSessionTakesTheSameNextStep) {
  Saved s = trained(4);
  const std::vector<uint8_t> record = workspace_encode(s.ws);
  const TrainResult uninterrupted = train_session_step(&s.session);
  Workspace back;
  std::string error;
  ASSERT_TRUE(workspace_decode(record.data(), record.size(), &back, &error)) << error;
  Config c;
  ASSERT_TRUE(config_parse(back.training.config, &c, &error)) << error;
  TrainSession resumed;
  ASSERT_TRUE(train_session_begin(&resumed, c, back.training.spec, &error)) << error;
  resumed.state = back.training.state;
  resumed.rng.state = back.training.rng_state;
  const TrainResult next = train_session_step(&resumed);
  EXPECT_EQ(next.loss, uninterrupted.loss);
  EXPECT_EQ(resumed.state.step, 5);
  EXPECT_EQ(train_params_pack(resumed.state.weights), train_params_pack(s.session.state.weights));
}

TEST(Workspace, DamagedRecordsAreRefusedByName) {
  const std::vector<uint8_t> good = workspace_encode(trained(1).ws);
  Workspace out;
  std::string error;
  const auto refused = [&](std::vector<uint8_t> r, const std::string& why, const char* what) {
    out.preset_id = "untouched";
    EXPECT_FALSE(workspace_decode(r.data(), r.size(), &out, &error)) << what;
    EXPECT_NE(error.find(why), std::string::npos) << what << ": " << error;
    EXPECT_EQ(out.preset_id, "untouched") << what << ": never half-applied";
  };
  // A torn write: every length short of the whole record.
  for (size_t cut : {size_t(0), size_t(5), size_t(20), size_t(31), size_t(32), size_t(100), good.size() / 2, good.size() - 1}) {
    std::printf("  torn at %zu of %zu bytes\n", cut, good.size());
    refused(std::vector<uint8_t>(good.begin(), good.begin() + long(cut)),
            cut < 8 ? "saved state is corrupt (truncated)" : cut < 32 ? "corrupt (" : "saved state is corrupt (truncated)",
            "torn");
  }
  std::vector<uint8_t> flipped = good;
  flipped[good.size() / 2] ^= 0x10;
  refused(flipped, "saved state is corrupt (checksum)", "a flipped payload bit");
  std::vector<uint8_t> header = good;
  header[17] ^= 1;  // the payload length, without fixing the header's checksum
  refused(header, "saved state is corrupt (header)", "a flipped header bit");
  std::vector<uint8_t> future = good;
  rewrite_header(&future, 8, kWorkspaceVersion + 1);
  refused(future, "saved state is from a newer attnplay (schema 2; this build reads 1)", "a future version");
  std::vector<uint8_t> longer = good;
  longer.push_back(0);
  refused(longer, "saved state is corrupt (trailing bytes)", "trailing bytes");
  const std::string text = "{\"text\": \"not a record\"}";
  refused(std::vector<uint8_t>(text.begin(), text.end()), "saved state is corrupt (not a workspace)", "JSON");
}

// A record whose checksums hold but whose content does not fit (another build, a hand-edited file) is refused by the
// field, never applied.
TEST(Workspace, WellFormedButWrongContentIsRefusedByField) {
  Saved s = trained(1);
  s.ws.a.config["heads"] = 5;  // d_model 32 is not divisible by 5
  std::vector<uint8_t> r = workspace_encode(s.ws);
  Workspace out;
  std::string error;
  EXPECT_FALSE(workspace_decode(r.data(), r.size(), &out, &error));
  EXPECT_NE(error.find("saved state is corrupt (a.config: "), std::string::npos) << error;
  s = trained(1);
  s.ws.training.config["d_model"] = 64;  // the saved parameters are a d_model 32 model's
  r = workspace_encode(s.ws);
  EXPECT_FALSE(workspace_decode(r.data(), r.size(), &out, &error));
  EXPECT_NE(error.find("tensor train/params"), std::string::npos) << error;
  // The model's record: kept as written; a malformed one is refused by its field.
  s = trained(1);
  const nlohmann::json model = {{"source", "local:distilgpt2"},
                                {"files", {{{"name", "model.safetensors"}, {"size", 1234}, {"sha256", std::string(64, 'a')}},
                                           {{"name", "config.json"}, {"size", 5}, {"sha256", ""}}}}};
  s.ws.model = model;
  r = workspace_encode(s.ws);
  ASSERT_TRUE(workspace_decode(r.data(), r.size(), &out, &error)) << error;
  EXPECT_EQ(out.model, model);
  for (const nlohmann::json& bad : {nlohmann::json{{"files", nlohmann::json::array()}},
                                    nlohmann::json{{"source", "x"}, {"files", {{{"name", "a"}, {"size", 1}, {"sha256", "XYZ"}}}}},
                                    nlohmann::json{{"source", "x"}, {"files", {{{"name", "a"}, {"size", -1}, {"sha256", ""}}}}},
                                    nlohmann::json{{"source", "x"}, {"files", "model.safetensors"}}}) {
    s.ws.model = bad;
    r = workspace_encode(s.ws);
    EXPECT_FALSE(workspace_decode(r.data(), r.size(), &out, &error)) << bad.dump();
    EXPECT_NE(error.find("saved state is corrupt (model."), std::string::npos) << error;
  }
}

#if !defined(__EMSCRIPTEN__)
// SIGKILL at any moment of a save leaves the previous record or the new one, each whole: a child process writes two
// large records in turn as fast as it can and is killed at different moments; every time, what is on disk decodes.
TEST(FileAtomic, SigkillDuringSavesLeavesAWholeRecord) {
  char dir_template[] = "/tmp/attnplay-atomic-XXXXXX";
  ASSERT_TRUE(mkdtemp(dir_template));
  const std::string dir = std::string(dir_template) + "/data/attnplay", path = dir + "/workspace.attnplay";
  Saved a = trained(1), b = trained(2);
  a.ws.training.loss.assign(size_t(2) << 20, 0.5f);  // ~8 MB, so a kill lands inside a write
  b.ws.training.loss.assign(size_t(3) << 20, 0.25f);
  const std::vector<uint8_t> ra = workspace_encode(a.ws), rb = workspace_encode(b.ws);
  std::string error;
  ASSERT_TRUE(file_write_atomic(dir, path, ra, &error)) << error;
  for (int round = 0; round < 6; ++round) {
    const pid_t child = fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      for (int i = 0;; ++i) {
        std::string e;
        file_write_atomic(dir, path, i % 2 ? ra : rb, &e);
      }
    }
    usleep(useconds_t(20000 + 37000 * round));  // different moments of the write cycle
    kill(child, SIGKILL);
    waitpid(child, nullptr, 0);
    std::ifstream f(path, std::ios::binary);
    const std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    Workspace out;
    ASSERT_TRUE(workspace_decode(bytes.data(), bytes.size(), &out, &error)) << "round " << round << ": " << error;
    const size_t n = out.training.loss.size();
    std::printf("  round %d: killed; on disk: the record with %zu loss values\n", round, n);
    EXPECT_TRUE(n == a.ws.training.loss.size() || n == b.ws.training.loss.size());
  }
  EXPECT_FALSE(file_write_atomic("/proc/attnplay-no", "/proc/attnplay-no/x", ra, &error));
  EXPECT_NE(error.find("/proc/attnplay-no"), std::string::npos) << error;
  std::remove((path + ".tmp").c_str());
  std::remove(path.c_str());
}
#endif

}  // namespace
}  // namespace attnplay
