// attnplay platform: the tables the build writes for what cannot ask the module at run time. Run under Node at build
// time (the WASM build's attnplay_tables); nothing else reads its output.
//
//   node attnplay_tables.js OUT_DIR D_TS_TEMPLATE
//     OUT_DIR/views.json       the table of views (app_views_json): the Python package reads it (it ships in web/)
//     OUT_DIR/attnplay.d.ts    the npm package's types: the template with @ATTNPLAY_VIEW_NAMES@ as the view names' union
#include "ui/app.h"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: attnplay_tables OUT_DIR D_TS_TEMPLATE\n");
    return 2;
  }
  const std::string out = argv[1];
  const std::string views = attnplay::app_views_json();
  std::ofstream(out + "/views.json") << views << "\n";
  std::ifstream in(argv[2]);
  std::stringstream t;
  t << in.rdbuf();
  std::string dts = t.str(), names;
  for (const auto& v : nlohmann::json::parse(views)) names += (names.empty() ? "'" : " | '") + v["name"].get<std::string>() + "'";
  const std::string key = "@ATTNPLAY_VIEW_NAMES@";
  const size_t at = dts.find(key);
  if (at == std::string::npos) {
    std::fprintf(stderr, "attnplay_tables: %s has no %s\n", argv[2], key.c_str());
    return 1;
  }
  dts.replace(at, key.size(), names);
  std::ofstream(out + "/attnplay.d.ts") << dts;
  return 0;
}
