// Fuzz target: the URL-state decoder (base64url + JSON + plain parameters), then the validator on its output.
#include "model/config.h"
#include "model/url_state.h"

#include <cstdint>
#include <cstdlib>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string query(reinterpret_cast<const char*>(data), size);
  nlohmann::json partial;
  std::string error;
  if (!attnplay::url_state_decode(query, &partial, &error)) {
    if (error.empty()) std::abort();
    return 0;
  }
  attnplay::Config c;
  if (!attnplay::config_parse(partial, &c, &error) && error.empty()) std::abort();
  // base64url round trip of arbitrary bytes
  std::string back;
  if (!attnplay::base64url_decode(attnplay::base64url_encode(query), &back) || back != query) std::abort();
  return 0;
}
