// attnplay platform: crash-safe file writes (the desktop's autosave, model/workspace.h records).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace attnplay {

// path := bytes, all or nothing: written to path + ".tmp", fsync'd, renamed over path, the directory fsync'd. A crash
// or SIGKILL at any point leaves the old file or the new one. dir (path's directory) is created as needed (0700).
// false: *error names the file and the reason (a full disk: "No space left on device"); path is then untouched.
bool file_write_atomic(const std::string& dir, const std::string& path, const std::vector<uint8_t>& bytes,
                       std::string* error);

}  // namespace attnplay
