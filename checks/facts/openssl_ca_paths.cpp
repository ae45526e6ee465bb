#include "checks/facts/openssl_ca_paths.h"

#include <algorithm>

#include "agent/core/text.h"

namespace pycheck {

bool is_hash_link_name(std::string_view name) {
  if (name.size() < 10 || name[8] != '.') return false;
  for (std::size_t i = 0; i < 8; ++i) {
    const char c = name[i];
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return std::all_of(name.begin() + 9, name.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::vector<CaDirectory> ca_directories(const Environment& env) {
  std::vector<CaDirectory> dirs;
  if (auto value = env.get("SSL_CERT_DIR")) {
    for (std::string_view dir : split(*value, ':')) {
      if (!dir.empty()) dirs.push_back({std::string(dir), "SSL_CERT_DIR"});
    }
  } else {
    for (std::string_view dir : kDefaultCaDirs) dirs.push_back({std::string(dir), "default"});
  }
  return dirs;
}

Result<HashLinkTargets> resolve_hash_links(const RootFs& fs, std::string_view dir,
                                           const std::vector<DirEntry>& entries,
                                           std::size_t max_links) {
  HashLinkTargets out;
  for (const DirEntry& entry : entries) {
    if (!is_hash_link_name(entry.name) || out.links >= max_links) continue;
    ++out.links;
    auto resolved = fs.resolve(path_join(dir, entry.name));
    if (resolved.timed_out()) return resolved.error();
    if (!resolved) {
      out.unusable.push_back({entry.name, resolved.error().message});
    } else if (resolved->info.type != FileType::regular) {
      // Worded as read_file words it, so both ways of looking say the same.
      out.unusable.push_back({entry.name, resolved->path + ": is a " +
                                              std::string(to_string(resolved->info.type)) +
                                              ", not a regular file"});
    } else {
      if (resolved->info.size == 0) out.empty.push_back(entry.name);
      out.files.push_back(std::move(resolved->path));
    }
  }
  std::sort(out.files.begin(), out.files.end());
  out.files.erase(std::unique(out.files.begin(), out.files.end()), out.files.end());
  return out;
}

Result<json> openssl_dir_cert_pem(const RootFs& fs) {
  json out = {{"path", kOpensslDirCertPem}};
  auto link = fs.lstat(kOpensslDirCertPem);
  if (link.timed_out()) return link.error();
  if (!link) {
    out["present"] = false;
    return out;
  }
  out["present"] = true;
  auto target = fs.read_link(kOpensslDirCertPem);
  if (target.timed_out()) return target.error();
  if (target) out["link_target"] = *target;
  auto resolved = fs.resolve(kOpensslDirCertPem);
  if (resolved.timed_out()) return resolved.error();
  out["resolves"] = resolved.ok() && resolved->info.type == FileType::regular;
  if (resolved) out["resolved_path"] = resolved->path;
  return out;
}

}  // namespace pycheck
