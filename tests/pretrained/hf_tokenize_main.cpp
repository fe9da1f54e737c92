// Native test driver for src/model/hf_tokenizer (tests/pretrained/tokenizers.test.mjs runs it).
//
//   hf_tokenize TOKENIZER_JSON              stdin: JSON list of strings; stdout: one object per string,
//                                           {"special": {"ids", "tokens"}, "plain": {"ids", "tokens"}} (encode with
//                                           add_special_tokens true / false) or {"error": "..."}
//   hf_tokenize TOKENIZER_JSON --display    stdin: JSON list of ids; stdout: list of display strings
//   hf_tokenize TOKENIZER_JSON --decode     stdin: JSON list of id lists; stdout: [{"text", "skip_special"}]
//   hf_tokenize TOKENIZER_JSON --pieces     stdin: JSON list of strings; stdout: per string the list of pieces the
//                                           model sees (hf_tokenizer_pieces) or {"error": "..."}
//   hf_tokenize TOKENIZER_JSON --load       stdout: {"vocab_size": n}
//   hf_tokenize TOKENIZER_JSON --bench N    stdin: JSON list of strings; stdout: {"load_ms", "encode_ms",
//                                           "tokens"} (best load of N, mean encode of the whole list over N runs)
// A tokenizer.json that fails to load prints {"error": "..."} and exits with status 2.
#include "model/hf_tokenizer.h"

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>

using attnplay::HfEncoding;
using attnplay::HfTokenizer;
using nlohmann::json;

namespace {

bool read_file(const char* path, std::string* out) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return false;
  std::ostringstream ss;
  ss << f.rdbuf();
  *out = ss.str();
  return true;
}

void print(const json& j) {
  std::cout << j.dump(-1, ' ', false, json::error_handler_t::replace) << "\n";
}

json encoding_json(const HfEncoding& e) {
  return json{{"ids", e.ids}, {"tokens", e.tokens}};
}

double ms_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: hf_tokenize TOKENIZER_JSON [--display | --decode | --load | --bench N] < input\n");
    return 64;
  }
  const std::string mode = argc >= 3 ? argv[2] : "";
  std::string text;
  if (!read_file(argv[1], &text)) {
    print(json{{"error", std::string("cannot read ") + argv[1]}});
    return 2;
  }
  std::string stdin_text;  // read before loading, so a refused file never leaves the writer with a broken pipe
  if (mode != "--load") {
    std::ostringstream ss;  // (not through an istreambuf_iterator: libstdc++ 12's std::advance on one spins)
    ss << std::cin.rdbuf();
    stdin_text = ss.str();
  }
  HfTokenizer tok;
  std::string error;
  const auto t_load = std::chrono::steady_clock::now();
  if (!attnplay::hf_tokenizer_load(text, &tok, &error)) {
    print(json{{"error", error}});
    return 2;
  }
  const double load_ms = ms_since(t_load);
  if (mode == "--load") {
    print(json{{"vocab_size", attnplay::hf_tokenizer_vocab_size(tok)}});
    return 0;
  }
  json input;
  try {
    input = json::parse(stdin_text);
  } catch (const json::exception& e) {
    std::fprintf(stderr, "hf_tokenize: stdin is not JSON: %s\n", e.what());
    return 65;
  }
  if (!input.is_array()) {
    std::fprintf(stderr, "hf_tokenize: stdin must be a JSON list\n");
    return 65;
  }
  json out = json::array();
  if (mode == "--display") {
    for (const json& id : input) out.push_back(attnplay::hf_tokenizer_display(tok, id.get<int>()));
  } else if (mode == "--pieces") {
    for (const json& s : input) {
      std::vector<std::string> pieces;
      std::string err;
      if (attnplay::hf_tokenizer_pieces(tok, s.get<std::string>(), &pieces, &err)) out.push_back(pieces);
      else out.push_back(json{{"error", err}});
    }
  } else if (mode == "--decode") {
    for (const json& ids : input) {
      const std::vector<int> v = ids.get<std::vector<int>>();
      out.push_back(json{{"text", attnplay::hf_tokenizer_decode(tok, v, false)},
                         {"skip_special", attnplay::hf_tokenizer_decode(tok, v, true)}});
    }
  } else if (mode == "--bench") {
    const int runs = argc >= 4 ? std::max(1, std::atoi(argv[3])) : 10;
    double best_load = load_ms;
    for (int r = 1; r < runs; ++r) {
      HfTokenizer t2;
      const auto t0 = std::chrono::steady_clock::now();
      attnplay::hf_tokenizer_load(text, &t2, &error);
      best_load = std::min(best_load, ms_since(t0));
    }
    std::vector<std::string> strings;
    for (const json& s : input) strings.push_back(s.get<std::string>());
    size_t tokens = 0;
    HfEncoding e;
    const auto t0 = std::chrono::steady_clock::now();
    for (int r = 0; r < runs; ++r)
      for (const std::string& s : strings) {
        attnplay::hf_tokenizer_encode(tok, s, true, &e, &error);
        tokens += e.ids.size();
      }
    const double encode_ms = ms_since(t0) / runs;
    print(json{{"load_ms", best_load}, {"encode_ms", encode_ms}, {"tokens", tokens / size_t(runs)}});
    return 0;
  } else {
    for (const json& s : input) {
      const std::string str = s.get<std::string>();
      HfEncoding with, without;
      std::string err;
      if (!attnplay::hf_tokenizer_encode(tok, str, true, &with, &err) ||
          !attnplay::hf_tokenizer_encode(tok, str, false, &without, &err)) {
        out.push_back(json{{"error", err}});
        continue;
      }
      out.push_back(json{{"special", encoding_json(with)}, {"plain", encoding_json(without)}});
    }
  }
  print(out);
  return 0;
}
