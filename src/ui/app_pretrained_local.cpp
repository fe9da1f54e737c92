// attnplay ui: the in-thread host of mode pretrained (AppPretrainedHost, app.h): the model a folder on disk, loaded
// once (a new folder replaces it once it has loaded), computed in the caller's thread through the same packed bytes
// as the page's worker. The desktop and the headless tests use it; the page's app never links it (its worker runs
// the engine), which keeps the engine and the tokenizers out of attnplay-app.wasm.
#include "ui/app.h"

#include "model/pretrained.h"
#include "model/pretrained_pack.h"

namespace attnplay {

using json = nlohmann::json;

namespace {

// The in-thread host's models: the last folder opened, loaded once (a new folder replaces it once it has loaded).
struct LocalModels {
  std::string path;
  PretrainedRef ref;
};

struct LocalHost : AppPretrainedHost {
  App* app;
  LocalModels lm;
  explicit LocalHost(App* a) : app(a) {}
  void compute(uint64_t id, const std::string& config_json, int focus_layer, int focus_head) override;
};

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
