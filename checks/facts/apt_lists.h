// The lists `apt-get update` left in /var/lib/apt/lists, read through RootFs.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agent/core/result.h"
#include "checks/formats/apt_release.h"
#include "checks/formats/apt_sources.h"

namespace pycheck {

class RootFs;

inline constexpr std::string_view kAptListsDir = "/var/lib/apt/lists";

// A list file's content, or nullopt when it is not there.
Result<std::optional<std::string>> read_apt_list(const RootFs& fs, const std::string& path);

// Whether any Packages list of `entry` (its components, its architectures or
// else `architectures`) is in the lists folder, in any compression.
Result<bool> has_packages_list(const RootFs& fs, const AptSourceEntry& entry,
                               const std::vector<std::string>& architectures);

struct PackagesList {
  std::string path;      // the list file read
  std::string verified;  // how it was checked against the Release: "sha256"
  std::string text;      // decompressed
};

// The Packages list of (component, architecture) of `entry`, in whatever
// compression apt stored it, checked against `release` (read from
// `release_path`); nullopt when there is none. Errors: unreadable, corrupt,
// not matching the Release's SHA256, or not listed in it at all.
Result<std::optional<PackagesList>> read_packages_list(const RootFs& fs, const AptSourceEntry& entry,
                                        const AptRelease& release, const std::string& release_path,
                                        std::string_view component, std::string_view architecture,
                                        std::size_t max_bytes);

}  // namespace pycheck
