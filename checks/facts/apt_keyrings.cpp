#include "checks/facts/apt_keyrings.h"

#include <algorithm>
#include <cerrno>

#include "agent/core/text.h"
#include "agent/rootfs/rootfs.h"
#include "checks/formats/debian_version.h"
#include "checks/formats/dpkg_status.h"

namespace pycheck {
namespace {

constexpr std::string_view kTrustedParts = "/etc/apt/trusted.gpg.d";
constexpr std::string_view kTrustedLegacy = "/etc/apt/trusted.gpg";
constexpr std::size_t kMaxKeyringBytes = std::size_t{8} << 20;

// apt's name filter for trusted.gpg.d: letters, digits, '_', ':', '.', '-'.
bool is_part_name(std::string_view name) {
  if (!name.ends_with(".gpg") && !name.ends_with(".asc")) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '_' || c == ':' || c == '.' || c == '-';
  });
}

// apt 2.x also reads the legacy keyring; 3.0 only when configured to. An
// unknown apt version reads it, as the older apt did.
bool reads_legacy_keyring(const DpkgDatabase& db) {
  const DpkgRecord* apt = db.find_installed("apt");
  if (apt == nullptr || apt->version.empty()) return true;
  return compare_debian_versions(apt->version, "3.0~").value_or(-1) < 0;
}

Result<OpenPgpKeyring> read_keyring(const RootFs& fs, const std::string& path) {
  auto bytes = fs.read_file(path, kMaxKeyringBytes);
  if (!bytes) return Error{path + ": " + bytes.error().message, bytes.error().errno_value};
  return OpenPgpKeyring{path, std::move(*bytes)};
}

// The default keyrings, used without Signed-By and with a Signed-By that names only fingerprints.
Result<std::vector<OpenPgpKeyring>> default_keyrings(const RootFs& fs, const DpkgDatabase& db) {
  std::vector<std::string> paths;
  auto dir = fs.list_dir(kTrustedParts);
  if (dir) {
    for (const DirEntry& e : *dir) {
      if (is_part_name(e.name)) paths.push_back(path_join(kTrustedParts, e.name));
    }
    std::sort(paths.begin(), paths.end());
  } else if (!dir.missing()) {
    return Error{std::string(kTrustedParts) + ": " + dir.error().message, dir.error().errno_value};
  }
  if (reads_legacy_keyring(db)) paths.emplace_back(kTrustedLegacy);
  std::vector<OpenPgpKeyring> keyrings;
  for (const std::string& path : paths) {
    auto keyring = read_keyring(fs, path);
    if (keyring.missing() && path == kTrustedLegacy) continue;
    if (!keyring) return keyring.error();
    if (!keyring->bytes.empty()) keyrings.push_back(std::move(*keyring));
  }
  return keyrings;
}

}  // namespace

Result<SourceKeys> apt_keys_for(const RootFs& fs, const DpkgDatabase& db,
                                const AptSourceEntry& entry) {
  SourceKeys out;
  const std::string where = entry.origin + ":" + std::to_string(entry.line);
  SignedBy signed_by;
  if (auto it = entry.options.find("signed-by"); it != entry.options.end()) {
    auto parsed = parse_signed_by(it->second);
    if (!parsed) return Error{"Signed-By of " + where + ": " + parsed.error().message, EINVAL};
    signed_by = std::move(*parsed);
  }
  if (!signed_by.inline_key.empty()) {
    out.rule = "Signed-By (inline key)";
    // apt strips every line of an inline key, whatever its indent.
    std::string key;
    for (std::string_view line : split_lines(signed_by.inline_key)) {
      key.append(trim_blanks(line)).push_back('\n');
    }
    out.keys.keyrings.push_back({"Signed-By of " + where, std::move(key)});
    return out;
  }
  out.keys.fingerprints = signed_by.fingerprints;
  for (const std::string& path : signed_by.keyrings) {
    auto keyring = read_keyring(fs, path);
    if (!keyring) {
      return Error{"Signed-By keyring of " + where + ": " + keyring.error().message +
                       " (apt refuses the source, it never falls back to other keys)",
                   keyring.error().errno_value};
    }
    out.keys.keyrings.push_back(std::move(*keyring));
  }
  if (!signed_by.keyrings.empty()) {
    out.rule = "Signed-By";
    return out;
  }
  auto keyrings = default_keyrings(fs, db);
  if (!keyrings) return keyrings.error();
  out.keys.keyrings = std::move(*keyrings);
  out.rule = out.keys.fingerprints.empty() ? "trusted.gpg.d" : "Signed-By fingerprints, trusted.gpg.d";
  return out;
}

}  // namespace pycheck
