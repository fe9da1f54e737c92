// Fuzz target: the workspace record (model/workspace.h), as an autosave or an imported file would reach it.
// The checksums would stop almost every mutation at the door, so inputs whose first byte is odd get valid ones
// written in (the header's length, both CRCs) and the fuzzer explores what lies behind them: the safetensors
// payload, the JSON, the configs, the weights and the training state. A record that decodes must encode and decode
// again to the same thing; a refusal must say why.
#include "model/workspace.h"

#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

namespace {

void put_u32(uint8_t* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = uint8_t(v >> (8 * i));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::vector<uint8_t> r(data + 1, data + size);
  if ((data[0] & 1) && r.size() >= attnplay::kWorkspaceHeaderBytes) {
    const uint64_t length = r.size() - attnplay::kWorkspaceHeaderBytes;
    for (int i = 0; i < 8; ++i) r[16 + size_t(i)] = uint8_t(length >> (8 * i));
    put_u32(r.data() + 24, attnplay::workspace_crc32(r.data() + attnplay::kWorkspaceHeaderBytes, size_t(length)));
    put_u32(r.data() + 28, attnplay::workspace_crc32(r.data(), 28));
  }
  attnplay::Workspace ws;
  std::string error;
  if (!attnplay::workspace_decode(r.data(), r.size(), &ws, &error)) {
    if (error.rfind("saved state ", 0) != 0) std::abort();  // every refusal is named as one
    return 0;
  }
  const std::vector<uint8_t> again = attnplay::workspace_encode(ws);
  attnplay::Workspace back;
  if (!attnplay::workspace_decode(again.data(), again.size(), &back, &error)) std::abort();
  if (back.a.config != ws.a.config || back.ab_on != ws.ab_on || back.training.present != ws.training.present ||
      back.training.loss != ws.training.loss)
    std::abort();
  return 0;
}
