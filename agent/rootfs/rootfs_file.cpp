// RootFs::File: one open regular file, read at offsets (see rootfs.h).
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <utility>

#include "agent/rootfs/dir_cache.h"
#include "agent/rootfs/rootfs.h"
#include "agent/rootfs/rootfs_internal.h"

namespace pycheck {

using rootfs_detail::sys_error;
using namespace std::string_view_literals;

Result<std::string> RootFs::read_range(std::string_view path, std::uint64_t offset,
                                       std::size_t length) const {
  auto file = open_file(path);
  if (!file) return file.error();
  return file->read_range(offset, length);
}

Result<RootFs::File> RootFs::open_file(std::string_view path) const {
  auto file = open_checked(path, false);
  if (!file) return file.error();
  return File(this, std::string(path), file->fd, file->size);
}

Result<RootFs::File> RootFs::open_resolved(const Resolved& resolved) const {
  const std::string_view dir = path_dirname(resolved.path);
  const int dir_fd = dir == "/"sv ? root_fd_ : dirs_ ? dirs_->find(std::string(dir)) : -1;
  if (dir_fd < 0 || resolved.path == "/"sv) return open_file(resolved.path);
  if (past_deadline()) return Error{resolved.path + ": timed out", ETIMEDOUT};
  const std::string name(path_basename(resolved.path));
  auto file = open_found(dir_fd, name.c_str(), resolved, false);
  if (!file) return file.error();
  return File(this, resolved.path, file->fd, file->size);
}

RootFs::File::File(File&& other) noexcept
    : fs_(other.fs_),
      path_(std::move(other.path_)),
      fd_(std::exchange(other.fd_, -1)),
      size_(other.size_) {}

RootFs::File& RootFs::File::operator=(File&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fs_ = other.fs_;
    path_ = std::move(other.path_);
    fd_ = std::exchange(other.fd_, -1);
    size_ = other.size_;
  }
  return *this;
}

RootFs::File::~File() {
  if (fd_ >= 0) ::close(fd_);
}

Result<std::string> RootFs::File::read_range(std::uint64_t offset, std::size_t length) const {
  if (length > kDefaultMaxRead) {
    return Error{path_ + ": range of " + std::to_string(length) + " bytes is too large", EFBIG};
  }
  // No buffer larger than what the file holds past `offset` (it may still grow: read on then).
  const std::uint64_t left = offset < size_ ? size_ - offset : 0;
  std::string data(static_cast<std::size_t>(std::min<std::uint64_t>(length, left + 1)), '\0');
  std::size_t got = 0;
  while (got < length) {
    if (got == data.size())
      data.resize(std::min<std::size_t>(length, std::max<std::size_t>(4096, got * 2)));
    ssize_t n =
        ::pread(fd_, data.data() + got, data.size() - got, static_cast<off_t>(offset + got));
    if (n < 0) {
      if (errno == EINTR) continue;
      return sys_error("read failed", path_, errno);
    }
    if (n == 0) break;
    got += static_cast<std::size_t>(n);
    if (fs_->past_deadline()) return Error{path_ + ": timed out while reading", ETIMEDOUT};
    if (got == left) break;  // up to the size fstat gave: no read to meet the end (see read_fd)
  }
  data.resize(got);
  return data;
}

}  // namespace pycheck
