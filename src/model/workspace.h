// attnplay model: the workspace record, everything a user would lose on a reload, as one self-checking file.
//
// One format for the browser's autosave (IndexedDB), the desktop's autosave ($XDG_DATA_HOME/attnplay) and
// File → Export / Import → workspace, so work moves between them. Layout (little-endian):
//
//   offset  size  field
//   0       8     magic "APWKSP\r\n" (a text tool that mangles line ends breaks it visibly)
//   8       4     schema version (kWorkspaceVersion)
//   12      4     reserved, 0
//   16      8     payload length in bytes
//   24      4     CRC-32 (IEEE, as zlib) of the payload
//   28      4     CRC-32 of bytes 0..27 (a torn header is caught before its length is trusted)
//   32      ...   payload: a safetensors file (safetensors.h). Its __metadata__["attnplay.workspace"] holds the
//                 JSON below; the tensors hold the weights, Adam's moments and the training curves.
//
// Decoding checks everything before it returns anything: a record is applied whole or not at all. A refusal names
// its cause: "saved state is corrupt (checksum)", "(truncated)", "(header)", "(not a workspace)", "saved state is
// from a newer attnplay (schema 3; this build reads 1)", or the field, tensor or config error that fails.
//
// Index
//   Workspace, WorkspaceSide, WorkspaceTraining   what a record holds (no UI types: ui/ fills and applies them)
//   workspace_encode / workspace_decode           record bytes <-> Workspace
//   workspace_crc32                               the checksum (tests and the fuzzer use it to build records)
#pragma once

#include "model/train_session.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace attnplay {

constexpr uint32_t kWorkspaceVersion = 1;
constexpr size_t   kWorkspaceHeaderBytes = 32;

struct WorkspaceSide {
  nlohmann::json config;                         // the side's config (valid: decode refuses one that is not)
  std::shared_ptr<const ModelWeights> weights;   // trained or loaded weights; null: seeded from the config
};

// A Train panel session, resumable bit for bit: the next step after decoding equals the next step of the session
// that was saved (same weights, Adam moments, step count and batch stream).
struct WorkspaceTraining {
  bool present = false;                          // false: nothing was being trained
  nlohmann::json config;                         // the config the session was begun with (train_session_begin)
  TrainSessionSpec spec;
  TrainState state;                              // weights, adam_m, adam_v, step
  uint64_t rng_state = 0;                        // the batch stream's position (Rng::state)
  std::vector<float> loss, accuracy, alignment;  // the curves, one value per step (alignment: translation only)
};

struct Workspace {
  WorkspaceSide a;                               // the side the controls edit (the only one with A/B off)
  bool ab_on = false;                            // A/B comparison on: b holds the other side
  bool ab_editing_b = false;                     //   the side edited (a) is B, the other (b) is A
  WorkspaceSide b;
  std::string preset_id;                         // the preset the config came from ("" none)
  nlohmann::json view = nlohmann::json::object();  // the UI's selection and view (opaque here; ui/ reads it)
  // Which real model the config names (mode pretrained), beyond the config's name for it: {"source": the config's
  // "model", "files": [{"name", "size" (bytes), "sha256" (64 hex digits, "" not hashed yet)}]}; files for a folder
  // opened from files or disk (a URL names itself). null: none. decode checks its shape.
  nlohmann::json model = nullptr;
  WorkspaceTraining training;
};

std::vector<uint8_t> workspace_encode(const Workspace& ws);   // a whole record (header + payload)
// bytes -> *out, all or nothing. false: *error says why ("saved state is corrupt (checksum)", ...).
bool workspace_decode(const uint8_t* bytes, size_t size, Workspace* out, std::string* error);
uint32_t workspace_crc32(const uint8_t* bytes, size_t size);   // CRC-32/IEEE (zlib's crc32 of the same bytes)

}  // namespace attnplay
