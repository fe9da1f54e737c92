// attnplay ui: the in-thread host of mode pretrained (AppPretrainedHost, app.h): the model a folder on disk, loaded
// once (a new folder replaces it once it has loaded), computed in the caller's thread through the same packed bytes
// as the page's worker. The desktop and the headless tests use it; the page's app never links it (its worker runs
// the engine), which keeps the engine and the tokenizers out of attnplay-app.wasm.
#include "ui/app.h"

#include "model/pretrained.h"
#include "model/pretrained_pack.h"
#include "model/pretrained_sweep.h"
#include "model/sha256.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>

namespace attnplay {

using json = nlohmann::json;

namespace {

// The in-thread host's models: the last folder opened, loaded once (a new folder replaces it once it has loaded).
struct LocalModels {
  std::string path;
  PretrainedRef ref;
};

// The sweep under way: begun (its baseline) on the first frame after the request, then heads for ~20 ms a frame.
struct LocalSweep {
  uint64_t id = 0;
  bool active = false, begun = false;
  std::string config_json;
  int position = -1, token = -1;
  PretrainedSweep sweep;
};

// The digests of a folder just loaded, for the workspace's record: its model files one after another, 1 MB reads for
// ~15 ms a frame (a 500 MB checkpoint hashes over a few seconds of frames, never in one).
struct LocalHashing {
  std::string key;                 // the folder (the config's "model")
  nlohmann::json files = nlohmann::json::array();  // [{name, size, sha256}]
  size_t next = 0;                 // the file being hashed
  FILE* f = nullptr;
  Sha256 sha;
  ~LocalHashing() { if (f) std::fclose(f); }
};

struct LocalHost : AppPretrainedHost {
  App* app;
  LocalModels lm;
  LocalSweep ls;
  std::unique_ptr<LocalHashing> hashing;
  void start_hashing(const std::string& dir, const PretrainedModel& m);
  void step_hashing();
  explicit LocalHost(App* a) : app(a) {}
  void compute(uint64_t id, const std::string& config_json, int focus_layer, int focus_head) override;
  void sweep(uint64_t id, const std::string& config_json, int position, int token) override {
    ls = LocalSweep{id, true, false, config_json, position, token, PretrainedSweep()};
  }
  void cancel_sweep() override { ls.active = false; }
  void frame() override;
};

void LocalHost::start_hashing(const std::string& dir, const PretrainedModel& m) {
  auto h = std::make_unique<LocalHashing>();
  h->key = dir;
  double bytes = 0;
  std::error_code ec;
  for (const std::string& n : m.files) {  // the files the load read (PretrainedModel::files)
    const auto on_disk = std::filesystem::file_size(std::filesystem::path(dir) / n, ec);
    const double size = ec ? 0.0 : double(on_disk);
    bytes += size;
    h->files.push_back({{"name", n}, {"size", size}, {"sha256", ""}});
  }
  app_pretrained_local_update(&app->state, {{"key", dir}, {"bytes", bytes}, {"files", h->files}, {"can_keep", false}});
  hashing = std::move(h);
}

void LocalHost::step_hashing() {
  if (!hashing) return;
  LocalHashing& h = *hashing;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(15);
  std::vector<uint8_t> buf(1 << 20);
  while (h.next < h.files.size() && std::chrono::steady_clock::now() < deadline) {
    if (!h.f) {
      h.f = std::fopen((std::filesystem::path(h.key) / h.files[h.next]["name"].get<std::string>()).string().c_str(), "rb");
      h.sha = Sha256();
      if (!h.f) {  // gone since it loaded: no digest
        ++h.next;
        continue;
      }
    }
    const size_t n = std::fread(buf.data(), 1, buf.size(), h.f);
    if (n > 0) h.sha.update(buf.data(), n);
    if (n < buf.size()) {
      if (!std::ferror(h.f)) h.files[h.next]["sha256"] = h.sha.hex();
      std::fclose(h.f);
      h.f = nullptr;
      ++h.next;
    }
  }
  if (h.next >= h.files.size()) {
    app_pretrained_local_update(&app->state, {{"key", h.key}, {"files", h.files}});
    hashing.reset();
  }
}

void LocalHost::frame() {
  step_hashing();
  if (!ls.active) return;
  using clock = std::chrono::steady_clock;
  const auto deadline = clock::now() + std::chrono::milliseconds(20);
  std::string error;
  bool ok = true;
  try {
    if (!ls.begun) {
      Config c;
      ok = config_parse(json::parse(ls.config_json, nullptr, false), &c, &error);
      if (ok && (c.pretrained.model != lm.path || !lm.ref.model))
        ok = false, error = "sweep: the model on screen is not loaded (compute it first)";
      if (ok) ok = pretrained_sweep_begin(c, lm.ref, ls.position, ls.token, &ls.sweep, &error);
      ls.begun = true;
    }
    while (ok && !ls.sweep.finished() && clock::now() < deadline) ok = pretrained_sweep_step(lm.ref, &ls.sweep, &error);
  } catch (const std::bad_alloc&) {
    ok = false;
    error = "out of memory: this model or text needs more memory than is available";
  }
  const bool finished = !ok || ls.sweep.finished();
  if (finished) ls.active = false;
  app_pretrained_sweep_update(&app->state, ls.id, ok, finished, ok ? pretrained_sweep_json(ls.sweep) : error);
}

void LocalHost::compute(uint64_t id, const std::string& config_json, int focus_layer, int focus_head) {
  const json config = json::parse(config_json);
  std::string error;
  std::vector<uint8_t> bytes;
  Config c;
  bool ok = config_parse(config, &c, &error);
  try {
    if (ok && c.pretrained.model != lm.path) {
      std::shared_ptr<PretrainedModel> m;
      ok = pretrained_load_dir(c.pretrained.model, PretrainedLimits(), &m, &error);
      if (ok) {
        lm.path = c.pretrained.model;
        lm.ref = PretrainedRef{m, pretrained_cache_new()};
        start_hashing(lm.path, *m);
      }
    }
    PretrainedPackOptions o;
    o.focus_layer = focus_layer;
    o.focus_head = focus_head;
    if (ok) ok = pretrained_compute_packed(c, lm.ref, o, &bytes, &error);
  } catch (const std::bad_alloc&) {
    ok = false;
    error = "out of memory: this model or text needs more memory than is available";
  }
  app_pretrained_deliver(&app->state, id, ok, bytes.data(), bytes.size(), error);
}

}  // namespace

void app_use_local_models(App* app) {
  app->pretrained_owned = std::make_shared<LocalHost>(app);
  app->pretrained_host = app->pretrained_owned.get();
}

}  // namespace attnplay
