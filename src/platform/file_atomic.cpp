// attnplay platform: crash-safe file writes. Contract: file_atomic.h.
#include "platform/file_atomic.h"

#include <cerrno>
#include <cstring>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace attnplay {

bool file_write_atomic(const std::string& dir, const std::string& path, const std::vector<uint8_t>& bytes,
                       std::string* error) {
  for (size_t at = dir.find('/', 1);; at = dir.find('/', at + 1)) {  // mkdir -p: each parent, then dir itself
    const std::string part = dir.substr(0, at);
    if (::mkdir(part.c_str(), 0700) != 0 && errno != EEXIST) return *error = part + ": " + std::strerror(errno), false;
    if (at == std::string::npos) break;
  }
  const std::string tmp = path + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return *error = tmp + ": " + std::strerror(errno), false;
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      *error = tmp + ": " + std::strerror(errno);  // ENOSPC: a full disk
      ::close(fd);
      ::unlink(tmp.c_str());
      return false;
    }
    done += size_t(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    *error = tmp + ": " + std::strerror(errno);
    ::unlink(tmp.c_str());
    return false;
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    *error = path + ": " + std::strerror(errno);
    ::unlink(tmp.c_str());
    return false;
  }
  if (const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); dfd >= 0) {  // the rename, durable
    ::fsync(dfd);
    ::close(dfd);
  }
  return true;
}

}  // namespace attnplay
