// Debian package versions, parsed and compared exactly as dpkg does
// (lib/dpkg/parsehelp.c parseversion, lib/dpkg/version.c verrevcmp).
//
// A version is [epoch:]upstream[-revision]: the epoch is the decimal number
// before the FIRST ':', the revision is the text after the LAST '-'. Versions
// compare by epoch, then upstream, then revision, each string with verrevcmp:
// non-digit runs character by character with '~' < end of string < ASCII
// letters < everything else, digit runs numerically. A missing revision
// compares equal to "0" ("1.0" == "1.0-0").
//
// Pure functions: no I/O, no allocation in the comparisons, no exceptions.
#pragma once

#include <string>
#include <string_view>

#include "agent/core/result.h"

namespace pycheck {

struct DebianVersion {
  unsigned epoch = 0;    // 0 .. INT_MAX
  std::string upstream;  // never empty in a parsed version
  std::string revision;  // "" when the version has no '-'

  // The canonical text, which parses back to this version: "epoch:" when the
  // epoch is not 0 or the version holds a ':' ("0:1:2", "0:1-2:3"), "-revision"
  // only when present.
  std::string to_string() const;
};

enum class VersionSyntax {
  // dpkg's hard errors AND its syntax warnings ("version number does not start
  // with digit", "invalid character in version/revision number") are errors.
  strict,
  // Only dpkg's hard errors fail (empty, embedded spaces, bad epoch, nothing
  // after the colon, empty revision or upstream): what dpkg accepts when it
  // reads its database or runs --compare-versions (it only warns).
  lenient,
};

// Parses a version. Leading and trailing blanks (space, tab) are ignored as
// dpkg does; a NUL byte anywhere is an error (no dpkg version holds one). The
// Error message says what is wrong, in dpkg's words, and quotes the version.
Result<DebianVersion> parse_debian_version(std::string_view text,
                                           VersionSyntax syntax = VersionSyntax::strict);

// dpkg's verrevcmp on one part (upstream or revision): <0, 0 or >0. Like
// dpkg's C strings, a part ends at its first NUL byte.
int compare_version_part(std::string_view a, std::string_view b);

// Orders two parsed versions: <0 when a is older than b, 0 when equal, >0 when newer.
int compare_debian_versions(const DebianVersion& a, const DebianVersion& b);

// Parses both (lenient, as dpkg --compare-versions) and compares them without
// allocating; Error when either is not a version.
Result<int> compare_debian_versions(std::string_view a, std::string_view b);

}  // namespace pycheck
