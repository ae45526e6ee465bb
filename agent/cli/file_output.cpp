#include "agent/cli/file_output.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace pycheck {
namespace {

Error errno_error(const std::string& what, int err) {
  return Error{what + ": " + std::strerror(err), err};
}

}  // namespace

Result<bool> write_file_atomically(const std::string& path, std::string_view content) {
  std::string dir = ".";
  std::string name = path;
  if (auto slash = path.rfind('/'); slash != std::string::npos) {
    dir = slash == 0 ? "/" : path.substr(0, slash);
    name = path.substr(slash + 1);
  }
  if (name.empty()) return Error{path + ": not a file name"};
  std::string tmp = (dir == "/" ? "" : dir) + "/." + name + ".tmp." + std::to_string(::getpid());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) return errno_error("cannot create " + tmp, errno);
  std::size_t done = 0;
  while (done < content.size()) {
    ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      ::close(fd);
      ::unlink(tmp.c_str());
      return errno_error("cannot write " + tmp, err);
    }
    done += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    return errno_error("cannot write " + tmp, err);
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    return errno_error("cannot rename " + tmp + " to " + path, err);
  }
  return true;
}

Result<std::string> read_host_file(const std::string& path, std::size_t max_bytes) {
  // O_NONBLOCK: opening a device or a FIFO must not wait before we know what it is.
  int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) return errno_error(path, errno);
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    int err = errno;
    ::close(fd);
    return errno_error(path, err);
  }
  if (S_ISFIFO(st.st_mode)) {
    // Opened again without O_NONBLOCK: a named FIFO then waits for its writer,
    // as `cat` would, instead of reading an empty file because the writer has
    // not opened it yet; an anonymous pipe (<(cmd), /dev/stdin) opens at once.
    ::close(fd);
    fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) return errno_error(path, errno);
    if (::fstat(fd, &st) != 0 || !S_ISFIFO(st.st_mode)) {
      ::close(fd);
      return Error{path + ": changed while it was opened"};
    }
  } else if (!S_ISREG(st.st_mode)) {
    const bool tty = ::isatty(fd) != 0;
    ::close(fd);
    if (tty) {
      return Error{path +
                   ": is a terminal: pycheck would wait for the end of input; "
                   "redirect or pipe the file in (e.g. --config /dev/stdin < FILE)"};
    }
    return Error{path + ": not a regular file or a pipe"};
  }
  const std::string limit = max_bytes % (1u << 20) == 0 ? std::to_string(max_bytes >> 20) + " MiB"
                                                        : std::to_string(max_bytes) + " bytes";
  const std::string too_large =
      path + ": more than " + limit + ", the most pycheck reads from a file or pipe it is given";
  if (S_ISREG(st.st_mode) && static_cast<std::size_t>(st.st_size) > max_bytes) {
    ::close(fd);
    return Error{too_large};
  }
  std::string data;
  char buf[65536];
  while (true) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      ::close(fd);
      return errno_error(path, err);
    }
    if (n == 0) break;
    data.append(buf, static_cast<std::size_t>(n));
    if (data.size() > max_bytes) {
      // A pipe's writer gets EPIPE when we close: nothing waits on it.
      ::close(fd);
      return Error{too_large};
    }
  }
  ::close(fd);
  return data;
}

}  // namespace pycheck
