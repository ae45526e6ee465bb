// Which Debian package owns a path, from dpkg's file lists
// (/var/lib/dpkg/info/<pkg>.list or <pkg>:<arch>.list, one absolute path per
// line, directories included), the same data `dpkg -S` reads. With usrmerge
// /bin, /sbin and /lib* are links into /usr, while a package may still list the
// old spelling, so both spellings are looked up.
#pragma once

#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "agent/core/result.h"
#include "agent/rootfs/rootfs.h"

namespace pycheck {

inline constexpr std::string_view kDpkgInfoDir = "/var/lib/dpkg/info";

struct DpkgListName {
  std::string package;  // "libpython3.11-minimal"
  std::string arch;     // "amd64", or "" for lists named without one
};

// Pure: "libpython3.11-minimal:amd64.list" -> {"libpython3.11-minimal", "amd64"};
// nullopt for anything not ending in ".list".
std::optional<DpkgListName> parse_dpkg_list_file_name(std::string_view file_name);

// Pure: the spellings of `path` a package may have listed: the path itself and
// its usrmerge twin ("/usr/bin/x" <-> "/bin/x"; likewise sbin, lib, lib32,
// lib64, libx32).
std::vector<std::string> dpkg_path_spellings(std::string_view path);

// Pure: the lines of one .list file that are one of `paths` (exact matches).
std::vector<std::string> dpkg_list_matches(std::string_view list_text,
                                           std::span<const std::string> paths);

struct DpkgOwners {
  bool have_database = false;  // /var/lib/dpkg/info exists (a Debian-family root)
  // For each asked path: the packages whose lists name it (or its usrmerge twin).
  std::map<std::string, std::vector<std::string>> owners;
  std::vector<std::string> unreadable;  // list files that could not be read
};

// Pure: true for paths under /usr/local, where Debian packages never install
// (Debian Policy 9.1.2: it belongs to the local administrator): no package owns them.
bool dpkg_never_installs(std::string_view path);

// Reads every .list once and reports the owners of each of `paths`. A root
// without a dpkg database is not an error: have_database is false. Paths
// dpkg_never_installs() have no owner without a look, and when every path is
// one of them no list is read at all.
Result<DpkgOwners> find_dpkg_owners(const RootFs& fs, std::span<const std::string> paths);

}  // namespace pycheck
