// attnplay platform: command line. Contracts: cli.h.
#include "platform/cli.h"

#include "core/build_info.h"
#include "model/model.h"
#include "model/pretrained.h"
#include "model/train_run.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>
#include <string>
#include <unistd.h>
#include <vector>

namespace attnplay {

namespace {

constexpr size_t kMaxConfigBytes = 64u << 20;
constexpr size_t kMaxWeightsBytes = 1024u << 20;

const char* kUsage =
    "usage: attnplay compute CONFIG.json|- [--weights MODEL.safetensors] [-o OUT.json]\n"
    "       attnplay compute CONFIG.json|- --model DIR [--max-mb MB] [-o OUT.json]   a Hugging Face folder (mode pretrained)\n"
    "       attnplay info --model DIR [--max-mb MB]   the model card as JSON\n"
    "       attnplay weights CONFIG.json|- -o MODEL.safetensors\n"
    "       attnplay train CONFIG.json|- (--task copy|reverse|sort|induction [--length L] [--vocab V] | --data DATA.json)\n"
    "                      (mode seq2seq: --task date|numbers|numbers_zh|sov)\n"
    "                      [--weights IN.safetensors] [--steps N] [--optimizer sgd|adam] [--lr X] [--batch B]\n"
    "                      [--seed S] -o OUT.safetensors\n"
    "       attnplay --version\n"
    "       attnplay [--config FILE] [--size WxH] [--screenshot PNG] [--frames N]   the desktop app\n";

int fail(const std::string& message) {
  std::string line = message;
  for (char& ch : line)
    if (ch == '\n' || ch == '\r') ch = ' ';
  std::fprintf(stderr, "attnplay: %s\n", line.c_str());
  return 2;
}

bool read_all(const std::string& path, size_t cap, std::string* out, std::string* error) {
  if (path == "-") {
    std::string s;
    char buf[1 << 16];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, stdin)) > 0) {
      s.append(buf, n);
      if (s.size() > cap) { *error = "standard input: larger than " + std::to_string(cap >> 20) + " MiB"; return false; }
    }
    *out = std::move(s);
    return true;
  }
  std::ifstream f(path, std::ios::binary);
  if (!f) { *error = path + ": cannot open (" + std::strerror(errno) + ")"; return false; }
  f.seekg(0, std::ios::end);
  const std::streamoff size = f.tellg();
  if (size < 0) { *error = path + ": cannot read"; return false; }
  if (size_t(size) > cap) { *error = path + ": larger than " + std::to_string(cap >> 20) + " MiB"; return false; }
  f.seekg(0);
  out->resize(size_t(size));
  if (size > 0 && !f.read(&(*out)[0], size)) { *error = path + ": cannot read"; return false; }
  return true;
}

// Writes data to path through a temporary file in the same folder, renamed into place when complete.
bool write_atomic(const std::string& path, const void* data, size_t size, std::string* error) {
  const std::string tmp = path + ".tmp-" + std::to_string(getpid());
  FILE* f = std::fopen(tmp.c_str(), "wb");
  if (!f) { *error = path + ": cannot write (" + std::strerror(errno) + ")"; return false; }
  const bool ok = std::fwrite(data, 1, size, f) == size;
  const bool closed = std::fclose(f) == 0;
  if (!ok || !closed || std::rename(tmp.c_str(), path.c_str()) != 0) {
    *error = path + ": cannot write (" + std::strerror(errno) + ")";
    std::remove(tmp.c_str());
    return false;
  }
  return true;
}

struct Args {
  std::string config, weights, out, model, max_mb;
  bool has_weights = false, has_out = false, has_model = false, has_max_mb = false;
};

bool parse_args(int argc, char** argv, bool allow_weights, Args* a, std::string* error, bool need_config = true) {
  for (int i = 2; i < argc; ++i) {
    const std::string s = argv[i];
    auto value = [&](std::string* dst, bool* flag) {
      if (i + 1 >= argc) { *error = s + " needs a file name"; return false; }
      if (*flag) { *error = s + " given twice"; return false; }
      *dst = argv[++i];
      *flag = true;
      return true;
    };
    if (s == "--weights" && allow_weights) {
      if (!value(&a->weights, &a->has_weights)) return false;
    } else if (s == "--model" && allow_weights) {
      if (!value(&a->model, &a->has_model)) return false;
    } else if (s == "--max-mb" && allow_weights) {
      if (!value(&a->max_mb, &a->has_max_mb)) return false;
    } else if (s == "-o" || s == "--output") {
      if (!value(&a->out, &a->has_out)) return false;
    } else if (s.size() > 1 && s[0] == '-') {
      *error = "unknown option " + s;
      return false;
    } else if (a->config.empty()) {
      a->config = s;
    } else {
      *error = "unexpected argument " + s;
      return false;
    }
  }
  if (a->config.empty() && need_config) { *error = "missing CONFIG.json (or - for standard input)"; return false; }
  if (a->has_model && a->has_weights) { *error = "--model and --weights: give one (a model folder has its weights)"; return false; }
  return true;
}

