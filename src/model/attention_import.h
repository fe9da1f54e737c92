// attnplay model: attention maps from other models ("bring your own attention"), shown in the views that need no
// Q/K/V (weights heatmap, head lines, model view, row statistics).
//
// Dimension glossary: layers, heads, n_q (query rows), n_k (key columns).
//
// Accepted files (tools/export_attention.py writes all of them from a PyTorch model):
//   .safetensors  an F32 tensor "attention"; __metadata__ "tokens" (and "key_tokens") as JSON lists in strings
//   .npy          one little-endian float32/float64 array, C order (no tokens: rows are labelled q0…, k0…)
//   .npz          np.savez (not _compressed): "attention", optional "tokens" / "key_tokens" (unicode arrays)
//   .json         {"attention": [[[[...]]]], "tokens": [...], "key_tokens": [...]}
// The array is [layers, heads, n_q, n_k]; [heads, n_q, n_k] and [n_q, n_k] are one layer / one head. Values must be
// finite; rows that do not sum to 1 (or 0) are accepted with a warning (not softmax weights?).
//
// Index
//   ImportedAttention          the maps and their labels
//   attention_import           file bytes (+ name for the format) -> ImportedAttention, or false naming the problem
//   attention_import_trace     -> a Trace whose heads hold weights only (imported = true)
//   attention_import_json      -> the result JSON of SPEC §3 without scores and context (the core API's answer)
#pragma once

#include "model/model.h"

#include <cstdint>
#include <string>
#include <vector>

namespace attnplay {

struct ImportedAttention {
  std::vector<std::string> tokens;       // [n_q] query labels
  std::vector<std::string> key_tokens;   // [n_k] key labels
  std::vector<std::vector<Mat>> layers;  // [layers][heads] each [n_q, n_k]
  std::vector<std::string> warnings;
};

bool        attention_import(const uint8_t* bytes, size_t size, const std::string& name, ImportedAttention* out,
                             std::string* error);
void        attention_import_trace(const ImportedAttention& a, Trace* out);
std::string attention_import_json(const ImportedAttention& a);

// True when a JSON file looks like attention ("attention" holds an array), not a config ("attention" is an object).
bool        attention_import_is_json_attention(const std::string& text);

}  // namespace attnplay
