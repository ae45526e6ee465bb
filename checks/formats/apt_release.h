// Reader of apt repository Release and InRelease files (pure: bytes in,
// values out), following apt (apt-pkg/contrib/gpgv.cc SplitClearSignedFile,
// apt-pkg/deb/debmetaindex.cc) and RFC 4880 section 7.
//
// NOT A SIGNATURE CHECK. InRelease is an OpenPGP clearsigned message; this
// reader only extracts its signed text (armor headers skipped, "- "
// dash-escapes removed, the signature block required but not verified).
// Anything built on it must not present the values as authenticated: apt
// verified them with gpgv when it downloaded the file, pycheck does not.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agent/core/result.h"
#include "checks/formats/decompress.h"

namespace pycheck {

// The signed text of a clearsigned message: split_clearsigned's message
// (checks/formats/clearsigned.h, apt's strictness: only "Hash:" armor
// headers, "- " escapes, nothing unsigned after the signature; trailing
// blanks and "\r" removed from each line; "\n" line ends with a final one).
// Not verified: see openpgp_verify.h for that.
Result<std::string> clearsigned_body(std::string_view text);

// True when `text` starts as a clearsigned message (InRelease rather than Release).
bool is_clearsigned(std::string_view text);

// A date as apt writes and reads them in Release files (RFC 1123):
// "Sat, 28 Nov 2026 10:00:00 UTC". The zone must be UTC, GMT, Z or a numeric
// zero offset (+0000), as apt requires; the weekday is not cross-checked.
Result<std::chrono::sys_seconds> parse_release_date(std::string_view text);

struct ReleaseFile {
  std::string sha256;  // 64 lower-case hex digits
  std::uint64_t size = 0;
  std::string path;  // relative to dists/<suite>/, e.g. "main/binary-amd64/Packages.xz"
};

struct ReleaseProblem {
  std::size_t line = 0;  // 1-based line of the body (0: the whole file)
  std::string message;
};

struct AptRelease {
  std::string origin;    // "Debian", "Ubuntu"
  std::string label;     // "Debian-Security"
  std::string suite;     // "oldstable-security", "jammy-security"
  std::string codename;  // "bookworm-security", "jammy"
  std::string version;   // "12", "12.15"
  std::string date_text;
  std::string valid_until_text;
  std::optional<std::chrono::sys_seconds> date;         // unset when absent or unparseable
  std::optional<std::chrono::sys_seconds> valid_until;  // idem
  bool acquire_by_hash = false;
  std::vector<std::string> architectures;
  // Component names with everything up to the last '/' removed, as apt does
  // ("updates/main" in Debian-Security's Release is "main").
  std::vector<std::string> components;
  // "Packages" when architecture-all packages are in the binary-<arch>
  // indexes (and no separate binary-all index needs fetching); else empty.
  std::string no_support_for_architecture_all;
  std::vector<ReleaseFile> sha256;
  bool signed_message = false;  // came from a clearsigned (InRelease) file
  std::vector<ReleaseProblem> problems;

  const ReleaseFile* find_file(std::string_view path) const;
};

// Parses an InRelease (clearsigned) or Release (plain) file. Errors: a broken
// clearsigned structure, or no Release stanza at all. Unparseable dates,
// malformed SHA256 lines and extra stanzas are problems, not errors.
Result<AptRelease> parse_apt_release(std::string_view text);

// The rule pycheck uses for "this repository is a security repository": Suite
// or Codename ends with "-security" (apt's own IsSecurityUpdate looks at the
// suite), or Label is "Debian-Security" (Debian before bookworm used
// "<codename>/updates" with Suite "stable").
bool is_security_suite(const AptRelease& release);

struct PackagesIndexChoice {
  std::string path;        // as listed: "main/binary-amd64/Packages.xz"
  std::string fetch_path;  // the by-hash path when Acquire-By-Hash: yes, else `path`
  std::string sha256;
  std::uint64_t size = 0;
  Compression compression = Compression::none;
};

// The Packages index of (component, architecture) to download, from the
// SHA256 list: Packages.xz, else Packages.gz, else Packages. With
// Acquire-By-Hash the fetch path is "<component>/binary-<arch>/by-hash/SHA256/<hex>".
// Error (ENOENT) when none of them is listed.
Result<PackagesIndexChoice> pick_packages_index(const AptRelease& release,
                                                std::string_view component,
                                                std::string_view architecture);

// Lowercase hex SHA-256 of `data`, as Release files list it.
std::string sha256_hex(std::string_view data);

}  // namespace pycheck
