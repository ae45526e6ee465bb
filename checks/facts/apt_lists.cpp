#include "checks/facts/apt_lists.h"

#include "agent/rootfs/rootfs.h"
#include "checks/formats/apt_list_files.h"
#include "checks/formats/decompress.h"

namespace pycheck {

Result<std::optional<std::string>> read_apt_list(const RootFs& fs, const std::string& path) {
  auto text = fs.read_file(path);
  if (text.missing()) return std::optional<std::string>{};
  if (!text) return text.error();
  return std::optional<std::string>{std::move(*text)};
}

Result<bool> has_packages_list(const RootFs& fs, const AptSourceEntry& entry,
                               const std::vector<std::string>& architectures) {
  for (const std::string& component : entry.components) {
    for (const std::string& arch :
         entry.architectures.empty() ? architectures : entry.architectures) {
      for (const ListFileCandidate& c :
           packages_list_candidates(entry.uri, entry.suite, component, arch)) {
        auto found = fs.stat(path_join(kAptListsDir, c.name));
        if (found) return true;
        if (!found.missing()) return found.error();
      }
    }
  }
  return false;
}

Result<std::optional<PackagesList>> read_packages_list(const RootFs& fs, const AptSourceEntry& entry,
                                        const AptRelease& release, const std::string& release_path,
                                        std::string_view component, std::string_view architecture,
                                        std::size_t max_bytes) {
  const std::string dir = std::string(component) + "/binary-" + std::string(architecture) + "/";
  Result<std::string> raw = Error{"", 2};
  ListFileCandidate found;
  for (const ListFileCandidate& c :
       packages_list_candidates(entry.uri, entry.suite, component, architecture)) {
    raw = fs.read_file(path_join(kAptListsDir, c.name), max_bytes);
    found = c;
    if (!raw.missing()) break;
  }
  const std::string list_path = path_join(kAptListsDir, found.name);
  if (raw.missing()) return std::optional<PackagesList>{};
  if (!raw) return raw.error();
  auto plain = decompress(*raw, found.compression, max_bytes);
  if (!plain) return Error{list_path + ": " + plain.error().message};
  // apt may recompress lists (GzipIndexes: lz4), so the file as stored
  // need not match the Release entry for its suffix; the decompressed
  // content is always the index whose plain "Packages" hash Release lists.
  const ReleaseFile* listed = release.find_file(dir + "Packages");
  const ReleaseFile* listed_as_stored =
      release.find_file(dir + "Packages" + std::string(file_suffix(found.compression)));
  if (listed) {
    if (sha256_hex(*plain) != listed->sha256 || plain->size() != listed->size) {
      return Error{list_path + ": content does not match the SHA256 of " + dir + "Packages in " +
                   release_path + " (stale or corrupt list: run apt-get update)"};
    }
  } else if (listed_as_stored && found.compression != Compression::none) {
    if (sha256_hex(*raw) != listed_as_stored->sha256) {
      return Error{list_path + ": does not match its SHA256 in " + release_path};
    }
  } else {  // nothing the signature covers vouches for it: never counted
    return Error{list_path + ": " + release_path + " lists no SHA256 for " + dir +
                 "Packages, so nothing verifies it"};
  }
  return std::optional<PackagesList>{PackagesList{list_path, "sha256", std::move(*plain)}};
}

}  // namespace pycheck
