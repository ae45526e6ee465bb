#include "agent/rootfs.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <deque>
#include <mutex>
#include <unordered_map>
#include <utility>

namespace pycheck {
namespace {

FileType type_of(mode_t mode) {
  if (S_ISREG(mode)) return FileType::regular;
  if (S_ISDIR(mode)) return FileType::directory;
  if (S_ISLNK(mode)) return FileType::symlink;
  if (S_ISFIFO(mode)) return FileType::fifo;
  if (S_ISSOCK(mode)) return FileType::socket;
  if (S_ISCHR(mode)) return FileType::char_device;
  if (S_ISBLK(mode)) return FileType::block_device;
  return FileType::other;
}

FileInfo info_of(const struct stat& st) {
  FileInfo info;
  info.type = type_of(st.st_mode);
  info.mode = st.st_mode & 07777;
  info.uid = st.st_uid;
  info.gid = st.st_gid;
  info.size = static_cast<std::uint64_t>(st.st_size);
  info.mtime = st.st_mtim.tv_sec;
  info.dev = st.st_dev;
  info.ino = st.st_ino;
  return info;
}

Error sys_error(std::string_view what, std::string_view path, int err) {
  return Error{std::string(path) + ": " + std::string(what) + (what.empty() ? "" : ": ") +
                   std::strerror(err),
               err};
}

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

std::deque<std::string> split_components(std::string_view path) {
  std::deque<std::string> parts;
  std::size_t i = 0;
  while (i < path.size()) {
    std::size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    if (j > i) parts.emplace_back(path.substr(i, j - i));
    i = j + 1;
  }
  return parts;
}

}  // namespace

std::string_view to_string(FileType type) {
  switch (type) {
    case FileType::regular:
      return "regular file";
    case FileType::directory:
      return "directory";
    case FileType::symlink:
      return "symlink";
    case FileType::fifo:
      return "FIFO";
    case FileType::socket:
      return "socket";
    case FileType::char_device:
      return "character device";
    case FileType::block_device:
      return "block device";
    case FileType::other:
      break;
  }
  return "special file";
}

std::string path_join(std::string_view dir, std::string_view name) {
  if (name.starts_with('/')) return std::string(name);
  std::string out(dir);
  if (out.empty() || out.back() != '/') out += '/';
  out += name;
  return out;
}

std::string_view path_dirname(std::string_view path) {
  std::size_t slash = path.rfind('/');
  if (slash == std::string_view::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

std::string_view path_basename(std::string_view path) {
  std::size_t slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

std::string path_normalize(std::string_view path) {
  std::vector<std::string> stack;
  for (std::string& part : split_components(path)) {
    if (part == ".") continue;
    if (part == "..") {
      if (!stack.empty()) stack.pop_back();
      continue;
    }
    stack.push_back(std::move(part));
  }
  std::string out;
  for (const std::string& part : stack) out += "/" + part;
  return out.empty() ? "/" : out;
}

// Directories already walked, by canonical path: O_PATH descriptors kept open
// for the RootFs's life and shared by the check threads.
struct RootFs::DirCache {
  std::mutex mutex;
  std::unordered_map<std::string, int> fds;
  ~DirCache() {
    for (const auto& entry : fds) ::close(entry.second);
  }
  int find(const std::string& path) {
    std::lock_guard lock(mutex);
    auto it = fds.find(path);
    return it == fds.end() ? -1 : it->second;
  }
  // Offers `fd` (a directory opened at `path`): true when the cache took it
  // (the caller must not close it), false when it is full or already has one.
  bool adopt(const std::string& path, int fd) {
    std::lock_guard lock(mutex);
    if (fds.size() >= kMaxCachedDirs) return false;
    return fds.try_emplace(path, fd).second;
  }
};

RootFs::RootFs(std::string root_dir, int root_fd)
    : root_dir_(std::move(root_dir)), root_fd_(root_fd), dirs_(std::make_unique<DirCache>()) {}

Result<RootFs> RootFs::open(const std::string& root_dir) {
  int fd = ::open(root_dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return sys_error("cannot open root directory", root_dir, errno);
  return RootFs(root_dir, fd);
}

RootFs::RootFs(RootFs&& other) noexcept
    : root_dir_(std::move(other.root_dir_)),
      root_fd_(std::exchange(other.root_fd_, -1)),
      dirs_(std::move(other.dirs_)),
      deadline_(other.deadline_) {}

RootFs& RootFs::operator=(RootFs&& other) noexcept {
  if (this != &other) {
    dirs_.reset();
    if (root_fd_ >= 0) ::close(root_fd_);
    root_dir_ = std::move(other.root_dir_);
    root_fd_ = std::exchange(other.root_fd_, -1);
    dirs_ = std::move(other.dirs_);
    deadline_ = other.deadline_;
  }
  return *this;
}

RootFs::~RootFs() {
  dirs_.reset();
  if (root_fd_ >= 0) ::close(root_fd_);
}

bool RootFs::past_deadline() const {
  return deadline_ != std::chrono::steady_clock::time_point::max() &&
         std::chrono::steady_clock::now() > deadline_;
}

namespace {

// The walk keeps its own stack of directory descriptors: ".." pops it (and
// stops at the root), an absolute link target empties it back to the root.
// The kernel never sees ".." or a link to follow, so nothing escapes. A
// descriptor is either the walk's own or borrowed from the RootFs's cache.
struct Walker {
  struct Dir {
    int fd;
    bool owned;
  };
  int root_fd;
  std::vector<Dir> dirs;  // dirs.empty() means "at the root"
  std::string path;       // canonical path of the current directory; "" at the root
  ~Walker() {
    for (const Dir& d : dirs) {
      if (d.owned) ::close(d.fd);
    }
  }
  int current() const { return dirs.empty() ? root_fd : dirs.back().fd; }
  std::string current_path() const { return path.empty() ? "/" : path; }
  std::string child_path(std::string_view name) const {
    std::string out;
    out.reserve(path.size() + 1 + name.size());
    out += path;
    out += '/';
    out += name;
    return out;
  }
  void push(int fd, bool owned, std::string_view name) {
    dirs.push_back({fd, owned});
    path += '/';
    path += name;
  }
  void pop() {
    if (dirs.empty()) return;
    if (dirs.back().owned) ::close(dirs.back().fd);
    dirs.pop_back();
    path.resize(path.rfind('/'));
  }
  void reset() {
    while (!dirs.empty()) pop();
  }
};

}  // namespace

// Resolves `path`. When `parent_out` is given, it receives the directory
// holding the final object (to be closed by the caller when owned) and
// `last_out` its name there ("." when the path named a directory reached through "..").
Result<Resolved> RootFs::walk(std::string_view path, bool follow_last, ParentDir* parent_out,
                              std::string* last_out) const {
  if (past_deadline()) return Error{std::string(path) + ": timed out", ETIMEDOUT};
  Resolved resolved;
  Walker w{root_fd_, {}, {}};
  std::deque<std::string> pending = split_components(path);
  int links = 0;
  std::string final_name = ".";
  struct stat final_st {};
  bool have_final = false;
  while (!pending.empty()) {
    std::string part = std::move(pending.front());
    pending.pop_front();
    if (part == ".") continue;
    if (part == "..") {
      w.pop();
      continue;
    }
    const bool is_last = pending.empty();
    std::string here = w.child_path(part);
    if (!is_last && dirs_ != nullptr) {
      // A directory an earlier walk opened: no need to look at it again.
      if (int cached = dirs_->find(here); cached >= 0) {
        w.push(cached, false, part);
        continue;
      }
    }
    struct stat st {};
    if (::fstatat(w.current(), part.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
      return sys_error("", here, errno);
    }
    if (S_ISLNK(st.st_mode) && (!is_last || follow_last)) {
      if (++links > kMaxSymlinks) {
        return Error{std::string(path) + ": too many levels of symbolic links", ELOOP};
      }
      char buf[4096];
      ssize_t n = ::readlinkat(w.current(), part.c_str(), buf, sizeof buf);
      if (n < 0) return sys_error("cannot read link", here, errno);
      std::string target(buf, static_cast<std::size_t>(n));
      std::deque<std::string> expanded = split_components(target);
      const bool absolute = target.starts_with('/');
      resolved.chain.push_back({std::move(here), std::move(target)});
      if (absolute) w.reset();  // absolute targets are re-anchored at the root
      pending.insert(pending.begin(), std::make_move_iterator(expanded.begin()),
                     std::make_move_iterator(expanded.end()));
      continue;
    }
    if (is_last) {
      final_name = std::move(part);
      final_st = st;
      have_final = true;
      break;
    }
    if (!S_ISDIR(st.st_mode)) return Error{here + ": not a directory", ENOTDIR};
    int fd = ::openat(w.current(), part.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) return sys_error("", here, errno);
    const bool cached = dirs_ != nullptr && dirs_->adopt(here, fd);
    w.push(fd, !cached, part);
  }
  if (!have_final) {
    // The path named a directory itself ("/", or something ending in "..").
    if (::fstat(w.current(), &final_st) != 0) return sys_error("", w.current_path(), errno);
    resolved.path = w.current_path();
  } else {
    resolved.path = w.child_path(final_name);
  }
  resolved.info = info_of(final_st);
  if (parent_out != nullptr) {
    // Hand the current directory over: an owned descriptor leaves the walker's care.
    parent_out->fd = w.current();
    parent_out->owned = !w.dirs.empty() && w.dirs.back().owned;
    if (parent_out->owned) w.dirs.back().owned = false;
    *last_out = final_name;
  }
  return resolved;
}

Result<Resolved> RootFs::resolve(std::string_view path) const {
  return walk(path, true, nullptr, nullptr);
}

Result<Resolved> RootFs::resolve_parent(std::string_view path) const {
  return walk(path, false, nullptr, nullptr);
}

Result<FileInfo> RootFs::stat(std::string_view path) const {
  auto r = walk(path, true, nullptr, nullptr);
  if (!r) return r.error();
  return r->info;
}

Result<FileInfo> RootFs::lstat(std::string_view path) const {
  auto r = walk(path, false, nullptr, nullptr);
  if (!r) return r.error();
  return r->info;
}

bool RootFs::is_directory(std::string_view path) const {
  auto r = stat(path);
  return r && r->type == FileType::directory;
}

bool RootFs::is_regular(std::string_view path) const {
  auto r = stat(path);
  return r && r->type == FileType::regular;
}

Result<std::string> RootFs::read_link(std::string_view path) const {
  ParentDir parent;
  std::string last;
  auto r = walk(path, false, &parent, &last);
  if (!r) return r.error();
  FdGuard guard(parent.owned ? parent.fd : -1);
  if (r->info.type != FileType::symlink) return Error{r->path + ": not a symlink", EINVAL};
  char buf[4096];
  ssize_t n = ::readlinkat(parent.fd, last.c_str(), buf, sizeof buf);
  if (n < 0) return sys_error("cannot read link", r->path, errno);
  return std::string(buf, static_cast<std::size_t>(n));
}

// Opens the final object read-only after checking, before and after the open,
// that it is the regular file (or directory) the walk found: a FIFO or device
// is never opened, and a swap between stat and open is caught.
Result<RootFs::OpenFile> RootFs::open_checked(std::string_view path, bool want_directory) const {
  ParentDir parent;
  std::string last;
  auto r = walk(path, true, &parent, &last);
  if (!r) return r.error();
  FdGuard guard(parent.owned ? parent.fd : -1);
  const FileType want = want_directory ? FileType::directory : FileType::regular;
  if (r->info.type != want) {
    return Error{r->path + ": is a " + std::string(to_string(r->info.type)) + ", not a " +
                     std::string(to_string(want)),
                 want_directory ? ENOTDIR : EINVAL};
  }
  int flags = O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY;
  if (want_directory) flags |= O_DIRECTORY;
  int fd = ::openat(parent.fd, last.c_str(), flags);
  if (fd < 0) return sys_error("", r->path, errno);
  struct stat st {};
  if (::fstat(fd, &st) != 0 || st.st_ino != r->info.ino || st.st_dev != r->info.dev ||
      type_of(st.st_mode) != want) {
    ::close(fd);
    return Error{r->path + ": changed while being opened", EAGAIN};
  }
  return OpenFile{fd, static_cast<std::uint64_t>(st.st_size)};
}

// Reads from the start of an open file: all of it (`whole`, failing when it
// is larger than max_bytes) or its first max_bytes. The buffer starts at the
// size fstat gave (one byte more, to see the end in one read) and grows only
// when the file does (or st_size lies, as in /proc), within the cap.
Result<std::string> RootFs::read_fd(const OpenFile& file, std::string_view path,
                                    std::size_t max_bytes, bool whole) const {
  FdGuard guard(file.fd);
  if (whole && file.size > max_bytes) {
    return Error{std::string(path) + ": too large (" + std::to_string(file.size) +
                     " bytes, limit " + std::to_string(max_bytes) + ")",
                 EFBIG};
  }
  // Whole reads may take one byte past the cap: that byte says "too large".
  const std::size_t cap = whole && max_bytes < SIZE_MAX ? max_bytes + 1 : max_bytes;
  const std::uint64_t expected = file.size > 0 ? file.size + 1 : 4096;
  std::string data;
  data.resize(static_cast<std::size_t>(std::min<std::uint64_t>(expected, cap)));
  std::size_t got = 0;
  while (true) {
    if (got == data.size()) {
      if (got >= cap) break;
      data.resize(std::min<std::size_t>(std::max<std::size_t>(4096, got * 2), cap));
    }
    ssize_t n = ::read(file.fd, data.data() + got, data.size() - got);
    if (n < 0) {
      if (errno == EINTR) continue;
      return sys_error("read failed", path, errno);
    }
    if (n == 0) break;
    got += static_cast<std::size_t>(n);
    if (whole && got > max_bytes) {
      return Error{
          std::string(path) + ": too large (limit " + std::to_string(max_bytes) + " bytes)", EFBIG};
    }
    if (past_deadline()) return Error{std::string(path) + ": timed out while reading", ETIMEDOUT};
  }
  data.resize(got);
  return data;
}

Result<std::string> RootFs::read_file(std::string_view path, std::size_t max_bytes) const {
  auto file = open_checked(path, false);
  if (!file) return file.error();
  return read_fd(*file, path, max_bytes, true);
}

Result<std::string> RootFs::read_head(std::string_view path, std::size_t max_bytes) const {
  auto file = open_checked(path, false);
  if (!file) return file.error();
  return read_fd(*file, path, max_bytes, false);
}

Result<std::string> RootFs::read_range(std::string_view path, std::uint64_t offset,
                                       std::size_t length) const {
  auto file = open_checked(path, false);
  if (!file) return file.error();
  const int fd = file->fd;
  FdGuard guard(fd);
  if (length > kDefaultMaxRead) {
    return Error{std::string(path) + ": range of " + std::to_string(length) + " bytes is too large",
                 EFBIG};
  }
  // No buffer larger than what the file holds past `offset` (it may still grow: read on then).
  const std::uint64_t left = offset < file->size ? file->size - offset : 0;
  std::string data(static_cast<std::size_t>(std::min<std::uint64_t>(length, left + 1)), '\0');
  std::size_t got = 0;
  while (got < length) {
    if (got == data.size())
      data.resize(std::min<std::size_t>(length, std::max<std::size_t>(4096, got * 2)));
    ssize_t n = ::pread(fd, data.data() + got, data.size() - got, static_cast<off_t>(offset + got));
    if (n < 0) {
      if (errno == EINTR) continue;
      return sys_error("read failed", path, errno);
    }
    if (n == 0) break;
    got += static_cast<std::size_t>(n);
    if (past_deadline()) return Error{std::string(path) + ": timed out while reading", ETIMEDOUT};
  }
  data.resize(got);
  return data;
}

Result<std::vector<DirEntry>> RootFs::list_dir(std::string_view path) const {
  auto file = open_checked(path, true);
  if (!file) return file.error();
  DIR* dir = ::fdopendir(file->fd);
  if (dir == nullptr) {
    int err = errno;
    ::close(file->fd);
    return sys_error("", path, err);
  }
  std::vector<DirEntry> entries;
  errno = 0;
  while (struct dirent* ent = ::readdir(dir)) {
    std::string_view name = ent->d_name;
    if (name == "." || name == "..") continue;
    if (entries.size() >= kMaxDirEntries) {
      ::closedir(dir);
      return Error{std::string(path) + ": more than " + std::to_string(kMaxDirEntries) + " entries",
                   E2BIG};
    }
    DirEntry entry{std::string(name), FileType::other};
    switch (ent->d_type) {
      case DT_REG:
        entry.type = FileType::regular;
        break;
      case DT_DIR:
        entry.type = FileType::directory;
        break;
      case DT_LNK:
        entry.type = FileType::symlink;
        break;
      case DT_FIFO:
        entry.type = FileType::fifo;
        break;
      case DT_SOCK:
        entry.type = FileType::socket;
        break;
      case DT_CHR:
        entry.type = FileType::char_device;
        break;
      case DT_BLK:
        entry.type = FileType::block_device;
        break;
      default:
        break;
    }
    entries.push_back(std::move(entry));
  }
  ::closedir(dir);
  std::sort(entries.begin(), entries.end(),
            [](const DirEntry& a, const DirEntry& b) { return a.name < b.name; });
  return entries;
}

}  // namespace pycheck