// --max-mb MB -> the loader's limit (the machine's memory is the default bound natively).
bool model_limits(const Args& a, PretrainedLimits* limits, std::string* error) {
  const long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
  if (pages > 0 && page > 0) limits->max_bytes = double(pages) * double(page);
  if (!a.has_max_mb) return true;
  char* end = nullptr;
  const double mb = std::strtod(a.max_mb.c_str(), &end);
  if (a.max_mb.empty() || *end != '\0' || !(mb > 0) || !std::isfinite(mb)) {
    *error = "--max-mb must be a positive number of megabytes (got \"" + a.max_mb + "\")";
    return false;
  }
  limits->max_bytes = mb * 1048576.0;
  return true;
}

// The CLI's resolver: the folder on disk, relative to the working directory (--model overrides the config's).
PretrainedResolver model_resolver(const Args& a, const PretrainedLimits& limits) {
  return [a, limits](const ConfigPretrained& p, PretrainedRef* out, std::string* error) {
    if (p.model.empty()) return *error = "model must be the model folder (a path)", false;
    std::shared_ptr<PretrainedModel> m;
    if (!pretrained_load_dir(p.model, limits, &m, error)) return false;
    out->model = std::move(m);
    return true;
  };
}

// --model DIR: the config's "model" becomes DIR (and its mode "pretrained" when it names none).
bool config_with_model(const std::string& dir, std::string* config, std::string* error) {
  nlohmann::json j = nlohmann::json::parse(*config, nullptr, false);
  if (!j.is_object()) return true;  // the parse names what is wrong with it
  if (!j.contains("mode")) j["mode"] = "pretrained";
  if (j["mode"] != "pretrained") {
    *error = "--model needs mode \"pretrained\" (the config's mode is " + j["mode"].dump() + ")";
    return false;
  }
  j["model"] = dir;
  *config = j.dump();
  return true;
}

// The answer: into -o's file (whole, or not at all) or onto standard output. Returns the exit status.
int emit(const Args& a, const std::string& text) {
  std::string error;
  if (a.has_out) {
    if (!write_atomic(a.out, text.data(), text.size(), &error)) return fail(error);
  } else {
    std::fwrite(text.data(), 1, text.size(), stdout);
    std::fflush(stdout);
  }
  return 0;
}

int cmd_compute(int argc, char** argv) {
  Args a;
  std::string error, config, weights, result;
  if (!parse_args(argc, argv, true, &a, &error)) return fail(error);
  if (!read_all(a.config, kMaxConfigBytes, &config, &error)) return fail(error);
  if (a.has_weights && !read_all(a.weights, kMaxWeightsBytes, &weights, &error)) return fail(error);
  if (a.has_model && !config_with_model(a.model, &config, &error)) return fail(error);
  PretrainedLimits limits;
  if (!model_limits(a, &limits, &error)) return fail(error);
  const uint8_t* wp = a.has_weights ? reinterpret_cast<const uint8_t*>(weights.data()) : nullptr;
  if (!model_compute_json(config, wp, weights.size(), &result, &error, model_resolver(a, limits))) return fail(error);
  return emit(a, result + "\n");
}

int cmd_weights(int argc, char** argv) {
  Args a;
  std::string error, config;
  if (!parse_args(argc, argv, false, &a, &error)) return fail(error);
  if (!a.has_out) return fail("weights needs -o MODEL.safetensors");
  if (!read_all(a.config, kMaxConfigBytes, &config, &error)) return fail(error);
  std::vector<uint8_t> file;
  if (!model_weights_json(config, &file, &error)) return fail(error);
  if (!write_atomic(a.out, file.data(), file.size(), &error)) return fail(error);
  return 0;
}

// Numbers of the train command: the whole text must be the number, in range.
bool parse_int(const std::string& flag, const std::string& text, long long lo, long long hi, long long* out, std::string* error) {
  char* end = nullptr;
  errno = 0;
  const long long v = std::strtoll(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0' || errno != 0 || v < lo || v > hi) {
    *error = flag + " must be an integer from " + std::to_string(lo) + " to " + std::to_string(hi) + " (got '" + text + "')";
    return false;
  }
  *out = v;
  return true;
}

