// attnplay model: SHA-256 (FIPS 180-4), incremental, for the workspace's record of which model files were used (a
// folder opened from local files is named by its files' names, sizes and digests). The page's worker hashes a
// File a slice at a time through the engine; the desktop hashes the folder on disk.
//
// Index
//   Sha256               the running state: update with any chunking, hex() once at the end
//   sha256_hex           one buffer's digest
//   sha256_file_hex      a file's digest read from disk in 1 MB chunks ("" when it cannot be read)
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace attnplay {

class Sha256 {
 public:
  Sha256();
  void update(const uint8_t* data, size_t n);  // any split of the input gives the same digest
  std::string hex();                           // 64 lowercase hex digits; the state is spent afterwards
 private:
  void block(const uint8_t* p);
  uint32_t h_[8];
  uint8_t buf_[64];
  size_t used_ = 0;
  uint64_t bytes_ = 0;
};

std::string sha256_hex(const uint8_t* data, size_t n);
std::string sha256_file_hex(const std::string& path);

}  // namespace attnplay
