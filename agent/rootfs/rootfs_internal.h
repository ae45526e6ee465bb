// Helpers shared by the RootFs implementation files (not part of its API).
#pragma once

#include <sys/stat.h>
#include <unistd.h>

#include <string_view>
#include <utility>

#include "agent/core/result.h"
#include "agent/rootfs/rootfs.h"

namespace pycheck::rootfs_detail {

FileType type_of(mode_t mode);
FileInfo info_of(const struct stat& st);
// "<path>: <what>: <strerror(err)>" (no "<what>: " when `what` is empty).
Error sys_error(std::string_view what, std::string_view path, int err);

// Closes a descriptor on scope exit unless released.
class FdGuard {
 public:
  explicit FdGuard(int fd) : fd_(fd) {}
  ~FdGuard() {
    if (fd_ >= 0) ::close(fd_);
  }
  FdGuard(const FdGuard&) = delete;
  FdGuard& operator=(const FdGuard&) = delete;
  int get() const { return fd_; }
  int release() { return std::exchange(fd_, -1); }

 private:
  int fd_;
};

}  // namespace pycheck::rootfs_detail
