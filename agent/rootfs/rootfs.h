// RootFs: the one reader through which every check reads the inspected system.
//
// It is bound to a root directory (default "/", or a mounted image, or
// /proc/PID/root) and treats it as "/": it resolves symlinks itself, one path
// component at a time with openat(O_NOFOLLOW), re-anchoring absolute targets at
// the root and clamping ".." at the root, so nothing the inspected system
// contains can make pycheck read outside it. It never opens FIFOs, devices or
// sockets (a FIFO must not hang a probe), caps how much it reads, stops when the
// run's deadline has passed, and never writes. Errors are values.
//
// A RootFs keeps the directories it has walked open (up to kMaxCachedDirs,
// keyed by canonical path, shared by all threads) so that later paths through
// them cost no system call per component: one RootFs is meant for one run, and
// sees a directory renamed or replaced during its life as it was when first
// walked (serve mode opens a new RootFs for each run). So it does with the
// symlinks met on the way to a directory (as /lib -> usr/lib, up to
// kMaxCachedDirs): read once, their targets are still walked, counted against
// kMaxSymlinks and reported in the chain on every walk. So it does with the
// directories it lists (up to kMaxKeptListedEntries entries in all): a later
// list_dir returns the same entries, a name the listing lacks is missing
// without a system call, a link it names is read without an lstat first, and
// a regular file it names is opened without one (what was opened is still
// checked). Otherwise the final component, link or not, is looked at afresh.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "agent/core/result.h"

namespace pycheck {

enum class FileType { regular, directory, symlink, fifo, socket, char_device, block_device, other };
std::string_view to_string(FileType type);

struct FileInfo {
  FileType type = FileType::other;
  mode_t mode = 0;  // permission bits (st_mode & 07777)
  uid_t uid = 0;
  gid_t gid = 0;
  std::uint64_t size = 0;
  std::int64_t mtime = 0;  // seconds since the epoch
  dev_t dev = 0;
  ino_t ino = 0;
  bool executable() const { return type == FileType::regular && (mode & 0111) != 0; }
};

// One step of a resolution: the link that was met and what it pointed to.
struct LinkStep {
  std::string link;    // absolute path (inside the root) of the symlink
  std::string target;  // its target, as written in the link
};

struct Resolved {
  std::string path;             // canonical absolute path inside the root (no links, no ..)
  std::vector<LinkStep> chain;  // symlinks followed, in order
  FileInfo info;                // of the final object (not followed if it is a dangling end)
};

struct DirEntry {
  std::string name;
  FileType type = FileType::other;  // from d_type; `other` when the filesystem does not say
};

class RootFs {
 public:
  static constexpr std::size_t kDefaultMaxRead = 64u << 20;  // 64 MiB
  static constexpr int kMaxSymlinks = 40;                    // as Linux's MAXSYMLINKS
  static constexpr std::size_t kMaxDirEntries = 100000;
  static constexpr std::size_t kMaxCachedDirs = 256;  // descriptors (and link targets) kept
  static constexpr std::size_t kMaxKeptListedEntries = 20000;  // in all listings kept in a run

  // Opens the root directory. Fails when it is not a readable directory.
  static Result<RootFs> open(const std::string& root_dir);
  // Takes ownership of `root_fd`, a directory descriptor (O_PATH is enough),
  // as the root: a container's root opened through its pinned /proc/PID, so a
  // PID reused meanwhile cannot swap the root. `root_dir` names it in errors.
  static RootFs adopt(int root_fd, std::string root_dir);

  RootFs(RootFs&& other) noexcept;
  RootFs& operator=(RootFs&& other) noexcept;
  RootFs(const RootFs&) = delete;
  RootFs& operator=(const RootFs&) = delete;
  ~RootFs();

  const std::string& root_dir() const { return root_dir_; }

  // Every operation fails with "timed out" once this point has passed.
  void set_deadline(std::chrono::steady_clock::time_point deadline) { deadline_ = deadline; }
  // "timed out while reading <what>" (ETIMEDOUT) once the deadline has passed.
  // The existence tests below answer false for a read the deadline stopped:
  // a check that uses them asks this before it judges.
  std::optional<Error> deadline_error(std::string_view what) const;

  // Resolves `path` (absolute inside the root; relative is taken from "/"),
  // following every symlink including the last one.
  Result<Resolved> resolve(std::string_view path) const;

