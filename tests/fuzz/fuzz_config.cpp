// Fuzz target: config JSON text -> parse and validate (model/config.h). A refused config must carry a message.
#include "model/config.h"

#include <cstdint>
#include <cstdlib>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  attnplay::Config c;
  std::string error;
  if (!attnplay::config_parse_text(std::string(reinterpret_cast<const char*>(data), size), &c, &error) && error.empty()) std::abort();
  return 0;
}
