// RootFs::DirCache: what one RootFs (one run) keeps of the directories it
// walks and lists (see rootfs.h). Internal to the RootFs implementation files.
#pragma once

#include <unistd.h>

#include <algorithm>
#include <map>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "agent/rootfs/rootfs.h"

namespace pycheck {

// Directories already walked, by canonical path: O_PATH descriptors kept open
// for the RootFs's life and shared by the check threads; the targets of
// symlinks met on the way to them (as /lib -> usr/lib), which are then walked
// again without being read again; and the directories' listings, taken once.
// Lookups, by far the most frequent, share the lock: parallel walks do not
// wait for each other.
struct RootFs::DirCache {
  // What the walk learns from a directory's listing (see `listed`).
  enum class Listed { not_listed, absent, symlink, regular, other };

  std::shared_mutex mutex;
  std::unordered_map<std::string, int> fds;
  std::unordered_map<std::string, std::string> links;
  std::map<std::string, Listing, std::less<>> listings;  // sorted by name
  std::size_t kept_entries = 0;                          // in all of `listings`
  ~DirCache() {
    for (const auto& entry : fds) ::close(entry.second);
  }
  int find(const std::string& path) {
    std::shared_lock lock(mutex);
    auto it = fds.find(path);
    return it == fds.end() ? -1 : it->second;
  }
  // Offers `fd` (a directory opened at `path`): true when the cache took it
  // (the caller must not close it), false when it is full or already has one.
  bool adopt(const std::string& path, int fd) {
    std::unique_lock lock(mutex);
    if (fds.size() >= kMaxCachedDirs) return false;
    return fds.try_emplace(path, fd).second;
  }
  std::optional<std::string> find_link(const std::string& path) {
    std::shared_lock lock(mutex);
    auto it = links.find(path);
    if (it == links.end()) return std::nullopt;
    return it->second;
  }
  void remember_link(const std::string& path, const std::string& target) {
    std::unique_lock lock(mutex);
    if (links.size() < kMaxCachedDirs) links.try_emplace(path, target);
  }
  Listing find_listing(std::string_view dir) {
    std::shared_lock lock(mutex);
    auto it = listings.find(dir);
    return it == listings.end() ? nullptr : it->second;
  }
  // Keeps `listing` while all kept listings hold at most kMaxKeptListedEntries
  // entries: a hostile PATH of huge directories must not grow the run's memory.
  void remember_listing(const std::string& dir, Listing listing) {
    std::unique_lock lock(mutex);
    if (kept_entries + listing->size() > kMaxKeptListedEntries) return;
    if (listings.try_emplace(dir, listing).second) kept_entries += listing->size();
  }
  // What this run's listing of `dir` ("" for the root) says of `name`.
  Listed listed(std::string_view dir, std::string_view name) {
    if (dir.empty()) dir = std::string_view("/");
    std::shared_lock lock(mutex);
    if (listings.empty()) return Listed::not_listed;
    auto it = listings.find(dir);
    if (it == listings.end()) return Listed::not_listed;
    const std::vector<DirEntry>& entries = *it->second;
    auto at = std::lower_bound(entries.begin(), entries.end(), name,
                               [](const DirEntry& e, std::string_view n) { return e.name < n; });
    if (at == entries.end() || at->name != name) return Listed::absent;
    if (at->type == FileType::symlink) return Listed::symlink;
    return at->type == FileType::regular ? Listed::regular : Listed::other;
  }
};

}  // namespace pycheck
