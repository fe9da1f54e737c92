// attnplay model: the safetensors file format (8-byte little-endian header length, JSON header, raw data).
//
// Only float32 ("F32") tensors are read and written; any other dtype is refused by tensor name. Reading checks
// everything before trusting it: header length within the file, JSON well formed, every entry's shape and
// data_offsets, byte count = 4·Π shape, offsets inside the data section and not overlapping, no duplicate names.
// __metadata__ is a string→string map (as the Python library requires); "vocab" holds a JSON list as a string.
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

bool                 safetensors_read(const uint8_t* bytes, size_t size, SafeTensorsFile* out, std::string* error);
std::vector<uint8_t> safetensors_write(const SafeTensorsFile& file);   // little-endian F32, 8-byte aligned data

}  // namespace attnplay
