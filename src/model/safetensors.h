// attnplay model: the safetensors file format (8-byte little-endian header length, JSON header, raw data).
//
// One header parser for every reader: it checks everything before trusting it (header length within the file, JSON
// well formed, every entry's dtype, shape and data_offsets, byte count = dtype size·Π shape, offsets inside the data
// section and not overlapping, no duplicate names). attnplay's own weights files (safetensors_read / _write) are
// float32 ("F32"): any other dtype is refused there by tensor name. Real checkpoints (pretrained.h) read F32, F16 and
// BF16 through the header alone and safetensors_to_float, so a shard of gigabytes is never held whole.
// __metadata__ is a string→string map (as the Python library requires); "vocab" holds a JSON list as a string.
//
// Index
//   SafeTensorsHeader, safetensors_read_header   the tensors' names, dtypes, shapes and absolute byte ranges
//   safetensors_dtype_bytes, safetensors_to_float F32 / F16 / BF16 -> float32
//   SafeTensorsFile, safetensors_read / _write    attnplay's float32 files, whole
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace attnplay {

struct SafeTensor {
  std::vector<int64_t> shape;
  std::vector<float> data;   // row-major, Π shape values
};

struct SafeTensorsFile {
  std::map<std::string, SafeTensor> tensors;          // by name (written in name order)
  std::map<std::string, std::string> metadata;        // __metadata__
};

struct SafeTensorEntry {
  std::string dtype;                                  // "F32", "F16", "BF16", "I64", "BOOL", ... (the file's)
  std::vector<int64_t> shape;
  uint64_t begin = 0, end = 0;                        // absolute byte offsets of its data in the file
};
struct SafeTensorsHeader {
  std::map<std::string, SafeTensorEntry> tensors;
  std::map<std::string, std::string> metadata;
};
// bytes: the file's first `available` bytes (8 + the header length at least); file_size: the whole file's. Errors are
// one line starting with what ("weights", or the file's name). f32_only: any other dtype is refused first (attnplay's own
// weights files, SPEC §5), before its byte count is checked.
bool safetensors_read_header(const uint8_t* bytes, size_t available, uint64_t file_size, const std::string& what,
                             SafeTensorsHeader* out, std::string* error, bool f32_only = false);
int  safetensors_dtype_bytes(const std::string& dtype);   // bytes per value; 0 for a dtype safetensors does not define
// count values of dtype F32, F16 or BF16 (little-endian) -> float32. false for any other dtype.
bool safetensors_to_float(const std::string& dtype, const uint8_t* src, size_t count, float* dst);

bool                 safetensors_read(const uint8_t* bytes, size_t size, SafeTensorsFile* out, std::string* error);
std::vector<uint8_t> safetensors_write(const SafeTensorsFile& file);   // little-endian F32, 8-byte aligned data

}  // namespace attnplay