int cmd_train(int argc, char** argv) {
  TrainRunOptions o;
  std::string config_path, weights_path, data_path, out_path, error;
  for (int i = 2; i < argc; ++i) {
    const std::string s = argv[i];
    auto next = [&](std::string* v) {
      if (i + 1 >= argc) {
        error = s + " needs a value";
        return false;
      }
      *v = argv[++i];
      return true;
    };
    std::string v;
    long long n = 0;
    if (s == "--task") {
      if (!next(&o.task)) return fail(error);
    } else if (s == "--data") {
      if (!next(&data_path)) return fail(error);
    } else if (s == "--weights") {
      if (!next(&weights_path)) return fail(error);
    } else if (s == "-o" || s == "--output") {
      if (!next(&out_path)) return fail(error);
    } else if (s == "--steps" || s == "--batch" || s == "--length" || s == "--vocab" || s == "--seed") {
      if (!next(&v)) return fail(error);
      const long long hi = s == "--seed" ? 9007199254740991ll : 10000000ll;
      if (!parse_int(s, v, s == "--seed" ? 0 : 1, hi, &n, &error)) return fail(error);
      if (s == "--steps") o.steps = int(n);
      if (s == "--batch") o.batch = int(n);
      if (s == "--length") o.length = int(n);
      if (s == "--vocab") o.vocab = int(n);
      if (s == "--seed") o.seed = uint64_t(n);
    } else if (s == "--lr") {
      if (!next(&v)) return fail(error);
      char* end = nullptr;
      const double lr = std::strtod(v.c_str(), &end);
      if (v.empty() || *end != '\0' || !(lr > 0) || !std::isfinite(lr)) return fail("--lr must be a positive number (got '" + v + "')");
      o.lr = float(lr);
    } else if (s == "--optimizer") {
      if (!next(&v)) return fail(error);
      if (!train_optimizer_from_name(v, &o.optimizer)) return fail("--optimizer must be sgd or adam (got '" + v + "')");
    } else if (s.size() > 1 && s[0] == '-') {
      return fail("unknown option " + s);
    } else if (config_path.empty()) {
      config_path = s;
    } else {
      return fail("unexpected argument " + s);
    }
  }
  if (config_path.empty()) return fail("missing CONFIG.json (or - for standard input)");
  if (out_path.empty()) return fail("train needs -o OUT.safetensors");
  if (o.task.empty() == data_path.empty()) return fail("train needs exactly one of --task NAME and --data DATA.json");
  std::string config, weights;
  if (!read_all(config_path, kMaxConfigBytes, &config, &error)) return fail(error);
  if (!weights_path.empty() && !read_all(weights_path, kMaxWeightsBytes, &weights, &error)) return fail(error);
  if (!data_path.empty() && !read_all(data_path, kMaxConfigBytes, &o.data_text, &error)) return fail(error);
  if (!data_path.empty() && o.data_text.empty()) return fail("data: " + data_path + " is empty");
  const int every = std::max(1, o.steps / 50);  // about 50 progress lines, and always the last step
  auto progress = [&](int step, const TrainResult& r) {
    if (step % every == 0 || step == o.steps || step == 1) {
      if (r.alignment >= 0)  // translation tasks: the cross-attention's alignment over the batch too
        std::printf("step %d/%d  loss %.6f  accuracy %.4f  alignment %.4f\n", step, o.steps, r.loss, r.accuracy, r.alignment);
      else
        std::printf("step %d/%d  loss %.6f  accuracy %.4f\n", step, o.steps, r.loss, r.accuracy);
      std::fflush(stdout);
    }
  };
  std::vector<uint8_t> file;
  const uint8_t* wp = weights_path.empty() ? nullptr : reinterpret_cast<const uint8_t*>(weights.data());
  if (!train_run(config, wp, weights.size(), o, progress, &file, &error)) return fail(error);
  if (!write_atomic(out_path, file.data(), file.size(), &error)) return fail(error);
  return 0;
}

// attnplay info --model DIR: the model card (pretrained_info_json) of a folder, after the whole load checked it.
int cmd_info(int argc, char** argv) {
  Args a;
  std::string error;
  if (!parse_args(argc, argv, true, &a, &error, false)) return fail(error);
  if (!a.config.empty() && !a.has_model) { a.model = a.config; a.has_model = true; }  // attnplay info DIR
  else if (!a.config.empty()) return fail("unexpected argument " + a.config);
  if (!a.has_model) return fail("info needs --model DIR (a Hugging Face model folder)");
  if (a.has_weights) return fail("info takes --model DIR, not --weights");
  PretrainedLimits limits;
  if (!model_limits(a, &limits, &error)) return fail(error);
  std::shared_ptr<PretrainedModel> m;
  if (!pretrained_load_dir(a.model, limits, &m, &error)) return fail(error);
  return emit(a, pretrained_info_json(*m) + "\n");
}

}  // namespace

int cli_main(int argc, char** argv) {
  const std::string cmd = argc > 1 ? argv[1] : "";
  if (cmd == "compute") return cmd_compute(argc, argv);
  if (cmd == "weights") return cmd_weights(argc, argv);
  if (cmd == "info") return cmd_info(argc, argv);
  if (cmd == "train") return cmd_train(argc, argv);
  if (cmd == "--version" || cmd == "version") {
    std::printf("%s\n", build_summary().c_str());
    return 0;
  }
  if (cmd == "--help" || cmd == "help" || cmd == "-h") {
    std::fputs(kUsage, stdout);
    return 0;
  }
  return fail("unknown command '" + cmd + "' (attnplay --help lists the commands)");
}

}  // namespace attnplay
