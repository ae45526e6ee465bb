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

bool is_hex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

// "ABCD...40 hex" or the same with apt's exact-key '!', upper-cased; empty when not one.
std::string fingerprint_of(std::string_view item) {
  const bool exact = item.ends_with('!');
  if (exact) item.remove_suffix(1);
  if (item.size() != 40 || !std::all_of(item.begin(), item.end(), is_hex)) return {};
  std::string out;
  for (char c : item) out.push_back(c >= 'a' && c <= 'f' ? static_cast<char>(c - 32) : c);
  if (exact) out.push_back('!');
  return out;
}

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
  if (!entry.signed_by_key.empty()) {
    out.rule = "Signed-By (inline key)";
    out.keys.keyrings.push_back({"Signed-By of " + where, entry.signed_by_key});
    return out;
  }
  bool has_paths = false;
  for (const std::string& item : entry.signed_by) {
    if (item.starts_with('/')) {
      has_paths = true;
      auto keyring = read_keyring(fs, item);
      if (!keyring) {
        return Error{"Signed-By keyring of " + where + ": " + keyring.error().message +
                         " (apt refuses the source, it never falls back to other keys)",
                     keyring.error().errno_value};
      }
      out.keys.keyrings.push_back(std::move(*keyring));
    } else if (std::string fingerprint = fingerprint_of(item); !fingerprint.empty()) {
      out.keys.fingerprints.push_back(std::move(fingerprint));
    } else {
      return Error{"Signed-By of " + where + ": '" + item +
                       "' is neither an absolute keyring path nor a 40-digit fingerprint",
                   EINVAL};
    }
  }
  if (has_paths) {
    out.rule = "Signed-By";
    return out;
  }
  auto keyrings = default_keyrings(fs, db);
  if (!keyrings) return keyrings.error();
  out.keys.keyrings = std::move(*keyrings);
  out.rule = entry.signed_by.empty() ? "trusted.gpg.d" : "Signed-By fingerprints, trusted.gpg.d";
  return out;
}

}  // namespace pycheck
