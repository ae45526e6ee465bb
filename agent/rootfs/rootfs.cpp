#include "agent/rootfs/rootfs.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <forward_list>
#include <optional>
#include <utility>

#include "agent/rootfs/dir_cache.h"
#include "agent/rootfs/rootfs_internal.h"

namespace pycheck {

using namespace std::string_view_literals;
using rootfs_detail::FdGuard;
using rootfs_detail::info_of;
using rootfs_detail::sys_error;
using rootfs_detail::type_of;

RootFs::Listing RootFs::cached_listing(const std::string& dir) const {
  return dirs_ != nullptr ? dirs_->find_listing(dir) : nullptr;
}

void RootFs::remember_listing(const std::string& dir, Listing listing) const {
  if (dirs_ != nullptr) dirs_->remember_listing(dir, std::move(listing));
}

RootFs::RootFs(std::string root_dir, int root_fd)
    : root_dir_(std::move(root_dir)), root_fd_(root_fd), dirs_(std::make_unique<DirCache>()) {}

Result<RootFs> RootFs::open(const std::string& root_dir) {
  int fd = ::open(root_dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return sys_error("cannot open root directory", root_dir, errno);
  return RootFs(root_dir, fd);
}

RootFs RootFs::adopt(int root_fd, std::string root_dir) {
  return RootFs(std::move(root_dir), root_fd);
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

std::optional<Error> RootFs::deadline_error(std::string_view what) const {
  if (!past_deadline()) return std::nullopt;
  return Error{"timed out while reading " + std::string(what), ETIMEDOUT};
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
  // Canonical path of the current directory ("" at the root); while a
  // component is looked at, it is appended ("/name") and `name()` is it.
  std::string path;
  std::size_t name_at = 0;  // where the component being looked at starts in `path`
  ~Walker() {
    for (const Dir& d : dirs) {
      if (d.owned) ::close(d.fd);
    }
  }
  int current() const { return dirs.empty() ? root_fd : dirs.back().fd; }
  std::string current_path() const { return path.empty() ? "/" : path; }
  // Appends "/name" to `path`: it then names the candidate, and name() is a
  // NUL-terminated copy of `name` for the *at() calls.
  void look_at(std::string_view name) {
    name_at = path.size() + 1;
    path += '/';
    path += name;
  }
  const char* name() const { return path.c_str() + name_at; }
  void forget_candidate() { path.resize(name_at - 1); }
  void enter(int fd, bool owned) { dirs.push_back({fd, owned}); }  // the candidate, a directory
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

// Pushes the components of `path` on `pending` so that the first comes out first.
void push_components(std::vector<std::string_view>& pending, std::string_view path) {
  std::size_t end = path.size();
  while (end > 0) {
    const std::size_t slash = path.rfind('/', end - 1);
    const std::size_t begin = slash == std::string_view::npos ? 0 : slash + 1;
    if (end > begin) pending.push_back(path.substr(begin, end - begin));
    if (slash == std::string_view::npos) break;
    end = slash;
  }
}

}  // namespace

// Resolves `path`. When `parent_out` is given, it receives the directory
// holding the final object (to be closed by the caller when owned) and
// `last_out` its name there ("." when the path named a directory reached through "..").
// With `take_listed_regular` (for a caller that opens the object and checks
// what it opened), a final object this run's listing calls a regular file is
// not looked at again: its info then holds only the type.
Result<Resolved> RootFs::walk(std::string_view path, bool follow_last, ParentDir* parent_out,
                              std::string* last_out, bool take_listed_regular) const {
  if (past_deadline()) return Error{std::string(path) + ": timed out", ETIMEDOUT};
  Resolved resolved;
  Walker w{root_fd_, {}, {}};
  // Room for usual depths up front: no regrowth on the way down.
  w.path.reserve(path.size() + 64);
  w.dirs.reserve(16);
  // Components still to walk, next one last: views into `path` or into `targets`.
  std::vector<std::string_view> pending;
  pending.reserve(16);
  push_components(pending, path);
  std::forward_list<std::string> targets;  // link targets (a list: views into them stay valid)
  int links = 0;
  std::string_view final_name = ".";
  struct stat final_st {};
  bool have_final = false;
  while (!pending.empty()) {
    const std::string_view part = pending.back();
    pending.pop_back();
    if (part == "."sv) continue;
    if (part == ".."sv) {
      w.pop();
      continue;
    }
    const bool is_last = pending.empty();
    w.look_at(part);  // w.path now names the candidate
    std::optional<std::string> known_link;
    if (!is_last && dirs_ != nullptr) {
      // A directory an earlier walk opened: no need to look at it again.
      if (int cached = dirs_->find(w.path); cached >= 0) {
        w.enter(cached, false);
        continue;
      }
      // A link an earlier walk followed here: its target is walked again, unread.
      known_link = dirs_->find_link(w.path);
    }
    // This run's listing of the directory, if it was listed, settles a name it
    // lacks, and a link it names is read without being looked at first.
    const DirCache::Listed listed =
        known_link || dirs_ == nullptr
            ? DirCache::Listed::not_listed
            : dirs_->listed(std::string_view(w.path).substr(0, w.name_at - 1), part);
    if (listed == DirCache::Listed::absent) return sys_error("", w.path, ENOENT);
    if (listed == DirCache::Listed::symlink && (!is_last || follow_last)) {
      char buf[4096];
      ssize_t n = ::readlinkat(w.current(), w.name(), buf, sizeof buf);
      if (n >= 0) known_link.emplace(buf, static_cast<std::size_t>(n));  // else: look at it
      if (n >= 0 && !is_last && dirs_ != nullptr) dirs_->remember_link(w.path, *known_link);
    }
    if (is_last && take_listed_regular && parent_out != nullptr &&
        listed == DirCache::Listed::regular) {
      final_name = part;
      final_st.st_mode = S_IFREG;
      have_final = true;
      parent_out->listed_regular = true;
      break;
    }
    // On the way to the last component a directory is entered at once: O_PATH
    // never opens a device, and O_DIRECTORY | O_NOFOLLOW fails (ENOTDIR) on
    // anything else, links included, which are looked at below.
    if (!is_last && !known_link) {
      int fd = ::openat(w.current(), w.name(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (fd >= 0) {
        const bool cached = dirs_ != nullptr && dirs_->adopt(w.path, fd);
        w.enter(fd, !cached);
        continue;
      }
      if (errno != ENOTDIR) return sys_error("", w.path, errno);
    }
    struct stat st {};
    if (!known_link && ::fstatat(w.current(), w.name(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
      return sys_error("", w.path, errno);
    }
    if (known_link || (S_ISLNK(st.st_mode) && (!is_last || follow_last))) {
      if (++links > kMaxSymlinks) {
        return Error{std::string(path) + ": too many levels of symbolic links", ELOOP};
      }
      const std::string* target = nullptr;
      if (known_link) {
        target = &targets.emplace_front(std::move(*known_link));
      } else {
        char buf[4096];
        ssize_t n = ::readlinkat(w.current(), w.name(), buf, sizeof buf);
        if (n < 0) return sys_error("cannot read link", w.path, errno);
        target = &targets.emplace_front(buf, static_cast<std::size_t>(n));
        if (!is_last && dirs_ != nullptr) dirs_->remember_link(w.path, *target);
      }
      resolved.chain.push_back({w.path, *target});
      w.forget_candidate();
      if (target->starts_with('/')) w.reset();  // absolute targets are re-anchored at the root
      push_components(pending, *target);
      continue;
    }
    if (is_last) {
      final_name = part;
      final_st = st;
      have_final = true;
      break;
    }
    if (!S_ISDIR(st.st_mode)) return Error{w.path + ": not a directory", ENOTDIR};
    int fd = ::openat(w.current(), w.name(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) return sys_error("", w.path, errno);
    const bool cached = dirs_ != nullptr && dirs_->adopt(w.path, fd);
    w.enter(fd, !cached);
  }
  if (!have_final) {
    // The path named a directory itself ("/", or something ending in "..").
    if (::fstat(w.current(), &final_st) != 0) return sys_error("", w.current_path(), errno);
    resolved.path = w.current_path();
  } else {
    resolved.path = w.path;  // the candidate: the final object
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
// is never opened, and a swap between stat and open is caught. Before the
// open, this run's listing of the directory serves as well as an lstat does.
Result<RootFs::OpenFile> RootFs::open_checked(std::string_view path, bool want_directory,
                                              bool take_listing) const {
  ParentDir parent;
  std::string last;
  auto r = walk(path, true, &parent, &last, take_listing && !want_directory);
  if (!r) return r.error();
  FdGuard guard(parent.owned ? parent.fd : -1);
  auto file = open_found(parent.fd, last.c_str(), *r, want_directory, !parent.listed_regular);
  // Not what the listing said (it changed during the run): look at it the usual way.
  if (!file && parent.listed_regular) return open_checked(path, want_directory, false);
  return file;
}

// Opens `name` in `dir_fd`, which `found` says is the regular file (or
// directory) wanted, and checks after the open that it still is that type
// and, with `same_object` (when `found` came from a stat), that very object.
Result<RootFs::OpenFile> RootFs::open_found(int dir_fd, const char* name, const Resolved& found,
                                            bool want_directory, bool same_object) const {
  const FileType want = want_directory ? FileType::directory : FileType::regular;
  if (found.info.type != want) {
    return Error{found.path + ": is a " + std::string(to_string(found.info.type)) + ", not a " +
                     std::string(to_string(want)),
                 want_directory ? ENOTDIR : EINVAL};
  }
  int flags = O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY;
  if (want_directory) flags |= O_DIRECTORY;
  int fd = ::openat(dir_fd, name, flags);
  if (fd < 0) return sys_error("", found.path, errno);
  struct stat st {};
  if (::fstat(fd, &st) != 0 || type_of(st.st_mode) != want ||
      (same_object && (st.st_ino != found.info.ino || st.st_dev != found.info.dev))) {
    ::close(fd);
    return Error{found.path + ": changed while being opened", EAGAIN};
  }
  return OpenFile{fd, static_cast<std::uint64_t>(st.st_size)};
}

// Reads from the start of an open file: all of it (`whole`, failing when it
// is larger than max_bytes) or its first max_bytes. The buffer starts at the
// size fstat gave (one byte more, to see the end in one read) and grows only
// when the file does (or st_size lies, as in /proc), within the cap. Having
// read exactly the size fstat gave, it stops: that is the file as of the
// open, and no read is spent to meet the end (a file that says 0, as /proc
// files do, or whose reads come short is still read until the end).
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
    if (file.size > 0 && got == file.size) break;
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

// The kernel gives a process a table of 64 descriptors and grows it when a
// 65th is opened. A probe started with only fds 0-2 open (docker exec, a
// Kubernetes exec probe) has that small table, and the directories a RootFs
// keeps open pass 64 in a full run. A failed dup2 (a low RLIMIT_NOFILE)
// leaves things as they were.
void reserve_descriptors_for_rootfs() {
  constexpr int kHighDescriptor = RootFs::kMaxCachedDirs + 64;
  if (::dup2(STDERR_FILENO, kHighDescriptor) == kHighDescriptor) ::close(kHighDescriptor);
}

}  // namespace pycheck
