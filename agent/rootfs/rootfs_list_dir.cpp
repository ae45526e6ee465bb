// RootFs::list_dir: reads a directory with getdents64 into one buffer of
// names and sorts views of them, so each entry's name is copied once, already
// in order (no DIR stream: no fstat/fcntl of fdopendir, no string moves while sorting).
#include <dirent.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "agent/rootfs/rootfs.h"
#include "agent/rootfs/rootfs_internal.h"

namespace pycheck {
namespace {

using namespace std::string_view_literals;
using rootfs_detail::FdGuard;
using rootfs_detail::sys_error;

constexpr std::size_t kDirBufferSize = 32 * 1024;  // as glibc's DIR stream

FileType type_of_dirent(unsigned char d_type) {
  switch (d_type) {
    case DT_REG:
      return FileType::regular;
    case DT_DIR:
      return FileType::directory;
    case DT_LNK:
      return FileType::symlink;
    case DT_FIFO:
      return FileType::fifo;
    case DT_SOCK:
      return FileType::socket;
    case DT_CHR:
      return FileType::char_device;
    case DT_BLK:
      return FileType::block_device;
    default:
      return FileType::other;  // DT_UNKNOWN: the filesystem does not say
  }
}

// One entry while listing: where its name is in the names buffer.
struct NameRef {
  std::uint32_t offset;
  std::uint32_t length;
  FileType type;
};

}  // namespace

Result<std::vector<DirEntry>> RootFs::list_dir(std::string_view path) const {
  ParentDir parent;
  std::string last;
  auto found = walk(path, true, &parent, &last);
  if (!found) return found.error();
  FdGuard parent_guard(parent.owned ? parent.fd : -1);
  if (Listing listing = cached_listing(found->path)) return *listing;  // listed this run
  auto file = open_found(parent.fd, last.c_str(), *found, true);
  if (!file) return file.error();
  FdGuard guard(file->fd);
  auto buffer = std::make_unique_for_overwrite<char[]>(kDirBufferSize);
  std::string names;
  std::vector<NameRef> refs;
  while (true) {
    const ssize_t got = ::getdents64(file->fd, buffer.get(), kDirBufferSize);
    if (got < 0) {
      if (errno == EINTR) continue;
      return sys_error("", path, errno);
    }
    if (got == 0) break;
    // Records as the kernel lays them out (struct dirent64); fields copied
    // out by offset, the name bounded by its record.
    std::size_t pos = 0;
    while (pos < static_cast<std::size_t>(got)) {
      const char* record = buffer.get() + pos;
      unsigned short record_length = 0;
      std::memcpy(&record_length, record + offsetof(struct dirent64, d_reclen),
                  sizeof record_length);
      if (record_length <= offsetof(struct dirent64, d_name)) break;  // never, from a kernel
      pos += record_length;
      const char* name_start = record + offsetof(struct dirent64, d_name);
      const std::string_view name(
          name_start, ::strnlen(name_start, record_length - offsetof(struct dirent64, d_name)));
      if (name == "."sv || name == ".."sv) continue;
      if (refs.size() >= kMaxDirEntries) {
        return Error{
            std::string(path) + ": more than " + std::to_string(kMaxDirEntries) + " entries",
            E2BIG};
      }
      const auto d_type = static_cast<unsigned char>(record[offsetof(struct dirent64, d_type)]);
      refs.push_back({static_cast<std::uint32_t>(names.size()),
                      static_cast<std::uint32_t>(name.size()), type_of_dirent(d_type)});
      names += name;
    }
  }
  // Byte order (unsigned), as std::string's operator<.
  const char* base = names.data();
  std::sort(refs.begin(), refs.end(), [base](const NameRef& a, const NameRef& b) {
    const int c = std::memcmp(base + a.offset, base + b.offset, std::min(a.length, b.length));
    return c != 0 ? c < 0 : a.length < b.length;
  });
  std::vector<DirEntry> entries;
  entries.reserve(refs.size());
  for (const NameRef& ref : refs)
    entries.push_back({std::string(base + ref.offset, ref.length), ref.type});
  remember_listing(found->path, std::make_shared<const std::vector<DirEntry>>(entries));
  return entries;
}

}  // namespace pycheck
