// Readers of apt's source lists (pure: bytes in, entries out), following
// apt-pkg/sourcelist.cc and sources.list(5):
//
//  * one-line format (sources.list, *.list):
//      deb [ arch=amd64,i386 signed-by=/usr/share/keyrings/x.gpg ] URI suite [component...]
//    '#' starts a comment (except inside [options]); a suite ending in '/' is
//    a flat repository and takes no components.
//  * deb822 format (*.sources): stanzas with Types, URIs, Suites, Components,
//    Enabled, Architectures, Signed-By (paths, fingerprints or an inline
//    ASCII-armoured key), Trusted; '#' comment lines. Each stanza expands to
//    one entry per (type, URI, suite), as apt creates one index per pair.
//
// Like apt, URIs must contain ':' and get a trailing '/'; "$(ARCH)" is left
// as written. Entries apt would refuse (unknown type, missing component, ...)
// are not returned; each becomes a problem naming the line or stanza.
#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agent/core/result.h"

namespace pycheck {

enum class AptSourceType { deb, deb_src };
std::string_view to_string(AptSourceType type);  // "deb", "deb-src"

struct AptSourceEntry {
  AptSourceType type = AptSourceType::deb;
  std::string uri;                         // "http://mirror.example/debian/" (always ends in '/')
  std::string suite;                       // "bookworm-security", or "./" for a flat repository
  std::vector<std::string> components;     // empty for a flat repository
  std::vector<std::string> architectures;  // arch= / Architectures:, empty = apt's default
  std::vector<std::string> signed_by;      // keyring paths or fingerprints
  std::string signed_by_key;               // an inline ASCII-armoured key (deb822 only)
  std::optional<bool> trusted;             // trusted= / Trusted:, unset when not given
  bool enabled = true;                     // false for a deb822 stanza with "Enabled: no"
  // Every option as written, lower-case one-line names ("arch", "signed-by",
  // "arch+", "by-hash", ...); deb822 fields are mapped to those names.
  std::map<std::string, std::string> options;
  std::string origin;    // the file
  std::size_t line = 0;  // the line (one-line) or the stanza's first line (deb822)

  bool flat() const { return !suite.empty() && suite.back() == '/'; }
};

struct AptSourcesProblem {
  std::string origin;
  std::size_t line = 0;
  std::string message;
};

struct AptSources {
  std::vector<AptSourceEntry> entries;  // disabled deb822 entries included (enabled = false)
  std::vector<AptSourcesProblem> problems;
};

// What a Signed-By value (options["signed-by"]) names, as apt reads it
// (apt-pkg/deb/debmetaindex.cc): an inline ASCII-armored key block, or
// absolute keyring paths and fingerprints (40 hex digits; a trailing '!'
// means that exact key, not a subkey) separated by commas or blanks.
struct SignedBy {
  std::string inline_key;                 // the armored block, when the value is one
  std::vector<std::string> keyrings;      // paths, in order
  std::vector<std::string> fingerprints;  // upper-case hex, '!' kept
};
// Errors (EINVAL): an item that is neither a path nor a fingerprint, or no item at all.
Result<SignedBy> parse_signed_by(std::string_view value);

// A one-line format file (sources.list or sources.list.d/*.list).
AptSources parse_sources_list(std::string_view text, std::string_view origin);
// A deb822 format file (sources.list.d/*.sources).
AptSources parse_deb822_sources(std::string_view text, std::string_view origin);
// Chooses by the name's extension as apt does: ".sources" is deb822, anything else one-line.
AptSources parse_apt_sources_file(std::string_view text, std::string_view origin);

}  // namespace pycheck