  Result<FileInfo> stat(std::string_view path) const;   // follows links
  Result<FileInfo> lstat(std::string_view path) const;  // does not follow the last one
  bool exists(std::string_view path) const { return stat(path).ok(); }
  bool is_directory(std::string_view path) const;
  bool is_regular(std::string_view path) const;
  Result<std::string> read_link(std::string_view path) const;

  // Reads a whole regular file (following links). Refuses anything that is not
  // a regular file and anything larger than `max_bytes`.
  Result<std::string> read_file(std::string_view path,
                                std::size_t max_bytes = kDefaultMaxRead) const;
  // Reads at most `max_bytes` from the start of a regular file (shebangs, ELF headers).
  Result<std::string> read_head(std::string_view path, std::size_t max_bytes) const;

  // Reads at most `length` bytes at `offset` of a regular file (an ELF dynamic
  // section deep inside libpython, a locale in a large archive); short at EOF.
  Result<std::string> read_range(std::string_view path, std::uint64_t offset,
                                 std::size_t length) const;

  // Entries of a directory (following links), sorted by name, without "." and "..".
  Result<std::vector<DirEntry>> list_dir(std::string_view path) const;

  // A regular file opened once for several reads at offsets (an ELF object's
  // headers, then the sections they point to): one walk and one open in all.
  // Closed when destroyed; it must not outlive its RootFs.
  class File {
   public:
    File(File&& other) noexcept;
    File& operator=(File&& other) noexcept;
    File(const File&) = delete;
    File& operator=(const File&) = delete;
    ~File();
    const std::string& path() const { return path_; }  // as opened; errors name it
    std::uint64_t size() const { return size_; }       // st_size at open
    // At most `length` bytes at `offset`; short at EOF.
    Result<std::string> read_range(std::uint64_t offset, std::size_t length) const;

   private:
    friend class RootFs;
    File(const RootFs* fs, std::string path, int fd, std::uint64_t size)
        : fs_(fs), path_(std::move(path)), fd_(fd), size_(size) {}
    const RootFs* fs_ = nullptr;
    std::string path_;
    int fd_ = -1;
    std::uint64_t size_ = 0;
  };
  // Opens a regular file (following links), refusing anything else.
  Result<File> open_file(std::string_view path) const;
  // Opens the regular file that resolve() returned as `resolved`. When its
  // directory is one the RootFs keeps open (the usual case) there is no second
  // walk; the file must still be the one resolve() found.
  Result<File> open_resolved(const Resolved& resolved) const;

 private:
  struct DirCache;
  using Listing = std::shared_ptr<const std::vector<DirEntry>>;
  Listing cached_listing(const std::string& dir) const;
  void remember_listing(const std::string& dir, Listing listing) const;
  // The directory holding a walk's final object: `owned` when the caller must close `fd`.
  struct ParentDir {
    int fd = -1;
    bool owned = false;
    // The final object was not looked at: this run's listing of its directory
    // says it is a regular file (only when the walk was asked to take that).
    bool listed_regular = false;
  };
  struct OpenFile {
    int fd = -1;
    std::uint64_t size = 0;  // st_size at open
  };

  RootFs(std::string root_dir, int root_fd);
  Result<Resolved> walk(std::string_view path, bool follow_last, ParentDir* parent_out,
                        std::string* last_out, bool take_listed_regular = false) const;
  Result<OpenFile> open_checked(std::string_view path, bool want_directory,
                                bool take_listing = true) const;
  Result<OpenFile> open_found(int dir_fd, const char* name, const Resolved& found,
                              bool want_directory, bool same_object = true) const;
  Result<std::string> read_fd(const OpenFile& file, std::string_view path, std::size_t max_bytes,
                              bool whole) const;
  bool past_deadline() const;

  std::string root_dir_;
  int root_fd_ = -1;
  std::unique_ptr<DirCache> dirs_;
  std::chrono::steady_clock::time_point deadline_ = std::chrono::steady_clock::time_point::max();
};

// Grows this process's descriptor table to hold every directory a RootFs may
// keep open. Call it while the process has one thread: growing the table later,
// once threads share it, waits for an RCU grace period (10-25 ms).
void reserve_descriptors_for_rootfs();

// Path helpers for absolute, root-relative paths (pure string work).
std::string path_join(std::string_view dir, std::string_view name);
std::string_view path_dirname(std::string_view path);   // "/usr/bin/x" -> "/usr/bin", "/x" -> "/"
std::string_view path_basename(std::string_view path);  // "/usr/bin/x" -> "x"
// Lexically normalises an absolute path: collapses "//", ".", and ".." (clamped at "/").
std::string path_normalize(std::string_view path);

}  // namespace pycheck
