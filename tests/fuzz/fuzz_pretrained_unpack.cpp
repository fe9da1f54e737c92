// Fuzz target: the bytes a page's model worker sends its app (pretrained_pack.h), read back: any input is read or
// refused with a message, never past its end; what is read is a trace every view can index.
#include "model/pretrained_pack.h"

#include <cstdint>
#include <cstdlib>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  attnplay::PretrainedView v;
  std::string error;
  if (!attnplay::pretrained_unpack(data, size, &v, &error)) {
    if (error.empty()) std::abort();
    return 0;
  }
  const size_t n = v.trace.tokens.size();
  if (n == 0 || v.ids.size() != n || v.tokens.size() != n) std::abort();
  for (const attnplay::LayerTrace& l : v.trace.layers)
    for (const attnplay::HeadTrace& h : l.heads) {
      if (size_t(h.q.rows()) != n || size_t(h.attn.context.rows()) != n) std::abort();
      if (h.attn.weights.size() && (size_t(h.attn.weights.rows()) != n || size_t(h.attn.weights.cols()) != n)) std::abort();
    }
  return 0;
}
