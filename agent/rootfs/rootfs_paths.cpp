// RootFs's pure helpers: file type names, lexical path work, stat conversion.
#include <cstring>
#include <string>
#include <vector>

#include "agent/core/text.h"
#include "agent/rootfs/rootfs.h"
#include "agent/rootfs/rootfs_internal.h"

namespace pycheck {

namespace rootfs_detail {

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

}  // namespace rootfs_detail

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
  std::vector<std::string_view> stack;
  for (std::string_view part : split(path, '/')) {
    if (part.empty() || part == ".") continue;
    if (part == "..") {
      if (!stack.empty()) stack.pop_back();
      continue;
    }
    stack.push_back(part);
  }
  std::string out;
  out.reserve(path.size() + 1);
  for (std::string_view part : stack) {
    out += '/';
    out += part;
  }
  return out.empty() ? "/" : out;
}

}  // namespace pycheck
